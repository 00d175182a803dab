"""The one write path: every change to a case goes through `write_case` (DESIGN.md, "One write path").

Load the case row (version V) with its live timer and open task rows, fire the timers that are
due, act, run the engine steps, then write the case row, its task rows, its timer rows and the
audit log — all in ONE transaction under ONE version check: a concurrent writer's UPDATE of the
case row matches no row and gets 409, and nothing of its change is kept. Timers fired on the way
are part of that transaction; a request refused after they fired still records them in a write
of their own, so a late request cannot undo a deadline.

A step that raises does not roll the case back into a retry loop: the case is held in an
incident (services/incidents.py) with the element, line and message, visible and acted on by
the county.
"""
import logging

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from ..engine import service_operators
from ..engine.failures import EngineFailure, describe
from ..errors import Conflict, Invalid, JiuzhuError, NotFound
from ..extensions import db
from ..models import Incident, ProcessInstance, Task
from . import audit, row_reads
from .context import engine, now
from .exclusions import excluded_from
from .masking import mask_text
from .sync import CaseRows, save

log = logging.getLogger('jiuzhu.write')

SYSTEM_TIMER = 'system:timer'
HELD = ('incident', 'suspended')
_HELD_ZH = {'incident': '流程故障，已暂停办理，等待区民政局处理', 'suspended': '已挂起',
            'terminated': '已终止', 'completed': '已办结'}


class StateUnreadable(EngineFailure, Conflict):
    """The case's stored state cannot be loaded against its definition version (damaged, or written
    for another process). A write holds the case in an incident (an EngineFailure: someone sees and
    acts on it); a read answers 409 with this message (a JiuzhuError), never a 500."""

    def __init__(self, instance, exc):
        message = (f'案件 {instance.id} 的办理数据与其流程定义不符，无法读取，请联系系统管理员'
                   f' (the case state cannot be loaded: {type(exc).__name__})')
        EngineFailure.__init__(self, 'state_unreadable', message)
        Conflict.__init__(self, message, code='case_unreadable')


def load_workflow(instance):
    """The case's workflow, for writes and reads alike (engine().load, its failure told as above)."""
    try:
        return engine().load(instance)
    except Exception as exc:
        log.error('case %s: its state cannot be loaded (%s: %s)', instance.id, type(exc).__name__, exc)
        raise StateUnreadable(instance, exc) from exc


class CaseWrite:
    """One case opened for writing: its row as read (version V), its rows, and its workflow,
    deserialized only when an action needs it (claims and assignments do not)."""

    def __init__(self, instance, excluded=None):
        self.instance = instance
        # Whether the acting user stays out of the case (exclusions.excluded_from), read with it when
        # the write was opened for a reader (`open_case(reader=…)`); None: not read.
        self.excluded = excluded
        self.rows = CaseRows.of(instance)
        self.read_tasks = list(self.rows.open_tasks)   # the rows leave `rows.open_tasks` as they finish
        self._workflow = None

    @property
    def workflow(self):
        if self._workflow is None:
            self._workflow = load_workflow(self.instance)
        return self._workflow

    def written(self):
        """Every row this write read or wrote: what it holds is what the commit made true."""
        return [self.instance, *self.read_tasks, *self.rows.open_tasks, *self.rows.timers]


def commit_keeping(objects):
    """Commit, leaving `objects` loaded: the values they hold are those this transaction read under
    the case's version check and wrote, so a caller answering with them (the API returns the task
    row) needs no second transaction only to read them back. Everything else expires as usual."""
    session = db.session()
    previous, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = previous
    if previous:
        keep = {id(o) for o in objects}
        for obj in list(session.identity_map.values()):
            if id(obj) not in keep:
                session.expire(obj)


def _case_for_writing(which, reader=False):
    """One query: the case with its live timers and open tasks (a small cartesian product); for a
    `reader`, also whether that user stays out of the case (the task's read check needs nothing more)."""
    columns = (ProcessInstance, excluded_from(ProcessInstance.id, bindparam('username'))) if reader else (ProcessInstance,)
    return (select(*columns).where(ProcessInstance.id == which)
            .options(joinedload(ProcessInstance.live_timers),
                     joinedload(ProcessInstance.open_tasks).undefer(Task.has_drafts))
            .execution_options(populate_existing=True))


# Built once: every write only binds the case's id, or its task's (the case found through the task
# row in the same statement).
_OPEN_CASE = _case_for_writing(bindparam('instance_id'))
_CASE_OF_TASK = select(Task.instance_id).where(Task.id == bindparam('task_id')).scalar_subquery()
_OPEN_CASE_OF_TASK = _case_for_writing(_CASE_OF_TASK)
_OPEN_CASE_OF_TASK_FOR_READER = _case_for_writing(_CASE_OF_TASK, reader=True)


def open_case(instance_id, task_id=None, reader=None):
    """The case opened for writing; `instance_id` None: the case of the task `task_id`, found through
    the task row in the same statement (a task's write needs no read of its own to find its case),
    with `reader`'s exclusion from it when given (a username)."""
    read = row_reads.read_case(db.session(), instance_id, task_id, reader)
    if read is None:     # the session holds one of its rows already: the ORM's query refreshes them
        read = _orm_read(instance_id, task_id, reader)
    instance, excluded = read
    if instance is None:
        if instance_id is None:
            raise no_such_task(task_id)
        raise NotFound(f'没有编号为 {instance_id} 的案件 (no such case)', code='instance_not_found')
    return CaseWrite(instance, excluded=excluded)


def _orm_read(instance_id, task_id, reader):
    if instance_id is not None:
        return db.session.scalars(_OPEN_CASE, {'instance_id': instance_id}).unique().first(), None
    if reader is None:
        return db.session.scalars(_OPEN_CASE_OF_TASK, {'task_id': task_id}).unique().first(), None
    found = db.session.execute(_OPEN_CASE_OF_TASK_FOR_READER, {'task_id': task_id, 'username': reader}).unique().first()
    return (found[0], bool(found[1])) if found is not None else (None, None)


def no_such_task(task_id):
    return NotFound(f'没有这个待办任务 (no such task: {task_id})', code='task_not_found')


def _load(instance_id):
    case = open_case(instance_id)
    return case.instance, case.workflow


def not_running(instance):
    zh = _HELD_ZH.get(instance.status, instance.status)
    return Conflict(f'案件{zh}，不能办理 (case is {instance.status})',
                    details={'status': instance.status, 'error': instance.error}, code=f'case_{instance.status}')


def run_engine(case, fn):
    """Run fn(workflow) and serialize the result; whatever the engine raises becomes an EngineFailure.

    The act's own refusals (JiuzhuError: task not ready, not waiting…) pass through untouched.
    """
    try:
        # acting_on: a service task's operator (a household granted) writes its rows for this case,
        # into this transaction, under this case's version check.
        with engine().one_write(), service_operators.acting_on(case.instance):
            result = fn(case.workflow)
        return result, engine().dump(case.workflow)
    except (JiuzhuError, EngineFailure):
        raise
    except Exception as exc:   # diagram code, timer expressions, DMN, bounds: all the diagram's doing
        raise describe(exc, case._workflow) from exc


def hold(case, failure, actor, action, completed=None, task_id=None):
    """Put the case into an incident: keep how far it got, hold its tasks and timers, record it.

    The state the engine reached (the failed task marked ERROR) is kept, so a retry continues
    from there; when even that cannot be stored (too large), the case stays as it was read.
    """
    instance = case.instance
    # The message names data values at times (a script's KeyError, a failed comparison): masked
    # before it is stored, listed, audited and logged.
    failure.message = mask_text(failure.message)
    state = None
    if case._workflow is not None and failure.kind != 'case_too_large':
        try:
            state = engine().dump(case.workflow)
        except Exception:
            state = None
    if state is not None:
        save(instance, case.workflow, actor, action, case.rows, task_id=task_id, completed=completed, state=state)
    instance.status, instance.error = 'incident', failure.message[:1000]
    instance.updated_at = now()
    case.rows.hold()
    incident = Incident(instance_id=instance.id, township=instance.township, kind=failure.kind,
                        element=failure.element, element_name=failure.element_name, line=failure.line,
                        message=failure.message, trigger=action, actor=actor,
                        definition_id=instance.definition_id, state='open', created_at=now())
    db.session.add(incident)
    audit.record(actor or SYSTEM_TIMER, 'incident', instance_id=instance.id, task_id=task_id,
                 trigger=action, **failure.as_details())
    db.session.flush()
    log.warning('case %s held in an incident (%s at %s, line %s): %s', instance.id, failure.kind,
                failure.element, failure.line, failure.message)
    return incident


def hold_after_failures(instance_id, message):
    """Hold a case whose timers kept failing for reasons outside the diagram (the scheduler gave up)."""
    try:
        case = open_case(instance_id)
        if case.instance.status != 'running':
            return case.instance
        hold(case, EngineFailure('timer_failed', message[:4000]), SYSTEM_TIMER, 'timers')
        db.session.commit()
        return case.instance
    except BaseException:
        db.session.rollback()
        raise


def _fire_due(case):
    """Fire the case's due timers into the open transaction; False when that put it into an incident."""
    try:
        _, state = run_engine(case, engine().advance)
    except EngineFailure as failure:
        hold(case, failure, SYSTEM_TIMER, 'timers')
        return False
    save(case.instance, case.workflow, SYSTEM_TIMER, 'timers_fired', case.rows, state=state)
    return True


def fire_open_case(case):
    """Fire what is due on a case opened in the current transaction (the scheduler's one step per case).

    Nothing is committed here: one case alone (`fire_due_timers`) or many together (`fire_due_batch`).
    """
    if case.instance.status == 'running' and case.rows.anything_due(now()):
        _fire_due(case)


def fire_due_timers(instance_id):
    """Fire whatever is due on one case in its own transaction (the scheduler, a refused request)."""
    try:
        case = open_case(instance_id)
        fire_open_case(case)
        db.session.commit()
        return case.instance
    except StaleDataError:
        db.session.rollback()
        raise concurrent() from None
    except BaseException:
        db.session.rollback()
        raise


def touched(instance):
    """Make the commit UPDATE the case row (and so check and bump its version) even when nothing
    on it changed: a claim changes only a task row, and the same clock reading is no change."""
    instance.updated_at = now()
    flag_modified(instance, 'updated_at')


def concurrent():
    return Conflict('案件已被他人同时修改，请刷新后重试 (the case was changed by someone else)', code='concurrent_update')


def write_case(instance_id, actor, action, act=None, task_id=None, touch=None, check=None, release=False,
               fire=True, refuse=not_running, reader=None, **detail):
    """Change a case through the write path; returns (instance, result).

    instance_id:   the case; None: the case of `task_id` (a task's own change: claim, complete…).

    check(case):   runs on the case as read (after due timers fired), before anything changes: the
                   rules on task rows (still ready, who may act). The version check at commit keeps
                   what it checked true. What it returns (a dict) is added to the audit entry.
    act(workflow): an engine action (complete, deliver, extend, retry…); its result is returned.
    touch(case):   a change to the case's rows only (claim, assign, priority); returns
                   (result, more audit detail).
    release:       the action may act on a held case and releases it first (retry, resume, terminate).
    refuse(instance): the error for a case found not running (a task's own write names its task).
    reader:        a task's write by a user who read nothing before it: the case is read with that
                   user's exclusion from it (`case.excluded`, for `check`).
    fire:          fire due timers before acting (False: the act steps the engine itself, or ends the case).
    An engine failure during act holds the case in an incident: the result is then None and
    `instance.status == 'incident'`.
    """
    due = False
    try:
        case = open_case(instance_id, task_id, reader)
        instance, instance_id = case.instance, case.instance.id
        if release and instance.status in HELD:
            case.rows.release()
            instance.status, instance.error = 'running', None
        elif instance.status != 'running':
            raise refuse(instance)
        due = fire and case.rows.anything_due(now())
        if due and not _fire_due(case):
            db.session.commit()
            raise not_running(instance)
        if check is not None:
            detail.update(check(case) or {})
        completed = (task_id, actor, detail.pop('data', None)) if action == 'complete' else None
        if act is not None:
            try:
                result, state = run_engine(case, act)
            except EngineFailure as failure:
                if failure.kind == 'case_too_large':
                    raise Invalid(f'案件数据超过上限，未作任何更改 (nothing was changed): {failure.message}',
                                  failure.as_details(), code='case_too_large') from None
                hold(case, failure, actor, action, completed=completed, task_id=task_id)
                db.session.commit()
                return instance, None
            touched(instance)
            save(instance, case.workflow, actor, action, case.rows, task_id=task_id, completed=completed,
                 state=state, **detail)
        else:
            result, more = touch(case) if touch is not None else (None, {})
            touched(instance)
            audit.record(actor, action, instance_id=instance.id, task_id=task_id, **detail, **more)
            db.session.flush()
        commit_keeping(case.written())
        return instance, result
    except StaleDataError:
        db.session.rollback()
        raise concurrent() from None
    except JiuzhuError:
        db.session.rollback()
        if due:
            # The deadline passed before this request: record it even though the request is refused.
            try:
                fire_due_timers(instance_id)
            except JiuzhuError:
                pass
        raise
    except BaseException:
        db.session.rollback()
        raise
