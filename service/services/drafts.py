"""Drafts of forms (暂存): what a person typed into a task's form, or into the start form of a new
application (新申请), kept on the server until done.

One draft per task and person, never shown to anyone else (not even the township leader: it is
unfinished work, the completed form is the record). Only who may complete the task keeps a
draft of it. Values are stored as typed (the page's field paths → strings), encrypted like a
completed form (models/casework.TaskDraft). Completing the task drops every draft of it; a draft
of a task that is no longer ready is never restored.

A start-form draft is the same row without a task, keyed by the process: one per person and
process, kept by who may start applications in their township, dropped when the case is started.
"""
from sqlalchemy import bindparam, delete, inspect, select
from sqlalchemy.orm.util import identity_key

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
    # Who parked work on which case, not what: the values stay in the encrypted draft.
    return _store(user, (TaskDraft.task_id == row.id,), {'task_id': row.id}, _clean(values), explicit,
                  {'instance_id': row.instance_id, 'task_id': row.id})


def _store(user, where, fields, values, explicit, audit_fields):
    """The one way a draft row is written: replace the user's draft under `where` (or add it)."""
    draft = db.session.scalar(select(TaskDraft).where(*where, TaskDraft.username == user.username))
    if draft is None:
        draft = TaskDraft(username=user.username, **fields)
        db.session.add(draft)
    elif draft.values == values and not explicit:
        return draft
    draft.values, draft.saved_at = values, now()
    if explicit:
        audit.record(user.username, 'save_draft', fields=len(values), **audit_fields)
    db.session.commit()
    return draft


def _startable(user, process_key):
    """Only who may start applications keeps a start draft, and only of a deployed process."""
    from . import repository
    access.check_start(user, user.township)
    if not isinstance(process_key, str) or not process_key or len(process_key) > 100:
        raise Invalid('请选择办理流程 (process required)', details={'process_key': '必填'}, code='validation_error')
    repository.latest(process_key)    # 404 for a process never deployed
    return process_key


def save_start(user, process_key, values, explicit=True):
    """Keep `values` as the user's draft of a new application on `process_key`; returns the row."""
    key = _startable(user, process_key)
    return _store(user, (TaskDraft.task_id.is_(None), TaskDraft.process_key == key), {'process_key': key},
                  _clean(values), explicit, {'process_key': key})


def load_start(user, process_key):
    """The user's own draft of a new application on this process, or None."""
    return db.session.scalar(select(TaskDraft).where(TaskDraft.task_id.is_(None), TaskDraft.process_key == process_key,
                                                     TaskDraft.username == user.username))


def start_drafts(user):
    """The user's drafts of new applications, newest first (the 新申请 page lists them)."""
    return db.session.scalars(select(TaskDraft).where(TaskDraft.task_id.is_(None), TaskDraft.username == user.username)
                              .order_by(TaskDraft.saved_at.desc())).all()


def discard_start(user, process_key):
    """The application was started (or given up): its draft goes."""
    db.session.execute(delete(TaskDraft).where(TaskDraft.task_id.is_(None), TaskDraft.process_key == process_key,
                                               TaskDraft.username == user.username))
    db.session.commit()


def load(user, task):
    """The user's own draft of a ready task, or None."""
    if task is None or task.state != 'ready':
        return None
    return db.session.scalar(select(TaskDraft).where(TaskDraft.task_id == task.id,
                                                     TaskDraft.username == user.username))


def discard_in_write(task_id):
    """Every draft of a task being completed, inside the completion's write (services/write.py): they
    go with its commit, and stay if it is refused. The write read the task with its case, and with it
    whether it has drafts (models/casework.Task.has_drafts): no statement when it has none, one
    DELETE when it has (tests/test_request_path.py). A draft saved after that read, before the commit,
    is of a task no longer ready once it commits: the nightly sweep drops it (services/cleanup.py)."""
    row = db.session.identity_map.get(identity_key(Task, task_id))
    if row is not None and 'has_drafts' in inspect(row).dict and not row.has_drafts:
        return
    # On the table, built once: the ORM's DELETE (and its search of the session for drafts to drop)
    # cost more than the statement itself. No completion has its task's drafts loaded.
    db.session.execute(_DISCARD, {'task_id': task_id})


_DISCARD = delete(TaskDraft.__table__).where(TaskDraft.__table__.c.task_id == bindparam('task_id'))
