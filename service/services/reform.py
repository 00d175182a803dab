"""The reform measured on real cases (改革成效): per township and category, legacy vs delegated flows.

Everything but the hand-offs comes from the count tables the write path keeps (models/figures.py):
cases and overdue ones from `case_count`, working days from acceptance to decision as a histogram
from `decision_day_count` — median, 90th percentile and the share within the statutory limit
(processes/statutory_limits.json, per variant) follow from the histogram without reading a case.
Steps, hand-offs and county touches are one grouped count over the completed task rows the write
path keeps (the history; no case's workflow state is read): per case, the completed steps; the
hand-offs — a step done by another role (lane) than the step before it in the case, in the order
they were completed (a window over each case's rows); and the county touches — steps done by a
county role. A message a county office records (a verification result) is not a task row and not
counted.
"""
import json
import math
from collections import Counter
from functools import lru_cache
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import CaseCount, DecisionDayCount, ProcessDefinition, StepCount
from . import access
from .figures import STEP_KINDS, weighted_median

LEGACY = ('legacy',)


@lru_cache(maxsize=4)
def _limits(path):
    return json.loads(Path(path).read_text(encoding='utf-8')).get('variants', {})


def limits():
    return _limits(str(Path(current_app.config['JIUZHU_PROCESSES_DIR']) / 'statutory_limits.json'))


def percentile(histogram, share):
    """The smallest value with at least `share` of the counts at or below it (nearest rank)."""
    total = sum(n for n in histogram.values() if n > 0)
    if not total:
        return None
    rank, seen = math.ceil(share * total), 0
    for value in sorted(v for v, n in histogram.items() if n > 0):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None


def _row(township, category, flow):
    return {'township': township, 'category': category, 'flow': flow, 'cases': 0, 'open': 0, 'overdue': 0,
            'decided': 0, 'median_days': None, 'p90_days': None, 'within_limit': None, 'steps': None,
            'handoffs': None, 'county_steps': None, '_days': Counter(), '_within': 0, '_limited': 0}


def table(user, township=None):
    """[{township, category, flow: legacy|delegated, cases, open, overdue, decided, median_days, p90_days,
    within_limit (share 0-1), steps, handoffs, county_steps (per case)}], township by township."""
    access.check_supervision(user)
    definitions = {d.id: d for d in db.session.scalars(select(ProcessDefinition).where(
        ProcessDefinition.variant.is_not(None)))}
    rows = {}

    def row_for(code, definition_id):
        d = definitions.get(definition_id)
        if d is None or (township and code != township):
            return None, None
        flow = 'legacy' if d.variant in LEGACY else 'delegated'
        return rows.setdefault((code, d.category, flow), _row(code, d.category, flow)), d
    for code, definition_id, status, overdue, n in db.session.execute(
            select(CaseCount.township, CaseCount.definition_id, CaseCount.status, CaseCount.overdue, CaseCount.n)
            .where(CaseCount.n > 0)):
        row, _ = row_for(code, definition_id)
        if row is None:
            continue
        row['cases'] += n
        if status == 'running':
            row['open'] += n
            row['overdue'] += n if overdue else 0
    known = limits()
    for code, definition_id, days, n in db.session.execute(
            select(DecisionDayCount.township, DecisionDayCount.definition_id, DecisionDayCount.days,
                   DecisionDayCount.n).where(DecisionDayCount.n > 0)):
        row, d = row_for(code, definition_id)
        if row is None:
            continue
        row['_days'][days] += n
        limit = known.get(d.variant)
        if limit is not None:
            row['_limited'] += n
            row['_within'] += n if days <= limit else 0
    _steps(rows, definitions, township)
    out = []
    for key in sorted(rows):
        row = rows[key]
        histogram = row.pop('_days')
        within, limited = row.pop('_within'), row.pop('_limited')
        row['decided'] = sum(histogram.values())
        row['median_days'] = weighted_median(histogram)
        row['p90_days'] = percentile(histogram, 0.9)
        row['within_limit'] = round(within / limited, 3) if limited else None
        out.append(row)
    return out


def _steps(rows, definitions, township):
    """Per case: completed steps, hand-offs between roles and county steps — the sums the write path
    keeps per township and definition (step_count, services/steps.py), a few hundred rows."""
    stmt = select(StepCount.township, StepCount.definition_id, StepCount.kind, StepCount.n).where(
        StepCount.definition_id.in_(list(definitions) or [0]), StepCount.n != 0)
    if township:
        stmt = stmt.where(StepCount.township == township)
    totals = {}
    for code, definition_id, kind, n in db.session.execute(stmt):
        d = definitions[definition_id]
        key = (code, d.category, 'legacy' if d.variant in LEGACY else 'delegated')
        if key in rows:
            totals.setdefault(key, dict.fromkeys(STEP_KINDS, 0))[kind] += n
    for key, t in totals.items():
        steps, handoffs, county_steps, cases = (t[kind] for kind in STEP_KINDS)
        for name, value in (('steps', steps), ('handoffs', handoffs), ('county_steps', county_steps)):
            rows[key][name] = round(value / cases, 1) if cases else None
