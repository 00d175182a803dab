"""Working days in Asia/Shanghai: Chinese statutory holidays, make-up working days (调休)
and a district's own adjustments.

Timer expressions in the diagrams call ``add_working_days``, ``add_days`` and
``add_hours`` by name; SLA views call ``working_days_between``. See docs/calendar.md.

Counting rule (Chinese civil and administrative law): the day the event happens does
not count; a period in days ends at 24:00 of its last day, which this module writes as
00:00 of the following day; a period in hours runs from the event exactly.
"""
import logging
import re
from datetime import date, datetime, time, timedelta, timezone

from chinese_calendar import holidays as _PACKAGE_HOLIDAYS
from chinese_calendar import workdays as _PACKAGE_WORKDAYS

# The district's adjustments file has a module of its own; its names stay importable from here.
from .calendar_file import CalendarFileError, parse_adjustments, read_adjustments

__all__ = [
    'CalendarFileError',
    'KNOWN_YEARS',
    'SHANGHAI',
    'WorkingCalendar',
    'add_days',
    'add_hours',
    'add_working_days',
    'age_on',
    'configure',
    'default_calendar',
    'is_estimated',
    'is_working_day',
    'next_working_day',
    'parse_adjustments',
    'working_days_between',
]

log = logging.getLogger('jiuzhu.calendar')

# A fixed offset rather than ZoneInfo('Asia/Shanghai'): China has had no DST since
# 1991, so the result is identical for every date a case can have, and it needs no
# tzdata (missing on Windows and on slim container images).
SHANGHAI = timezone(timedelta(hours=8), 'Asia/Shanghai')

# The package raises NotImplementedError outside the years of its `holidays` dict;
# we read the dicts directly instead, because its is_workday() recomputes min/max
# over every key on each call.
KNOWN_YEARS = range(min(_PACKAGE_HOLIDAYS).year, max(_PACKAGE_HOLIDAYS).year + 1)
_KNOWN_FIRST_DAY = date(KNOWN_YEARS.start, 1, 1)
_KNOWN_LAST_DAY = date(KNOWN_YEARS.stop - 1, 12, 31)

# A designer's typo (1200 for 12) must fail loudly rather than spin for seconds.
MAX_PERIOD = 100_000

_ONE_DAY = timedelta(days=1)


# ---------------------------------------------------------------------------
# input normalisation


def _instant(value, name='start'):
    """An aware datetime in Shanghai time from an ISO string, a datetime or a date."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return datetime.combine(value, time(), SHANGHAI)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f'{name} must be an ISO timestamp such as 2026-09-28T09:30:00+08:00 '
                f'or a date such as 2026-09-28, got {value!r}'
            ) from None
    else:
        raise TypeError(
            f'{name} must be an ISO timestamp string, a datetime or a date, '
            f'got {type(value).__name__}: {value!r}'
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def _day(value, name='d'):
    """The Shanghai calendar day of a date, datetime or ISO string."""
    # datetime is a subclass of date but never equals one, so it must be converted
    # before any dict lookup keyed by date.
    if type(value) is date:
        return value
    return _instant(value, name).date()


def _end_day(moment):
    """The last day an end instant covers: 00:00 stands for 24:00 of the day before."""
    day = moment.date()
    if moment.time() == time():
        return day - _ONE_DAY
    return day


def _check_n(n, func):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f'{func}: n must be a non-negative int, got {type(n).__name__}: {n!r}')
    if n < 0:
        raise ValueError(f'{func}: n must be a non-negative int, got {n}')
    if n > MAX_PERIOD:
        raise ValueError(f'{func}: n={n} is larger than {MAX_PERIOD}; is the diagram right?')


def _midnight_after(day):
    return datetime.combine(day + _ONE_DAY, time(), SHANGHAI)


def _iso(moment):
    return moment.isoformat()


# ---------------------------------------------------------------------------
# the calendar


class WorkingCalendar:
    """The statutory calendar plus one district's adjustments (which take precedence)."""

    def __init__(self, adjustments=None, source=None):
        self._adjustments = dict(adjustments or {})
        self.source = source
        # Years outside the package's data already warned about (once per year).
        self._warned_years = set()

    @classmethod
    def from_file(cls, path):
        return cls(read_adjustments(path), source=str(path))

    # -- configuration -----------------------------------------------------

    def load(self, path):
        """Replace the adjustments with a file's; None or '' clears them."""
        if path is None or str(path) == '':
            adjustments, source = {}, None
        else:
            adjustments, source = read_adjustments(path), str(path)
        # Parse fully before swapping, so a bad file leaves the old calendar in place
        # and concurrent readers never see a half-loaded one.
        self._adjustments = adjustments
        self.source = source
        self._warned_years = set()
        if source:
            log.info('loaded %d calendar adjustments from %s', len(adjustments), source)

    @property
    def adjustments(self):
        return dict(self._adjustments)

    # -- days --------------------------------------------------------------

    def is_known(self, d):
        """True when the day's status is authoritative, not a weekend-only estimate."""
        d = _day(d)
        return d in self._adjustments or _KNOWN_FIRST_DAY <= d <= _KNOWN_LAST_DAY

    def is_working_day(self, d):
        if type(d) is not date:
            d = _day(d)
        adjusted = self._adjustments.get(d)
        if adjusted is not None:
            return adjusted
        if _KNOWN_FIRST_DAY <= d <= _KNOWN_LAST_DAY:
            if d in _PACKAGE_WORKDAYS:
                return True
            if d in _PACKAGE_HOLIDAYS:
                return False
        elif d.year not in self._warned_years:
            self._warned_years.add(d.year)
            log.warning(
                'no statutory holiday data for %d (chinesecalendar knows %d-%d); '
                'counting Monday-Friday as working days, results are estimates',
                d.year, KNOWN_YEARS.start, KNOWN_YEARS.stop - 1,
            )
        return d.weekday() < 5

    def next_working_day(self, d):
        """The first working day strictly after d."""
        d = _day(d)
        while True:
            d += _ONE_DAY
            if self.is_working_day(d):
                return d

    def working_days_between(self, start, end):
        """Working days after start's day up to and including end's day.

        An end at exactly 00:00 covers the day before (it is 24:00 of that day), so
        ``working_days_between(s, add_working_days(s, n)) == n``. If end is before
        start the count is negative.
        """
        start, end = _instant(start, 'start'), _instant(end, 'end')
        if end < start:
            return -self.working_days_between(end, start)
        d, last = start.date(), _end_day(end)
        count = 0
        while d < last:
            d += _ONE_DAY
            if self.is_working_day(d):
                count += 1
        return count

    def is_estimated(self, start, end):
        """True if any day counted between the two instants is a weekend-only guess."""
        start, end = _instant(start, 'start'), _instant(end, 'end')
        if end < start:
            start, end = end, start
        first, last = start.date() + _ONE_DAY, _end_day(end)
        if first > last:
            return False
        # Count the days outside the package's years and see whether adjustments
        # cover them all; this stays cheap however long the range.
        unknown = 0
        adjusted = 0
        for lo, hi in ((first, min(last, _KNOWN_FIRST_DAY - _ONE_DAY)),
                       (max(first, _KNOWN_LAST_DAY + _ONE_DAY), last)):
            if lo <= hi:
                unknown += (hi - lo).days + 1
                adjusted += sum(1 for d in self._adjustments if lo <= d <= hi)
        return unknown > adjusted

    # -- periods -----------------------------------------------------------

    def add_working_days(self, start, n):
        """24:00 of the n-th working day after start's day, as an ISO string."""
        _check_n(n, 'add_working_days')
        d = _instant(start).date()
        remaining = n
        while remaining:
            d += _ONE_DAY
            if self.is_working_day(d):
                remaining -= 1
        return _iso(_midnight_after(d))

    def add_days(self, start, n):
        """24:00 of the n-th calendar day after start's day, as an ISO string."""
        _check_n(n, 'add_days')
        return _iso(_midnight_after(_instant(start).date() + timedelta(days=n)))

    def add_hours(self, start, n):
        """Exactly n hours after start (holidays do not matter), as an ISO string."""
        _check_n(n, 'add_hours')
        return _iso(_instant(start) + timedelta(hours=n))


# ---------------------------------------------------------------------------
# module-level API: one default calendar, configured once at start-up

default_calendar = WorkingCalendar()


def configure(path):
    """Load a district's adjustments file into the default calendar; None resets."""
    default_calendar.load(path)


def is_working_day(d):
    return default_calendar.is_working_day(d)


def next_working_day(d):
    return default_calendar.next_working_day(d)


def working_days_between(start, end):
    return default_calendar.working_days_between(start, end)


def is_estimated(start, end):
    return default_calendar.is_estimated(start, end)


def add_working_days(start, n):
    return default_calendar.add_working_days(start, n)


def add_days(start, n):
    return default_calendar.add_days(start, n)


def add_hours(start, n):
    return default_calendar.add_hours(start, n)


def last_day_of_months(start, months):
    """The last day (ISO date) of a term of `months` months from the Shanghai day of `start`.

    民法典 art. 201-202: the starting day does not count, and a term in months ends on the
    corresponding day of its last month, or on that month's last day when it has none
    (2026-10-21 + 12 → 2027-10-21; 2027-01-31 + 1 → 2027-02-28). Diagrams record validity
    this way (刚性支出困难家庭认定有效期不超过12个月).
    """
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError(f'last_day_of_months: months must be a positive int, got {months!r}')
    day = _day(start, 'start')
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last)).isoformat()


_RESIDENT_ID = re.compile(r'^\d{17}[\dXx]$')


def age_on(birth, on):
    """Full years of age (周岁) on the Shanghai day of `on`.

    `birth` is a date (2010-05-01) or an 18-digit resident ID number, whose 7th-14th digits are
    the birth date: a gateway can read either from the application. The age goes up on the
    birthday (民法典 art. 17: 年满十八周岁); a 29 February birthday counts from 1 March.
    """
    text = str(birth or '').strip()
    if _RESIDENT_ID.match(text):
        text = f'{text[6:10]}-{text[10:12]}-{text[12:14]}'
    try:
        born = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        born = None
    if born is None:
        raise ValueError(f'age_on: birth must be a date such as 2010-05-01 or an 18-digit resident ID number, '
                         f'got {birth!r}')
    day = _day(on, 'on')
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


for _func in (is_working_day, next_working_day, working_days_between, is_estimated,
              add_working_days, add_days, add_hours):
    _func.__doc__ = getattr(WorkingCalendar, _func.__name__).__doc__
del _func
