"""The supervision and reform counts (models/figures.py), kept in step with the cases by every transaction.

After a flush has written cases (so their version checks passed), the change of each case's
(township, definition, status, overdue), decision days, step counters (services/steps.py) and
(township, definition, month started) is kept aside (services/pending.py) and
added to the count tables when the transaction commits, in the same transaction: a rolled-back or
stale write, or a rolled-back SAVEPOINT, takes its counts back with it. Deltas are applied in key
order, so two transactions counting the same rows take their row locks in one order (no deadlock).
Bulk loads that bypass the ORM (tests/bench/gen_cases.py) call `rebuild` afterwards.
"""
from collections import Counter
from datetime import timedelta

from sqlalchemy import Interval, bindparam, delete, event, func, inspect, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE

from ..calendar import SHANGHAI
from ..models import CaseCount, DecisionDayCount, ProcessInstance, StepCount
from ..models.figures import StartCount
from . import audit, changes, pending, statements

# A case row's counted columns, and the defaults a row not yet flushed takes for them.
COUNTED = ('township', 'definition_id', 'status', 'overdue', 'decision_days', 'steps_done', 'handoffs',
           'county_steps', 'created_at')
# The columns of the start count's key: only a change of one of these moves a case there.
STARTED = frozenset(('township', 'definition_id', 'created_at'))
_DEFAULTS = {'status': 'running', 'overdue': False, 'steps_done': 0, 'handoffs': 0, 'county_steps': 0}
STEP_KINDS = ('steps', 'handoffs', 'county_steps', 'cases')


def month_started(moment):
    """The month a case started in, Beijing time: 'YYYY-MM' ('' without a time), as start_count keys it."""
    return moment.astimezone(SHANGHAI).strftime('%Y-%m') if moment is not None else ''


def _value(state, obj, name, old):
    """The column's value after the flush, or before it (`old`): an attribute set since the load keeps
    the value it replaced in committed_state (the counted columns have active_history, so it was
    loaded first). Read from the state's dicts: a history object per column cost more than the rest."""
    committed = state.committed_state
    if old and name in committed and committed[name] is not NO_VALUE:
        value = committed[name]
    else:
        loaded = state.dict
        value = loaded[name] if name in loaded else getattr(obj, name)
    return _DEFAULTS.get(name) if value is None and name in _DEFAULTS else value


def _values(obj, old, started=True):
    """(township, definition, status, overdue), days, step counters and, if `started`, the start
    count's key of a case before (`old`) or after its flush."""
    state = inspect(obj)
    township, definition_id, status, overdue, days, steps, handoffs, county = (
        _value(state, obj, name, old) for name in COUNTED[:-1])
    # The start time is read only when the start count's key may have changed: a case written at
    # each step never loads it for nothing.
    start = (township, definition_id, month_started(_value(state, obj, 'created_at', old))) if started else None
    return ((township, definition_id, status, bool(overdue)), days, (steps, handoffs, county, 1 if steps else 0),
            start)


def _count(found, values, sign):
    counts, days, steps, starts = found
    key, day, step_values, start = values
    counts[key] += sign
    if day is not None:
        days[key[:2] + (day,)] += sign
    for kind, n in zip(STEP_KINDS, step_values):
        if n:
            steps[key[:2] + (kind,)] += sign * n
    if start is not None:
        starts[start] += sign


def _count_change(found, obj):
    """The deltas of a persistent case whose counted columns changed (nothing if none did)."""
    changed = set(changes.changed(obj, COUNTED))
    if changed:
        started = not STARTED.isdisjoint(changed)
        _count(found, _values(obj, old=True, started=started), -1)
        _count(found, _values(obj, old=False, started=started), +1)


def _found():
    return Counter(), Counter(), Counter(), Counter()


@event.listens_for(Session, 'after_flush')
def _keep_counts(session, flush_context):
    found = _found()
    for obj in session.new:
        if isinstance(obj, ProcessInstance):
            _count(found, _values(obj, old=False), +1)
    for obj in session.dirty:
        if isinstance(obj, ProcessInstance):
            _count_change(found, obj)
    for obj in session.deleted:
        if isinstance(obj, ProcessInstance):
            _count(found, _values(obj, old=True), -1)
    if any(any(c.values()) for c in found):
        # Applied at the commit (_apply_counts), with the SAVEPOINT they were made in: a batch of
        # cases changes each count row once, and locks it only for its commit.
        pending.add(session, _COUNTS, found)


def keep_changes(session, cases):
    """Keep the count deltas of these changed (persistent) cases now, as a flush would: for a writer
    that UPDATEs their rows itself (services/firing.py), before it marks them written."""
    found = _found()
    for obj in cases:
        _count_change(found, obj)
    if any(any(c.values()) for c in found):
        pending.add(session, _COUNTS, found)


@event.listens_for(Session, 'before_commit', insert=True)
def _apply_counts(session):
    """Add the transaction's deltas to the count rows. Before the audit chain's lock (audit.py, a
    listener registered later): the row locks of the counts are never waited for while holding it."""
    if session.in_nested_transaction():
        return
    # The commit flushes only after this listener: changes not flushed yet are flushed (and their
    # deltas kept) now, or a case changed and committed without a flush before would go uncounted.
    session.flush()
    if not session.info.get(pending.KEY):
        return
    kept = pending.take(session, _COUNTS)
    if not kept:
        return
    counts, days, steps, starts = _found()
    for c, d, st, sc in kept:
        counts.update(c)
        days.update(d)
        steps.update(st)
        starts.update(sc)
    # In key order, so two transactions counting the same rows lock them in one order (no deadlock).
    tables = {}
    for model, names, found in ((CaseCount, ('township', 'definition_id', 'status', 'overdue'), counts),
                                (DecisionDayCount, ('township', 'definition_id', 'days'), days),
                                (StepCount, ('township', 'definition_id', 'kind'), steps),
                                (StartCount, ('township', 'definition_id', 'month'), starts)):
        rows = [dict(zip(names, key), n=found[key]) for key in sorted(k for k, n in found.items() if n)]
        if rows:
            tables[model] = (names, rows)
    if not tables or audit.carry_counts(session, {m.__tablename__: rows for m, (_, rows) in tables.items()}):
        return
    # One statement per table, its rows sent together.
    connection = session.connection()
    for model, (names, rows) in tables.items():
        statements.execute_rows(connection, ('count upsert', model.__tablename__),
                                lambda: _upsert(model, names, connection.dialect.name), rows)


_COUNTS = 'counts'


def _upsert(model, names, dialect_name):
    """INSERT … ON CONFLICT (key) DO UPDATE SET n = n + excluded.n; built once per table and database
    (statements.execute_rows keeps it): building and compiling it per row cost more than running it."""
    dialect = postgresql if dialect_name == 'postgresql' else sqlite
    stmt = dialect.insert(model).values({name: bindparam(name) for name in (*names, 'n')})
    return stmt.on_conflict_do_update(index_elements=list(names), set_={'n': model.n + stmt.excluded.n})


# ------------------------------------------------------------------ reading, checking, rebuilding

def _recount_counts():
    overdue = func.coalesce(ProcessInstance.overdue, False)
    status = func.coalesce(ProcessInstance.status, 'running')
    return select(ProcessInstance.township, ProcessInstance.definition_id, status, overdue, func.count()) \
        .group_by(ProcessInstance.township, ProcessInstance.definition_id, status, overdue)


def _recount_days():
    return select(ProcessInstance.township, ProcessInstance.definition_id, ProcessInstance.decision_days,
                  func.count()).where(ProcessInstance.decision_days.is_not(None)) \
        .group_by(ProcessInstance.township, ProcessInstance.definition_id, ProcessInstance.decision_days)


def _recount_steps():
    """(township, definition, kind, n) rows of step_count, summed from the case rows' counters."""
    return select(ProcessInstance.township, ProcessInstance.definition_id,
                  func.sum(ProcessInstance.steps_done), func.sum(ProcessInstance.handoffs),
                  func.sum(ProcessInstance.county_steps), func.count()) \
        .where(ProcessInstance.steps_done > 0).group_by(ProcessInstance.township, ProcessInstance.definition_id)


def month_key(column, dialect_name):
    """`month_started` in SQL, for a recount (to_char, not date_trunc: the key is the text)."""
    if dialect_name == 'sqlite':
        month = func.strftime('%Y-%m', column, '+8 hours')
    else:
        month = func.to_char(column + literal(timedelta(hours=8), Interval()), 'YYYY-MM')
    return func.coalesce(month, '')


def _recount_starts(session):
    month = month_key(ProcessInstance.created_at, session.get_bind().dialect.name)
    return select(ProcessInstance.township, ProcessInstance.definition_id, month, func.count()) \
        .group_by(ProcessInstance.township, ProcessInstance.definition_id, month)


def _step_rows(session):
    return [(township, definition_id, kind, int(n)) for township, definition_id, *values in session.execute(_recount_steps())
            for kind, n in zip(STEP_KINDS, values) if n]


def differences(session):
    """The rows where the count tables and a full recount disagree ([] when they are in step)."""
    stored = {tuple(r[:-1]): r[-1] for r in session.execute(select(
        CaseCount.township, CaseCount.definition_id, CaseCount.status, CaseCount.overdue, CaseCount.n))}
    stored_days = {tuple(r[:-1]): r[-1] for r in session.execute(select(
        DecisionDayCount.township, DecisionDayCount.definition_id, DecisionDayCount.days, DecisionDayCount.n))}
    stored_steps = {tuple(r[:-1]): r[-1] for r in session.execute(select(
        StepCount.township, StepCount.definition_id, StepCount.kind, StepCount.n))}
    stored_starts = {tuple(r[:-1]): r[-1] for r in session.execute(select(
        StartCount.township, StartCount.definition_id, StartCount.month, StartCount.n))}
    found = []
    for table, have, want in (('case_count', stored, session.execute(_recount_counts())),
                              ('decision_day_count', stored_days, session.execute(_recount_days())),
                              ('step_count', stored_steps, _step_rows(session)),
                              ('start_count', stored_starts, session.execute(_recount_starts(session)))):
        want = {(r[0], r[1], r[2], bool(r[3])) if table == 'case_count' else tuple(r[:-1]): r[-1] for r in want}
        have = {(k[0], k[1], k[2], bool(k[3])) if table == 'case_count' else k: v for k, v in have.items()}
        for key in sorted(set(have) | set(want), key=repr):
            if have.get(key, 0) != want.get(key, 0):
                found.append((table, key, have.get(key, 0), want.get(key, 0)))
    return found


def rebuild(session):
    """Recount the tables from the cases (after a bulk load, or if `differences` finds any)."""
    # The recount includes this transaction's flushed changes: their deltas must not be added again.
    session.flush()
    pending.discard(session, _COUNTS)
    session.execute(delete(CaseCount))
    session.execute(delete(DecisionDayCount))
    session.execute(delete(StepCount))
    session.execute(delete(StartCount))
    session.execute(insert(CaseCount).from_select(
        ['township', 'definition_id', 'status', 'overdue', 'n'], _recount_counts()))
    session.execute(insert(DecisionDayCount).from_select(
        ['township', 'definition_id', 'days', 'n'], _recount_days()))
    session.execute(insert(StartCount).from_select(['township', 'definition_id', 'month', 'n'],
                                                   _recount_starts(session)))
    rows = _step_rows(session)
    if rows:
        session.execute(insert(StepCount), [dict(township=t, definition_id=d, kind=k, n=n) for t, d, k, n in rows])


def weighted_median(histogram):
    """The median of values given as {value: how many}; None for no values."""
    total = sum(n for n in histogram.values() if n > 0)
    if not total:
        return None
    wanted, seen, picked = ((total - 1) // 2, total // 2), 0, []
    for value in sorted(v for v, n in histogram.items() if n > 0):
        n = histogram[value]
        for index in wanted:
            if seen <= index < seen + n:
                picked.append(value)
        seen += n
        if len(picked) == 2:
            break
    return (picked[0] + picked[1]) / 2

