"""Due timers of many cases fired in one transaction (services/firing.py), on SQLite and PostgreSQL.

A batch's cases are locked first, fired one after the other and flushed together, with no
SAVEPOINT. One batch holds cases that fire, a case whose timer runs into a diagram error (held in an
incident), a case that fails outside the diagram and a case whose version moved while the batch
ran: the failure sends the batch round again with each case in a SAVEPOINT, where each of the last
two is rolled back alone — with its audit entry and its count deltas — and fired by a later sweep,
never twice. The audit chain is locked and written once per batch, at its
commit. The real sweep runs; the app's clock is moved, never slept.
"""
from datetime import datetime, timedelta, timezone

from sqlalchemy import event, func, select, update

from service.extensions import db
from service.models import AuditEntry, Incident, ProcessInstance, Timer
from service.scheduler.sweep import Sweeper
from service.services import audit, figures, runtime, write


def _statements(engine):
    seen = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(' '.join(statement.split()))
    event.listen(engine, 'before_cursor_execute', record)
    return seen, lambda: event.remove(engine, 'before_cursor_execute', record)


def test_one_batch_fires_its_cases_once_and_rolls_back_only_the_failing_ones(test_app, clock, monkeypatch):
    waits = [runtime.start_instance('one_timer', 't01', {}, 'tester').id for _ in range(4)]
    fragile = runtime.start_instance('fragile_case', 't01', {'divisor': 4}, 'cw1').id
    broken, moved = waits[1], waits[2]
    db.session.commit()
    clock.advance(hours=3)
    real = write.fire_open_case
    tries = []
    healed = []

    def firing(case):
        tries.append(case.instance.id)
        if case.instance.id == broken and not healed:
            raise RuntimeError('disk on fire')
        if case.instance.id == moved and tries.count(moved) == 1:
            # Someone wrote the case after the batch read it: its version check must fail.
            db.session.execute(update(ProcessInstance).where(ProcessInstance.id == moved)
                               .values(version=ProcessInstance.version + 1)
                               .execution_options(synchronize_session=False))
        return real(case)
    monkeypatch.setattr(write, 'fire_open_case', firing)
    appends, append = [], audit._append_pg     # PostgreSQL's append goes in a pipeline, not through SQLAlchemy

    def counted(*args):
        appends.append(1)
        return append(*args)
    monkeypatch.setattr(audit, '_append_pg', counted)
    statements, stop = _statements(db.engine)
    try:
        fired = Sweeper(test_app, batch=50).sweep()
    finally:
        stop()
    # All in one batch: fired together up to the broken case, then again each in a savepoint.
    assert tries == [waits[0], broken] + waits + [fragile]
    # fragile_case's timer fired too (into an incident), so it counts; the broken and moved did not.
    assert fired == 3
    # SQLite reads the last row itself; PostgreSQL appends in one call (models/audit_append.py).
    chain_reads = [s for s in statements if s.startswith('SELECT audit_log.id, audit_log.row_hash')]
    assert len(chain_reads) + len(appends) == 1, 'the audit chain is read and locked once per batch, at its commit'

    db.session.expire_all()
    entries = dict(db.session.execute(select(AuditEntry.instance_id, func.count()).where(
        AuditEntry.action == 'timers_fired').group_by(AuditEntry.instance_id)).all())
    assert entries == {waits[0]: 1, waits[3]: 1}
    assert db.session.scalar(select(Incident.instance_id)) == fragile
    assert db.session.get(ProcessInstance, fragile).status == 'incident'
    for case_id in (broken, moved):
        assert db.session.get(ProcessInstance, case_id).status == 'running'
        assert db.session.scalars(select(Timer.state).where(Timer.instance_id == case_id)).one() == 'waiting'
    assert figures.differences(db.session) == []

    # The moved case is handed back at once; the broken one keeps its claim for one lease.
    assert Sweeper(test_app).sweep() == 1
    db.session.expire_all()
    healed.append(True)
    later = Sweeper(test_app, wall=lambda: datetime.now(timezone.utc) + timedelta(hours=1))
    assert later.sweep() == 1
    db.session.expire_all()
    entries = dict(db.session.execute(select(AuditEntry.instance_id, func.count()).where(
        AuditEntry.action == 'timers_fired').group_by(AuditEntry.instance_id)).all())
    assert entries == {i: 1 for i in waits}
    assert figures.differences(db.session) == []
    assert audit.verify().problem is None


def test_two_schedulers_sharing_the_due_cases_fire_each_once(test_app, clock):
    ids = [runtime.start_instance('one_timer', 't01', {}, 'tester').id for _ in range(40)]
    db.session.commit()
    clock.advance(hours=2)
    first = Sweeper(test_app, owner='a', batch=15)
    second = Sweeper(test_app, owner='b', batch=15)
    # Interleaved claims: each takes its rows, then they fire their batches in turn.
    claimed_a = first.claim(clock.now())
    claimed_b = second.claim(clock.now())
    assert not {i for _, i in claimed_a} & {i for _, i in claimed_b}
    assert second.fire_chunk({i: [t] for t, i in claimed_b}, clock.now(), [])[1] == 15
    assert first.fire_chunk({i: [t] for t, i in claimed_a}, clock.now(), [])[1] == 15
    assert first.sweep() + second.sweep() == 10
    db.session.expire_all()
    entries = dict(db.session.execute(select(AuditEntry.instance_id, func.count()).where(
        AuditEntry.action == 'timers_fired').group_by(AuditEntry.instance_id)).all())
    assert entries == {i: 1 for i in ids}
    assert db.session.scalar(select(func.count()).select_from(Timer).where(Timer.state != 'fired')) == 0
    assert figures.differences(db.session) == []
    assert audit.verify().problem is None


def test_a_clean_batch_locks_its_cases_first_and_writes_them_together(test_app, clock):
    """No SAVEPOINT per case: the case rows are locked (in id order) before they are read, and the
    case rows and the timer rows of the whole batch go out as one multi-row statement each."""
    ids = [runtime.start_instance('one_timer', 't01', {}, 'tester').id for _ in range(6)]
    db.session.commit()
    versions = dict(db.session.execute(select(ProcessInstance.id, ProcessInstance.version)).all())
    clock.advance(hours=3)
    statements, stop = _statements(db.engine)
    try:
        assert Sweeper(test_app, batch=50).sweep() == 6
    finally:
        stop()
    assert not [s for s in statements if s.startswith(('SAVEPOINT', 'RELEASE'))]
    assert len([s for s in statements if s.startswith('UPDATE timer SET state=')]) == 1
    case_updates = [s for s in statements if s.startswith('UPDATE process_instance')]
    assert len(case_updates) == 1 and 'version' in case_updates[0].split('WHERE')[1]
    read = next(i for i, s in enumerate(statements) if s.startswith('SELECT process_instance.id, process_instance.definition_id'))
    if db.engine.dialect.name == 'postgresql':
        lock = next(i for i, s in enumerate(statements) if s.endswith('FOR UPDATE'))
        assert lock < read and 'ORDER BY process_instance.id' in statements[lock]
    else:
        assert any(s == 'BEGIN IMMEDIATE' for s in statements[:read])
    db.session.expire_all()
    entries = dict(db.session.execute(select(AuditEntry.instance_id, func.count()).where(
        AuditEntry.action == 'timers_fired').group_by(AuditEntry.instance_id)).all())
    assert entries == {i: 1 for i in ids}
    after = dict(db.session.execute(select(ProcessInstance.id, ProcessInstance.version)).all())
    assert after == {i: v + 1 for i, v in versions.items()}
    assert set(db.session.scalars(select(ProcessInstance.status))) == {'completed'}
    assert figures.differences(db.session) == []


def test_a_version_check_failing_at_the_batchs_flush_fires_the_cases_again_one_by_one(test_app, clock, monkeypatch):
    ids = [runtime.start_instance('one_timer', 't01', {}, 'tester').id for _ in range(3)]
    db.session.commit()
    clock.advance(hours=3)
    real = write.fire_open_case
    tries = []

    def firing(case):
        tries.append(case.instance.id)
        if case.instance.id == ids[1] and tries.count(ids[1]) == 1:
            db.session.execute(update(ProcessInstance).where(ProcessInstance.id == ids[1])
                               .values(version=ProcessInstance.version + 1)
                               .execution_options(synchronize_session=False))
        return real(case)
    monkeypatch.setattr(write, 'fire_open_case', firing)
    # The batch is rolled back (the bump with it) and each case fired again, read afresh.
    assert Sweeper(test_app, batch=50).sweep() == 3
    assert tries == ids + ids
    db.session.expire_all()
    entries = dict(db.session.execute(select(AuditEntry.instance_id, func.count()).where(
        AuditEntry.action == 'timers_fired').group_by(AuditEntry.instance_id)).all())
    assert entries == {i: 1 for i in ids}
    assert figures.differences(db.session) == []
    assert audit.verify().problem is None


def test_a_listener_on_case_updates_still_sees_each_case_of_a_batch(test_app, clock):
    """The batch's own multi-row UPDATE would bypass mapper events: with a listener, the ORM writes the rows."""
    ids = [runtime.start_instance('one_timer', 't01', {}, 'tester').id for _ in range(3)]
    db.session.commit()
    clock.advance(hours=3)
    seen = []

    def listener(mapper, connection, target):
        seen.append(target.id)
    event.listen(ProcessInstance, 'before_update', listener)
    try:
        assert Sweeper(test_app, batch=50).sweep() == 3
    finally:
        event.remove(ProcessInstance, 'before_update', listener)
    assert sorted(seen) == ids
    assert figures.differences(db.session) == []
