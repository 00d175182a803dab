"""Bounded retries of timer rows whose firing failed for a reason outside the diagram.

The diagram's own failures (a script, a timer expression, a bound) hold the case in an incident
inside the write path at once. What reaches the scheduler is something else — the database went
away mid-write, a bug — and may pass: the row keeps its claim for a growing pause (the claim is
the backoff: no scheduler takes it before it runs out), and after `JIUZHU_TIMER_MAX_ATTEMPTS`
attempts the case is held in an incident that a supervisor sees, never retried forever.
"""
import logging
from datetime import timedelta

from sqlalchemy import select, update

from ..extensions import db
from ..models import Timer
from ..services import write

log = logging.getLogger('jiuzhu.scheduler')

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_RETRY_SECONDS = 5.0     # pauses 5 s, 20 s, 80 s, 320 s…


def backoff(attempts, base):
    return timedelta(seconds=base * 4 ** max(attempts - 1, 0))


def record_failure(sweeper, instance_id, timer_ids, exc):
    """Count one more failed attempt on these claimed rows; hold the case when they are used up."""
    db.session.rollback()
    rows = db.session.execute(select(Timer.id, Timer.attempts).where(
        Timer.id.in_(timer_ids), Timer.claimed_by == sweeper.owner)).all()
    wall = sweeper.wall()
    exhausted = False
    for row in rows:
        attempts = row.attempts + 1
        exhausted = exhausted or attempts >= sweeper.max_attempts
        db.session.execute(update(Timer).where(Timer.id == row.id, Timer.claimed_by == sweeper.owner)
                           .values(attempts=attempts, claimed_until=wall + backoff(attempts, sweeper.retry_seconds))
                           .execution_options(synchronize_session=False))
    db.session.commit()
    if not exhausted:
        log.warning('firing the timers of case %s failed (%s: %s); retrying after a pause',
                    instance_id, type(exc).__name__, exc)
        return
    log.error('firing the timers of case %s failed %d times; holding it in an incident', instance_id,
              sweeper.max_attempts)
    try:
        write.hold_after_failures(instance_id, f'定时器多次触发失败（{sweeper.max_attempts} 次），最后一次：'
                                               f'{type(exc).__name__}: {exc}')
    except Exception:
        log.exception('could not hold case %s in an incident; its claims run out and it is tried again',
                      instance_id)
