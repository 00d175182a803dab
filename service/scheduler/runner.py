"""APScheduler around the sweep: `jiuzhu scheduler` (blocking) and the embedded default (background).

One interval job sweeps every `JIUZHU_SWEEP_SECONDS` (default 30) and runs at start-up, so timers
that fell due while no scheduler ran fire once, at once. After each sweep the same job is pulled
forward to the next due time read from the timer table, so a timer fires on time rather than up to
an interval late. With a manual clock (tests, demo) due times are not wall times: only the interval
runs, and `PUT /api/v1/clock` calls `sweep_due` itself.

A cron job starts the monthly calendar cases at 00:00 on the 1st (Asia/Shanghai); it also runs at
start-up to catch up a missed month. A cron trigger follows the wall clock, so with a manual clock
the interval job starts them instead, judged by the manual clock.
"""
import atexit
import logging
import os
import threading
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from ..calendar import SHANGHAI
from .monthly import start_monthly_cases
from .sweep import Sweeper, setting

log = logging.getLogger('jiuzhu.scheduler')

SWEEP_JOB = 'jiuzhu-sweep'
MONTHLY_JOB = 'jiuzhu-monthly'
DEFAULT_SWEEP_SECONDS = 30
# A pulled-forward run never comes sooner than this after the sweep that asked for it: rows released
# after a conflicting write are due again at once, and retrying them must not make the job spin.
MIN_WAKE = timedelta(milliseconds=20)


def sweep_seconds(app):
    return float(setting(app, 'JIUZHU_SWEEP_SECONDS', DEFAULT_SWEEP_SECONDS))


class TimerScheduler:
    def __init__(self, app, scheduler, interval=None):
        self.app = app
        self.scheduler = scheduler
        self.interval = interval or sweep_seconds(app)
        self.sweeper = Sweeper(app)
        self.manual = app.extensions['jiuzhu.clock'].manual
        # The interval run and a pulled-forward run may overlap; they take turns.
        self._lock = threading.Lock()

    def install(self):
        now = datetime.now(timezone.utc)
        self.scheduler.add_job(self.run_sweep, 'interval', seconds=self.interval, id=SWEEP_JOB,
                               next_run_time=now, max_instances=2, coalesce=True,
                               misfire_grace_time=None, replace_existing=True)
        if not self.manual:
            self.scheduler.add_job(self.run_monthly, CronTrigger(day=1, hour=0, minute=0, second=5, timezone=SHANGHAI),
                                   id=MONTHLY_JOB, next_run_time=now, coalesce=True, misfire_grace_time=None,
                                   replace_existing=True)
        return self

    def run_monthly(self):
        try:
            start_monthly_cases(self.app)
        except Exception:
            log.exception('starting the monthly cases failed')

    def run_sweep(self):
        with self._lock:
            if self.manual:
                self.run_monthly()
            try:
                self.sweeper.sweep()
            except Exception:
                # A database outage must not kill the job; the next interval tries again.
                log.exception('timer sweep failed')
            self.pull_forward()

    def pull_forward(self):
        """Move the next sweep to the next due time when that comes before the next interval."""
        if self.manual:
            return
        try:
            due, expiry = self.sweeper.next_wakeup()
        except Exception:
            log.exception('could not read the next due timer')
            return
        targets = [t for t in (due, expiry) if t is not None]
        if not targets:
            return
        wall = datetime.now(timezone.utc)
        target = max(min(targets), wall + MIN_WAKE)
        job = self.scheduler.get_job(SWEEP_JOB)
        if job is not None and job.next_run_time is not None and target < job.next_run_time:
            log.debug('next sweep pulled forward to %s', target.isoformat())
            job.modify(next_run_time=target)


def run_blocking(app, interval=None):
    """`jiuzhu scheduler`: sweep until interrupted."""
    scheduler = BlockingScheduler(timezone=SHANGHAI)
    TimerScheduler(app, scheduler, interval).install()
    log.info('scheduler started: sweeping every %ss (clock: %s)', interval or sweep_seconds(app),
             app.config.get('JIUZHU_CLOCK'))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


_embedded = None
_embedded_lock = threading.Lock()


def _reloader_watcher():
    # `flask run --debug` imports the app in the file-watching parent as well as in the serving
    # child (WERKZEUG_RUN_MAIN=true); only the child should sweep.
    return (os.environ.get('FLASK_RUN_FROM_CLI') == 'true' and os.environ.get('WERKZEUG_RUN_MAIN') != 'true'
            and os.environ.get('FLASK_DEBUG', '').lower() in ('1', 'true'))


def start_embedded(app):
    """Start the in-process BackgroundScheduler once per process; returns it (or None if skipped)."""
    global _embedded
    if _reloader_watcher():
        log.info('not starting the embedded scheduler in the reloader watcher process')
        return None
    with _embedded_lock:
        if _embedded is not None:
            log.warning('an embedded scheduler already runs in this process; not starting another')
            return None
        scheduler = BackgroundScheduler(timezone=SHANGHAI, daemon=True)
        TimerScheduler(app, scheduler).install()
        scheduler.start()
        _embedded = scheduler
        atexit.register(stop_embedded)
        log.info('embedded scheduler started')
        return scheduler


def stop_embedded(wait=False):
    global _embedded
    with _embedded_lock:
        if _embedded is not None:
            _embedded.shutdown(wait=wait)
            _embedded = None
