"""Casework as a signed-in user sees it: the access rules, forms and audit around runtime and tasks.

API views and web pages call these functions and nothing below them.
"""
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import aliased

from .. import crypto
from ..errors import Invalid
from ..extensions import db
from ..models import AuditEntry, ProcessDefinition, ProcessInstance, Task, Timer
from ..engine.tasks import current_data
from . import access, audit, case_members, case_rules, county_visits, drafts, entrustments, exclusions, forms, repository, runtime, tasks
from .auth import find_user
from .listing import Key, order, page_of
from .masking import mask_data, mask_id_number

READ_ACTIONS = ('read_case', 'read_task')
# Audited but not acts on the case: kept out of its history (a draft is unfinished work).
QUIET_ACTIONS = READ_ACTIONS + ('save_draft',)
START_EXTRA_FIELDS = ('close_relative_of_staff',)


def paginate(stmt, page, per_page):
    """(items, total) of an ordered statement by page number (short lists: incidents, audit); total capped."""
    from .listing import MAX_OFFSET, _invalid, page_total
    offset = (page - 1) * per_page
    if offset >= MAX_OFFSET:
        raise _invalid('page', f'页码过大：最多翻到第 {MAX_OFFSET:,} 条 (page too deep)')
    items = db.session.scalars(stmt.limit(per_page + 1).offset(offset)).all()
    total, _ = page_total(stmt, offset, items, per_page)   # ordered: counted along the list's index
    return items[:per_page], total


# The list orders (listing.py): the API's and the pages' lists, and the indexes of migration 0006.
CASE_ORDER = order(Key(ProcessInstance.created_at, desc=True, kind=datetime), Key(ProcessInstance.id, desc=True))
TASK_ORDER = order(Key(Task.due_at, nullable=True, kind=datetime), Key(Task.priority, desc=True),
                   Key(Task.created_at, kind=datetime), Key(Task.id, kind=str))
TIMER_ORDER = order(Key(Timer.due_at, nullable=True, kind=datetime), Key(Timer.id))


# ------------------------------------------------------------------ cases

def start_case(user, process_key, township, data, business_key=None, category=None):
    """Start a case on `process_key`, or on the flow the township's entrustment picks for `category`."""
    access.check_start(user, township)
    if category and not process_key:
        definition = entrustments.definition_for(category, township)
    else:
        definition = repository.latest(process_key)
    facts = entrustments.check_start(definition, township)
    data = dict(data or {})
    form_name = forms.start_form_name(definition)
    if form_name:
        declared = {k: v for k, v in data.items() if k not in START_EXTRA_FIELDS}
        forms.validate(forms.load(form_name, definition), declared, what='申请')
    instance = runtime.start_instance(definition.key, township, dict(data, **facts), user.username,
                                      business_key=business_key, prepare=exclusions.apply_exclusions)
    if instance.review_required:
        # A close relative's case: the county visits it (100 %), as a task of its own.
        county_visits.open_for(instance, 'close_relative', user.username, data.get('applicant'))
    return instance


def ready_tasks(instance_id):
    return db.session.scalars(select(Task).where(Task.instance_id == instance_id, Task.state == 'ready')
                              .order_by(Task.created_at, Task.id)).all()


def id_number_filter(id_number):
    """The condition that finds the cases of an applicant by ID number (its keyed hash: the number
    itself is stored only encrypted); 422 when the text is not an ID number."""
    normal = crypto.normalise_id_number(id_number)
    if not crypto.is_id_number(normal):
        raise Invalid('身份证号码应为 18 位，最后一位可以是 X (id_number must be 18 characters)',
                      details={'id_number': '应为 18 位身份证号码'}, code='validation_error')
    return ProcessInstance.id_hash == crypto.active().id_hash(normal)


def list_cases(user, status=None, township=None, process_key=None, overdue=None, review_required=None,
               waiting_for=None, id_number=None, page=1, per_page=20, cursor=None):
    """A Page (listing.py) of the cases the user may see, newest first. A search by ID number is
    audited (masked number)."""
    stmt = access.scope_instances(user, select(ProcessInstance).options(access.WITHOUT_STATE))
    if id_number is not None:
        stmt = stmt.where(id_number_filter(id_number))
    if waiting_for:
        # Only a running case takes messages (access.check_message): the others wait for nothing.
        stmt = stmt.where(ProcessInstance.waits_for([waiting_for]))
        status = status or 'running'
    if status:
        stmt = stmt.where(ProcessInstance.status == status)
    if township:
        stmt = stmt.where(ProcessInstance.township == township)
    if process_key:
        stmt = stmt.where(ProcessInstance.process_key == process_key)
    if overdue is not None:
        stmt = stmt.where(ProcessInstance.overdue == overdue)
    if review_required is not None:
        stmt = stmt.where(ProcessInstance.review_required == review_required)
    found = page_of(stmt, CASE_ORDER, per_page, page, cursor)
    if id_number is not None:
        audit.record(user.username, 'search_id_number', id_number=mask_id_number(crypto.normalise_id_number(id_number)),
                     found=found.total)
        db.session.commit()
    return found


def cases_awaiting_answers(user, limit=200):
    """Running cases in the user's scope that wait for an answer the user's role records:
    the verification centre's report, a household's missing materials."""
    # Messages marked `answer` in the diagrams (someone owes them; an objection is a right, not a duty).
    names = case_rules.answer_messages(user.role)
    if not names:
        return []
    # Longest waiting first: along ix_instance_awaiting when many wait, from the message index when few.
    stmt = access.scope_instances(user, select(ProcessInstance).options(access.WITHOUT_STATE)).where(
        ProcessInstance.status == 'running',
        ProcessInstance.waits_for(names))
    rows = db.session.scalars(stmt.order_by(ProcessInstance.waiting_since, ProcessInstance.id).limit(limit)).all()
    return [(row, [n for n in row.waiting_messages if n in names]) for row in rows]


def case_status(instance_id):
    return db.session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == instance_id))


def get_case(user, instance_id):
    instance = db.session.get(ProcessInstance, instance_id)
    access.check_instance_read(user, instance, instance_id)
    return instance


def case_detail(user, instance_id):
    """Status, version, ready tasks, timers and history of one case; the read is audited."""
    instance = get_case(user, instance_id)
    ready = ready_tasks(instance.id)
    timers = db.session.scalars(select(Timer).where(Timer.instance_id == instance.id)
                                .order_by(Timer.due_at, Timer.id)).all()
    audit.record(user.username, 'read_case', instance_id=instance.id)
    db.session.commit()
    return {'instance': instance, 'ready_tasks': ready, 'timers': timers, 'history': history(instance.id)}


def history(instance_id):
    """Who did what when: the case's audit entries (reads excluded) and its finished task rows."""
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.instance_id == instance_id, AuditEntry.action.not_in(QUIET_ACTIONS)).order_by(AuditEntry.id)).all()
    done = db.session.scalars(select(Task).where(Task.instance_id == instance_id, Task.state != 'ready')
                              .order_by(Task.completed_at, Task.created_at, Task.id)).all()
    names = dict(db.session.execute(select(Task.id, Task.name).where(Task.instance_id == instance_id)).all())
    items = [{'kind': 'audit', 'at': e.at, 'actor': e.actor, 'action': e.action, 'task_id': e.task_id,
              'task_name': names.get(e.task_id), 'detail': mask_data(e.detail or {})} for e in entries]
    items += [{'kind': 'task', 'at': t.completed_at, 'actor': t.completed_by, 'action': t.state,
               'task_id': t.id, 'task_name': t.name, 'detail': mask_data(t.data or {})} for t in done]
    items.sort(key=lambda i: (i['at'] is None, i['at'].timestamp() if i['at'] else 0, i['kind'] == 'task'))
    return items


def send_message(user, instance_id, name, payload):
    instance = db.session.get(ProcessInstance, instance_id)
    access.check_message(user, instance, name)
    case_rules.check_payload(instance.definition, name, payload)
    return runtime.deliver_message(instance.id, name, payload, user.username)


def extend_deadline(user, instance_id, timer, working_days, reason, note=None):
    instance = db.session.get(ProcessInstance, instance_id)
    access.check_extend_deadline(user, instance)
    return runtime.extend_deadline(instance.id, timer, working_days, reason, user.username, note=note)


def list_timers(user, township=None, state=None, overdue=None, instance_id=None, page=1, per_page=20, cursor=None):
    """A Page of waiting timers (state=waiting), fired ones (fired); overdue = fired deadlines; by due time."""
    stmt = access.scope_timers(user, select(Timer))
    if township:
        stmt = stmt.where(Timer.township == township)
    if state:
        stmt = stmt.where(Timer.state == state)
    if overdue is not None:
        cond = (Timer.kind == 'deadline') & (Timer.state == 'fired')
        stmt = stmt.where(cond if overdue else ~cond)
    if instance_id is not None:
        stmt = stmt.where(Timer.instance_id == instance_id)
    return page_of(stmt, TIMER_ORDER, per_page, page, cursor)


# ------------------------------------------------------------------ tasks

def list_tasks(user, mine=False, group=False, unassigned=None, township=None, overdue=None, due_before=None,
               instance_id=None, state='ready', page=1, per_page=20, cursor=None):
    """A Page of the tasks the user may see: by due date (none last), priority, then the oldest first.

    Its items are rows of the task table (`row.name`, `row.properties`, as on a Task), not Task
    entities: nobody changes a listed task, and the ORM's loading of entities (its execute path,
    identity map, instance state) cost a third of a case's short list."""
    access.require_case_reader(user)
    state = state if state and state != 'all' else None
    shape = (access.sees_all_townships(user), state is not None, bool(mine), bool(group), unassigned,
             bool(township), overdue, due_before is not None, instance_id is not None)
    params = {**access.scope_values(user), 'state': state, 'role': user.role, 'township': township,
              'due_before': due_before, 'instance_id': instance_id}
    return page_of(_task_list(shape), TASK_ORDER, per_page, page, cursor, params=params, rows=True)


# The task list's statement per shape of its filters (which are given, the flags' values), the values
# bound: built once each (at most a few hundred shapes), a request only binds. Building the statement,
# its exclusion subquery and its cache key cost more than running a small list (a case's tasks).
_TASK_LISTS = {}
_P = {name: bindparam(name) for name in ('state', 'role', 'township', 'due_before', 'instance_id')}


def _task_list(shape):
    stmt = _TASK_LISTS.get(shape)
    if stmt is not None:
        return stmt
    all_townships, state, mine, group, unassigned, township, overdue, due_before, instance_id = shape
    stmt = select(*Task.__table__.c).where(*access.task_scope(all_townships))
    if state:
        stmt = stmt.where(Task.state == _P['state'])
    if mine and group:
        stmt = stmt.where(or_(Task.assignee == access.USERNAME, Task.role == _P['role']))
    elif mine:
        stmt = stmt.where(Task.assignee == access.USERNAME)
    elif group:
        stmt = stmt.where(Task.role == _P['role'])
    if unassigned is not None:
        stmt = stmt.where(Task.assignee.is_(None) if unassigned else Task.assignee.is_not(None))
    if township:
        stmt = stmt.where(Task.township == _P['township'])
    if overdue is not None:
        stmt = stmt.where(Task.overdue == overdue)
    if due_before:
        stmt = stmt.where(Task.due_at < _P['due_before'])
    if instance_id:
        stmt = stmt.where(Task.instance_id == _P['instance_id'])
    _TASK_LISTS[shape] = stmt
    return stmt


# The task row and whether the caller stays out of its case, in one statement (built once: a request
# only binds the values). The exclusion is still read on every read and act, only not on its own.
_TASK = (select(Task, exclusions.excluded_from(Task.instance_id, bindparam('username')))
         .where(Task.id == bindparam('task_id')))
# … with its case's definition version, for the task's form (forms.task_form). Its forms stay deferred:
# forms.load finds a form by the version's digest in its cache first, and reads them (one statement)
# only the first time a process reads that version — not 20–35 kB of JSON sent and parsed per
# completion. The case is an alias: the exclusion's own subquery on process_instance must not
# correlate to it.
_CASE = aliased(ProcessInstance)
_TASK_WITH_DEFINITION = (
    select(Task, exclusions.excluded_from(Task.instance_id, bindparam('username')), ProcessDefinition)
    .join(_CASE, _CASE.id == Task.instance_id).join(ProcessDefinition, ProcessDefinition.id == _CASE.definition_id)
    .where(Task.id == bindparam('task_id')))


def _task(user, task_id, with_definition=False):
    """The task row as the caller may read it (access.check_task_read), and its case's definition
    version when asked (else None): one statement."""
    found = db.session.execute(_TASK_WITH_DEFINITION if with_definition else _TASK,
                               {'task_id': task_id, 'username': user.username}).first()
    if found is None:
        access.check_task_read(user, None, task_id)       # 404
    access.check_task_read(user, found[0], task_id, excluded=bool(found[1]))
    return (found[0], found[2]) if with_definition else found[0]


def task_detail(user, task_id):
    """The task, its form and the case's current data; the read is audited."""
    row, definition = _task(user, task_id, with_definition=True)
    form = forms.task_form(row, definition)
    data = runtime.case_data(row.instance_id) if row.state == 'ready' else dict(row.data or {})
    audit.record(user.username, 'read_task', instance_id=row.instance_id, task_id=row.id)
    db.session.commit()
    return {'task': row, 'form': form, 'data': data}


def claim(user, task_id):
    row = _task(user, task_id)
    return tasks.claim(row.id, user.username, check=lambda r: access.check_claim(user, r))


def unclaim(user, task_id):
    row = _task(user, task_id)
    return tasks.unclaim(row.id, user.username, check=lambda r: access.check_unclaim(user, r))


def assign(user, task_id, username, reason=None):
    row = _task(user, task_id)
    target = find_user(username)
    return tasks.assign(row.id, target.username if target else username, user.username,
                        check=lambda r: access.check_assign(user, r, target), reason=reason)


def set_priority(user, task_id, priority):
    row = _task(user, task_id)
    return tasks.set_priority(row.id, priority, user.username, check=lambda r: access.check_set_priority(user, r))


def complete(user, task_id, data):
    """Complete as the caller — never on anyone's behalf — after validating the form.

    Everything is checked on the task row read with the case inside the write (one statement reads
    the case, its open tasks and the caller's exclusion), so a reassignment committed a moment
    earlier is seen: who may read the task (404/403), still ready (409), lane and claim (403, before
    the form), the form (422), then separation of duties.
    """
    done = {}

    def vet(case, row):
        if row is None:         # not open (done, cancelled): told as the caller may read it
            raise tasks.not_ready(_task(user, task_id))
        access.check_task_read(user, row, excluded=case.excluded)
        if row.state != 'ready':
            raise tasks.not_ready(row)
        access.check_complete_before_form(user, row)     # a clear 403 before the form is validated
        done['row'] = row
        form = forms.task_form_of_version(row, case.instance.definition_id)
        if form is None:
            if not isinstance(data, dict):
                raise Invalid('表单数据应为对象 (data must be an object)', details={'$': '应为对象'}, code='validation_error')
            given = data
        else:
            given = forms.carry_case_values(form['schema'], data, lambda: current_data(case.workflow))
            forms.validate(form['schema'], given)
        access.check_complete_in_write(user, row)
        # A finished task needs no half-filled copies: dropped in the completion's own transaction.
        drafts.discard_in_write(row.id)
        if case_members.changes_people(given):
            # The people changed: member rows and exclusions follow in this transaction, and the
            # caller may have become a close relative of someone just added.
            exclusions.recheck_members(case.instance, {**current_data(case.workflow), **given})
            access.check_task_read(user, row)
        return given

    tasks.complete_task(task_id, data, user.username, vet=vet, reader=user.username,
                        refuse=lambda _instance: tasks.not_ready(_task(user, task_id)))
    # The row the write read (and completed) under the case's version; the commit kept it.
    return done['row']


def list_audit(user, actor=None, action=None, instance_id=None, page=1, per_page=20):
    """The audit log, newest first (county supervisors and admins)."""
    access.check_audit_read(user)
    stmt = select(AuditEntry)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if instance_id is not None:
        stmt = stmt.where(AuditEntry.instance_id == instance_id)
    return paginate(stmt.order_by(AuditEntry.id.desc()), page, per_page)
