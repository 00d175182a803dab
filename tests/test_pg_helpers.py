"""The throwaway-database drop used by the backup and role tests ends sessions left open inside it."""
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .conftest import PG_URL
from .pg_helpers import drop_database

pytestmark = pytest.mark.skipif(not PG_URL, reason='needs JIUZHU_TEST_DATABASE_URL (PostgreSQL)')


def _engine(database):
    url = make_url(PG_URL).set(drivername='postgresql+psycopg', database=database)
    return create_engine(url, isolation_level='AUTOCOMMIT')


def test_a_database_with_a_session_still_inside_is_dropped():
    admin = _engine('postgres')
    with admin.connect() as conn:
        if not conn.execute(text('SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user')).scalar():
            pytest.skip('the test role needs CREATEDB')
        name = f'jiuzhu_drop_{uuid.uuid4().hex[:10]}'
        conn.execute(text(f'CREATE DATABASE {name}'))
    inside = _engine(name)
    left_open = inside.connect()                     # a session a failed test would leave behind
    left_open.execute(text('SELECT 1'))
    try:
        drop_database(admin, name)
        with admin.connect() as conn:
            assert conn.execute(text('SELECT count(*) FROM pg_database WHERE datname = :n'), {'n': name}).scalar() == 0
    finally:
        left_open.invalidate()
        inside.dispose()
        admin.dispose()
