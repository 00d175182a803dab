"""Bounded retries: a case whose timers keep failing for a reason outside the diagram ends as an incident."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from service.extensions import db
from service.models import Incident, ProcessInstance, Timer
from service.scheduler.sweep import Sweeper
from service.services import runtime, write


def test_failures_back_off_then_hold_the_case(test_app, clock, monkeypatch):
    broken = runtime.start_instance('one_timer', 't01', {}, 'alice').id
    healthy = runtime.start_instance('one_timer', 't01', {}, 'alice').id
    clock.advance(timedelta(hours=2))
    real = write.fire_open_case

    def flaky(case):
        if case.instance.id == broken:
            raise RuntimeError('connection reset by peer')
        return real(case)
    monkeypatch.setattr(write, 'fire_open_case', flaky)

    wall = [datetime.now(timezone.utc)]
    sweeper = Sweeper(test_app, wall=lambda: wall[0])
    assert sweeper.sweep() == 1                      # the healthy case fired; the broken one waits
    pauses = []
    for attempt in range(2, sweeper.max_attempts + 1):
        db.session.expire_all()
        row = db.session.scalars(select(Timer).where(Timer.instance_id == broken)).one()
        assert (row.state, row.attempts) == ('waiting', attempt - 1)
        pauses.append(row.claimed_until - wall[0])
        assert sweeper.sweep() == 0                  # within the pause nobody takes it
        wall[0] = row.claimed_until + timedelta(seconds=1)
        assert sweeper.sweep() == 0                  # after it: tried again, failed again
    assert pauses == sorted(pauses) and pauses[0] < pauses[-1]   # growing pauses
    db.session.expire_all()
    case = db.session.get(ProcessInstance, broken)
    assert case.status == 'incident'
    incident = db.session.scalars(select(Incident).where(Incident.instance_id == broken)).one()
    assert incident.kind == 'timer_failed' and 'connection reset' in incident.message
    assert db.session.scalars(select(Timer.state).where(Timer.instance_id == broken)).one() == 'suspended'
    assert db.session.get(ProcessInstance, healthy).status == 'completed'
    # Held: no scheduler touches it again, whatever the time.
    wall[0] += timedelta(days=1)
    monkeypatch.setattr(write, 'fire_open_case', real)
    assert sweeper.sweep() == 0
