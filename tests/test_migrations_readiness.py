"""A database behind the code: /healthz is not ready, every other request gets 503, the commands
that would serve cases refuse to start, and `jiuzhu db upgrade` heals a running app.

"Behind" is made real: the code gets one revision more (a file of this test's own in an extra
version folder) than the database, which is at the real head.
"""
import flask
import pytest
from click.testing import CliRunner

from service.cli import main
from service.migrations import readiness, runner
from service.scheduler import runner as scheduler_runner

from .migration_helpers import state, url_of

NEWER = 'test_newer'


@pytest.fixture
def newer_code(tmp_path):
    """The code knows one revision past the real head; returns (database's head, code's head)."""
    real_head = readiness.head()
    folder = tmp_path / 'newer_versions'
    folder.mkdir()
    (folder / f'{NEWER}.py').write_text(f'''"""A revision only this test knows."""
from alembic import op
import sqlalchemy as sa

revision = {NEWER!r}
down_revision = {real_head!r}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jiuzhu_test_newer', sa.Column('id', sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table('jiuzhu_test_newer')
''', encoding='utf-8')
    saved = list(readiness.VERSION_LOCATIONS)
    readiness.VERSION_LOCATIONS.append(folder)
    readiness.forget_revisions()
    try:
        yield real_head, NEWER
    finally:
        readiness.VERSION_LOCATIONS[:] = saved
        readiness.forget_revisions()


def cli(database_url, monkeypatch, *args):
    monkeypatch.setenv('DATABASE_URL', database_url)
    monkeypatch.setenv('SECRET_KEY', 'cli-test')
    return CliRunner().invoke(main, list(args))


def test_behind_database_503_refusal_and_healing(database_url, make_app, newer_code, monkeypatch):
    old_head, new_head = newer_code
    runner.upgrade(url_of(database_url), old_head)
    app = make_app(JIUZHU_EMBEDDED_SCHEDULER=True)
    schema = app.extensions['jiuzhu.schema']
    assert (schema.state, schema.current, schema.expected) == ('behind', old_head, new_head)
    assert scheduler_runner._embedded is None          # no timer fires on a schema the code does not know

    client = app.test_client()
    r = client.get('/healthz')
    assert r.status_code == 503
    assert r.json['status'] == 'not_ready'
    assert r.json['database'] == {'state': 'behind', 'current': old_head, 'expected': new_head}

    r = client.get('/api/v1/instances')
    assert r.status_code == 503 and r.headers['Retry-After']
    assert r.json['error'] == 'database_not_ready'
    assert 'jiuzhu db upgrade' in r.json['message'] and r.json['details']['expected'] == new_head
    assert client.post('/api/v1/auth/token', json={'username': 'a', 'password': 'b'}).status_code == 503
    assert client.get('/api/v1/openapi.json').status_code == 503
    for page in ('/login', '/tasks', '/cases/1'):
        r = client.get(page)
        assert r.status_code == 503, page
        body = r.get_data(as_text=True)
        assert '数据库需要升级' in body and old_head in body and new_head in body
    r = client.get('/tasks', headers={'Accept': 'application/json'})
    assert r.status_code == 503 and r.json['details']['state'] == 'behind'

    # The commands that serve or change cases refuse to start (never reaching a server loop).
    def served(*args, **kwargs):
        raise AssertionError('the server was started on a database that is behind')
    monkeypatch.setattr(flask.Flask, 'run', served)
    for args in (['serve'], ['serve', '--demo'], ['scheduler', '--once'], ['scheduler'], ['deploy'],
                 ['users', 'list']):
        result = cli(database_url, monkeypatch, *args)
        assert result.exit_code == 1, (args, result.output)
        assert '无法启动' in result.output and 'jiuzhu db upgrade' in result.output, args
        assert f'{old_head}' in result.output and new_head in result.output
    result = cli(database_url, monkeypatch, 'db', 'current')
    assert result.exit_code == 1 and 'behind' in result.output
    assert cli(database_url, monkeypatch, 'serve', '--help').exit_code == 0   # help needs no database

    # `jiuzhu db upgrade` while the app runs: the next request finds the schema current.
    result = cli(database_url, monkeypatch, 'db', 'upgrade')
    assert result.exit_code == 0, result.output
    assert f'从 {old_head} 升级到 {new_head}' in result.output
    assert client.get('/healthz').status_code == 200
    assert client.get('/api/v1/instances').status_code == 401      # the API's own answer again
    assert state(database_url).ready


def test_unknown_revision_is_refused(database_url, make_app, monkeypatch):
    """A database upgraded by newer code than this: no 500s here either, and no upgrade attempted."""
    from .migration_helpers import connect
    from sqlalchemy import text
    runner.upgrade(url_of(database_url))
    engine, connection = connect(database_url)
    with connection.begin():
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
    connection.close()
    engine.dispose()

    app = make_app()
    r = app.test_client().get('/healthz')
    assert r.status_code == 503 and r.json['database']['state'] == 'unknown'
    assert app.test_client().get('/api/v1/tasks').status_code == 503
    result = cli(database_url, monkeypatch, 'db', 'upgrade')
    assert result.exit_code == 1 and 'ffff_from_the_future' in result.output
    assert 'Traceback' not in result.output
    result = cli(database_url, monkeypatch, 'serve')
    assert result.exit_code == 1 and '不是本程序认识的版本' in result.output
