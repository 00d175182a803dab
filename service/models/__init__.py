from .audit import AuditEntry, AuditLogIsAppendOnly
from . import audit_guard  # noqa: F401  (database triggers for the append-only audit log)
from .definitions import ProcessDefinition
from .entrustments import Entrustment
from .households import Household, HouseholdAmount, HouseholdCase, SpotCheckDraw
from .incidents import Incident
from .instances import ProcessInstance
from .previews import DeployPreview
from .relatives import CaseExclusion, CloseRelative
from .sessions import UserSession
from .tasks import Task
from .timers import Timer
from .users import COUNTY, ROLES, User

__all__ = ['AuditEntry', 'AuditLogIsAppendOnly', 'CaseExclusion', 'CloseRelative', 'DeployPreview', 'Entrustment', 'Household', 'HouseholdAmount', 'HouseholdCase', 'Incident', 'ProcessDefinition', 'SpotCheckDraw', 'ProcessInstance', 'Task',
           'Timer', 'User', 'UserSession', 'ROLES', 'COUNTY']
