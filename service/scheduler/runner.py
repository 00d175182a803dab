"""APScheduler around the sweep: `jiuzhu scheduler` (blocking) and the embedded default (background).

One interval job sweeps every `JIUZHU_SWEEP_SECONDS` (default 30) and runs at start-up, so timers
that fell due while no scheduler ran fire once, at once. After each sweep the same job is pulled
forward to the next due time read from the timer table, so a timer fires on time rather than up to
an interval late. With a manual clock (tests, demo) due times are not wall times: only the interval
runs, and `PUT /api/v1/clock` calls `sweep_due` itself.

A cron job starts the monthly calendar cases at 00:00 on the 1st (Asia/Shanghai); it also runs at
start-up to catch up a missed month. A cron trigger follows the wall clock, so with a manual clock
the interval job starts them instead, judged by the manual clock.

Stopping: APScheduler's `shutdown(wait=True)` holds its job-store lock while it waits for running
jobs, and the sweep's pull-forward needs that lock (`get_job`): stopping it mid-sweep deadlocked.
So a scheduler is stopped through `TimerScheduler.stop`, never `shutdown` directly: it asks the
sweep to end after its current case (handing back the claims it did not reach), waits for the
sweep job to let go of its own lock — after which no run touches APScheduler again — and only
then shuts APScheduler down. `jiuzhu scheduler` does this on SIGTERM and SIGINT.
"""
import atexit
import logging
import os
import signal
import threading
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from ..calendar import SHANGHAI
from ..services import outage
from .monthly import start_monthly_cases
from .referrals import start_referrals
from .reviews import raise_due_reviews
from .cleanup import sweep_files
from .sweep import Sweeper, setting

log = logging.getLogger('jiuzhu.scheduler')

SWEEP_JOB = 'jiuzhu-sweep'
MONTHLY_JOB = 'jiuzhu-monthly'
REVIEW_JOB = 'jiuzhu-household-reviews'
CLEANUP_JOB = 'jiuzhu-files-cleanup'     # abandoned uploads, drafts of finished tasks (scheduler/cleanup.py)
DEFAULT_SWEEP_SECONDS = 30
# A pulled-forward run never comes sooner than this after the sweep that asked for it: rows released
# after a conflicting write are due again at once, and retrying them must not make the job spin.
MIN_WAKE = timedelta(milliseconds=20)
# How long `stop` waits for the running sweep to finish its current case. A case takes milliseconds;
# past this (a database that stopped answering) APScheduler is shut down without waiting for the job.
STOP_GRACE_SECONDS = 30


def sweep_seconds(app):
    return float(setting(app, 'JIUZHU_SWEEP_SECONDS', DEFAULT_SWEEP_SECONDS))


class TimerScheduler:
    def __init__(self, app, scheduler, interval=None):
        self.app = app
        self.scheduler = scheduler
        self.interval = interval or sweep_seconds(app)
        self._stopping = threading.Event()
        self.sweeper = Sweeper(app, stopping=self._stopping.is_set)
        self.manual = app.extensions['jiuzhu.clock'].manual
        # The interval run and a pulled-forward run may overlap; they take turns. Every call a run
        # makes into APScheduler happens under this lock, after checking `_stopping` (see `stop`).
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
            self.scheduler.add_job(self.run_reviews, CronTrigger(hour=0, minute=10, timezone=SHANGHAI),
                                   id=REVIEW_JOB, next_run_time=now, coalesce=True, misfire_grace_time=None,
                                   replace_existing=True)
            self.scheduler.add_job(sweep_files, CronTrigger(hour=3, minute=30, timezone=SHANGHAI), args=(self.app,),
                                   id=CLEANUP_JOB, next_run_time=now, coalesce=True, misfire_grace_time=None,
                                   replace_existing=True)
        return self

    def _failed(self, what, exc):
        """Log a run that failed: a lost database connection (a restart) in one line, since the next
        run reconnects; anything else with its traceback."""
        with self.app.app_context():
            lost = outage.connection_lost(exc)
        if lost:
            log.warning('%s: 数据库连接中断，下次运行时重试 (database connection lost: %s)', what, type(exc).__name__)
        else:
            log.exception(what)

    def run_monthly(self):
        try:
            start_monthly_cases(self.app)
        except Exception:
            log.exception('starting the monthly cases failed')

    def run_reviews(self):
        raise_due_reviews(self.app)   # logs its own failures

    def run_sweep(self):
        with self._lock:
            if self._stopping.is_set():
                return
            if self.manual:
                self.run_monthly()
                self.run_reviews()
            try:
                self.sweeper.sweep()
            except Exception as exc:
                # A database outage must not kill the job; the next interval tries again.
                self._failed('timer sweep failed', exc)
            start_referrals(self.app)   # moves to the next category (logs its own failures)
            self.pull_forward()

    def pull_forward(self):
        """Move the next sweep to the next due time when that comes before the next interval."""
        if self.manual or self._stopping.is_set():
            return
        try:
            due, expiry = self.sweeper.next_wakeup()
        except Exception as exc:
            self._failed('could not read the next due timer', exc)
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

    def stop(self, wait=True):
        """Stop sweeping and shut APScheduler down; returns once the running sweep (if any) ended.

        Never holds a lock the sweep needs while waiting for it: the sweep sees `_stopping` at its
        next case and ends; once `_lock` is ours, no run will call APScheduler any more (each checks
        `_stopping` under `_lock` first), so `shutdown(wait=True)` has nothing to deadlock with.
        """
        self._stopping.set()
        if self._lock.acquire(timeout=STOP_GRACE_SECONDS):
            self._lock.release()
        else:
            # A run still holds `_lock` and may yet call APScheduler: do not wait for it under its lock.
            log.warning('the running sweep did not end within %ss; stopping without waiting for it',
                        STOP_GRACE_SECONDS)
            wait = False
        try:
            self.scheduler.shutdown(wait=wait)
        except SchedulerNotRunningError:
            pass


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run_blocking(app, interval=None):
    """`jiuzhu scheduler`: sweep until SIGTERM or SIGINT, then stop cleanly; returns the signal's name.

    The stop signals are blocked in every thread (the scheduler's threads inherit the mask) and the
    main thread waits for one with sigwait: no handler runs in the middle of a sweep or of
    APScheduler's own locking, and the stop runs in plain code afterwards.
    """
    scheduler = BackgroundScheduler(timezone=SHANGHAI)
    timers = TimerScheduler(app, scheduler, interval).install()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        scheduler.start()
        log.info('scheduler started: sweeping every %ss (clock: %s)', interval or sweep_seconds(app),
                 app.config.get('JIUZHU_CLOCK'))
        received = signal.sigwait(STOP_SIGNALS)
        log.info('%s received: stopping the scheduler', received.name)
        timers.stop()
        log.info('scheduler stopped')
        return received.name
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_embedded = None            # the APScheduler object of the embedded scheduler
_embedded_timers = None     # ... and the TimerScheduler that stops it
_embedded_lock = threading.Lock()


def _reloader_watcher():
    # `flask run --debug` imports the app in the file-watching parent as well as in the serving
    # child (WERKZEUG_RUN_MAIN=true); only the child should sweep.
    return (os.environ.get('FLASK_RUN_FROM_CLI') == 'true' and os.environ.get('WERKZEUG_RUN_MAIN') != 'true'
            and os.environ.get('FLASK_DEBUG', '').lower() in ('1', 'true'))


def start_embedded(app):
    """Start the in-process BackgroundScheduler once per process; returns it (or None if skipped)."""
    global _embedded, _embedded_timers
    if _reloader_watcher():
        log.info('not starting the embedded scheduler in the reloader watcher process')
        return None
    with _embedded_lock:
        if _embedded is not None:
            log.warning('an embedded scheduler already runs in this process; not starting another')
            return None
        scheduler = BackgroundScheduler(timezone=SHANGHAI, daemon=True)
        _embedded_timers = TimerScheduler(app, scheduler).install()
        scheduler.start()
        _embedded = scheduler
        atexit.register(stop_embedded)
        log.info('embedded scheduler started')
        return scheduler


def stop_embedded(wait=False):
    """Stop the embedded scheduler (at exit, and in tests); the running sweep ends after its case."""
    global _embedded, _embedded_timers
    with _embedded_lock:
        if _embedded is not None:
            _embedded_timers.stop(wait=wait)
            _embedded = _embedded_timers = None
