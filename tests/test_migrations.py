"""The migrations make the models' schema; an empty database gets it by itself; a create_all database
of the baseline is stamped, one that differs is refused with what differs. SQLite and PostgreSQL."""
import shutil
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from service import create_app
from service.cli import main
from service.migrations import baseline_check, readiness, runner

from .conftest import PRODUCTION_KEYS, ROOT, schema_at_head
from .migration_helpers import connect, count_rows, load_rows, state, url_of


def cli(database_url, monkeypatch, *args):
    monkeypatch.setenv('DATABASE_URL', database_url)
    monkeypatch.setenv('SECRET_KEY', 'cli-test')
    return CliRunner().invoke(main, list(args))


def signature(database_url):
    engine, connection = connect(database_url)
    try:
        return baseline_check.signature(connection)
    finally:
        connection.close()
        engine.dispose()


def make_unversioned(database_url):
    """A database as create_all made it before migrations: the baseline's tables, no version table."""
    runner.upgrade(url_of(database_url), runner.BASELINE)
    load_rows(database_url)
    engine, connection = connect(database_url)
    with connection.begin():
        connection.execute(text('DROP TABLE alembic_version'))
    connection.close()
    engine.dispose()


# ------------------------------------------------------------------ models and migrations agree

def test_one_head_and_revision_files_load():
    script = readiness.script_directory()
    assert script.get_heads() == [readiness.head()]
    revisions = [rev for rev, _, _ in runner.history()]
    assert revisions[-1] == runner.BASELINE
    # create_app's own reading of the files (no Alembic import) agrees with Alembic's.
    assert readiness.revisions() == {rev: tuple(script.get_revision(rev)._versioned_down_revisions)
                                     for rev in revisions}


def test_upgrade_head_leaves_nothing_for_autogenerate(database_url):
    runner.upgrade(url_of(database_url))
    assert runner.check(url_of(database_url)) == []


def test_upgrade_head_equals_create_all_with_triggers(database_url):
    """What tests/conftest.py makes (create_all + stamp) is what the migrations make: columns, keys,
    indexes and the audit log's triggers, which autogenerate does not compare."""
    runner.upgrade(url_of(database_url))
    migrated = signature(database_url)
    assert migrated['audit_log']['triggers'], 'the audit log guard is missing'
    runner.downgrade(url_of(database_url), 'base')
    assert signature(database_url) == {}, 'downgrade to base leaves tables'
    schema_at_head(database_url)
    assert signature(database_url) == migrated


def test_create_app_on_a_current_database_does_not_import_alembic(database_url):
    """The readiness check reads the revision files itself: Alembic costs ~200 ms CPU to import."""
    schema_at_head(database_url)
    code = ('import sys; from service import create_app; '
            f'app = create_app({{"DATABASE_URL": {database_url!r}, "SECRET_KEY": "x", **{PRODUCTION_KEYS!r}}}); '
            'assert app.extensions["jiuzhu.schema"].ready; '
            'assert "alembic" not in sys.modules, "alembic imported"')
    subprocess.run([sys.executable, '-c', code], check=True, cwd=ROOT)


# ------------------------------------------------------------------ an empty database

def test_create_app_brings_an_empty_database_to_head(database_url):
    app = create_app({'TESTING': True, 'DATABASE_URL': database_url, 'SECRET_KEY': 'x', 'JIUZHU_CLOCK': 'manual'})
    try:
        assert app.extensions['jiuzhu.schema'].ready
        assert state(database_url).current == readiness.head()
        r = app.test_client().get('/healthz')
        assert r.status_code == 200
        assert r.json['database'] == {'state': 'current', 'current': readiness.head(), 'expected': readiness.head()}
    finally:
        from service.extensions import db
        with app.app_context():
            db.engine.dispose()


def test_db_commands_on_an_empty_database(database_url, monkeypatch):
    result = cli(database_url, monkeypatch, 'db', 'current')
    assert result.exit_code == 1 and '空数据库' in result.output
    result = cli(database_url, monkeypatch, 'db', 'upgrade')
    assert result.exit_code == 0, result.output
    assert f'升级到 {readiness.head()}' in result.output
    result = cli(database_url, monkeypatch, 'db', 'upgrade')
    assert result.exit_code == 0 and '无需升级' in result.output
    result = cli(database_url, monkeypatch, 'db', 'current')
    assert result.exit_code == 0 and 'current' in result.output, result.output
    result = cli(database_url, monkeypatch, 'db', 'history')
    assert result.exit_code == 0 and f'<base> -> {runner.BASELINE}' in result.output
    result = cli(database_url, monkeypatch, 'db', 'check')
    assert result.exit_code == 0, result.output


# ------------------------------------------------------------------ a database of the create_all era

def test_unversioned_baseline_database_is_stamped_and_upgraded(database_url, monkeypatch):
    make_unversioned(database_url)
    assert state(database_url).state == 'unversioned'
    counts = count_rows(database_url, ['process_instance', 'task', 'timer', 'audit_log'])

    result = cli(database_url, monkeypatch, 'db', 'upgrade')
    assert result.exit_code == 0, result.output
    assert f'登记为基线版本 {runner.BASELINE}' in result.output
    assert state(database_url).ready
    assert count_rows(database_url, counts) == counts


def test_unversioned_database_that_differs_is_refused_with_what_differs(database_url, monkeypatch):
    make_unversioned(database_url)
    engine, connection = connect(database_url)
    with connection.begin():
        connection.execute(text('DROP INDEX ix_task_role'))
        connection.execute(text('ALTER TABLE process_instance DROP COLUMN waiting_for'))
        connection.execute(text('ALTER TABLE timer ADD COLUMN note VARCHAR(20)'))
    connection.close()
    engine.dispose()

    result = cli(database_url, monkeypatch, 'db', 'upgrade')
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)          # a message, not a traceback
    out = result.output
    assert '表 process_instance 缺少列 waiting_for' in out
    assert '表 task 缺少索引 ix_task_role' in out
    assert '表 timer 多出列 note' in out
    assert 'jiuzhu db stamp' in out and 'docs/migrations.md' in out
    assert state(database_url).state == 'unversioned'       # nothing was stamped

    app = create_app({'TESTING': True, 'DATABASE_URL': database_url, 'SECRET_KEY': 'x', 'JIUZHU_CLOCK': 'manual'})
    r = app.test_client().get('/api/v1/instances')
    assert r.status_code == 503 and r.json['details']['state'] == 'unversioned'


def test_baseline_check_finds_no_difference_in_the_baseline_itself(database_url):
    runner.upgrade(url_of(database_url), runner.BASELINE)
    engine, connection = connect(database_url)
    try:
        assert baseline_check.differences(connection) == []
        # The scratch schema of the comparison is gone again (PostgreSQL: rolled back).
        if connection.dialect.name == 'postgresql':
            assert connection.execute(text('SELECT 1 FROM pg_namespace WHERE nspname = :n'),
                                      {'n': baseline_check.SCRATCH_SCHEMA}).first() is None
    finally:
        connection.close()
        engine.dispose()


# ------------------------------------------------------------------ the package carries its migrations

@pytest.mark.slow
def test_a_built_wheel_contains_the_migrations(tmp_path):
    # Built from a copy of what the package is made of, so the work tree gets no build/ folder.
    source = tmp_path / 'src'
    shutil.copytree(ROOT / 'service', source / 'service', ignore=shutil.ignore_patterns('__pycache__'))
    for name in ('pyproject.toml', 'README.md'):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--quiet', '--no-deps', '--no-build-isolation',
                    '-w', str(tmp_path / 'dist'), str(source)], check=True, cwd=tmp_path)
    wheel, = (tmp_path / 'dist').glob('jiuzhu-*.whl')
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ('service/migrations/env.py', 'service/migrations/script.py.mako',
                 f'service/migrations/versions/{runner.BASELINE}_baseline.py',
                 'service/web/templates/web/error.html'):
        assert name in names, sorted(n for n in names if 'migrations' in n or 'templates' in n)
