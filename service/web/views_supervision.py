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
    # Each deadline list pages on by its own cursor; the filters stay in the links.
    timers = figures.deadline_timers(user, overdue_after=request.args.get('overdue_after') or None,
                                     soon_after=request.args.get('soon_after') or None, **filters)
    table = figures.township_table(user, **filters)
    links = {k: v for k, v in filters.items() if v}
    return render_template('web/supervision.html', filters=filters, options=options, timers=timers, table=table,
                           links=links,
                           chart=charts.township_bars(table, fmt.township),
                           due_soon_days=figures.DUE_SOON_WORKING_DAYS)
