"""The county's supervision page: deadlines across townships, per-township figures, a chart."""
from flask import render_template, request

from ..services import supervision as figures
from . import charts, fmt
from .core import bp, me


@bp.get('/supervision')
def supervision():
    user = me()
    filters = {key: request.args.get(key) or None for key in ('township', 'category', 'variant')}
    options = figures.filter_options(user)
    timers = figures.deadline_timers(user, **filters)
    table = figures.township_table(user, **filters)
    return render_template('web/supervision.html', filters=filters, options=options, timers=timers, table=table,
                           chart=charts.township_bars(table, fmt.township),
                           due_soon_days=figures.DUE_SOON_WORKING_DAYS)
