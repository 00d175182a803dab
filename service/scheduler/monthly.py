"""Calendar-driven cases: the monthly roster and payment of every township (seed 000).

SpiffWorkflow never starts a process by itself (a timer start event only waits inside an
instance that already exists), so the scheduler starts these cases: on the 1st of each month
(Asia/Shanghai), one case per township for every deployed process of category `roster`.
The deadlines themselves (the roster by the 25th, the payment by the 10th) are boundary timers
in the diagrams, computed from the `period_start` this module passes in.

Which townships: `JIUZHU_TOWNSHIPS` (comma-separated codes, config or environment) when set,
otherwise every township that has an active user (the users table, the county excluded). A
township with no account yet cannot work a task, so starting a case for it would only make a
case nobody can see.

Idempotent: the business key is `<name>-<township>-<YYYY-MM>` (`roster-t01-2026-11`: the
`monthly_` prefix of the process key dropped), and a `calendar_start` row with that key is
committed with the case, so a second sweep, a restart or a second scheduler process starts
nothing twice. A month that was missed (service down on the 1st) is started on the next sweep
in that month: the deadline may then already be near, which is exactly what the county must see.
"""
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..calendar import SHANGHAI
from ..extensions import db
from ..models import COUNTY, ProcessDefinition, User
from ..services import runtime
from ..services.context import clock as app_clock
from .models import CalendarStart
from .sweep import setting

log = logging.getLogger('jiuzhu.scheduler')

CATEGORY = 'roster'
ACTOR = 'system:calendar'


@dataclass(frozen=True)
class MonthlyStart:
    process_key: str
    township: str
    business_key: str
    period: str                       # the month the case belongs to, YYYY-MM
    data: dict = field(hash=False, compare=False)


def _month(d):
    return f'{d.year:04d}-{d.month:02d}'


def _next_month(d):
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def monthly_starts(moment, process_keys, townships):
    """The cases that should exist for the month `moment` falls in (Shanghai time).

    Pure: tests call it with a moved clock instead of waiting for the cron trigger.
    """
    first = moment.astimezone(SHANGHAI).date().replace(day=1)
    period = _month(first)
    data = {
        'period': period,
        'period_start': datetime.combine(first, time(), SHANGHAI).isoformat(),
        'next_period': _month(_next_month(first)),
    }
    starts = []
    for key in sorted(process_keys):
        name = key.removeprefix('monthly_')
        for township in sorted(townships):
            starts.append(MonthlyStart(key, township, f'{name}-{township}-{period}', period, dict(data)))
    return starts


def townships(app):
    configured = setting(app, 'JIUZHU_TOWNSHIPS', None)
    if configured:
        if isinstance(configured, str):
            configured = configured.split(',')
        return sorted({t.strip() for t in configured if t.strip()})
    return sorted(db.session.scalars(select(User.township).distinct()
                                     .where(User.active.is_(True), User.township != COUNTY)))


def roster_process_keys():
    return sorted(db.session.scalars(select(ProcessDefinition.key).distinct()
                                     .where(ProcessDefinition.category == CATEGORY)))


def start_monthly_cases(app, moment=None):
    """Start this month's missing calendar cases; returns the business keys started now."""
    with app.app_context():
        moment = moment or app_clock().now()
        keys = roster_process_keys()
        places = townships(app) if keys else []
        wanted = monthly_starts(moment, keys, places)
        if not wanted:
            db.session.remove()
            return []
        existing = set(db.session.scalars(select(CalendarStart.business_key).where(
            CalendarStart.business_key.in_([w.business_key for w in wanted]))))
        started = []
        for item in wanted:
            if item.business_key in existing:
                continue
            # Committed together with the case by start_instance: one transaction, so the key
            # exists if and only if the case does.
            db.session.add(CalendarStart(business_key=item.business_key, process_key=item.process_key,
                                         township=item.township, period=item.period,
                                         created_at=app_clock().now()))
            try:
                runtime.start_instance(item.process_key, item.township, item.data, ACTOR,
                                       business_key=item.business_key)
            except IntegrityError:
                db.session.rollback()
                log.info('%s was started by another scheduler', item.business_key)
                continue
            except Exception:
                db.session.rollback()
                log.exception('could not start %s', item.business_key)
                continue
            started.append(item.business_key)
        if started:
            log.info('started %d monthly case(s): %s', len(started), ', '.join(started))
        db.session.remove()
        return started
