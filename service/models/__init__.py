from .audit import AuditEntry, AuditLogIsAppendOnly
from . import audit_guard  # noqa: F401  (database triggers for the append-only audit log)
from .definitions import ProcessDefinition
from .entrustments import Entrustment
from .incidents import Incident
from .instances import ProcessInstance
from .lists import InboxRead, SavedFilter
from .previews import DeployPreview
from .relatives import CaseExclusion, CloseRelative
from .sessions import UserSession
from .tasks import Task
from .timers import Timer
from .users import COUNTY, ROLES, User

__all__ = ['AuditEntry', 'AuditLogIsAppendOnly', 'CaseExclusion', 'CloseRelative', 'DeployPreview', 'Entrustment', 'InboxRead', 'Incident', 'ProcessDefinition', 'SavedFilter', 'ProcessInstance', 'Task',
           'Timer', 'User', 'UserSession', 'ROLES', 'COUNTY']
