"""Reading and (in tests and demo mode) moving the one clock; due timers fire right after a move."""
import importlib
import logging

from flask import current_app

from ..clock import ClockError
from ..errors import Invalid
from ..extensions import db
from . import access, audit
from .context import clock

log = logging.getLogger('jiuzhu.clock')


def read():
    c = clock()
    return {'now': c.now(), 'manual': bool(c.manual)}


def _sweep():
    """Fire the timers the move made due, through the scheduler's sweep when it is installed."""
    try:
        sweep = importlib.import_module('service.scheduler.sweep')
    except ImportError:
        log.warning('service.scheduler.sweep is not available: timers fire on the next access to each case')
        return None
    return sweep.sweep_due(current_app._get_current_object())


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
    fired = _sweep()
    return dict(read(), fired=fired if isinstance(fired, int) else None)
