"""Shared pieces of the API tests: people in two townships and the county, an HTTP client per person."""
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from service.services import auth, repository, users

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = 'secret-pass-1'

# name -> (role, township)
PEOPLE = {
    'va1': ('village_assistant', 't01'),
    'cw1': ('township_caseworker', 't01'),
    'cw1b': ('township_caseworker', 't01'),
    'ld1': ('township_leader', 't01'),
    'va2': ('village_assistant', 't02'),
    'cw2': ('township_caseworker', 't02'),
    'ld2': ('township_leader', 't02'),
    'ver': ('county_verifier', 'county'),
    'sup': ('county_supervisor', 'county'),
    'des': ('designer', 'county'),
    'adm': ('admin', 'county'),
}


class Client:
    """One signed-in person: JSON requests with their bearer token."""

    def __init__(self, flask_client, token=None, username=None):
        self.c = flask_client
        self.token = token
        self.username = username

    def headers(self, extra=None):
        h = {'Authorization': f'Bearer {self.token}'} if self.token else {}
        h.update(extra or {})
        return h

    def get(self, url, **kw):
        return self.c.get(url, headers=self.headers(kw.pop('headers', None)), **kw)

    def post(self, url, json=None, **kw):
        return self.c.post(url, json=json, headers=self.headers(kw.pop('headers', None)), **kw)

    def put(self, url, json=None, **kw):
        return self.c.put(url, json=json, headers=self.headers(kw.pop('headers', None)), **kw)


class People(dict):
    def __init__(self, app):
        super().__init__()
        self.app = app
        self.anonymous = Client(app.test_client())

    def client(self, username):
        return self[username]


def add_people(app, monkeypatch):
    # A cheap hash keeps a dozen accounts per test fast; production uses scrypt (auth.hash_password).
    monkeypatch.setattr(users, 'hash_password', lambda pw: generate_password_hash(pw, method='pbkdf2:sha256:1000'))
    people = People(app)
    for name, (role, township) in PEOPLE.items():
        user = users.add_user(name, name, role, township, PASSWORD, 'tester')
        token, _ = auth.issue_token(user)
        people[name] = Client(app.test_client(), token, name)
    entrust(auth.find_user('adm'))
    return people


def entrust(admin, variant='delegated_a', townships=('t01', 't02'), categories=None, **fields):
    """Both test townships entrusted for every category deployed on `variant` (the tests' default world)."""
    from datetime import date
    from sqlalchemy import select
    from service.extensions import db
    from service.models import ProcessDefinition
    from service.services import entrustments
    deployed = set(db.session.scalars(select(ProcessDefinition.category).where(ProcessDefinition.variant == variant)))
    for township in townships:
        for category in sorted(deployed):
            if categories is None or category in categories:
                entrustments.create(admin, township, category, phase=fields.get('phase', 'full'), variant=variant,
                                    valid_from=fields.get('valid_from', date(2026, 1, 1)), letter_no='测委〔2026〕1号')


@pytest.fixture
def people(test_app, monkeypatch):
    """core_case deployed (tests/processes), people added, one client each."""
    return add_people(test_app, monkeypatch)


@pytest.fixture
def dibao_people(make_app, monkeypatch):
    """The real forms and the real dibao_a diagram, people added."""
    app = make_app()
    with app.app_context():
        # dibao_a alone: other diagrams may be mid-edit in the shared tree.
        source = (ROOT / 'processes' / 'delegated' / 'dibao_a.bpmn').read_bytes()
        repository.deploy({'delegated/dibao_a.bpmn': source}, 'tester')
        yield add_people(app, monkeypatch)


def ready_tasks(client, instance_id):
    r = client.get(f'/api/v1/tasks?instance_id={instance_id}&per_page=100')
    assert r.status_code == 200, r.json
    return {t['bpmn_id']: t for t in r.json['items']}


def start_core(client, township='t01', data=None):
    r = client.post('/api/v1/instances', json={'process_key': 'core_case', 'township': township,
                                                'data': data or {'applicant': {'name': '张三'}}})
    assert r.status_code == 201, r.json
    return r.json


COLLECTIVE = {'collective_review': {'held_on': '2026-10-12', 'members': [
    '姚东伟（镇长）', '赵红伦（副书记）', '李晓华（副镇长）', '柏忍（社会保障服务中心主任）', '宋涛（财政所所长）']}}


def pre_verify(client, verifier, case_id, eligible=True):
    """dibao_a (seed 001): verification before acceptance, on the applicant's authorization."""
    task = ready_tasks(client, case_id)['request_verification']
    r = client.post(f"/api/v1/tasks/{task['id']}/complete", json={'data': {'verification_request': {
        'requested_on': '2026-09-28', 'authorization_confirmed': True}}})
    assert r.status_code == 200, r.json
    r = verifier.post(f'/api/v1/instances/{case_id}/messages/verification_result',
                      json={'payload': {'eligible': eligible, 'report_no': 'HD-1', 'summary': '核对完毕'}})
    assert r.status_code == 200, r.json
