"""Reading and (in tests and demo mode) moving the one clock.

The callers (API and pages) then let the scheduler catch up: `service.scheduler.catch_up`.
The demo clock only goes forward, and at most MAX_AHEAD at a time: timers already fired cannot be
un-fired, and a year like 0209 or 8768 is a typing slip that would leave the demo unusable
(and, past the year 9999 in some time zone, fail inside the date arithmetic).
"""
from datetime import datetime, timedelta

from ..clock import ClockError
from ..errors import Invalid
from ..extensions import db
from . import access, audit
from .context import clock

MAX_AHEAD = timedelta(days=5 * 365 + 2)   # five years, leap days included
MAX_AHEAD_TEXT = '5 年'


def read():
    c = clock()
    return {'now': c.now(), 'manual': bool(c.manual)}


def _check_target(before, moment):
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise Invalid('时间须带时区，如 2026-09-28T09:00:00+08:00 (time zone required)',
                      details={'now': '时间须带时区'})
    if moment < before:
        raise Invalid('演示时钟只能向后调整，不能回到过去 (the clock only moves forward)',
                      details={'now': '不能早于当前时间'}, code='clock_backwards')
    if moment - before > MAX_AHEAD:
        raise Invalid(f'一次最多向后调整 {MAX_AHEAD_TEXT} (at most five years ahead)',
                      details={'now': f'不能晚于当前时间 {MAX_AHEAD_TEXT}以上'}, code='clock_too_far')


def set_now(user, moment):
    c = clock()
    access.check_clock_set(user, c)
    before = c.now()
    _check_target(before, moment)
    try:
        after = c.set(moment)
    except (ClockError, OverflowError) as exc:
        raise Invalid(f'时间无效：{exc} (invalid time)', details={'now': str(exc)}) from None
    audit.record(user.username, 'clock_set', before=before.isoformat(), after=after.isoformat())
    db.session.commit()
    return read()
