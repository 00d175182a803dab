import logging
from datetime import date, datetime, timedelta, timezone

import chinese_calendar
import pytest

from service import calendar as cal
from service.calendar import CalendarFileError, WorkingCalendar


@pytest.fixture(autouse=True)
def _reset_default_calendar():
    cal.configure(None)
    yield
    cal.configure(None)


def _assert_package_says(holidays=(), workdays=()):
    """The expected timestamps below rest on these facts of chinesecalendar's data."""
    for d in holidays:
        assert d in chinese_calendar.holidays, f'{d} is no longer a holiday in chinesecalendar'
    for d in workdays:
        assert d in chinese_calendar.workdays, f'{d} is no longer a make-up workday in chinesecalendar'


# --- the statutory calendar ------------------------------------------------

def test_known_years_come_from_the_package():
    years = {d.year for d in chinese_calendar.holidays}
    assert cal.KNOWN_YEARS == range(min(years), max(years) + 1)
    assert cal.KNOWN_YEARS == range(2004, 2027)  # chinesecalendar 1.11.0


@pytest.mark.parametrize('accepted', [
    '2026-09-28',
    '2026-09-28T00:00:00+08:00',
    '2026-09-28T09:30:00+08:00',
    '2026-09-28T23:59:59.999999+08:00',
])
def test_national_day_2026_twelve_working_days(accepted):
    _assert_package_says(
        holidays=[date(2026, 10, d) for d in range(1, 8)],
        workdays=[date(2026, 10, 10)],
    )
    due = cal.add_working_days(accepted, 12)
    # 24:00 of 2026-10-20
    assert due == '2026-10-21T00:00:00+08:00'
    assert cal.working_days_between(accepted, due) == 12
    assert not cal.is_estimated(accepted, due)


@pytest.mark.parametrize('paid, due, holidays, workdays', [
    # Labour Day: 05-01..05 off, Saturday 05-09 worked.
    ('2026-04-30T16:00:00+08:00', '2026-05-12T00:00:00+08:00',
     [date(2026, 5, d) for d in range(1, 6)], [date(2026, 5, 9)]),
    # Spring Festival: Saturday 02-14 worked, 02-15..23 off.
    ('2026-02-12T11:00:00+08:00', '2026-02-27T00:00:00+08:00',
     [date(2026, 2, d) for d in range(15, 24)], [date(2026, 2, 14)]),
])
def test_five_working_day_backfill_across_holiday_and_makeup_saturday(paid, due, holidays, workdays):
    _assert_package_says(holidays=holidays, workdays=workdays)
    assert cal.add_working_days(paid, 5) == due


def test_is_working_day_and_next_working_day():
    assert cal.is_working_day(date(2026, 10, 10)) is True  # make-up Saturday
    assert cal.is_working_day(date(2026, 10, 11)) is False  # ordinary Sunday
    assert cal.is_working_day(date(2026, 10, 1)) is False
    assert cal.is_working_day(date(2026, 10, 8)) is True
    # A datetime counts as its Shanghai day: 2026-10-09T17:00Z is Saturday 10-10 in Beijing.
    assert cal.is_working_day(datetime(2026, 10, 9, 17, tzinfo=timezone.utc)) is True
    assert cal.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert cal.next_working_day(date(2026, 10, 9)) == date(2026, 10, 10)
    assert cal.next_working_day(date(2026, 10, 10)) == date(2026, 10, 12)


def test_working_days_between_for_sla_views():
    assert cal.working_days_between('2026-09-28T09:00:00+08:00', '2026-10-20T16:00:00+08:00') == 12
    assert cal.working_days_between('2026-09-28T09:00:00+08:00', '2026-09-28T17:00:00+08:00') == 0
    assert cal.working_days_between('2026-09-30T09:00:00+08:00', '2026-10-07T16:00:00+08:00') == 0
    assert cal.working_days_between('2026-09-30T09:00:00+08:00', '2026-10-08T08:00:00+08:00') == 1
    assert cal.working_days_between('2026-10-08T08:00:00+08:00', '2026-09-30T09:00:00+08:00') == -1


# --- hours and calendar days -----------------------------------------------

def test_24_hours_cross_midnight_and_holiday():
    assert cal.add_hours('2026-09-30T18:30:00+08:00', 24) == '2026-10-01T18:30:00+08:00'
    # The same instant given in UTC comes back in Beijing time.
    assert cal.add_hours('2026-09-30T10:30:00Z', 24) == '2026-10-01T18:30:00+08:00'
    assert cal.add_hours('2026-10-01T23:15:00+08:00', 48) == '2026-10-03T23:15:00+08:00'
    assert cal.add_hours('2026-10-01T23:15:00+08:00', 0) == '2026-10-01T23:15:00+08:00'


def test_add_days_counts_calendar_days_from_the_next_day():
    # Publicity 7 days from 2026-09-28 15:00: 09-29 ... 10-05, ends 24:00 of 10-05.
    assert cal.add_days('2026-09-28T15:00:00+08:00', 7) == '2026-10-06T00:00:00+08:00'
    assert cal.add_days('2026-12-28', 7) == '2027-01-05T00:00:00+08:00'
    # 0 days: by the end of the event's own day.
    assert cal.add_days('2026-09-28T15:00:00+08:00', 0) == '2026-09-29T00:00:00+08:00'
    assert cal.add_working_days('2026-10-03T15:00:00+08:00', 0) == '2026-10-04T00:00:00+08:00'


# --- years the package does not know ---------------------------------------

def test_deadline_in_2027_is_weekend_only_and_estimated(caplog):
    assert 2027 not in cal.KNOWN_YEARS, 'chinesecalendar now knows 2027; pick a later year here'
    calendar = WorkingCalendar()
    with caplog.at_level(logging.WARNING, logger='jiuzhu.calendar'):
        due = calendar.add_working_days('2026-12-24T10:00:00+08:00', 12)
        # 2026-12-25..31 give 5; 2027-01-01 is a Friday and counts (really New Year's
        # Day, hence "estimated"), then 01-04..08 and 01-11.
        assert due == '2027-01-12T00:00:00+08:00'
        calendar.add_working_days('2026-12-20', 30)
        calendar.is_working_day(date(2027, 6, 1))
    assert calendar.is_estimated('2026-12-24T10:00:00+08:00', due) is True
    warnings = [r for r in caplog.records if r.name == 'jiuzhu.calendar' and r.levelno == logging.WARNING]
    assert len(warnings) == 1, 'one warning per unknown year'
    assert '2027' in warnings[0].getMessage()


def test_deadline_at_24_00_on_the_last_known_day_is_not_estimated():
    due = cal.add_working_days('2026-12-24T10:00:00+08:00', 5)
    assert due == '2027-01-01T00:00:00+08:00'  # 24:00 of 2026-12-31
    assert cal.is_estimated('2026-12-24T10:00:00+08:00', due) is False
    assert cal.is_estimated('2026-12-24T10:00:00+08:00', '2027-01-01T00:00:01+08:00') is True
    assert cal.is_estimated('2003-12-30', '2004-01-05') is True


def test_adjusted_days_are_not_estimated(tmp_path):
    path = tmp_path / 'holidays.txt'
    path.write_text('2027-01-01 holiday  # 元旦\n', encoding='utf-8')
    calendar = WorkingCalendar.from_file(path)
    assert calendar.is_estimated('2026-12-31T09:00:00+08:00', '2027-01-01T18:00:00+08:00') is False
    assert calendar.is_estimated('2026-12-31T09:00:00+08:00', '2027-01-02T18:00:00+08:00') is True
    # The adjusted New Year's Day pushes the 2027 deadline by one day.
    assert calendar.add_working_days('2026-12-24T10:00:00+08:00', 12) == '2027-01-13T00:00:00+08:00'


# --- district adjustments --------------------------------------------------

def test_district_file_moves_the_deadline(tmp_path):
    path = tmp_path / 'district.txt'
    path.write_text(
        '# 某区 2026 年工作日调整\n'
        '\n'
        '2026-10-09 holiday  # 区政府通知：补休一天\n',
        encoding='utf-8',
    )
    cal.configure(str(path))
    assert cal.is_working_day(date(2026, 10, 9)) is False
    assert cal.add_working_days('2026-09-28T10:00:00+08:00', 12) == '2026-10-22T00:00:00+08:00'

    path.write_text(
        '\ufeff2026-10-09 holiday  # 区政府通知\n'
        '2026-10-11 workday\n'
        '2026/10/01 上班 ＃ full-width comment sign, Chinese keyword\n',
        encoding='utf-8',
    )
    cal.configure(path)
    assert cal.add_working_days('2026-09-28T10:00:00+08:00', 12) == '2026-10-20T00:00:00+08:00'

    cal.configure(None)
    assert cal.add_working_days('2026-09-28T10:00:00+08:00', 12) == '2026-10-21T00:00:00+08:00'


@pytest.mark.parametrize('bad_line, reason', [
    ('2026-13-01 holiday', 'no such date'),
    ('2026-10-09 vacation', 'unknown kind'),
    ('2026-10-09', 'expected'),
    ('10/09/2026 holiday', 'expected'),
    ('2026-10-09 holiday extra', 'expected'),
    ('2026-10-01 workday', 'contradicts line 1'),
])
def test_malformed_file_names_file_line_and_text(tmp_path, bad_line, reason):
    path = tmp_path / 'bad.txt'
    path.write_text(f'2026-10-01 holiday\n# comment\n\n{bad_line}\n', encoding='utf-8')
    with pytest.raises(CalendarFileError) as info:
        cal.configure(str(path))
    message = str(info.value)
    assert f'{path}:4:' in message
    assert reason in message
    assert bad_line in message
    assert info.value.lineno == 4
    # A bad file leaves the calendar as it was.
    assert cal.default_calendar.adjustments == {}


def test_file_not_utf8_or_missing(tmp_path):
    path = tmp_path / 'gbk.txt'
    path.write_bytes('2026-10-09 holiday\n2026-10-10 holiday # 区政府通知\n'.encode('gbk'))
    with pytest.raises(CalendarFileError, match=r'gbk\.txt:2: not UTF-8'):
        cal.configure(path)
    with pytest.raises(CalendarFileError, match='missing.txt'):
        cal.configure(tmp_path / 'missing.txt')


# --- inputs ----------------------------------------------------------------

@pytest.mark.parametrize('start', [
    '2026-09-28',
    '2026-09-28T10:00:00',
    ' 2026-09-28T10:00:00+08:00 ',
    '2026-09-28T02:00:00Z',
    datetime(2026, 9, 28, 10, 0),
    datetime(2026, 9, 28, 10, 0, tzinfo=cal.SHANGHAI),
    # 20:00 UTC on 09-27 is already 04:00 on 09-28 in Beijing.
    datetime(2026, 9, 27, 20, 0, tzinfo=timezone.utc),
    date(2026, 9, 28),
])
def test_inputs_naive_date_only_datetime(start):
    assert cal.add_working_days(start, 12) == '2026-10-21T00:00:00+08:00'


def test_naive_start_is_read_as_shanghai_for_hours():
    assert cal.add_hours('2026-09-28T10:00:00', 1) == '2026-09-28T11:00:00+08:00'
    assert cal.add_hours(datetime(2026, 9, 28, 10), 1) == '2026-09-28T11:00:00+08:00'
    assert cal.add_hours('2026-09-28', 1) == '2026-09-28T01:00:00+08:00'
    other = timezone(timedelta(hours=-5))
    assert cal.add_hours(datetime(2026, 9, 28, 10, tzinfo=other), 1) == '2026-09-29T00:00:00+08:00'


@pytest.mark.parametrize('func', [cal.add_working_days, cal.add_days, cal.add_hours])
@pytest.mark.parametrize('n, error', [
    (-1, ValueError),
    (True, TypeError),
    (False, TypeError),
    (1.5, TypeError),
    (12.0, TypeError),
    ('12', TypeError),
    (None, TypeError),
    (cal.MAX_PERIOD + 1, ValueError),
])
def test_bad_n(func, n, error):
    with pytest.raises(error, match=f'{func.__name__}: n'):
        func('2026-09-28T10:00:00+08:00', n)


@pytest.mark.parametrize('start, error', [
    ('yesterday', ValueError),
    ('', ValueError),
    ('2026-02-30', ValueError),
    (20260928, TypeError),
    (None, TypeError),
])
def test_bad_start(start, error):
    with pytest.raises(error, match='start must be'):
        cal.add_working_days(start, 1)
