"""The timer sweep: missed timers fire once on start, claims keep schedulers apart, crashed claims
are taken over, and two scheduler processes on PostgreSQL fire 1,000 timers exactly once each.

The clock is moved, never slept: every test runs the sweep function itself.
"""
import multiprocessing
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from service.errors import Conflict
from service.extensions import db
from service.models import AuditEntry, ProcessInstance, Task, Timer
from service.scheduler.sweep import Sweeper, sweep_due
from service.services import repository, runtime, tasks, write

from .conftest import T0, TEST_PROCESSES

FORMS = str(TEST_PROCESSES / 'forms')


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def start_waits(n, township='t01'):
    return [runtime.start_instance('one_timer', township, {}, 'tester').id for _ in range(n)]


def fired_audit_entries():
    return count(AuditEntry, AuditEntry.action == 'timers_fired')


def test_missed_timers_fire_exactly_once_when_the_scheduler_starts(make_app):
    first = make_app(JIUZHU_FORMS_DIR=FORMS)
    with first.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        ids = start_waits(5)
        assert count(Timer, Timer.state == 'waiting') == 5
        db.session.remove()
    # The scheduler was down for a day; it starts in a new process (here: a new app) at T0 + 1 day.
    later = (datetime.fromisoformat(T0) + timedelta(days=1)).isoformat()
    scheduler_app = make_app(JIUZHU_FORMS_DIR=FORMS, JIUZHU_CLOCK_START=later)
    assert sweep_due(scheduler_app) == 5
    assert sweep_due(scheduler_app) == 0
    with scheduler_app.app_context():
        assert count(Timer, Timer.state == 'fired') == 5
        assert fired_audit_entries() == 5
        assert count(ProcessInstance, ProcessInstance.id.in_(ids), ProcessInstance.status == 'completed') == 5
        # Fired rows keep the name of the scheduler that fired them.
        owners = set(db.session.scalars(select(Timer.claimed_by)))
        assert len(owners) == 1 and None not in owners


def test_only_due_timers_fire_judged_by_the_manual_clock(test_app, clock):
    ids = start_waits(2)
    clock.advance(minutes=30)
    runtime.start_instance('one_timer', 't02', {}, 'tester')
    clock.advance(minutes=31)              # the first two are due (T0+1h), the third is not
    assert sweep_due(test_app) == 2
    assert {t.instance_id for t in db.session.scalars(select(Timer).where(Timer.state == 'fired'))} == set(ids)
    clock.advance(minutes=30)
    assert sweep_due(test_app) == 1


def test_a_timer_due_exactly_now_waits_for_the_next_instant(test_app, clock):
    # SpiffWorkflow fires a timer when due < now; the sweep must agree or it would claim in a loop.
    start_waits(1)
    clock.advance(hours=1)
    assert sweep_due(test_app) == 0
    assert count(Timer, Timer.claimed_by.is_not(None)) == 0
    clock.advance(seconds=1)
    assert sweep_due(test_app) == 1


def test_a_crashed_schedulers_expired_claim_is_taken_over(test_app, clock):
    ids = start_waits(3)
    clock.advance(hours=2)
    wall = datetime.now(timezone.utc)
    crashed = Sweeper(test_app, owner='crashed', lease_seconds=60, wall=lambda: wall)
    assert len(crashed.claim(clock.now())) == 3          # claimed, then the process died before firing
    db.session.expire_all()
    assert count(Timer, Timer.claimed_by == 'crashed') == 3

    alive = Sweeper(test_app, owner='alive', lease_seconds=60, wall=lambda: wall + timedelta(seconds=30))
    assert alive.sweep() == 0                              # the claim is still valid: hands off
    later = Sweeper(test_app, owner='alive', lease_seconds=60, wall=lambda: wall + timedelta(seconds=61))
    assert later.sweep() == 3                              # lease expired: taken over
    db.session.expire_all()
    rows = db.session.scalars(select(Timer)).all()
    assert {(r.state, r.claimed_by) for r in rows} == {('fired', 'alive')}
    assert fired_audit_entries() == 3
    assert {r.instance_id for r in rows} == set(ids)


def test_one_failing_case_does_not_stop_the_sweep(test_app, clock, monkeypatch, caplog):
    ids = start_waits(3)
    clock.advance(hours=2)
    real = write.fire_open_case

    def flaky(case):
        if case.instance.id == ids[1]:
            raise RuntimeError('disk on fire')
        return real(case)
    monkeypatch.setattr(write, 'fire_open_case', flaky)
    assert sweep_due(test_app) == 2
    assert 'disk on fire' in caplog.text
    # The failed case keeps its claim until the lease runs out: no retry storm within the lease.
    assert sweep_due(test_app) == 0
    db.session.expire_all()
    stuck = db.session.scalars(select(Timer).where(Timer.instance_id == ids[1])).one()
    assert stuck.state == 'waiting' and stuck.claimed_by is not None
    monkeypatch.setattr(write, 'fire_open_case', real)
    after_lease = Sweeper(test_app, wall=lambda: datetime.now(timezone.utc) + timedelta(hours=1))
    assert after_lease.sweep() == 1


def test_a_conflicting_write_releases_the_claim_for_the_next_sweep(test_app, clock, monkeypatch):
    (case_id,) = start_waits(1)
    clock.advance(hours=2)

    def busy(case):
        raise Conflict('someone else', code='concurrent_update')
    monkeypatch.setattr(write, 'fire_open_case', busy)
    assert sweep_due(test_app) == 0
    db.session.expire_all()
    assert db.session.scalars(select(Timer)).one().claimed_by is None
    monkeypatch.undo()
    assert sweep_due(test_app) == 1


def test_completing_after_a_scheduler_fired_interrupting_deadline_is_refused(test_app, clock):
    case = runtime.start_instance('core_case', 't01', {'applicant': {'name': '张三'}}, 'alice')

    def ready(bpmn_id):
        return db.session.scalars(select(Task).where(Task.instance_id == case.id, Task.state == 'ready',
                                                     Task.bpmn_id == bpmn_id)).one()
    tasks.complete_task(ready('accept').id, {}, 'alice')
    runtime.deliver_message(case.id, 'verification_result', {'eligible': True}, 'verifier')
    tasks.complete_task(ready('survey').id, {}, 'bob')
    confirm = ready('confirm')
    clock.advance(days=31)
    assert sweep_due(test_app) == 1                  # the scheduler fired it, not the request
    db.session.expire_all()
    assert db.session.get(Task, confirm.id).state == 'cancelled'
    with pytest.raises(Conflict) as err:
        tasks.complete_task(confirm.id, {'approved': True}, 'carol')
    assert err.value.code == 'task_not_ready'
    assert runtime.get_instance(case.id).status == 'completed'
    timer = db.session.scalars(select(Timer).where(Timer.instance_id == case.id,
                                                   Timer.bpmn_id == 'response_timeout')).one()
    assert timer.state == 'fired'
    assert fired_audit_entries() == 1


def test_sweep_inside_a_request_context_leaves_the_callers_session_alone(test_app, clock):
    # PUT /api/v1/clock calls sweep_due while its own app context (and session) is active.
    (case_id,) = start_waits(1)
    mine = db.session.get(ProcessInstance, case_id)
    clock.advance(hours=2)
    with test_app.test_request_context('/api/v1/clock', method='PUT'):
        assert sweep_due(test_app) == 1
    assert mine in db.session          # the caller's session still holds its objects
    db.session.refresh(mine)
    assert mine.status == 'completed'


def test_next_wakeup_is_the_earliest_claimable_due_time(test_app, clock):
    sweeper = Sweeper(test_app)
    assert sweeper.next_wakeup() == (None, None)
    start_waits(1)
    due, expiry = sweeper.next_wakeup()
    assert due == datetime.fromisoformat(T0) + timedelta(hours=1) and expiry is None


# ---------------------------------------------------------------------------------------------
# two scheduler processes, one PostgreSQL database

def _scheduler_process(database_url, clock_start, barrier, results, name):
    from service import create_app
    from service.scheduler.sweep import Sweeper
    app = create_app({'TESTING': True, 'DATABASE_URL': database_url, 'SECRET_KEY': 'x', 'JIUZHU_CLOCK': 'manual',
                      'JIUZHU_CLOCK_START': clock_start, 'JIUZHU_HOLIDAYS': None, 'JIUZHU_FORMS_DIR': FORMS})
    sweeper = Sweeper(app, owner=name, batch=20)
    with app.app_context():
        db.session.execute(select(1))        # connect before the race starts
        db.session.remove()
    barrier.wait(timeout=600)     # the other process may still be importing (spawn) on a loaded machine
    started = time.perf_counter()
    fired = sweeper.sweep()
    results[name] = (fired, time.perf_counter() - started)


@pytest.mark.slow
def test_two_scheduler_processes_fire_a_thousand_timers_exactly_once(make_app, database_url):
    if not database_url.startswith('postgresql'):
        pytest.skip('SKIP LOCKED between processes needs PostgreSQL')
    app = make_app(JIUZHU_FORMS_DIR=FORMS)
    n = 1000
    created = time.perf_counter()
    with app.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        start_waits(n)
        created = time.perf_counter() - created
        assert count(Timer, Timer.state == 'waiting') == n
        db.session.remove()
    later = (datetime.fromisoformat(T0) + timedelta(hours=2)).isoformat()
    ctx = multiprocessing.get_context('spawn')
    barrier = ctx.Barrier(2)
    with ctx.Manager() as manager:
        results = manager.dict()
        procs = [ctx.Process(target=_scheduler_process, args=(database_url, later, barrier, results, name))
                 for name in ('scheduler-a', 'scheduler-b')]
        for p in procs:
            p.start()
        # A bound against a hang, not a speed check: on a loaded 2-core machine a sweep of 1000 took 44 s
        # alone and over 120 s beside other suites (tests/bench/bench_drain.py measures the rate).
        for p in procs:
            p.join(600)
        assert [p.exitcode for p in procs] == [0, 0]
        results = dict(results)
    fired = {name: r[0] for name, r in results.items()}
    print(f'created {n} cases in {created:.1f}s; sweeps: ' + ', '.join(
        f'{name} fired {r[0]} in {r[1]:.1f}s' for name, r in sorted(results.items())))
    assert sum(fired.values()) == n
    assert all(v > 0 for v in fired.values()), fired       # both really worked
    with app.app_context():
        assert count(Timer, Timer.state == 'fired') == n
        assert count(Timer, Timer.state == 'waiting') == 0
        # One timers_fired entry per case: no timer fired twice, none written twice.
        assert fired_audit_entries() == n
        per_case = db.session.execute(select(AuditEntry.instance_id, func.count()).where(
            AuditEntry.action == 'timers_fired').group_by(AuditEntry.instance_id).having(func.count() > 1)).all()
        assert per_case == []
        assert dict(db.session.execute(select(Timer.claimed_by, func.count()).group_by(Timer.claimed_by)).all()) \
            == fired
