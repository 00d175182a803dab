"""Timer sweeps and calendar jobs (DESIGN.md: "Timers are rows, not jobs").

`sweep.sweep_due(app)` fires what is due; `monthly.start_monthly_cases(app)` starts the calendar
cases; `runner` wraps both in APScheduler for `jiuzhu scheduler` and the embedded default.
"""
from .monthly import start_monthly_cases
from .sweep import sweep_due

__all__ = ['sweep_due', 'start_monthly_cases', 'catch_up']


def catch_up(app):
    """After the demo clock moved: fire what became due and start the month's calendar cases now,
    rather than at the next periodic sweep."""
    from .reviews import raise_due_reviews
    fired = sweep_due(app)
    started = start_monthly_cases(app)
    started = list(started or []) + raise_due_reviews(app)   # the households' due reviews (issue 13)
    from .referrals import start_referrals
    start_referrals(app)   # moves to the next category recorded by refusing cases (issue 12)
    return {'fired': fired, 'started': started}
