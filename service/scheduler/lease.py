"""Claim leases: a sweep's hold on the timer rows it claimed, short and renewed while it works.

A claim (`claimed_by`, `claimed_until`) keeps other schedulers off a row while one fires it. A
lease only says the claiming process is still alive, so it is short (`JIUZHU_CLAIM_SECONDS`,
default 10 s): a killed scheduler's claims are taken over within seconds. The sweep renews the
claims of the rows it has not reached yet whenever half the lease is gone, between cases (firing
one case takes milliseconds): one UPDATE every few seconds. Not a heartbeat thread: that would
prove the process alive, not the sweep moving (a sweep stuck on one case would keep its whole
batch forever), and it would need a second session writing beside the sweep (on SQLite, a second
writer). The renewal is also the check: it only extends rows still claimed by this scheduler, so
a row whose claim another scheduler took over (after a stall longer than the lease) is dropped
and never fired here. Should both fire a case anyway, the write path's version check lets only
one write through.

Leases are judged by wall time (several hosts need synchronized clocks, well within the lease).
"""
import logging

from sqlalchemy import update

from ..extensions import db
from ..models import Timer

log = logging.getLogger('jiuzhu.scheduler')

DEFAULT_LEASE_SECONDS = 10


class Lease:
    """The claims of one claimed batch that the sweep has not worked through yet."""

    def __init__(self, owner, seconds, wall, timer_ids, expires):
        self.owner = owner
        self.seconds = seconds           # a timedelta
        self.wall = wall
        self.pending = set(timer_ids)
        # Never later than the real `claimed_until`: the caller reads the wall before claiming.
        self.expires = expires

    def holds(self, timer_ids):
        """True when every row of `timer_ids` is still claimed by this sweep (renewing when due)."""
        if self.wall() >= self.expires - self.seconds / 2:
            self.renew()
        return all(i in self.pending for i in timer_ids)

    def renew(self):
        """Extend the claims still ours; forget the rows that are not (fired, cancelled, taken over)."""
        if not self.pending:
            return
        wall = self.wall()
        kept = db.session.scalars(
            update(Timer).where(Timer.id.in_(self.pending), Timer.claimed_by == self.owner,
                                Timer.state == 'waiting')
            .values(claimed_until=wall + self.seconds).returning(Timer.id)
            .execution_options(synchronize_session=False)).all()
        db.session.commit()
        lost = len(self.pending) - len(kept)
        if lost:
            log.info('%d claimed timer row(s) were taken over or finished elsewhere; not firing them here', lost)
        self.pending = set(kept)
        self.expires = wall + self.seconds

    def done(self, timer_ids):
        """The sweep worked on these rows: their claims are no longer renewed."""
        self.pending.difference_update(timer_ids)

    def hand_back(self, release):
        """The sweep stops early: give back the rows it did not reach, for another scheduler now."""
        release(list(self.pending))
        self.pending = set()
