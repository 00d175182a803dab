"""Fixtures: a real app on a real database (SQLite always, PostgreSQL too when configured).

Set JIUZHU_TEST_DATABASE_URL=postgresql://user:pw@host/db to run every database test on
PostgreSQL as well; each test gets its own schema there, dropped afterwards.

The apps of `make_app` start on a database made by `create_all` and stamped at the head: a
fraction of the real `upgrade head` per test database (tests/bench/bench_migrations.py), and
tests/test_migrations.py proves both make the same schema, triggers included. The migrations
themselves run in tests/test_migrations*.py and wherever a test hands create_app an empty database.
"""
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from service import create_app
from service.config import database_uri
from service.extensions import db

ROOT = Path(__file__).resolve().parent.parent
TEST_PROCESSES = ROOT / 'tests' / 'processes'
PG_URL = os.environ.get('JIUZHU_TEST_DATABASE_URL')
# Monday 2026-09-28 09:00 in Shanghai: the National Day example of DOMAIN.md starts here.
T0 = '2026-09-28T09:00:00+08:00'

# Keys for apps started as in production (real clock, no TESTING): without them create_app refuses.
PRODUCTION_KEYS = {'JIUZHU_DATA_KEYS': 'test1:YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=',
                   'JIUZHU_SEARCH_KEY': 'c3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3M='}

BACKENDS = ['sqlite'] + (['postgres'] if PG_URL else [])


def _pg_admin_engine():
    from sqlalchemy import create_engine
    from service.config import database_uri
    return create_engine(database_uri(PG_URL, '.'), isolation_level='AUTOCOMMIT')


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """A test on a module-scoped fixture (a shared app) runs on its module's worker under `make test`
    (--dist loadgroup, whose own tagging runs after this): spread over workers, the module's app
    would be built again wherever its tests land, and again whenever another module's test comes
    between two of them. Session-scoped fixtures are built once per worker anyway."""
    for item in items:
        info = getattr(item, '_fixtureinfo', None)
        if info is None or item.get_closest_marker('xdist_group'):
            continue
        if any(defs and defs[-1].scope == 'module' for defs in info.name2fixturedefs.values()):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


@pytest.fixture(autouse=True)
def data_keys(monkeypatch):
    """The keys an operator's environment file holds: `jiuzhu …` commands start as in production."""
    for name, value in PRODUCTION_KEYS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == 'sqlite':
        yield f'sqlite:///{tmp_path / "jiuzhu.sqlite3"}'
        return
    from sqlalchemy import text
    schema = 't_' + uuid.uuid4().hex[:12]
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA {schema}'))
    sep = '&' if '?' in PG_URL else '?'
    yield f'{PG_URL}{sep}options=-csearch_path%3D{schema}'
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA {schema} CASCADE'))
    admin.dispose()


_sqlite_template = {}


def _copy_sqlite_template(path):
    """A new SQLite test database is a copy of one made at the head in this process: a file copy
    costs a fraction of running the DDL again for each of the suite's hundreds of apps."""
    if 'path' not in _sqlite_template:
        template = Path(tempfile.mkdtemp(prefix='jiuzhu-template-')) / 'head.sqlite3'
        _create_at_head(f'sqlite:///{template}')
        _sqlite_template['path'] = template
    shutil.copyfile(_sqlite_template['path'], path)


def schema_at_head(url):
    """The models' tables (audit triggers included) and the head revision recorded, if the database is empty."""
    if url.startswith('sqlite:///'):
        path = Path(url[len('sqlite:///'):])
        if not path.exists():
            _copy_sqlite_template(path)
            return
    _create_at_head(url)


def _create_at_head(url):
    from alembic.migration import MigrationContext
    from service.migrations import readiness, runner
    engine = runner.migration_engine(database_uri(url, '.'))
    try:
        with engine.begin() as connection:
            if readiness.read_state(connection).state == 'empty':
                runner.target_metadata().create_all(connection)
                MigrationContext.configure(connection).stamp(readiness.script_directory(), 'head')
    finally:
        engine.dispose()


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build apps on the test's database; several apps may share it (restart, concurrency)."""
    apps = []

    def factory(**overrides):
        if not apps:
            # At the first app, not before the test: a migration test may build its database first.
            schema_at_head(database_url)
        app = create_app({**app_config(database_url, tmp_path), **overrides})
        apps.append(app)
        return app

    yield factory
    assert_counts_and_dispose(apps)


def app_config(database_url, tmp_path):
    """The configuration of a test app: the manual clock at T0, attachments under tmp_path."""
    return {
        'TESTING': True,
        'DATABASE_URL': database_url,
        'SECRET_KEY': 'test-secret',
        'JIUZHU_CLOCK': 'manual',
        'JIUZHU_CLOCK_START': T0,
        'JIUZHU_HOLIDAYS': None,
        'JIUZHU_FILES_DIR': str(tmp_path / 'files'),   # attachments: never into the repository's instance/
        **PRODUCTION_KEYS,
    }


def assert_counts_and_dispose(apps):
    drift = []
    for number, app in enumerate(apps):
        with app.app_context():
            db.session.remove()
            if number == 0:
                drift = _count_drift()
            db.engine.dispose()
    # Every test that writes cases also checks the supervision counts the write path keeps.
    assert not drift, f'supervision counts out of step with the cases: {drift[:5]}'


def _count_drift():
    """services/figures.differences, when the test left a database at the head (else nothing to check)."""
    from sqlalchemy import inspect as inspect_db
    from service.services import figures
    if not inspect_db(db.engine).has_table('case_count'):
        return []
    try:
        return figures.differences(db.session)
    finally:
        db.session.remove()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def clock(request):
    """The clock of the app this test runs on (`test_app` when it asks for it, else `app`)."""
    name = 'test_app' if 'test_app' in request.fixturenames else 'app'
    return request.getfixturevalue(name).extensions['jiuzhu.clock']


@pytest.fixture
def test_app(make_app):
    """An app whose forms are the test forms, with tests/processes deployed."""
    from service.services import repository
    app = make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'))
    with app.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        yield app
