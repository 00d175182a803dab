"""Task service: claim, unclaim and complete user tasks."""
from sqlalchemy import update

from ..engine.core import TaskNotReady
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import Task
from . import audit
from .context import engine
from .write import write_case


def get_task(task_id):
    row = db.session.get(Task, task_id)
    if row is None:
        raise NotFound(f'没有这个待办任务 (no such task: {task_id})', code='task_not_found')
    return row


def _not_ready(row):
    return Conflict(f'任务「{row.name}」已不在待办状态（{_STATE_ZH.get(row.state, row.state)}）(task is no longer ready)',
                    details={'state': row.state, 'completed_by': row.completed_by}, code='task_not_ready')


_STATE_ZH = {'completed': '已办结', 'cancelled': '已取消'}


def complete_task(task_id, data, actor):
    row = get_task(task_id)
    if row.state != 'ready':
        raise _not_ready(row)

    def act(workflow):
        try:
            engine().complete(workflow, task_id, data)
        except TaskNotReady:
            raise _not_ready(row) from None
    # A due timer that cancels the task fires first in the write path, and then `act` refuses.
    instance, _ = write_case(row.instance_id, actor, 'complete', act, task_id=task_id, data=data,
                             task=row.bpmn_id)
    return instance


def claim(task_id, actor):
    row = get_task(task_id)
    if row.state != 'ready':
        raise _not_ready(row)
    # One conditional UPDATE: of two people claiming at once, exactly one wins.
    taken = db.session.execute(update(Task).where(Task.id == task_id, Task.state == 'ready',
                                                  (Task.assignee.is_(None)) | (Task.assignee == actor))
                               .values(assignee=actor)).rowcount
    if not taken:
        db.session.rollback()
        raise Conflict(f'任务已被 {row.assignee} 认领 (already claimed)', code='already_claimed')
    audit.record(actor, 'claim', instance_id=row.instance_id, task_id=task_id)
    db.session.commit()
    return get_task(task_id)


def unclaim(task_id, actor):
    row = get_task(task_id)
    if row.state != 'ready':
        raise _not_ready(row)
    row.assignee = None
    audit.record(actor, 'unclaim', instance_id=row.instance_id, task_id=task_id)
    db.session.commit()
    return row


def assign(task_id, assignee, actor):
    """Give a ready task to `assignee` (the caller has checked who may assign to whom)."""
    row = get_task(task_id)
    if row.state != 'ready':
        raise _not_ready(row)
    previous = row.assignee
    row.assignee = assignee
    audit.record(actor, 'assign', instance_id=row.instance_id, task_id=task_id, assignee=assignee, previous=previous)
    db.session.commit()
    return row


def set_priority(task_id, priority, actor):
    row = get_task(task_id)
    if row.state != 'ready':
        raise _not_ready(row)
    row.priority = priority
    audit.record(actor, 'priority', instance_id=row.instance_id, task_id=task_id, priority=priority)
    db.session.commit()
    return row
