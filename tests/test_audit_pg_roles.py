"""The application's PostgreSQL role (deploy/postgresql-app-role.sql) cannot touch the audit log's past.

A throwaway database owned by the test role, a throwaway application role made by the script
through psql; the app runs as that role and still does its work.
"""
import os
import shutil
import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service import create_app
from service.extensions import db
from service.services import audit, repository, runtime, tasks

from .conftest import PG_URL, ROOT, T0, TEST_PROCESSES
from .pg_helpers import drop_database
from .test_core import ready

SCRIPT = ROOT / 'deploy' / 'postgresql-app-role.sql'
pytestmark = pytest.mark.skipif(not PG_URL, reason='needs JIUZHU_TEST_DATABASE_URL (PostgreSQL)')


def _url(base, **parts):
    return make_url(base).set(drivername='postgresql', **parts).render_as_string(hide_password=False)


def _psql(url, **variables):
    args = ['psql', '-X', '-q', '-d', url, '-f', str(SCRIPT)]
    for name, value in variables.items():
        args += ['-v', f'{name}={value}']
    return subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, PGCONNECT_TIMEOUT='10'))


def _config(url):
    return {'TESTING': True, 'DATABASE_URL': url, 'SECRET_KEY': 'test-secret', 'JIUZHU_CLOCK': 'manual',
            'JIUZHU_CLOCK_START': T0, 'JIUZHU_HOLIDAYS': None, 'JIUZHU_FORMS_DIR': str(TEST_PROCESSES / 'forms')}


@pytest.fixture
def throwaway():
    """(owner URL, app role name, app URL): a fresh database and a role name nobody uses yet."""
    if shutil.which('psql') is None:
        pytest.skip('psql (the PostgreSQL client) is not installed')
    admin = create_engine(_url(PG_URL).replace('postgresql://', 'postgresql+psycopg://'), isolation_level='AUTOCOMMIT')
    with admin.connect() as conn:
        may = conn.execute(text('SELECT rolcreatedb AND rolcreaterole FROM pg_roles WHERE rolname = current_user')).scalar()
    if not may:
        admin.dispose()
        pytest.skip('the test role needs CREATEDB and CREATEROLE for a throwaway database and role')
    suffix = uuid.uuid4().hex[:10]
    name, app_role, password = f'jiuzhu_roles_{suffix}', f'jiuzhu_app_{suffix}', f'pw-{suffix}'
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE {name}'))
    owner_url = _url(PG_URL, database=name)
    try:
        yield owner_url, app_role, password, _url(PG_URL, database=name, username=app_role, password=password)
    finally:
        drop_database(admin, name)
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS {app_role}'))
        admin.dispose()


def _fails_as_app(engine, sql):
    with engine.connect() as conn:
        with pytest.raises(Exception) as err:
            conn.execute(text(sql))
        conn.rollback()
    return str(err.value)


def test_the_app_role_may_only_append_to_the_audit_log_and_still_does_its_work(throwaway):
    owner_url, app_role, password, app_url = throwaway
    owner_app = create_app(_config(owner_url))            # the owner creates the tables
    with owner_app.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'owner')
        db.session.remove()
        db.engine.dispose()
    made = _psql(owner_url, owner=make_url(owner_url).username, app=app_role, app_password=password)
    assert made.returncode == 0, made.stderr
    again = _psql(owner_url, owner=make_url(owner_url).username, app=app_role)
    assert again.returncode == 0, again.stderr              # running it twice does no harm

    app = create_app(_config(app_url))
    try:
        with app.app_context():
            assert db.session.scalar(text('SELECT current_user')) == app_role
            case = runtime.start_instance('core_case', 't01', {'applicant': {'name': '张三'}}, 'alice')
            tasks.complete_task(ready(case.id)['accept'].id, {'note': '材料齐全'}, 'alice')
            assert runtime.get_instance(case.id).version == 2
            result = audit.verify()
            assert result.intact and result.count >= 3

        raw = create_engine(make_url(app_url).set(drivername='postgresql+psycopg'))
        try:
            for sql in ('TRUNCATE audit_log',
                        'ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only',
                        'ALTER TABLE audit_log DISABLE TRIGGER USER',
                        'DROP TRIGGER audit_log_append_only ON audit_log',
                        'DROP TABLE audit_log',
                        "UPDATE audit_log SET actor = 'mallory' WHERE id = 1",
                        'DELETE FROM audit_log WHERE id = 1',
                        'CREATE OR REPLACE FUNCTION jiuzhu_audit_log_append_only() RETURNS trigger AS '
                        '$$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql',
                        "UPDATE alembic_version SET version_num = '0001'"):
                message = _fails_as_app(raw, sql)
                assert 'permission denied' in message or 'must be owner' in message, (sql, message)
            with raw.connect() as conn:
                rights = conn.execute(text(
                    "SELECT p, has_table_privilege('audit_log', p) FROM unnest(ARRAY['SELECT', 'INSERT', "
                    "'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p")).all()
            assert {p for p, granted in rights if granted} == {'SELECT', 'INSERT'}
        finally:
            raw.dispose()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    # A table a later migration creates (as the owner) is the application's to use, by default privileges.
    owner = create_engine(make_url(owner_url).set(drivername='postgresql+psycopg'))
    raw = create_engine(make_url(app_url).set(drivername='postgresql+psycopg'))
    try:
        with owner.begin() as conn:
            conn.execute(text('CREATE TABLE later_table (id serial PRIMARY KEY, note text)'))
        with raw.begin() as conn:
            conn.execute(text("INSERT INTO later_table (note) VALUES ('ok')"))
            conn.execute(text("UPDATE later_table SET note = 'changed'"))
        assert 'permission denied' in _fails_as_app(raw, 'TRUNCATE later_table')
    finally:
        owner.dispose()
        raw.dispose()


def test_the_script_refuses_the_owner_as_the_app_role_and_missing_variables(throwaway):
    owner_url, _, _, _ = throwaway
    owner_app = create_app(_config(owner_url))
    with owner_app.app_context():
        db.session.remove()
        db.engine.dispose()
    owner_name = make_url(owner_url).username
    same = _psql(owner_url, owner=owner_name, app=owner_name)
    assert same.returncode != 0 and 'needs a role of its own' in same.stderr, same.stderr
    missing = _psql(owner_url, app='someone')
    assert missing.returncode != 0 and 'missing psql variable: -v owner=ROLE' in missing.stderr, missing.stderr
