"""Timer sweeps and calendar jobs (DESIGN.md: "Timers are rows, not jobs").

`sweep.sweep_due(app)` fires what is due; `monthly.start_monthly_cases(app)` starts the calendar
cases; `runner` wraps both in APScheduler for `jiuzhu scheduler` and the embedded default.
"""
from .sweep import sweep_due

__all__ = ['sweep_due']
