from .audit import AuditEntry, AuditLogIsAppendOnly
from . import audit_guard  # noqa: F401  (database triggers for the append-only audit log)
from . import audit_append  # noqa: F401  (PostgreSQL: the chain's append in one call)
from .casework import Attachment, CaseComment, TaskDraft
from .complaints import Complaint
from .definitions import ProcessDefinition
from .drafts import DesignerDraft
from .entrustments import Entrustment
from .figures import CaseCount, DecisionDayCount, StepCount
from .households import Household, HouseholdAmount, HouseholdCase, SpotCheckDraw
from .incidents import Incident
from .instances import ProcessInstance
from .lists import InboxRead, SavedFilter
from .previews import DeployPreview
from .referrals import CaseReferral
from .relatives import CaseExclusion, CaseMember, CloseRelative
from .sessions import UserSession
from .tasks import Task
from .timers import Timer
from .users import COUNTY, ROLES, User

__all__ = ['Attachment', 'CaseComment', 'TaskDraft', 'AuditEntry', 'AuditLogIsAppendOnly', 'CaseCount', 'CaseReferral', 'Complaint', 'CaseExclusion', 'CaseMember', 'CloseRelative', 'DecisionDayCount', 'DeployPreview', 'StepCount',
           'DesignerDraft', 'Entrustment', 'Household', 'HouseholdAmount', 'HouseholdCase', 'InboxRead', 'Incident', 'SavedFilter',
           'ProcessDefinition', 'ProcessInstance', 'SpotCheckDraw', 'Task',
           'Timer', 'User', 'UserSession', 'ROLES', 'COUNTY']
