"""How every notice writes dates, months, amounts and reasons: the small pure helpers that
notices.py and the category modules (temporary_aid.py, tekun.py, …) share.

Dates print in Arabic numerals, 2026年10月8日: GB/T 9704-2012 (党政机关公文格式) replaced the
Chinese-numeral dates of the 1999 standard. A timestamp is dated by its day in Shanghai.
"""
from datetime import date, datetime, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8))


def to_date(value):
    if value is None or value == '':
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(SHANGHAI).date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return to_date(datetime.fromisoformat(text.replace('Z', '+00:00')))
    except ValueError:
        return None


def format_date(value):
    """The one date format of every notice: 2026年10月8日 (Shanghai day for a timestamp)."""
    day = to_date(value)
    return f'{day.year}年{day.month}月{day.day}日' if day else ''


def format_month(year, month):
    return f'{year}年{month}月'


def next_month(value):
    """(year, month) after the month of `value`."""
    day = to_date(value)
    if day is None:
        return None
    return (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)


def format_amount(value):
    try:
        return f'{float(value):,.2f}'
    except (TypeError, ValueError):
        return ''


def text(*values):
    """The first non-blank string of `values`, stripped ('' if none)."""
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ''


def reasons(*values):
    """Distinct non-empty reasons, in order; a later one already said by an earlier one is dropped."""
    out = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        for item in items:
            said = text(item)
            if said and not any(said in seen or seen in said for seen in out):
                out.append(said)
    return out
