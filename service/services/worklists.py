"""The task and case lists of the pages with their filters and sort orders (keyset pages, listing.py).

Filters arrive as the page's query string (so a list can be bookmarked and saved by name) and are
checked here: a bad value is a 422 with a Chinese message, never a 500. Every statement starts
from access.scope_tasks / scope_instances, so a list, its total and its export show the same rows.
"""
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta, timezone
from operator import itemgetter

from sqlalchemy import or_, select

from ..errors import Invalid
from ..extensions import db
from ..models import ProcessInstance, Task
from . import access
from .auth import find_user
from .cases import CASE_ORDER, TASK_ORDER
from .listing import Key, Order, iter_batches, order, page_of
from .supervision import _definition_ids

SHANGHAI_OFFSET = timedelta(hours=8)
STATUSES = ('running', 'incident', 'suspended', 'completed', 'terminated')
ASSIGNED = ('', 'me', 'unassigned', 'all')     # '' = my tasks and my group's unclaimed ones
_first = (lambda r: r[0])

# Task rows come as (task, process key): the process sort reads the key from the row.
TASK_SORTS = {
    'due': Order(TASK_ORDER.keys, value_of=_first),
    'started': order(Key(Task.created_at, desc=True, kind=datetime), Key(Task.id, desc=True, kind=str),
                     value_of=_first),
    'process': order(Key(ProcessInstance.process_key, kind=str, get=lambda r: r[1]),
                     Key(Task.created_at, kind=datetime), Key(Task.id, kind=str), value_of=_first),
    'township': order(Key(Task.township, kind=str), Key(Task.created_at, kind=datetime), Key(Task.id, kind=str),
                      value_of=_first),
}
SORT_LABELS = {'due': '到期时间', 'started': '创建时间（新的在前）', 'process': '流程', 'township': '镇街'}


def _invalid(name, message):
    return Invalid(message, details={name: message.split(' (')[0]}, code='validation_error')


def _flag(args, name):
    value = (args.get(name) or '').strip()
    if value not in ('', '1', '0'):
        raise _invalid(name, f'{name} 只能是 1 或 0 (must be 1 or 0)')
    return {'1': True, '0': False}.get(value)


def _text(args, name, limit=100):
    value = (args.get(name) or '').strip()
    if len(value) > limit:
        raise _invalid(name, f'筛选条件过长 (filter {name} too long)')
    return value or None


@dataclass
class TaskFilters:
    process: str | None = None
    category: str | None = None
    township: str | None = None
    overdue: bool | None = None
    due_before: date | None = None
    assigned: str = ''             # '' | me | unassigned | all | a username
    sort: str = 'due'

    @classmethod
    def from_args(cls, args):
        raw_due = _text(args, 'due_before', 10)
        try:
            due = date.fromisoformat(raw_due) if raw_due else None
        except ValueError:
            raise _invalid('due_before', '到期日期应为 年-月-日，如 2026-12-31 (due_before must be a date)') from None
        sort = _text(args, 'sort', 20) or 'due'
        if sort not in TASK_SORTS:
            raise _invalid('sort', '没有这种排序方式 (no such sort order)')
        return cls(process=_text(args, 'process'), category=_text(args, 'category', 50),
                   township=_text(args, 'township', 50), overdue=_flag(args, 'overdue'), due_before=due,
                   assigned=_text(args, 'assigned') or '', sort=sort)

    def as_args(self):
        """The query string values (for links, saved filters, the export)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == '' or (f.name == 'sort' and value == 'due'):
                continue
            out[f.name] = {True: '1', False: '0'}.get(value, value) if isinstance(value, bool) else str(value)
        return out


@dataclass
class CaseFilters:
    status: str | None = None
    process: str | None = None
    category: str | None = None
    township: str | None = None
    overdue: bool | None = None

    @classmethod
    def from_args(cls, args):
        status = _text(args, 'status', 20)
        if status and status not in STATUSES:
            raise _invalid('status', '没有这种案件状态 (no such status)')
        return cls(status=status, process=_text(args, 'process'), category=_text(args, 'category', 50),
                   township=_text(args, 'township', 50), overdue=_flag(args, 'overdue'))

    def as_args(self):
        return {f.name: ({True: '1', False: '0'}[v] if isinstance(v, bool) else v)
                for f in fields(self) if (v := getattr(self, f.name)) is not None}


def _day_end(day):
    """The first instant after `day` in Shanghai, as UTC (a deadline "by 12-31" is due before 01-01 00:00)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=timezone.utc) - SHANGHAI_OFFSET


def task_statement(user, filters, section=None, columns=None):
    """Ready tasks the user may see under `filters`, as (task, process key) rows, or rows of `columns`.

    `section`: 'mine' (claimed by the user), 'group' (the user's role, unclaimed) or None (by
    filters.assigned)."""
    stmt = access.scope_tasks(user, (select(*columns) if columns else select(Task, ProcessInstance.process_key))
                              .select_from(Task).join(ProcessInstance, ProcessInstance.id == Task.instance_id)
                              ).where(Task.state == 'ready')
    who = section or filters.assigned
    if who in ('mine', 'me'):
        stmt = stmt.where(Task.assignee == user.username)
    elif who == 'group':
        stmt = stmt.where(Task.role == user.role, Task.assignee.is_(None))
    elif who == 'unassigned':
        stmt = stmt.where(Task.assignee.is_(None))
    elif who == '':
        stmt = stmt.where(or_(Task.assignee == user.username, (Task.role == user.role) & Task.assignee.is_(None)))
    elif who != 'all':
        person = find_user(who)
        stmt = stmt.where(Task.assignee == (person.username if person else who))
    if filters.process:
        stmt = stmt.where(ProcessInstance.process_key == filters.process)
    if filters.category:
        stmt = stmt.where(ProcessInstance.definition_id.in_(_definition_ids(filters.category) or [-1]))
    if filters.township:
        stmt = stmt.where(Task.township == filters.township)
    if filters.overdue is not None:
        stmt = stmt.where(Task.overdue == filters.overdue)
    if filters.due_before is not None:
        stmt = stmt.where(Task.due_at < _day_end(filters.due_before))
    return stmt


def task_page(user, filters, section=None, per_page=20, cursor=None, page=1):
    """A Page of (task, process key) rows in the filters' sort order."""
    return page_of(task_statement(user, filters, section), TASK_SORTS[filters.sort], per_page, page, cursor)


# What an export of the task list shows, read as plain rows with its case's number and applicant
# from the join the list has anyway: building 50,000 task objects, then their cases by id, was most
# of a task export's time once its batches walked the index. The sort keys come last.
TASK_EXPORT_COLUMNS = (Task.name, Task.township, Task.assignee, Task.created_at, Task.due_at, Task.overdue,
                       ProcessInstance.process_key, ProcessInstance.business_key,
                       ProcessInstance.summary['applicant_name'].as_string().label('applicant_name'),
                       Task.instance_id, Task.priority, Task.id)
_EXPORT_POSITION = {column.key: n for n, column in enumerate(TASK_EXPORT_COLUMNS)}
TASK_EXPORT_SORTS = {name: Order(tuple(replace(key, get=itemgetter(_EXPORT_POSITION[key.column.key]))
                                       for key in sort.keys))
                     for name, sort in TASK_SORTS.items()}


def task_batches(user, filters, limit):
    """Batches of rows of TASK_EXPORT_COLUMNS (name, township, …, instance_id, priority, id) in the filters' order."""
    return iter_batches(task_statement(user, filters, columns=TASK_EXPORT_COLUMNS), TASK_EXPORT_SORTS[filters.sort],
                        limit)


def case_statement(user, filters, columns=None):
    stmt = access.scope_instances(user, select(*columns) if columns else
                                  select(ProcessInstance).options(access.WITHOUT_STATE))
    if filters.status:
        stmt = stmt.where(ProcessInstance.status == filters.status)
    if filters.process:
        stmt = stmt.where(ProcessInstance.process_key == filters.process)
    if filters.category:
        stmt = stmt.where(ProcessInstance.definition_id.in_(_definition_ids(filters.category) or [-1]))
    if filters.township:
        stmt = stmt.where(ProcessInstance.township == filters.township)
    if filters.overdue is not None:
        stmt = stmt.where(ProcessInstance.overdue == filters.overdue)
    return stmt


def case_page(user, filters, per_page=30, page=1, cursor=None):
    return page_of(case_statement(user, filters), CASE_ORDER, per_page, page, cursor)


# What an export of the case list shows, read as plain rows: building 50,000 case objects and
# parsing each one's whole summary was most of an export's time once the state was left out.
EXPORT_COLUMNS = (ProcessInstance.id, ProcessInstance.business_key,
                  ProcessInstance.summary['applicant_name'].as_string().label('applicant_name'),
                  ProcessInstance.summary['id_number_masked'].as_string().label('id_number_masked'),
                  ProcessInstance.township, ProcessInstance.process_key, ProcessInstance.status,
                  ProcessInstance.overdue, ProcessInstance.created_at)
EXPORT_ORDER = order(Key(ProcessInstance.created_at, desc=True, kind=datetime, get=lambda row: row[-1]),
                     Key(ProcessInstance.id, desc=True, get=lambda row: row[0]))


def case_batches(user, filters, limit):
    """Batches of rows of EXPORT_COLUMNS (id, business_key, applicant_name, …, created_at), newest first."""
    return iter_batches(case_statement(user, filters, EXPORT_COLUMNS), EXPORT_ORDER, limit)


def categories():
    """The categories of the deployed processes (few rows)."""
    from ..models import ProcessDefinition
    return sorted(c for c in db.session.scalars(select(ProcessDefinition.category).distinct()) if c)
