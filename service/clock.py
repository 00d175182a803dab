"""The one clock: every "now" in jiuzhu, the engine's timers included, comes from here."""
import threading
from datetime import datetime, timedelta, timezone


class ClockError(Exception):
    pass


def _aware_utc(moment):
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        raise ClockError('clock times must carry a time zone')
    return moment.astimezone(timezone.utc)


class RealClock:
    manual = False

    def now(self):
        return datetime.now(timezone.utc)

    def set(self, moment):
        raise ClockError('the real clock cannot be set')

    advance = set


class ManualClock:
    """Frozen until moved: tests and demo mode check 7-day and 12-working-day timers in milliseconds."""

    manual = True

    def __init__(self, start=None):
        self._lock = threading.Lock()
        self._now = _aware_utc(start) if start else datetime.now(timezone.utc).replace(microsecond=0)

    def now(self):
        return self._now

    def set(self, moment):
        moment = _aware_utc(moment)
        with self._lock:
            self._now = moment
        return moment

    def advance(self, delta=None, **kwargs):
        delta = delta if delta is not None else timedelta(**kwargs)
        with self._lock:
            self._now = self._now + delta
            return self._now


def make_clock(kind, start=None):
    if kind == 'manual':
        return ManualClock(start)
    if kind == 'real':
        return RealClock()
    raise ClockError(f'JIUZHU_CLOCK must be "real" or "manual", not {kind!r}')
