"""The permission matrix: every role x every endpoint x own/other township -> expected status.

Each role works on two fresh cases of core_case, one in its own township (t01) and one in the
other (t02); county roles have no township of their own, so both columns hold the same answer.
"""
import io

import pytest

from service.services import runtime

from .api_helpers import PEOPLE, people  # noqa: F401  (fixture)

ROLE_USER = {'village_assistant': 'va1', 'township_caseworker': 'cw1', 'township_leader': 'ld1',
             'county_verifier': 'ver', 'county_supervisor': 'sup', 'designer': 'des', 'admin': 'adm'}
VA, CW, LD, VER, SUP, DES, ADM = ROLE_USER.values()

# endpoint -> {user: (status on the own-township case, status on the other township's case)}
# Endpoints that name no case carry one status for both columns.
MATRIX = {
    'list_instances':  {VA: 200, CW: 200, LD: 200, VER: 200, SUP: 200, DES: 403, ADM: 200},
    'get_instance':    {VA: (200, 404), CW: (200, 404), LD: (200, 404), VER: 200, SUP: 200, DES: 403, ADM: 200},
    'start_instance':  {VA: (201, 403), CW: (201, 403), LD: 403, VER: 403, SUP: 403, DES: 403, ADM: 403},
    # Before acceptance nothing waits for a message in core_case, so a permitted sender gets 409.
    'message':         {VA: (409, 404), CW: (409, 404), LD: (403, 404), VER: 403, SUP: 403, DES: 403, ADM: 403},
    'verification':    {VA: (403, 404), CW: (403, 404), LD: (403, 404), VER: 409, SUP: 403, DES: 403, ADM: 403},
    # No deadline is running before acceptance, so a permitted extender gets 409.
    'extend':          {VA: (403, 404), CW: (403, 404), LD: (409, 404), VER: 403, SUP: 409, DES: 403, ADM: 403},
    'list_tasks':      {VA: 200, CW: 200, LD: 200, VER: 200, SUP: 200, DES: 403, ADM: 200},
    'get_task':        {VA: (200, 404), CW: (200, 404), LD: (200, 404), VER: 200, SUP: 200, DES: 403, ADM: 200},
    'claim':           {VA: (403, 404), CW: (200, 404), LD: (403, 404), VER: 403, SUP: 403, DES: 403, ADM: 403},
    'assign':          {VA: (403, 404), CW: (403, 404), LD: (200, 404), VER: 403, SUP: 403, DES: 403, ADM: 403},
    'priority':        {VA: (403, 404), CW: (403, 404), LD: (200, 404), VER: 403, SUP: 200, DES: 403, ADM: 403},
    'complete':        {VA: (403, 404), CW: (200, 404), LD: (403, 404), VER: 403, SUP: 403, DES: 403, ADM: 403},
    'list_timers':     {VA: 200, CW: 200, LD: 200, VER: 200, SUP: 200, DES: 403, ADM: 200},
    'list_definitions': {VA: 200, CW: 200, LD: 200, VER: 200, SUP: 200, DES: 200, ADM: 200},
    # The upload is not a diagram: a permitted deployer gets 422, everybody else 403 first.
    'deploy':          {VA: 403, CW: 403, LD: 403, VER: 403, SUP: 403, DES: 422, ADM: 422},
    'get_clock':       {VA: 200, CW: 200, LD: 200, VER: 200, SUP: 200, DES: 200, ADM: 200},
    'set_clock':       {VA: 403, CW: 403, LD: 403, VER: 403, SUP: 200, DES: 403, ADM: 200},
    'audit':           {VA: 403, CW: 403, LD: 403, VER: 403, SUP: 200, DES: 403, ADM: 200},
    'me':              {VA: 200, CW: 200, LD: 200, VER: 200, SUP: 200, DES: 200, ADM: 200},
}
# The order the calls run in: reads before the writes that change the tasks.
ORDER = ['me', 'list_instances', 'get_instance', 'list_tasks', 'get_task', 'list_timers', 'list_definitions',
         'get_clock', 'audit', 'message', 'verification', 'extend', 'start_instance', 'deploy', 'set_clock', 'priority',
         'claim', 'assign', 'complete']


def _call(client, endpoint, case, task, township):
    iid, tid = case.id, task.id
    if endpoint == 'list_instances':
        return client.get('/api/v1/instances')
    if endpoint == 'get_instance':
        return client.get(f'/api/v1/instances/{iid}')
    if endpoint == 'start_instance':
        return client.post('/api/v1/instances', json={'process_key': 'core_case', 'township': township, 'data': {}})
    if endpoint == 'message':
        return client.post(f'/api/v1/instances/{iid}/messages/supplement_received', json={'payload': {}})
    if endpoint == 'verification':
        return client.post(f'/api/v1/instances/{iid}/messages/verification_result',
                           json={'payload': {'eligible': True}})
    if endpoint == 'extend':
        return client.post(f'/api/v1/instances/{iid}/deadlines/deadline/extend',
                           json={'working_days': 20, 'reason': 'objection'})
    if endpoint == 'list_tasks':
        return client.get('/api/v1/tasks')
    if endpoint == 'get_task':
        return client.get(f'/api/v1/tasks/{tid}')
    if endpoint == 'claim':
        return client.post(f'/api/v1/tasks/{tid}/claim')
    if endpoint == 'assign':
        return client.post(f'/api/v1/tasks/{tid}/assign', json={'username': 'cw1b' if township == 't01' else 'cw2'})
    if endpoint == 'priority':
        return client.put(f'/api/v1/tasks/{tid}/priority', json={'priority': 1})
    if endpoint == 'complete':
        return client.post(f'/api/v1/tasks/{tid}/complete', json={'data': {'note': '同意'}})
    if endpoint == 'list_timers':
        return client.get('/api/v1/timers')
    if endpoint == 'list_definitions':
        return client.get('/api/v1/process-definitions')
    if endpoint == 'deploy':
        return client.c.post('/api/v1/process-definitions', headers=client.headers(), content_type='multipart/form-data',
                             data={'files': (io.BytesIO(b'not xml'), 'x.bpmn')})
    if endpoint == 'get_clock':
        return client.get('/api/v1/clock')
    if endpoint == 'set_clock':
        return client.put('/api/v1/clock', json={'now': '2026-09-28T09:00:00+08:00'})
    if endpoint == 'audit':
        return client.get('/api/v1/audit')
    if endpoint == 'me':
        return client.get('/api/v1/users/me')
    raise AssertionError(endpoint)


def _ready_accept(case):
    from sqlalchemy import select
    from service.extensions import db
    from service.models import Task
    return db.session.scalar(select(Task).where(Task.instance_id == case.id, Task.bpmn_id == 'accept'))


def test_matrix_covers_every_role_and_endpoint():
    assert set(MATRIX) == set(ORDER)
    for endpoint, row in MATRIX.items():
        assert set(row) == set(ROLE_USER.values()), endpoint
    assert {PEOPLE[u][0] for u in ROLE_USER.values()} == set(ROLE_USER)


@pytest.mark.parametrize('role', list(ROLE_USER))
def test_permission_matrix(people, role):
    user = ROLE_USER[role]
    client = people[user]
    own = runtime.start_instance('core_case', 't01', {'applicant': {'name': '甲'}}, 'cw1')
    other = runtime.start_instance('core_case', 't02', {'applicant': {'name': '乙'}}, 'cw2')
    targets = {'own': (own, _ready_accept(own), 't01'), 'other': (other, _ready_accept(other), 't02')}
    wrong = []
    for endpoint in ORDER:
        expected = MATRIX[endpoint][user]
        pair = expected if isinstance(expected, tuple) else (expected, expected)
        for column, want in zip(('own', 'other'), pair):
            if not isinstance(expected, tuple) and column == 'other' and endpoint not in (
                    'get_instance', 'get_task', 'claim', 'assign', 'priority', 'complete', 'message',
                    'verification', 'extend', 'start_instance'):
                continue   # names no case: once is enough
            case, task, township = targets[column]
            r = _call(client, endpoint, case, task, township)
            if r.status_code != want:
                wrong.append(f'{role} {endpoint} {column}: {r.status_code} (want {want}) {r.json}')
            else:
                assert r.is_json and ('error' in r.json) == (r.status_code >= 400), (endpoint, r.json)
    assert not wrong, '\n'.join(wrong)


def test_anonymous_gets_401_everywhere_but_the_token_endpoint(people):
    anon = people.anonymous
    for method, url in [('get', '/api/v1/instances'), ('get', '/api/v1/instances/1'), ('post', '/api/v1/instances'),
                        ('get', '/api/v1/tasks'), ('get', '/api/v1/tasks/x'), ('post', '/api/v1/tasks/x/claim'),
                        ('post', '/api/v1/tasks/x/complete'), ('get', '/api/v1/timers'), ('get', '/api/v1/clock'),
                        ('put', '/api/v1/clock'), ('get', '/api/v1/process-definitions'),
                        ('post', '/api/v1/process-definitions'), ('get', '/api/v1/audit'),
                        ('post', '/api/v1/instances/1/messages/objection')]:
        r = getattr(anon, method)(url)
        assert r.status_code == 401 and r.json['error'] == 'authentication_required', (method, url, r.json)
    assert anon.get('/api/v1/openapi.json').status_code == 200
