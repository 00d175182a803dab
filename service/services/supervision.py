"""Read-only figures for the pages: county supervision, the designer's definition list, list summaries.

Every query is scoped through access.py; views only format what these functions return. The
supervision figures are read from count tables the write path keeps in the same transaction as
each case (services/figures.py): no case is read and no list of case ids is sent back as
parameters, so they answer the same at a thousand cases and at millions. Lists of timers are pages (listing.py).
"""
from collections import Counter
from datetime import datetime

from sqlalchemy import select

from .. import calendar
from ..extensions import db
from ..models import CaseCount, CaseExclusion, DecisionDayCount, ProcessDefinition, ProcessInstance, Timer
from . import access
from .figures import weighted_median
from .context import now
from .listing import Key, iter_batches, order, page_of

# "Due soon" everywhere (task lists, supervision): a deadline within this many working days.
DUE_SOON_WORKING_DAYS = 2
LEGACY_VARIANTS = ('legacy',)
LIST_SIZE = 50

# Overdue: running cases that became overdue, the longest overdue first (one index range).
OVERDUE_ORDER = order(Key(ProcessInstance.overdue_since, kind=datetime), Key(ProcessInstance.id),
                      value_of=lambda r: r[0])
# Due soon: waiting deadlines by due time.
SOON_ORDER = order(Key(Timer.due_at, kind=datetime), Key(Timer.id), value_of=lambda r: r[0])


def due_soon_limit(moment=None):
    """The instant before which a waiting deadline counts as due soon."""
    return datetime.fromisoformat(calendar.add_working_days(moment or now(), DUE_SOON_WORKING_DAYS))


def _definition_ids(category=None, variant=None):
    """The definition ids a category/variant filter keeps (None: no filter). Definitions are few."""
    if not category and not variant:
        return None
    stmt = select(ProcessDefinition.id)
    if category:
        stmt = stmt.where(ProcessDefinition.category == category)
    if variant:
        stmt = stmt.where(ProcessDefinition.variant == variant)
    return list(db.session.scalars(stmt))


def _filtered(stmt, township=None, category=None, variant=None):
    if township:
        stmt = stmt.where(ProcessInstance.township == township)
    ids = _definition_ids(category, variant)
    if ids is not None:
        stmt = stmt.where(ProcessInstance.definition_id.in_(ids))
    return stmt


def filter_options(user):
    """The townships, categories and variants a supervisor can filter by."""
    access.check_supervision(user)
    rows = db.session.execute(select(ProcessDefinition.category, ProcessDefinition.variant).distinct()).all()
    return {'townships': townships_with_cases(user),
            'categories': sorted({r.category for r in rows if r.category}),
            'variants': sorted({r.variant for r in rows if r.variant})}


def townships_with_cases(user):
    """The distinct townships that have cases, from the count tables (a few hundred rows)."""
    if not access.sees_all_townships(user):
        return [user.township]
    return list(db.session.scalars(select(CaseCount.township).where(CaseCount.n > 0).distinct()
                                   .order_by(CaseCount.township)))


def township_choices(user):
    """The townships a list page's filter offers: the county's with cases; nobody else chooses (empty)."""
    return townships_with_cases(user) if access.sees_all_townships(user) else []


def deadline_timers(user, township=None, category=None, variant=None, overdue_after=None, soon_after=None,
                    per_page=LIST_SIZE):
    """{'overdue': Page, 'due_soon': Page, 'now'}: deadlines of running cases, each row (timer, case, definition).

    Overdue: running overdue cases, in the order they became overdue, each with its first fired deadline.
    Due soon: waiting deadlines due within DUE_SOON_WORKING_DAYS working days, by due time.
    """
    access.check_supervision(user)
    moment = now()

    def base(stmt):
        return _filtered(access.scope_instances(user, stmt).join(
            ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id), township, category, variant)
    overdue = overdue_statement(user, township, category, variant)
    # A waiting timer belongs to a running case (a held case's are suspended, an ended case's cancelled).
    soon = select(Timer, ProcessInstance, ProcessDefinition).options(access.WITHOUT_STATE).select_from(Timer).join(
        ProcessInstance, ProcessInstance.id == Timer.instance_id).where(
        Timer.state == 'waiting', Timer.kind == 'deadline', Timer.due_at < due_soon_limit(moment))
    if township:
        soon = soon.where(Timer.township == township)   # the timer lists' township index
    soon = base(soon)
    late = page_of(overdue, OVERDUE_ORDER, per_page, cursor=overdue_after)
    late.items = _with_fired_deadline(late.items)
    return {'overdue': late, 'due_soon': page_of(soon, SOON_ORDER, per_page, cursor=soon_after), 'now': moment}


def overdue_statement(user, township=None, category=None, variant=None):
    """Running overdue cases as (case, definition) rows, for OVERDUE_ORDER (the page and its export)."""
    access.check_supervision(user)
    return _filtered(access.scope_instances(user, select(ProcessInstance, ProcessDefinition).options(access.WITHOUT_STATE).join(
        ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id).where(
        ProcessInstance.status == 'running', ProcessInstance.overdue == True)),  # noqa: E712 (the index's column)
        township, category, variant)


# The overdue export reads plain rows of what it shows (like worklists.EXPORT_COLUMNS): 30,000 case
# objects and their whole summaries were most of its time at a million cases.
OVERDUE_EXPORT_COLUMNS = (ProcessInstance.id, ProcessInstance.business_key,
                          ProcessInstance.summary['applicant_name'].as_string().label('applicant_name'),
                          ProcessInstance.township, ProcessInstance.definition_id, ProcessInstance.overdue_since)
OVERDUE_EXPORT_ORDER = order(Key(ProcessInstance.overdue_since, kind=datetime, get=lambda row: row[-1]),
                             Key(ProcessInstance.id, get=lambda row: row[0]))


def overdue_batches(user, limit, **filters):
    """The overdue list for its export, `limit` rows at most, in batches of (row, fired deadline, definition):
    row = OVERDUE_EXPORT_COLUMNS, the deadline (name, due_at) of the case's first fired one or None."""
    access.check_supervision(user)
    definitions = {d.id: d for d in db.session.scalars(select(ProcessDefinition))}
    stmt = _filtered(access.scope_instances(user, select(*OVERDUE_EXPORT_COLUMNS).where(
        ProcessInstance.status == 'running', ProcessInstance.overdue == True)), **filters)  # noqa: E712
    for rows in iter_batches(stmt, OVERDUE_EXPORT_ORDER, limit):
        fired = {}
        for instance_id, name, due_at in db.session.execute(select(Timer.instance_id, Timer.name, Timer.due_at).where(
                Timer.instance_id.in_([row[0] for row in rows]), Timer.kind == 'deadline', Timer.state == 'fired')
                .order_by(Timer.due_at, Timer.id)):
            fired.setdefault(instance_id, (name, due_at))
        yield [(row, fired.get(row[0]), definitions.get(row[4])) for row in rows]


def _with_fired_deadline(rows):
    """(timer, case, definition) for a page of (case, definition): the case's first fired deadline."""
    ids = [case.id for case, _ in rows]    # one page: at most LIST_SIZE ids
    fired = {}
    if ids:
        for timer in db.session.scalars(select(Timer).where(
                Timer.instance_id.in_(ids), Timer.kind == 'deadline', Timer.state == 'fired')
                .order_by(Timer.due_at, Timer.id)):
            fired.setdefault(timer.instance_id, timer)
    return [(fired.get(case.id), case, definition) for case, definition in rows]


def township_table(user, township=None, category=None, variant=None):
    """One row per township: open, overdue, legacy/delegated counts, median working days to decision.

    Read from the count tables the write path keeps (services/figures.py): a few hundred rows at any
    number of cases. A user's close-relative exclusions are taken back out of them, case by case.
    """
    access.check_supervision(user)
    variants = dict(db.session.execute(select(ProcessDefinition.id, ProcessDefinition.variant)).all())
    ids = _definition_ids(category, variant)
    scope = township if township else (None if access.sees_all_townships(user) else user.township)
    counts = Counter()
    stmt = select(CaseCount.township, CaseCount.definition_id, CaseCount.status, CaseCount.overdue, CaseCount.n)
    for code, definition_id, status, overdue, n in db.session.execute(_narrowed(stmt, CaseCount, scope, ids)):
        counts[code, definition_id, status, bool(overdue)] += n
    days = Counter()
    stmt = select(DecisionDayCount.township, DecisionDayCount.days, DecisionDayCount.n)
    for code, day, n in db.session.execute(_narrowed(stmt, DecisionDayCount, scope, ids)):
        days[code, day] += n
    for case in _excluded_cases(user, scope, ids):
        counts[case.township, case.definition_id, case.status or 'running', bool(case.overdue)] -= 1
        if case.decision_days is not None:
            days[case.township, case.decision_days] -= 1
    rows = {}
    for (code, definition_id, status, overdue), n in counts.items():
        if n <= 0:
            continue
        row = rows.setdefault(code, {'township': code, 'total': 0, 'open': 0, 'overdue': 0, 'legacy': 0,
                                     'delegated': 0, 'decided': 0, 'median_days': None})
        row['total'] += n
        if status == 'running':
            row['open'] += n
            row['overdue'] += n if overdue else 0
        row['legacy' if variants.get(definition_id) in LEGACY_VARIANTS else 'delegated'] += n
    per_township = {}
    for (code, day), n in days.items():
        per_township.setdefault(code, Counter())[day] += n
    for code, histogram in per_township.items():
        if code in rows:
            rows[code]['decided'] = sum(n for n in histogram.values() if n > 0)
            rows[code]['median_days'] = _number(weighted_median(histogram))
    return [rows[code] for code in sorted(rows)]


def _narrowed(stmt, model, township, definition_ids):
    stmt = stmt.where(model.n != 0)
    if township:
        stmt = stmt.where(model.township == township)
    if definition_ids is not None:
        stmt = stmt.where(model.definition_id.in_(definition_ids))
    return stmt


def _excluded_cases(user, township, definition_ids):
    """The cases this user may not see (close relatives): few, read to take them out of the counts."""
    stmt = select(ProcessInstance).options(access.WITHOUT_STATE).join(CaseExclusion, CaseExclusion.instance_id == ProcessInstance.id).where(
        CaseExclusion.username == user.username)
    if township:
        stmt = stmt.where(ProcessInstance.township == township)
    if definition_ids is not None:
        stmt = stmt.where(ProcessInstance.definition_id.in_(definition_ids))
    return db.session.scalars(stmt).all()


def _number(value):
    """A median as the pages show it: whole days as an int."""
    if value is None:
        return None
    value = float(value)
    return int(value) if value.is_integer() else value


def definition_usage():
    """Every deployed definition version with how many cases run on it (designer page; from the counts)."""
    counts, running = Counter(), Counter()
    for definition_id, status, n in db.session.execute(select(CaseCount.definition_id, CaseCount.status,
                                                              CaseCount.n).where(CaseCount.n != 0)):
        counts[definition_id] += n
        running[definition_id] += n if status == 'running' else 0
    rows = db.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key,
                                                                 ProcessDefinition.version.desc())).all()
    return [{'definition': d, 'cases': counts.get(d.id, 0), 'running': running.get(d.id, 0)} for d in rows]


def case_summaries(user, instance_ids):
    """{case id: case} for the rows of a task list, in one query (scoped like every case read)."""
    ids = sorted({i for i in instance_ids if i is not None})
    if not ids:
        return {}
    rows = db.session.scalars(access.scope_instances(user, select(ProcessInstance).options(access.WITHOUT_STATE)
                                                     .where(ProcessInstance.id.in_(ids)))).all()
    return {row.id: row for row in rows}
