"""Read-only figures for the pages: county supervision, the designer's definition list, list summaries.

Every query is scoped through access.py; views only format what these functions return. The
supervision figures are aggregates computed by the database over indexed columns (GROUP BY, one
covering index): no case is read and no list of case ids is sent back as parameters, so they
answer the same at a thousand cases and at millions. Lists of timers are pages (listing.py).
"""
import statistics
from datetime import datetime

from sqlalchemy import func, select, text

from .. import calendar
from ..extensions import db
from ..models import ProcessDefinition, ProcessInstance, Timer
from . import access
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
    """The distinct townships of the cases, by hopping along the township index (one probe per township)."""
    if not access.sees_all_townships(user):
        return [user.township]
    found = db.session.execute(text(
        'WITH RECURSIVE t(township) AS ('
        ' SELECT min(township) FROM process_instance'
        ' UNION ALL SELECT (SELECT min(p.township) FROM process_instance p WHERE p.township > t.township)'
        ' FROM t WHERE t.township IS NOT NULL)'
        ' SELECT township FROM t WHERE township IS NOT NULL')).scalars()
    return list(found)


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
    soon = select(Timer, ProcessInstance, ProcessDefinition).select_from(Timer).join(
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
    return _filtered(access.scope_instances(user, select(ProcessInstance, ProcessDefinition).join(
        ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id).where(
        ProcessInstance.status == 'running', ProcessInstance.overdue == True)),  # noqa: E712 (the index's column)
        township, category, variant)


def overdue_batches(user, limit, **filters):
    """The overdue list in batches of (fired deadline, case, definition), `limit` rows at most."""
    for rows in iter_batches(overdue_statement(user, **filters), OVERDUE_ORDER, limit):
        yield _with_fired_deadline(rows)


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
    """One row per township: open, overdue, legacy/delegated counts, median working days to decision."""
    access.check_supervision(user)
    variants = dict(db.session.execute(select(ProcessDefinition.id, ProcessDefinition.variant)).all())
    counts = db.session.execute(_filtered(access.scope_instances(user, select(
        ProcessInstance.township, ProcessInstance.definition_id, ProcessInstance.status, ProcessInstance.overdue,
        func.count())), township, category, variant).group_by(
        ProcessInstance.township, ProcessInstance.definition_id, ProcessInstance.status,
        ProcessInstance.overdue)).all()
    rows = {}
    for code, definition_id, status, overdue, n in counts:
        row = rows.setdefault(code, {'township': code, 'total': 0, 'open': 0, 'overdue': 0, 'legacy': 0,
                                     'delegated': 0, 'decided': 0, 'median_days': None})
        row['total'] += n
        if status == 'running':
            row['open'] += n
            row['overdue'] += n if overdue else 0
        row['legacy' if variants.get(definition_id) in LEGACY_VARIANTS else 'delegated'] += n
    for code, decided, median in _medians(user, township, category, variant):
        if code in rows:
            rows[code]['decided'], rows[code]['median_days'] = decided, median
    return [rows[code] for code in sorted(rows)]


def _medians(user, township, category, variant):
    """(township, decided cases, median working days acceptance → decision) from the stored column."""
    decided = ProcessInstance.decision_days.is_not(None)
    if db.engine.dialect.name == 'postgresql':
        stmt = select(ProcessInstance.township, func.count(),
                      func.percentile_cont(0.5).within_group(ProcessInstance.decision_days))
        found = db.session.execute(_filtered(access.scope_instances(user, stmt.where(decided)), township, category,
                                             variant).group_by(ProcessInstance.township)).all()
        return [(code, n, _number(median)) for code, n, median in found]
    # SQLite (the small site): the per-township histogram of days, the median taken here.
    stmt = select(ProcessInstance.township, ProcessInstance.decision_days, func.count())
    found = db.session.execute(_filtered(access.scope_instances(user, stmt.where(decided)), township, category,
                                         variant).group_by(ProcessInstance.township,
                                                           ProcessInstance.decision_days)).all()
    days = {}
    for code, value, n in found:
        days.setdefault(code, []).extend([value] * n)
    return [(code, len(values), _number(statistics.median(values))) for code, values in days.items()]


def _number(value):
    """A median as the pages show it: whole days as an int."""
    if value is None:
        return None
    value = float(value)
    return int(value) if value.is_integer() else value


def definition_usage():
    """Every deployed definition version with how many cases run on it (designer page; no case data)."""
    counts = dict(db.session.execute(select(ProcessInstance.definition_id, func.count())
                                     .group_by(ProcessInstance.definition_id)).all())
    running = dict(db.session.execute(select(ProcessInstance.definition_id, func.count())
                                      .where(ProcessInstance.status == 'running')
                                      .group_by(ProcessInstance.definition_id)).all())
    rows = db.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key,
                                                                 ProcessDefinition.version.desc())).all()
    return [{'definition': d, 'cases': counts.get(d.id, 0), 'running': running.get(d.id, 0)} for d in rows]


def case_summaries(user, instance_ids):
    """{case id: case} for the rows of a task list, in one query (scoped like every case read)."""
    ids = sorted({i for i in instance_ids if i is not None})
    if not ids:
        return {}
    rows = db.session.scalars(access.scope_instances(user, select(ProcessInstance)
                                                     .where(ProcessInstance.id.in_(ids)))).all()
    return {row.id: row for row in rows}
