"""PostgreSQL: statements stay prepared across requests, and a rollback still undoes what was written.

psycopg forgets its prepared statements at every rollback, and SQLAlchemy ended every read-only
request with one, so PostgreSQL planned every statement of every request afresh
(extensions.tune_postgresql). These tests run on PostgreSQL only.
"""
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import ProgrammingError

from service.config import database_uri
from service.extensions import db
from service.models import SavedFilter, Task
from service.services.context import now


@pytest.fixture
def pg_app(make_app, database_url):
    if not database_url.startswith('postgresql'):
        pytest.skip('psycopg and PostgreSQL only')
    return make_app()


def _prepared(statement_start):
    return db.session.scalar(text('SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE :start'),
                             {'start': statement_start + '%'})


def test_a_statement_read_in_many_requests_is_prepared_once_and_stays(pg_app):
    stmt = select(Task.id).where(Task.id == 'no-such-task')
    with pg_app.app_context():
        for _ in range(8):                      # eight requests, each reading and ending without a commit
            db.session.execute(stmt).all()
            db.session.remove()
        assert _prepared('SELECT task.id') == 1


def test_a_request_that_wrote_and_did_not_commit_is_still_rolled_back(pg_app):
    with pg_app.app_context():
        db.session.add(SavedFilter(username='someone', list_name='tasks', name='未保存', query='x=1', created_at=now()))
        db.session.flush()
        db.session.remove()                     # closed without a commit: nothing of it stays
        assert db.session.scalar(select(SavedFilter.id).where(SavedFilter.name == '未保存')) is None

        db.session.add(SavedFilter(username='someone', list_name='tasks', name='撤回', query='x=1', created_at=now()))
        db.session.flush()
        db.session.rollback()
        assert db.session.scalar(select(SavedFilter.id).where(SavedFilter.name == '撤回')) is None


def test_a_failed_transaction_rolls_back_and_the_connection_goes_on(pg_app):
    with pg_app.app_context():
        with pytest.raises(ProgrammingError):
            db.session.execute(text('SELECT no_such_column FROM task'))
        db.session.rollback()
        assert db.session.scalar(text('SELECT 1')) == 1


def test_a_lock_taken_by_a_read_only_request_ends_with_it(pg_app, database_url):
    with pg_app.app_context():
        db.session.execute(text('SELECT pg_advisory_xact_lock(424242)'))
        db.session.remove()
    other = create_engine(database_uri(database_url, '.'))
    try:
        with other.connect() as conn:
            assert conn.scalar(text('SELECT pg_try_advisory_xact_lock(424242)')) is True
    finally:
        other.dispose()


def test_a_result_is_described_as_psycopg_describes_it_whatever_came_before(pg_app):
    """The cursor keeps each shape's description (extensions.described_cursor): a statement with the
    same column names but other types, or a column more, is described anew, never by an older one."""
    import psycopg

    statements = ['SELECT 1 AS a, $$x$$::text AS b', "SELECT 'x'::varchar(7) AS a, 2.5::float8 AS b",
                  'SELECT 1 AS a, $$x$$::text AS b', 'SELECT 1 AS a, $$x$$::text AS b, now() AS c', 'SELECT 1 AS a']
    with pg_app.app_context():
        raw = db.session.connection().connection.dbapi_connection
        with raw.cursor() as cursor, psycopg.Cursor(raw) as plain:
            assert type(cursor) is not psycopg.Cursor
            for sql in statements:
                cursor.execute(sql)
                plain.execute(sql)
                kept, own = cursor.description, plain.description
                assert [tuple(c) for c in kept] == [tuple(c) for c in own], sql
                assert [c.type_display for c in kept] == [c.type_display for c in own], sql
                kept.clear()                    # a caller's copy: the next one is whole again
                assert len(cursor.description) == len(own)
            cursor.execute('SET LOCAL statement_timeout = 0')
            assert cursor.description is None
        db.session.remove()
