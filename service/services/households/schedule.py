"""When a household is reviewed next (动态管理, DOMAIN.md §8.1).

The intervals are data, not code: `processes/review_intervals.json` gives months per category
and review type (stable: 低保 with little change, all 特困 — yearly; irregular income or members
able to work — every 6 months); `expires` marks a recognition that lapses instead of being
reviewed (刚性支出: at most 12 months, then the family applies again). A due date that is not a
working day moves to the next working day (service/calendar.py): nobody visits on a holiday.
"""
import json
from datetime import date
from functools import lru_cache
from pathlib import Path

from flask import current_app

from ... import calendar
from ...errors import Invalid

REVIEW_TYPES = ('stable', 'irregular')


@lru_cache(maxsize=4)
def _intervals(path):
    return json.loads(Path(path).read_text(encoding='utf-8'))


def intervals():
    return _intervals(str(Path(current_app.config['JIUZHU_PROCESSES_DIR']) / 'review_intervals.json'))


def lead_days():
    return int(intervals().get('lead_days', 30))


def death_recheck_months():
    return int(intervals().get('death_recheck_months', 3))


def rule(category):
    found = intervals()['categories'].get(category)
    if found is None:
        raise Invalid(f'类别 {category} 没有规定复核周期 (no review interval for category {category!r}; '
                      f'see processes/review_intervals.json)', code='no_review_interval')
    return found


def add_months(day, months):
    """The same day `months` later; the month's last day when it has fewer days (31 Aug + 6 → 28 Feb)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, d))
        except ValueError:
            continue
    raise AssertionError('unreachable')


def working_day_on_or_after(day):
    return day if calendar.is_working_day(day) else calendar.next_working_day(day)


def months_for(category, review_type):
    found = rule(category)
    months = found.get(review_type or 'stable', found.get('stable'))
    if not isinstance(months, int) or months < 1:
        raise Invalid(f'类别 {category} 的复核周期无效 (bad review interval)', code='no_review_interval')
    return months


def next_review(category, review_type, since):
    """The working day a household reviewed (or granted) on `since` is due for its next review."""
    return working_day_on_or_after(add_months(since, months_for(category, review_type)))


def expires(category):
    return bool(rule(category).get('expires'))


def month_of(day):
    return f'{day.year:04d}-{day.month:02d}'


def shift_month(month, n):
    year, m = int(month[:4]), int(month[5:7])
    total = year * 12 + m - 1 + n
    return f'{total // 12:04d}-{total % 12 + 1:02d}'


def check_month(value, what='月份'):
    text = str(value or '')
    if len(text) != 7 or text[4] != '-' or not (text[:4].isdigit() and text[5:].isdigit()) \
            or not 1 <= int(text[5:]) <= 12:
        raise Invalid(f'{what}格式应为 2026-11 (month must be YYYY-MM): {text!r}', code='bad_month')
    return text
