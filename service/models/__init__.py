from .audit import AuditEntry, AuditLogIsAppendOnly
from .definitions import ProcessDefinition
from .instances import ProcessInstance
from .tasks import Task
from .timers import Timer
from .users import COUNTY, ROLES, User

__all__ = ['AuditEntry', 'AuditLogIsAppendOnly', 'ProcessDefinition', 'ProcessInstance', 'Task',
           'Timer', 'User', 'ROLES', 'COUNTY']
