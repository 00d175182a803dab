"""Reading and (in tests and demo mode) moving the one clock.

The callers (API and pages) then let the scheduler catch up: `service.scheduler.catch_up`.
"""
from ..clock import ClockError
from ..errors import Invalid
from ..extensions import db
from . import access, audit
from .context import clock

def read():
    c = clock()
    return {'now': c.now(), 'manual': bool(c.manual)}


def set_now(user, moment):
    c = clock()
    access.check_clock_set(user, c)
    before = c.now()
    try:
        after = c.set(moment)
    except ClockError as exc:
        raise Invalid(f'时间无效：{exc} (invalid time)', details={'now': str(exc)}) from None
    audit.record(user.username, 'clock_set', before=before.isoformat(), after=after.isoformat())
    db.session.commit()
    return read()
