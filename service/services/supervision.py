"""Read-only figures for the pages: county supervision, the designer's definition list, list summaries.

Every query is scoped through access.py; views only format what these functions return.
"""
import statistics
from datetime import datetime

from sqlalchemy import func, select

from .. import calendar
from ..extensions import db
from ..models import ProcessDefinition, ProcessInstance, Task, Timer
from . import access
from .context import now

# "Due soon" everywhere (task lists, supervision): a deadline within this many working days.
DUE_SOON_WORKING_DAYS = 2

# The acceptance time of a case is the completion of its acceptance notice: the diagrams run
# `accepted_at = now()` in the engine step right after it (processes/README.md), so both carry
# the same instant, and reading task rows spares loading every case's workflow.
ACCEPTANCE_FORMS = ('acceptance_notice.schema.json',)
# The decision (decision.approved) is made by the confirmation / approval form.
DECISION_FORMS = ('dibao_decision.schema.json',)
LEGACY_VARIANTS = ('legacy',)


def due_soon_limit(moment=None):
    """The instant before which a waiting deadline counts as due soon."""
    return datetime.fromisoformat(calendar.add_working_days(moment or now(), DUE_SOON_WORKING_DAYS))


def _filtered(stmt, township=None, category=None, variant=None):
    if township:
        stmt = stmt.where(ProcessInstance.township == township)
    if category:
        stmt = stmt.where(ProcessDefinition.category == category)
    if variant:
        stmt = stmt.where(ProcessDefinition.variant == variant)
    return stmt


def _cases(user, *columns):
    stmt = select(*columns).select_from(ProcessInstance).join(
        ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
    return access.scope_instances(user, stmt)


def filter_options(user):
    """The townships, categories and variants a supervisor can filter by."""
    access.check_supervision(user)
    townships = sorted(set(db.session.scalars(_cases(user, ProcessInstance.township).distinct())))
    rows = db.session.execute(select(ProcessDefinition.category, ProcessDefinition.variant).distinct()).all()
    return {'townships': townships,
            'categories': sorted({r.category for r in rows if r.category}),
            'variants': sorted({r.variant for r in rows if r.variant})}


def deadline_timers(user, township=None, category=None, variant=None):
    """{'overdue': [...], 'due_soon': [...]}: deadline timers of running cases, each (timer, case, definition)."""
    access.check_supervision(user)
    moment = now()
    base = access.scope_timers(user, select(Timer, ProcessInstance, ProcessDefinition)
                               .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                               .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
                               .where(Timer.kind == 'deadline', ProcessInstance.status == 'running'))
    base = _filtered(base, township, category, variant)
    overdue = db.session.execute(base.where(Timer.state == 'fired')
                                 .order_by(Timer.due_at, Timer.id)).all()
    soon = db.session.execute(base.where(Timer.state == 'waiting', Timer.due_at < due_soon_limit(moment))
                              .order_by(Timer.due_at, Timer.id)).all()
    return {'overdue': [tuple(r) for r in overdue], 'due_soon': [tuple(r) for r in soon], 'now': moment}


def township_table(user, township=None, category=None, variant=None):
    """One row per township: open, overdue, legacy/delegated counts, median working days to decision."""
    access.check_supervision(user)
    cases = db.session.execute(_filtered(_cases(
        user, ProcessInstance.id, ProcessInstance.township, ProcessInstance.status, ProcessInstance.overdue,
        ProcessDefinition.variant), township, category, variant)).all()
    ids = [c.id for c in cases]
    accepted, decided = {}, {}
    if ids:
        marks = db.session.execute(select(Task.instance_id, Task.form, Task.completed_at).where(
            Task.instance_id.in_(ids), Task.state == 'completed',
            Task.form.in_(ACCEPTANCE_FORMS + DECISION_FORMS))).all()
        for m in marks:
            if m.form in ACCEPTANCE_FORMS:
                accepted[m.instance_id] = min(accepted.get(m.instance_id, m.completed_at), m.completed_at)
            else:
                decided[m.instance_id] = max(decided.get(m.instance_id, m.completed_at), m.completed_at)
    rows = {}
    for c in cases:
        row = rows.setdefault(c.township, {'township': c.township, 'total': 0, 'open': 0, 'overdue': 0,
                                           'legacy': 0, 'delegated': 0, 'days': []})
        row['total'] += 1
        if c.status == 'running':
            row['open'] += 1
            row['overdue'] += bool(c.overdue)
        row['legacy' if c.variant in LEGACY_VARIANTS else 'delegated'] += 1
        if c.id in accepted and c.id in decided and decided[c.id] >= accepted[c.id]:
            row['days'].append(calendar.working_days_between(accepted[c.id], decided[c.id]))
    out = []
    for code in sorted(rows):
        row = rows[code]
        days = row.pop('days')
        row['decided'] = len(days)
        row['median_days'] = statistics.median(days) if days else None
        out.append(row)
    return out


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
