"""The timer sweep: find due timer rows, claim them, fire each case through the write path.

Timers are rows (DESIGN.md): the engine writes each waiting timer's due time to the `timer`
table, and this module is the only thing that turns a due row into a fired timer. It holds
no timer in memory between sweeps, so its memory does not grow with the number of waiting
timers and nothing is lost when a scheduler process dies.

Due-ness is judged by the app's clock (a manual clock in tests and demo mode); claim leases
are judged by wall time, because a lease is about whether a scheduler *process* is still
alive, and a demo clock moved by a month must not expire (or freeze) every claim. Leases are
short and renewed while the sweep works (lease.py).
"""
import logging
import os
import socket
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, or_, select, update

from ..errors import Conflict
from ..extensions import db
from ..models import Timer
from ..services import firing, runtime
from ..services.context import clock as app_clock
from .lease import DEFAULT_LEASE_SECONDS, Lease
from .retries import DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_SECONDS, record_failure

log = logging.getLogger('jiuzhu.scheduler')

DEFAULT_BATCH = 200

_PROCESS_OWNER = f'{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}'


def wall_now():
    return datetime.now(timezone.utc)


def setting(app, name, default):
    """A scheduler setting from the app config, else the environment (`jiuzhu scheduler` has no other)."""
    value = app.config.get(name)
    if value is None or value == '':
        value = os.environ.get(name)
    return default if value is None or value == '' else value


def _due_condition(now, wall):
    # Strictly before now: SpiffWorkflow fires a timer only when its due time is < now, so a
    # row due exactly now would be claimed, not fire, and be claimed again in a tight loop.
    return (Timer.state == 'waiting', Timer.due_at < now,
            or_(Timer.claimed_until.is_(None), Timer.claimed_until < wall))


class Sweeper:
    """One scheduler's view of the timer table; several may share a database."""

    def __init__(self, app, owner=None, batch=None, lease_seconds=None, wall=wall_now, stopping=None):
        """`stopping`: a callable; once it returns true the sweep ends after the case it is firing."""
        self.app = app
        self.owner = owner or _PROCESS_OWNER
        self.batch = batch or int(setting(app, 'JIUZHU_SWEEP_BATCH', DEFAULT_BATCH))
        self.lease = timedelta(seconds=lease_seconds if lease_seconds is not None
                               else float(setting(app, 'JIUZHU_CLAIM_SECONDS', DEFAULT_LEASE_SECONDS)))
        self.wall = wall
        self.max_attempts = int(setting(app, 'JIUZHU_TIMER_MAX_ATTEMPTS', DEFAULT_MAX_ATTEMPTS))
        self.retry_seconds = float(setting(app, 'JIUZHU_TIMER_RETRY_SECONDS', DEFAULT_RETRY_SECONDS))
        self.stopping = stopping or (lambda: False)
        # Cases fired together in one transaction (services/firing.py); 1 = each in its own.
        self.per_transaction = max(1, int(setting(app, 'JIUZHU_FIRE_BATCH', firing.DEFAULT_FIRE_BATCH)))

    # -- claiming ------------------------------------------------------------

    def claim(self, now):
        """Claim up to `batch` due rows in one short transaction; returns [(timer id, instance id)].

        PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, then UPDATE those rows, then commit: a
        concurrent scheduler takes other rows instead of waiting, and a row another scheduler
        claimed and committed meanwhile is re-checked against the WHERE clause and dropped. (Not one
        UPDATE … WHERE id IN (SELECT … LIMIT … SKIP LOCKED): PostgreSQL may rescan such a subquery
        and claim far more than the limit — measured: one scheduler took 900 of 1,000 rows.)
        SQLite has no row locks but one writer at a time, so one conditional UPDATE is the claim;
        a SELECT first would turn the transaction into a reader that WAL refuses to upgrade.
        """
        wall = self.wall()
        conditions = _due_condition(now, wall)
        candidates = select(Timer.id).where(*conditions).order_by(Timer.due_at).limit(self.batch)
        claim = (update(Timer).values(claimed_by=self.owner, claimed_until=wall + self.lease)
                 .returning(Timer.id, Timer.instance_id).execution_options(synchronize_session=False))
        try:
            if db.engine.dialect.name == 'postgresql':
                ids = db.session.scalars(candidates.with_for_update(skip_locked=True)).all()
                rows = db.session.execute(claim.where(Timer.id.in_(ids))).all() if ids else []
            else:
                rows = db.session.execute(claim.where(Timer.id.in_(candidates.scalar_subquery()),
                                                      *conditions)).all()
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        return [(r.id, r.instance_id) for r in rows]

    def release(self, timer_ids):
        """Give back claims on rows that are still waiting, so a later sweep can take them again."""
        if not timer_ids:
            return
        db.session.execute(update(Timer).where(Timer.id.in_(timer_ids), Timer.state == 'waiting',
                                               Timer.claimed_by == self.owner)
                           .values(claimed_by=None, claimed_until=None)
                           .execution_options(synchronize_session=False))
        db.session.commit()

    # -- firing --------------------------------------------------------------

    def fire_case(self, instance_id, timer_ids, now, retry):
        """Fire one case's due timers in its own write-path transaction; returns how many fired."""
        try:
            runtime.fire_due_timers(instance_id)
        except Exception as exc:
            self.failed(instance_id, timer_ids, exc, retry)
            return 0
        return self.settle(timer_ids, now)

    def failed(self, instance_id, timer_ids, exc, retry):
        """A case whose firing was rolled back (its transaction or its savepoint), after the commit."""
        if isinstance(exc, Conflict):
            # Someone wrote the case at the same moment; its own write fired the due timers, or the
            # next sweep will (released only when this sweep ends, so this one does not loop on it).
            log.info('case %s changed while its timers fired (%s); retrying next sweep', instance_id, exc.code)
            db.session.rollback()
            retry.extend(timer_ids)
        else:
            # Not the diagram's doing (that holds the case in the write path): a pause, then again,
            # and an incident when the attempts are used up (retries.py).
            record_failure(self, instance_id, timer_ids, exc)

    def settle(self, timer_ids, now):
        """Count the fired rows of committed cases; give back the claims of cycles that moved on."""
        rows = db.session.execute(select(Timer.id, Timer.state, Timer.due_at).where(Timer.id.in_(timer_ids))).all()
        db.session.rollback()     # ends the read transaction; nothing to write
        # A row still waiting and no longer due: a cycle moved on to its next occurrence. Unclaim it
        # so it is judged by its new due time. One still due is one the engine would not fire: it
        # keeps its claim until the lease runs out, so it is not retried in a tight loop.
        self.release([r.id for r in rows if r.state == 'waiting' and r.due_at >= now])
        return sum(r.state == 'fired' for r in rows)

    def sweep(self):
        """Fire every timer due by the app clock now; returns the number of timer rows fired.

        Terminates: a fired row is no longer waiting, a failed or stubborn one keeps its claim (not
        renewed, so it comes back after one lease), one that met a concurrent write is released
        only after the loop, and a stop request ends the loop after the current case.
        """
        with self.app.app_context():
            now = app_clock().now()
            fired, batches = 0, 0
            retry = []
            while not self.stopping():
                claimed_at = self.wall()
                claimed = self.claim(now)
                if not claimed:
                    break
                if not batches:
                    log.info('sweep: firing timers due before %s (%d row(s) claimed)', now.isoformat(), len(claimed))
                batches += 1
                lease = Lease(self.owner, self.lease, self.wall, [t for t, _ in claimed], claimed_at + self.lease)
                fired += self.fire_batch(claimed, lease, now, retry)
            self.release(retry)
            if self.stopping():
                log.info('sweep stopped on request after firing %d timer(s); unfired claims handed back', fired)
            elif fired:
                log.info('sweep fired %d timer(s) due before %s', fired, now.isoformat())
            db.session.remove()
            return fired

    def fire_batch(self, claimed, lease, now, retry):
        """Fire the cases of one claimed batch, `per_transaction` cases per transaction, while the
        lease still holds their rows; a stop request ends it after the case being fired."""
        by_case = {}
        for timer_id, instance_id in claimed:
            by_case.setdefault(instance_id, []).append(timer_id)
        pending = sorted(by_case.items())
        fired = 0
        while pending and not self.stopping():
            chunk, pending = pending[:self.per_transaction], pending[self.per_transaction:]
            held = {i: t for i, t in chunk if lease.holds(t)}
            reached, count = self.fire_chunk(held, now, retry) if held else ((), 0)
            fired += count
            for instance_id, timer_ids in chunk:
                if instance_id in reached or instance_id not in held:
                    lease.done(timer_ids)
            # Cut short (slow cases: the lease is renewed between transactions only): next time round.
            if reached:
                pending = [(i, t) for i, t in chunk if i in held and i not in reached] + pending
            db.session.expunge_all()   # the session must not grow over a long sweep
        if self.stopping():
            lease.hand_back(self.release)
        return fired

    def fire_chunk(self, cases, now, retry):
        """Fire {instance id: timer ids} in one transaction; returns (the cases reached, rows fired).
        When that transaction as a whole fails, the cases are fired one by one."""
        if self.per_transaction > 1:
            try:
                # Within half a lease: the claims of the rows not fired yet are renewed only between
                # transactions (lease.py).
                until = self.wall() + self.lease / 2
                outcomes = firing.fire_due_batch(list(cases), stopping=self.stopping,
                                                 enough=lambda: self.wall() >= until)
            except Exception as exc:
                log.warning('firing %d case(s) together failed (%s: %s); firing them one by one',
                            len(cases), type(exc).__name__, exc)
            else:
                done = []
                for instance_id, outcome in outcomes.items():
                    if outcome is None:
                        done.extend(cases[instance_id])
                    else:
                        self.failed(instance_id, cases[instance_id], outcome, retry)
                return set(outcomes), self.settle(done, now) if done else 0
        reached, fired = set(), 0
        for instance_id, timer_ids in cases.items():
            if self.stopping():
                break
            fired += self.fire_case(instance_id, timer_ids, now, retry)
            reached.add(instance_id)
        return reached, fired

    # -- when to wake ----------------------------------------------------------

    def next_wakeup(self):
        """(earliest due of a claimable waiting row by the app clock, earliest claim expiry by wall time)."""
        with self.app.app_context():
            wall = self.wall()
            due = db.session.scalar(select(func.min(Timer.due_at)).where(
                Timer.state == 'waiting', or_(Timer.claimed_until.is_(None), Timer.claimed_until < wall)))
            expiry = db.session.scalar(select(func.min(Timer.claimed_until)).where(
                Timer.state == 'waiting', Timer.claimed_until >= wall))
            db.session.remove()
            return due, expiry


def sweep_due(app, **options):
    """Fire every timer of `app`'s database that is due by `app`'s clock; returns the fired count.

    Safe to call from a request (it pushes its own app context and session) and from several
    processes at once (rows are claimed before they are fired).
    """
    return Sweeper(app, **options).sweep()

