"""Claim leases: short, renewed while a scheduler works, taken over within one lease when it dies.

Wall time is injected into each sweeper (`wall=`), never slept; a "killed" scheduler is one that
claimed rows and never came back. Every test checks exactly-once in the audit log.
"""
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from service.extensions import db
from service.models import AuditEntry, ProcessInstance, Timer
from service.scheduler.lease import DEFAULT_LEASE_SECONDS, Lease
from service.scheduler.sweep import Sweeper
from service.services import firing, runtime, write

W0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)


class Wall:
    """A wall clock the test moves."""

    def __init__(self, at=W0):
        self.at = at

    def __call__(self):
        return self.at

    def advance(self, seconds):
        self.at += timedelta(seconds=seconds)


def start_due(clock, n):
    ids = [runtime.start_instance('one_timer', 't01', {}, 'tester').id for _ in range(n)]
    clock.advance(hours=2)
    return ids


def fired_once_each(ids):
    """Every case's timer fired, and was written exactly once (one audit entry, version 2)."""
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Timer).where(Timer.state != 'fired')) == 0
    entries = dict(db.session.execute(select(AuditEntry.instance_id, func.count()).where(
        AuditEntry.action == 'timers_fired').group_by(AuditEntry.instance_id)).all())
    assert entries == {i: 1 for i in ids}
    versions = set(db.session.scalars(select(ProcessInstance.version).where(ProcessInstance.id.in_(ids))))
    assert len(versions) == 1


def spy_on_firing(monkeypatch, then=None):
    """Record which cases the sweep fires (the real firing runs), and run `then` after each."""
    calls = []
    real = write.fire_open_case

    def firing(case):
        calls.append(case.instance.id)
        result = real(case)
        if then:
            then()
        return result
    monkeypatch.setattr(write, 'fire_open_case', firing)
    return calls


def test_leases_are_short_and_configurable(make_app):
    assert DEFAULT_LEASE_SECONDS <= 30
    assert Sweeper(make_app()).lease == timedelta(seconds=DEFAULT_LEASE_SECONDS)
    assert Sweeper(make_app(JIUZHU_CLAIM_SECONDS='3')).lease == timedelta(seconds=3)


def test_a_scheduler_whose_claim_expired_is_overtaken_and_fires_nothing(test_app, clock, monkeypatch):
    ids = start_due(clock, 4)
    slow_wall, fast_wall = Wall(), Wall()
    slow = Sweeper(test_app, owner='slow', lease_seconds=10, wall=slow_wall)
    claimed = slow.claim(clock.now())
    assert len(claimed) == 4
    lease = Lease(slow.owner, slow.lease, slow.wall, [t for t, _ in claimed], W0 + slow.lease)

    # The slow scheduler stalls past its lease; another takes its rows over (not fired yet).
    slow_wall.advance(11)
    fast_wall.advance(11)
    fast = Sweeper(test_app, owner='fast', lease_seconds=10, wall=fast_wall)
    taken = fast.claim(clock.now())
    assert sorted(taken) == sorted(claimed)

    # The slow one resumes: it must not fire a row it no longer holds, even though nobody fired it yet
    # (so the write path's version check would not have stopped it).
    calls = spy_on_firing(monkeypatch)
    assert slow.fire_batch(claimed, lease, clock.now(), []) == 0
    assert calls == []
    db.session.expire_all()
    assert set(db.session.scalars(select(Timer.claimed_by))) == {'fast'}

    fast_lease = Lease(fast.owner, fast.lease, fast.wall, [t for t, _ in taken], fast_wall() + fast.lease)
    assert fast.fire_batch(taken, fast_lease, clock.now(), []) == 4
    assert sorted(calls) == sorted(ids)
    fired_once_each(ids)


def test_renewal_keeps_a_long_batchs_claims_alive(test_app, clock, monkeypatch):
    ids = start_due(clock, 6)
    wall = Wall()
    worker = Sweeper(test_app, owner='worker', lease_seconds=60, wall=wall)
    other = Sweeper(test_app, owner='other', lease_seconds=60, wall=wall)
    stolen = []

    def slow_case():
        # Each case "takes" 25 s of wall time: the batch outlives its first lease 2.5 times over.
        wall.advance(25)
    spy_on_firing(monkeypatch, then=slow_case)
    real_batch = firing.fire_due_batch
    transactions = []

    def between_transactions(instance_ids, **options):
        # Claims are renewed between the transactions of a batch: another scheduler tries here.
        stolen.extend(other.claim(clock.now()))
        transactions.append(len(instance_ids))
        return real_batch(instance_ids, **options)
    monkeypatch.setattr(firing, 'fire_due_batch', between_transactions)
    assert worker.sweep() == 6
    assert stolen == []
    # A transaction ends once half a lease has gone (two slow cases), and the rest go on in the next.
    assert transactions == [6, 4, 2]
    fired_once_each(ids)
    assert set(db.session.scalars(select(Timer.claimed_by))) == {'worker'}


def test_a_renewal_only_extends_rows_still_claimed_by_this_scheduler(test_app, clock):
    start_due(clock, 2)
    wall = Wall()
    mine = Sweeper(test_app, owner='mine', lease_seconds=10, wall=wall)
    claimed = mine.claim(clock.now())
    lease = Lease(mine.owner, mine.lease, wall, [t for t, _ in claimed], W0 + mine.lease)
    first, second = sorted(claimed, key=lambda c: c[1])
    wall.advance(11)
    # Another scheduler took the first case's row over after the lease ran out.
    db.session.execute(Timer.__table__.update().where(Timer.id == first[0]).values(claimed_by='theirs'))
    db.session.commit()
    assert not lease.holds([first[0]])
    assert lease.holds([second[0]])
    db.session.expire_all()
    claims = dict(db.session.execute(select(Timer.id, Timer.claimed_until)).all())
    assert claims[second[0]] == wall() + mine.lease          # renewed from now
    assert claims[first[0]] == W0 + mine.lease                 # not touched


def test_two_sweepers_with_a_killed_one_drain_everything_exactly_once(test_app, clock):
    ids = start_due(clock, 30)
    wall = Wall()
    killed = Sweeper(test_app, owner='killed', batch=10, lease_seconds=10, wall=wall)
    claimed = killed.claim(clock.now())
    assert len(claimed) == 10
    # It fires three of its ten cases, then dies (kill -9: nothing is handed back).
    for timer_id, instance_id in claimed[:3]:
        killed.fire_case(instance_id, [timer_id], clock.now(), [])

    alive_wall = Wall(W0 + timedelta(seconds=1))
    alive = Sweeper(test_app, owner='alive', batch=7, lease_seconds=10, wall=alive_wall)
    assert alive.sweep() == 20                       # everything but the dead one's live claims
    due, expiry = alive.next_wakeup()
    assert expiry == W0 + timedelta(seconds=10)      # the runner wakes when they run out
    alive_wall.advance(9.5)
    assert alive.sweep() == 7                        # taken over within one lease
    assert alive.sweep() == 0
    fired_once_each(ids)
    owners = dict(db.session.execute(select(Timer.claimed_by, func.count()).group_by(Timer.claimed_by)).all())
    assert owners == {'killed': 3, 'alive': 27}


def test_a_stopped_sweep_hands_back_the_claims_it_did_not_reach(test_app, clock, monkeypatch):
    ids = start_due(clock, 8)
    calls = spy_on_firing(monkeypatch)
    stopping = Sweeper(test_app, owner='stopping', stopping=lambda: len(calls) >= 2)
    assert stopping.sweep() == 2
    db.session.expire_all()
    waiting = db.session.scalars(select(Timer).where(Timer.state == 'waiting')).all()
    assert len(waiting) == 6 and {t.claimed_by for t in waiting} == {None}
    # Another scheduler takes them at once, not after a lease.
    assert Sweeper(test_app, owner='next').sweep() == 6
    fired_once_each(ids)
