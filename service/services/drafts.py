"""Drafts of task forms (暂存): what a person typed into a task's form, kept on the server until done.

One draft per task and person, never shown to anyone else (not even the township leader: it is
unfinished work, the completed form is the record). Only who may complete the task keeps a
draft of it. Values are stored as typed (the page's field paths → strings), encrypted like a
completed form (models/casework.TaskDraft). Completing the task drops every draft of it; a draft
of a task that is no longer ready is never restored.
"""
from sqlalchemy import delete, select

from ..errors import Invalid
from ..extensions import db
from ..models import Task, TaskDraft
from . import access, audit
from .context import now

# A task form has tens of fields; this bounds what one person can park in the database.
MAX_FIELDS = 500
MAX_VALUE_CHARS = 20000


def _clean(values):
    if not isinstance(values, dict) or len(values) > MAX_FIELDS:
        raise Invalid(f'暂存内容应为不超过 {MAX_FIELDS} 项的表单 (draft must be a form of at most {MAX_FIELDS} fields)',
                      details={'values': '格式不正确'}, code='validation_error')
    out = {}
    for key, value in values.items():
        if key == 'csrf_token' or not isinstance(key, str) or len(key) > 200:
            continue
        text = value if isinstance(value, str) else ('' if value is None else str(value))
        if len(text) > MAX_VALUE_CHARS:
            raise Invalid(f'「{key}」内容过长（最多 {MAX_VALUE_CHARS} 字） (value too long)',
                          details={key: '内容过长'}, code='validation_error')
        out[key] = text
    return out


def _own_ready_task(user, task_id):
    row = db.session.get(Task, task_id)
    access.check_task_read(user, row, task_id)
    if row.state != 'ready':
        from .tasks import not_ready
        raise not_ready(row)
    access.check_complete(user, row)
    return row


def save(user, task_id, values, explicit=True):
    """Keep `values` as the user's draft of the task (replacing the previous one); returns the row.

    An explicit save (the 暂存 button) is audited; the page's automatic saves every few seconds
    are not (they would bury the log), and one that changes nothing writes nothing.
    """
    row = _own_ready_task(user, task_id)
    values = _clean(values)
    draft = db.session.scalar(select(TaskDraft).where(TaskDraft.task_id == row.id, TaskDraft.username == user.username))
    if draft is None:
        draft = TaskDraft(task_id=row.id, username=user.username)
        db.session.add(draft)
    elif draft.values == values and not explicit:
        return draft
    draft.values, draft.saved_at = values, now()
    if explicit:
        # Who parked work on which case, not what: the values stay in the encrypted draft.
        audit.record(user.username, 'save_draft', instance_id=row.instance_id, task_id=row.id, fields=len(values))
    db.session.commit()
    return draft


def load(user, task):
    """The user's own draft of a ready task, or None."""
    if task is None or task.state != 'ready':
        return None
    return db.session.scalar(select(TaskDraft).where(TaskDraft.task_id == task.id,
                                                     TaskDraft.username == user.username))


def discard_in_write(task_id):
    """Every draft of a task being completed, inside the completion's write (services/write.py): they
    go with its commit, and stay if it is refused. One statement per completion
    (tests/test_request_path.py)."""
    db.session.execute(delete(TaskDraft).where(TaskDraft.task_id == task_id))
