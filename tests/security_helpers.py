"""Shared pieces of tests/test_security_*.py: an app with the demo people, a wall clock to move, sign-in."""
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from service import demo
from service.clock import ManualClock
from service.services import repository, users

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = ('legacy/dibao.bpmn', 'delegated/dibao_a.bpmn', 'delegated/dibao_b.bpmn')
WALL_START = datetime(2026, 9, 28, 1, 0, tzinfo=timezone.utc)


def cheap_hashes(monkeypatch):
    # A dozen scrypt hashes per test would dominate the run; production uses scrypt (auth.hash_password).
    monkeypatch.setattr(users, 'hash_password', lambda pw: generate_password_hash(pw, method='pbkdf2:sha256:1000'))


def wall_clock(app):
    """Replace the app's wall clock (sessions, tokens) by one the test moves."""
    wall = ManualClock(WALL_START)
    app.extensions['jiuzhu.wall_clock'] = wall
    return wall


def demo_app(make_app, monkeypatch, **config):
    """The real dibao diagrams and the demo people (password jiuzhu-demo)."""
    cheap_hashes(monkeypatch)
    app = make_app(**config)
    with app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({name: tree[name] for name in DIAGRAMS}, 'tester')
        demo.load_users()
        demo.load_entrustments()
    return app


@pytest.fixture
def web_app(make_app, monkeypatch):
    app = demo_app(make_app, monkeypatch)
    with app.app_context():
        yield app


def csrf_of(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def web_login(client, username, password=demo.DEMO_PASSWORD, **kw):
    token = csrf_of(client.get('/login', follow_redirects=True).get_data(as_text=True))
    return client.post('/login', data={'username': username, 'password': password, 'csrf_token': token}, **kw)


def signed_in(app, username, password=demo.DEMO_PASSWORD):
    client = app.test_client()
    r = web_login(client, username, password)
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


def page_csrf(client, url='/'):
    r = client.get(url, follow_redirects=True)
    return csrf_of(r.get_data(as_text=True))


def api_token(client, username, password=demo.DEMO_PASSWORD, **kw):
    r = client.post('/api/v1/auth/token', json={'username': username, 'password': password}, **kw)
    assert r.status_code == 200, r.json
    return r.json['token']


def bearer(token):
    return {'Authorization': f'Bearer {token}'}


APPLICATION = {
    'applicant': {'name': '王秀兰', 'id_number': '11010519491231002X', 'phone': '13800001234',
                  'address': '城关镇幸福社区3号楼', 'household_size': 3},
    'authorization_signed': True, 'commitment_signed': True,
}


def start_case(township='t01'):
    from service.services import cases
    from service.services.auth import find_user
    return cases.start_case(find_user(f'{township}_jingban'), 'dibao_a', township, APPLICATION)


def pre_verify_case(instance_id, township='t01'):
    """dibao_a (seed 001): the verification runs before acceptance, on the applicant's authorization."""
    from service.services import cases
    from service.services.auth import find_user
    user = find_user(f'{township}_jingban')
    task = next(t for t in cases.ready_tasks(instance_id) if t.bpmn_id == 'request_verification')
    cases.claim(user, task.id)
    cases.complete(user, task.id, {'verification_request': {'requested_on': '2026-09-28',
                                                            'authorization_confirmed': True}})
    cases.send_message(find_user('hedui'), instance_id, 'verification_result',
                       {'eligible': True, 'report_no': 'HD-1', 'summary': '核对完毕'})
