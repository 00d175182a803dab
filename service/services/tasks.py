"""Task service: claim, unclaim, assign, prioritise and complete user tasks.

Every one of these is a versioned write of the case (services/write.py): the task row is read
with the case and checked there (still ready; `check(row)`: who may do it, who holds it), and the
commit's version check guarantees nothing changed in between — a reassignment and a completion
of the same task cannot both succeed.
"""
from ..engine.core import TaskNotReady
from ..errors import Conflict
from ..extensions import db
from ..models import Task
from .context import engine
from .write import no_such_task, write_case


def get_task(task_id):
    row = db.session.get(Task, task_id)
    if row is None:
        raise no_such_task(task_id)
    return row


_STATE_ZH = {'completed': '已办结', 'cancelled': '已取消', 'suspended': '已随案件暂停'}


def not_ready(row):
    return Conflict(f'任务「{row.name}」已不在待办状态（{_STATE_ZH.get(row.state, row.state)}）(task is no longer ready)',
                    details={'state': row.state, 'completed_by': row.completed_by}, code='task_not_ready')


def _ready_row(case, task_id, check=None):
    """The task row as read with the case; refused unless still ready, then `check(row)`."""
    row = case.rows.task(task_id)
    if row is None or row.state != 'ready':
        raise not_ready(row if row is not None else get_task(task_id))
    if check is not None:
        check(row)
    return row


def _refused(task_id):
    """A case not running (ended, or held) has no ready task: the answer names the task as it stands."""
    return lambda _instance: not_ready(get_task(task_id))


def complete_task(task_id, data, actor, check=None, vet=None, reader=None, refuse=None):
    """Complete a ready task; `check(row)` runs on the row read with the case (who may complete it).

    For a caller that read nothing before the write (services/cases.complete):
    reader:           the acting user's name: the case is read with their exclusion (`case.excluded`).
    vet(case, row):   runs first on the task's row as read with the case, None when it is not open,
                      whatever its state (the caller's read access before anything is told about it);
                      returns the data to complete with (its form validated, read-only values carried).
    refuse(instance): the answer for a case found not running (default: the task is not ready).
    """
    held = {'data': data}

    def checked(case):
        if vet is not None:
            held['data'] = vet(case, case.rows.task(task_id))
        # The audit entry names the step, known once the row is read with the case.
        return {'task': _ready_row(case, task_id, check).bpmn_id, 'data': held['data']}

    def act(workflow):
        try:
            engine().complete(workflow, task_id, held['data'])
        except TaskNotReady:
            raise not_ready(get_task(task_id)) from None

    instance, _ = write_case(None, actor, 'complete', act, task_id=task_id, check=checked,
                             refuse=refuse or _refused(task_id), reader=reader, data=data)
    return instance


def _touch(task_id, actor, action, change, check=None):
    def touch(case):
        row = _ready_row(case, task_id, check)
        return row, change(row) or {}
    _, row = write_case(None, actor, action, task_id=task_id, touch=touch,
                        refuse=_refused(task_id))
    return row


def claim(task_id, actor, check=None):
    def change(row):
        if row.assignee not in (None, actor):
            raise Conflict('任务已被他人认领 (already claimed)', details={'assignee': row.assignee},
                           code='already_claimed')
        row.assignee = actor
    return _touch(task_id, actor, 'claim', change, check)


def unclaim(task_id, actor, check=None):
    def change(row):
        previous, row.assignee = row.assignee, None
        return {'previous': previous}
    return _touch(task_id, actor, 'unclaim', change, check)


def assign(task_id, assignee, actor, check=None, reason=None):
    """Give a ready task to `assignee`; the previous assignee in the audit log is the one read under the version."""
    def change(row):
        previous, row.assignee = row.assignee, assignee
        return {'assignee': assignee, 'previous': previous, **({'reason': reason} if reason else {})}
    return _touch(task_id, actor, 'assign', change, check)


def set_priority(task_id, priority, actor, check=None):
    def change(row):
        row.priority = priority
        return {'priority': priority}
    return _touch(task_id, actor, 'priority', change, check)
