"""The demo clock control in the navigation bar: move the manual clock, then fire what became due."""
from datetime import datetime, timedelta

from flask import current_app, flash, redirect, request

from .. import calendar
from ..errors import Invalid
from ..scheduler import catch_up
from ..services import clockctl
from . import fmt
from .core import bp, me, safe_next

STEPS = {'hour': timedelta(hours=1), 'day': timedelta(days=1), 'week': timedelta(days=7)}


def _target(action, current, typed):
    if action in STEPS:
        return current + STEPS[action]
    if action == 'workday':
        # The same time of day on the next working day of the statutory calendar.
        local = fmt.shanghai(current)
        day = calendar.next_working_day(local.date())
        return local.replace(year=day.year, month=day.month, day=day.day)
    if action == 'set':
        try:
            # The field is Beijing time; clockctl refuses the past and more than five years ahead.
            return datetime.fromisoformat((typed or '').strip()[:40]).replace(tzinfo=fmt.SHANGHAI)
        except (TypeError, ValueError):
            raise Invalid('请填写有效的日期和时间 (invalid time)') from None
    raise Invalid('未知的时钟操作 (unknown clock action)')


@bp.post('/clock')
def clock_move():
    current = clockctl.read()['now']
    target = _target(request.form.get('action'), current, request.form.get('moment'))
    result = clockctl.set_now(me(), target)
    caught = catch_up(current_app._get_current_object())
    fired, started = caught['fired'], len(caught['started'])
    flash(f'演示时间已调整为 {fmt.when(result["now"])}' + (f'，{fired} 个计时器到期' if fired else '')
          + (f'，新建 {started} 个月度案件' if started else ''), 'ok')
    return redirect(safe_next(request.form.get('next')))
