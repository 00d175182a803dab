"""PostgreSQL: a write's commit sends the chain's append, the COMMIT and the wait for the disk in one
round trip (services/audit._append_pg, psycopg's pipeline mode) — and keeps what the separate
statements promised: the change and its entries commit together or not at all, and commit() returns
only once the WAL is on disk past them."""
import pytest
from sqlalchemy import event, select, text

from service.extensions import db
from service.models import AuditEntry, ProcessInstance
from service.services import audit

from .test_core import start


@pytest.fixture
def pg(test_app):
    if db.engine.dialect.name != 'postgresql':
        pytest.skip('the pipeline is psycopg’s; SQLite appends with its own statements')
    return test_app


def _statements():
    seen = []
    event.listen(db.engine, 'before_cursor_execute', lambda _c, _cur, statement, *_a: seen.append(statement))
    return seen


def test_a_write_commits_with_its_entries_in_one_round_trip_and_on_disk(pg):
    case = start()
    db.session.commit()
    before = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    seen = _statements()
    db.session.get(ProcessInstance, case.id).last_role = 'r3'
    audit.record('alice', 'set_role', instance_id=case.id)
    db.session.commit()
    # SQLAlchemy sent the write only: the append, COMMIT and the flush wait went together after it.
    assert not any('jiuzhu_audit_append' in s or 'pg_logical_emit_message' in s for s in seen), seen
    flushed_to = db.session.info[audit.FLUSHED_TO]
    assert db.session.execute(text('SELECT pg_current_wal_flush_lsn() >= CAST(:lsn AS pg_lsn)'),
                              {'lsn': flushed_to}).scalar()
    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.id > before)).all()
    assert [r.action for r in rows] == ['set_role']
    assert db.session.get(ProcessInstance, case.id).last_role == 'r3'
    assert audit.verify().intact
    assert db.session.execute(text('SHOW synchronous_commit')).scalar() == 'on'


def test_a_failed_append_keeps_nothing_of_the_change(pg, monkeypatch):
    case = start()
    db.session.commit()
    count = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    monkeypatch.setattr(audit, '_PG_APPEND', 'SELECT 1 / (0 * length(%(entries)s::text))')
    db.session.get(ProcessInstance, case.id).last_role = 'r5'
    audit.record('alice', 'set_role', instance_id=case.id)
    with pytest.raises(Exception, match='division by zero'):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(ProcessInstance, case.id).last_role != 'r5'
    assert db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) == count
    monkeypatch.undo()
    # The session and its connection go on as usual.
    db.session.get(ProcessInstance, case.id).last_role = 'r6'
    audit.record('alice', 'set_role', instance_id=case.id)
    db.session.commit()
    assert db.session.get(ProcessInstance, case.id).last_role == 'r6' and audit.verify().intact


def test_a_listener_after_the_chain_gets_the_separate_statements(pg):
    """Something registered to run at commit after the chain's append would otherwise write into a
    transaction already committed: then the append and the commit go as before, one by one."""
    case = start()
    db.session.commit()
    ran = []

    def after_chain(session):
        ran.append(session.connection().exec_driver_sql('SELECT txid_current_if_assigned()').scalar())
    event.listen(db.session(), 'before_commit', after_chain)
    seen = _statements()
    db.session.get(ProcessInstance, case.id).last_role = 'r4'
    audit.record('alice', 'set_role', instance_id=case.id)
    db.session.commit()
    assert ran and ran[0] is not None        # still inside the chained transaction
    assert any('jiuzhu_audit_append' in s for s in seen)
    assert audit.verify().intact
