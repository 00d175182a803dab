"""PostgreSQL ends the app's connections (a restart, a failover, an administrator's pg_terminate_backend).

The pool does not ping a connection before lending it (service/config.engine_options), so the first
request of each worker after such an event finds its connection gone: that request is told to try
again in a moment (503, in Chinese, with Retry-After) — it is not a server error — its connection
goes back to the pool to be replaced, and the next request works.
"""
import pytest
from sqlalchemy import create_engine, event, text

from service.config import database_uri
from service.extensions import db

from .security_helpers import api_token, bearer, demo_app, signed_in, start_case


@pytest.fixture
def pg_app(make_app, monkeypatch, database_url):
    """The demo app, with no app context held by the test: each request has its own, as under
    gunicorn, so its session ends (and its connection goes back) with the request."""
    if not database_url.startswith('postgresql'):
        pytest.skip('PostgreSQL only: a server that can end a connection')
    return demo_app(make_app, monkeypatch)


class Backends:
    """The server processes of the connections the app's pool opens from now on."""

    def __init__(self, app, database_url):
        with app.app_context():
            self.engine = db.engine
        self.engine.dispose()
        self.pids = []
        event.listen(self.engine, 'connect', self._connected)
        self.admin = create_engine(database_uri(database_url, '.'))

    def checked_out(self):
        return self.engine.pool.checkedout()

    def _connected(self, dbapi_connection, _record):
        self.pids.append(dbapi_connection.info.backend_pid)

    def end_all(self):
        with self.admin.connect() as conn:
            for pid in self.pids:
                conn.execute(text('SELECT pg_terminate_backend(:pid)'), {'pid': pid})

    def close(self):
        event.remove(self.engine, 'connect', self._connected)
        self.admin.dispose()


@pytest.fixture
def backends(pg_app, database_url):
    watched = Backends(pg_app, database_url)
    yield watched
    watched.close()


def test_the_api_asks_to_try_again_and_the_next_request_works(pg_app, backends):
    client = pg_app.test_client()
    headers = bearer(api_token(client, 't01_jingban'))
    assert client.get('/api/v1/tasks', headers=headers).status_code == 200
    backends.end_all()
    r = client.get('/api/v1/tasks', headers=headers)
    assert r.status_code == 503, r.get_data(as_text=True)
    assert r.json['error'] == 'database_unavailable' and '数据库' in r.json['message']
    assert r.headers['Retry-After'] == '1'
    assert backends.checked_out() == 0
    assert client.get('/api/v1/tasks', headers=headers).status_code == 200
    assert backends.checked_out() == 0


def test_a_page_asks_to_try_again_and_the_next_one_works(pg_app, backends):
    client = signed_in(pg_app, 't01_jingban')
    assert client.get('/tasks').status_code == 200
    backends.end_all()
    r = client.get('/tasks')
    page = r.get_data(as_text=True)
    assert r.status_code == 503, page
    assert '数据库' in page and 'Traceback' not in page and 'psycopg' not in page
    assert r.headers['Retry-After'] == '1'
    assert backends.checked_out() == 0
    assert client.get('/tasks').status_code == 200


# dibao_a's first step (seed 001: the verification is requested before acceptance).
FORM = {'verification_request': {'requested_on': '2026-09-28', 'authorization_confirmed': True}}


def claimed_task(app):
    """A new dibao_a case's first task, claimed by the caseworker t01_jingban."""
    from service.services import cases
    from service.services.auth import find_user
    with app.app_context():
        instance_id = start_case().id
        task = next(t for t in cases.ready_tasks(instance_id) if t.bpmn_id == 'request_verification')
        cases.claim(find_user('t01_jingban'), task.id)
        db.session.remove()
        return task.id


def test_a_completion_that_loses_its_connection_changes_nothing(pg_app, backends):
    """The write path's statements go straight to the driver (services/statements.py): a connection
    lost under them is the same 503, the task stays ready, and completing it again works."""
    task_id = claimed_task(pg_app)
    client = pg_app.test_client()
    headers = bearer(api_token(client, 't01_jingban'))
    backends.end_all()
    r = client.post(f'/api/v1/tasks/{task_id}/complete', json={'data': FORM}, headers=headers)
    assert r.status_code == 503, r.get_data(as_text=True)
    shown = client.get(f'/api/v1/tasks/{task_id}', headers=headers)
    assert shown.status_code == 200 and shown.json['task']['state'] == 'ready', shown.json
    r = client.post(f'/api/v1/tasks/{task_id}/complete', json={'data': FORM}, headers=headers)
    assert r.status_code == 200, r.json
    assert backends.checked_out() == 0


def test_a_connection_lost_at_the_commit_holds_no_case_and_loses_nothing(pg_app, backends, monkeypatch):
    """The connection ends between the case's write and its commit (the audit chain's pipelined
    commit goes to the driver past SQLAlchemy, services/audit._append_pg): the server rolls the
    transaction back, the request is the same 503, no incident holds the case, and the completion
    done again goes through."""
    from service.models import Incident
    from service.services import audit
    task_id = claimed_task(pg_app)
    client = pg_app.test_client()
    headers = bearer(api_token(client, 't01_jingban'))
    append = audit._append_pg
    ended = []

    def end_then_append(session, conn, entries):
        if not ended:
            pid = conn.connection.dbapi_connection.info.backend_pid
            with backends.admin.connect() as admin:
                admin.execute(text('SELECT pg_terminate_backend(:pid)'), {'pid': pid})
            ended.append(pid)
        return append(session, conn, entries)
    monkeypatch.setattr(audit, '_append_pg', end_then_append)
    r = client.post(f'/api/v1/tasks/{task_id}/complete', json={'data': FORM}, headers=headers)
    assert ended and r.status_code == 503, r.get_data(as_text=True)
    shown = client.get(f'/api/v1/tasks/{task_id}', headers=headers)
    assert shown.status_code == 200 and shown.json['task']['state'] == 'ready', shown.json
    with pg_app.app_context():
        assert db.session.query(Incident).count() == 0
        db.session.remove()
    r = client.post(f'/api/v1/tasks/{task_id}/complete', json={'data': FORM}, headers=headers)
    assert r.status_code == 200, r.json
    assert backends.checked_out() == 0
