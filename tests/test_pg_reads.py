"""PostgreSQL: a transaction begins at its first statement that may write or lock (service/pg_reads.py).

A request that only reads opens no transaction; one that writes is as atomic as before, its locks
last to its end, and a connection given its own isolation level keeps its snapshot.
"""
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, select, text

from service.config import database_uri
from service.extensions import db
from service.models import SavedFilter, Task
from service.pg_reads import reads_only
from service.services.context import now


@pytest.fixture
def pg_app(make_app, database_url):
    if not database_url.startswith('postgresql'):
        pytest.skip('psycopg and PostgreSQL only')
    return make_app()


@pytest.fixture
def other(database_url):
    engine = create_engine(database_uri(database_url, '.'))
    yield engine
    engine.dispose()


def _raw():
    return db.session.connection().connection.dbapi_connection


def _filter(name):
    return SavedFilter(username='someone', list_name='tasks', name=name, query='x=1', created_at=now())


def test_what_counts_as_a_plain_read():
    assert reads_only('SELECT task.id FROM task WHERE task.id = %(id)s')
    assert reads_only('SELECT count(*) AS n FROM (SELECT 1 FROM task WHERE NOT (EXISTS (SELECT 1))) AS anon_1')
    assert reads_only('SELECT CAST(%(v)s AS VARCHAR), coalesce(task.due_at, now()) FROM task')
    for sql in ('SELECT jiuzhu_audit_append(%(key)s, %(sync)s, CAST(%(entries)s AS json))',
                'SELECT pg_advisory_xact_lock(1)', 'SELECT "jiuzhu_audit_append"(1)',
                'SELECT task.id FROM task FOR UPDATE', 'SELECT id FROM task FOR NO KEY UPDATE SKIP LOCKED',
                'SELECT id FROM task FOR SHARE', 'SELECT * INTO copy_of_task FROM task',
                'WITH gone AS (DELETE FROM task RETURNING id) SELECT id FROM gone', 'SELECT 1; DELETE FROM task',
                'UPDATE task SET priority = 1', 'SAVEPOINT sa_savepoint_1', 'SET LOCAL search_path TO x'):
        assert not reads_only(sql), sql


def test_a_request_that_only_reads_opens_no_transaction(pg_app):
    with pg_app.app_context():
        db.session.execute(select(Task.id).where(Task.id == 'none')).all()
        raw = _raw()
        assert raw.info.transaction_status == TransactionStatus.IDLE and raw.autocommit
        db.session.remove()
        assert not raw.autocommit             # back in the pool as it was lent


def test_reads_then_writes_are_one_transaction_rolled_back_whole(pg_app):
    with pg_app.app_context():
        db.session.execute(select(Task.id)).all()
        db.session.add(_filter('一'))
        db.session.flush()
        assert _raw().info.transaction_status == TransactionStatus.INTRANS
        db.session.execute(select(SavedFilter.id)).all()
        db.session.add(_filter('二'))
        db.session.flush()
        db.session.rollback()
        assert db.session.scalars(select(SavedFilter.name)).all() == []
        db.session.add(_filter('三'))
        db.session.commit()
        assert db.session.scalars(select(SavedFilter.name)).all() == ['三']
        db.session.remove()


def test_a_savepoint_after_reads_is_inside_the_transaction(pg_app):
    with pg_app.app_context():
        db.session.execute(select(Task.id)).all()
        db.session.add(_filter('外'))
        with db.session.begin_nested() as nested:
            db.session.add(_filter('内'))
            db.session.flush()
            nested.rollback()
        db.session.commit()
        assert db.session.scalars(select(SavedFilter.name)).all() == ['外']
        db.session.remove()


def test_locks_taken_by_a_select_last_to_the_end_of_the_request(pg_app, other):
    with pg_app.app_context():
        db.session.add(_filter('锁'))
        db.session.commit()
        db.session.execute(select(Task.id)).all()
        db.session.execute(select(SavedFilter.id).with_for_update()).all()
        db.session.execute(text('SELECT pg_advisory_xact_lock(434343)'))
        with other.connect() as conn:
            assert conn.scalar(text('SELECT pg_try_advisory_xact_lock(434343)')) is False
            assert conn.execute(text('SELECT id FROM saved_filter FOR UPDATE SKIP LOCKED')).all() == []
        db.session.remove()
        with other.connect() as conn:
            assert conn.scalar(text('SELECT pg_try_advisory_xact_lock(434343)')) is True
            assert len(conn.execute(text('SELECT id FROM saved_filter FOR UPDATE SKIP LOCKED')).all()) == 1


def test_a_connection_with_its_own_isolation_level_keeps_its_snapshot(pg_app, other):
    with pg_app.app_context():
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level='REPEATABLE READ')
            before = conn.scalar(select(SavedFilter.id).where(SavedFilter.name == '后来'))
            with other.begin() as writer:
                writer.execute(text("INSERT INTO saved_filter (username, list_name, name, query, created_at) "
                                    "VALUES ('someone', 'tasks', '后来', 'x=1', now())"))
            assert before is None
            assert conn.scalar(select(SavedFilter.id).where(SavedFilter.name == '后来')) is None
            conn.rollback()


def test_a_connection_lost_after_reads_is_rolled_back_and_replaced(pg_app, other):
    """The server ends a connection while a request that has only read holds it (a restart, an
    administrator's pg_terminate_backend): the statement that finds out fails, the session's rollback
    and its removal at the end of the request go through, and the next request gets a working
    connection from the pool (before, the rollback's listener asked the invalidated connection for
    its state and raised PendingRollbackError, leaving the connection out of the pool)."""
    from sqlalchemy.exc import OperationalError
    with pg_app.app_context():
        db.session.execute(select(Task.id).where(Task.id == 'none')).all()
        pid = db.session.execute(text('SELECT pg_backend_pid()')).scalar()
        with other.connect() as admin:
            admin.execute(text('SELECT pg_terminate_backend(:pid)'), {'pid': pid})
        with pytest.raises(OperationalError):
            db.session.execute(select(Task.id).where(Task.id == 'none')).all()
        db.session.rollback()
        db.session.remove()
        checked_out = db.engine.pool.checkedout()
    assert checked_out == 0
    with pg_app.app_context():
        assert db.session.execute(select(Task.id).where(Task.id == 'none')).all() == []
        db.session.add(_filter('after the loss'))
        db.session.commit()
        assert _raw().info.transaction_status == TransactionStatus.IDLE
        db.session.remove()
