"""The incidents API: list and read incidents, retry / suspend / resume / terminate a case.

fragile_case (tests/processes) fails on purpose: `compute` after acceptance when the factor is 0.
Every role is tried on every endpoint (the permission matrix style of test_api_permissions.py);
the answers of a refused call and of a call on a case in the wrong state are checked, and every
action's audit entry.
"""
import zlib
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from service.extensions import db
from service.models import AuditEntry, Incident, ProcessInstance, Task
from service.scheduler.sweep import sweep_due
from service.services import repository, runtime, tasks

from .api_helpers import people  # noqa: F401  (fixture)
from .conftest import TEST_PROCESSES
from .test_api_permissions import ROLE_USER

VA, CW, LD, VER, SUP, DES, ADM = ROLE_USER.values()
OPERATORS = (SUP, ADM)


def broken_case(township='t01', divisor=4):
    """A fragile_case held in an incident at `compute` (factor 0 after acceptance)."""
    case = runtime.start_instance('fragile_case', township, {'divisor': divisor}, f'cw{township[-1]}')
    accept = db.session.scalar(select(Task.id).where(Task.instance_id == case.id, Task.bpmn_id == 'accept'))
    tasks.complete_task(accept, {'note': '齐全', 'factor': 0}, f'cw{township[-1]}')
    db.session.expire_all()
    assert db.session.get(ProcessInstance, case.id).status == 'incident'
    return case.id


def running_case(township='t01'):
    return runtime.start_instance('core_case', township, {'applicant': {'name': '张三'}}, f'cw{township[-1]}').id


def status(instance_id):
    db.session.expire_all()
    return db.session.get(ProcessInstance, instance_id).status


def audit_entries(instance_id, action):
    db.session.expire_all()
    return db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == instance_id,
                                                       AuditEntry.action == action)).all()


def open_incident_id(instance_id):
    return db.session.scalar(select(Incident.id).where(Incident.instance_id == instance_id, Incident.state == 'open'))


# ------------------------------------------------------------------ errors at start, the case JSON

def test_an_error_at_start_is_422_with_element_and_message(people):
    r = people[CW].post('/api/v1/instances', json={'process_key': 'fragile_case', 'township': 't01', 'data': {}})
    assert r.status_code == 422, r.json
    assert set(r.json) == {'error', 'message', 'details'}
    assert r.json['details']['element'] == 'prepare' and 'divisor' in r.json['details']['error']
    r = people[CW].post('/api/v1/instances', json={'process_key': 'fragile_case', 'township': 't01',
                                                   'data': {'divisor': 0}})
    assert r.status_code == 422 and 'ZeroDivisionError' in r.json['details']['error']
    assert db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.process_key == 'fragile_case')) is None


def test_the_case_json_carries_its_open_incident(people):
    iid = broken_case()
    running = running_case()
    for who in (CW, SUP):
        case = people[who].get(f'/api/v1/instances/{iid}').json
        assert case['status'] == 'incident'
        brief = case['incident']
        assert (brief['element'], brief['element_name'], brief['line'], brief['trigger'], brief['actor']) == \
            ('compute', '核算金额', 2, 'complete', 'cw1')
        assert 'ZeroDivisionError' in brief['message'] and brief['kind'] == 'process_error'
        assert case['ready_tasks'] == []
    assert people[SUP].get(f'/api/v1/instances/{running}').json['incident'] is None
    listed = people[SUP].get('/api/v1/instances?status=incident').json
    assert [c['id'] for c in listed['items']] == [iid] and listed['items'][0]['incident']['element'] == 'compute'
    assert people[SUP].get('/api/v1/instances?status=suspended').json['total'] == 0
    assert people[SUP].get('/api/v1/instances?status=error').status_code == 422


# ------------------------------------------------------------------ the list and one incident

def test_list_and_filters(people):
    first, other = broken_case('t01'), broken_case('t02')
    sup = people[SUP]
    page = sup.get('/api/v1/incidents').json
    assert set(page) == {'items', 'total', 'total_capped', 'page', 'per_page'} and page['total'] == 2
    item = page['items'][0]                       # newest first
    assert item['instance_id'] == other and item['state'] == 'open' and item['township'] == 't02'
    assert item['version'] == {'id': item['version']['id'], 'key': 'fragile_case', 'version': 1,
                               'name': '易错测试案件', 'label': 'fragile_case v1'}
    assert item['process_key'] == 'fragile_case' and item['resolution'] is None
    assert [i['instance_id'] for i in sup.get('/api/v1/incidents?township=t01').json['items']] == [first]
    assert sup.get(f'/api/v1/incidents?instance_id={first}').json['total'] == 1
    assert sup.get('/api/v1/incidents?process_key=fragile_case').json['total'] == 2
    assert sup.get('/api/v1/incidents?process_key=core_case').json['total'] == 0
    assert sup.get('/api/v1/incidents?state=resolved').json['total'] == 0
    assert sup.get('/api/v1/incidents?per_page=1&page=2').json['items'][0]['instance_id'] == first
    for bad in ('state=closed', 'per_page=0', 'instance_id=0', 'page=x'):
        r = sup.get(f'/api/v1/incidents?{bad}')
        assert r.status_code == 422 and r.json['error'] == 'validation_error', bad

    incident_id = item['id']
    one = sup.get(f'/api/v1/incidents/{incident_id}').json
    assert one == item
    r = sup.get('/api/v1/incidents/999999')
    assert r.status_code == 404 and r.json['error'] == 'incident_not_found'
    assert sup.get('/api/v1/incidents/99999999999').status_code == 404


# ------------------------------------------------------------------ the permission matrix

# endpoint -> {user: status}. Township staff are refused before the case is looked at, so their
# answer is the same for their own township's case, another's, or none (existence does not leak).
MATRIX = {
    'list_incidents': {VA: 403, CW: 403, LD: 403, VER: 403, SUP: 200, DES: 403, ADM: 200},
    'get_incident':   {VA: 403, CW: 403, LD: 403, VER: 403, SUP: 200, DES: 403, ADM: 200},
    'retry':          {VA: 403, CW: 403, LD: 403, VER: 403, SUP: 200, DES: 403, ADM: 200},
    'suspend':        {VA: 403, CW: 403, LD: 403, VER: 403, SUP: 200, DES: 403, ADM: 200},
    'resume':         {VA: 403, CW: 403, LD: 403, VER: 403, SUP: 200, DES: 403, ADM: 200},
    'terminate':      {VA: 403, CW: 403, LD: 403, VER: 403, SUP: 200, DES: 403, ADM: 200},
}
ORDER = ['list_incidents', 'get_incident', 'retry', 'suspend', 'resume', 'terminate']


def _call(client, endpoint, broken, running, incident_id):
    if endpoint == 'list_incidents':
        return client.get('/api/v1/incidents')
    if endpoint == 'get_incident':
        return client.get(f'/api/v1/incidents/{incident_id}')
    if endpoint == 'retry':
        return client.post(f'/api/v1/instances/{broken}/retry', json={'data': {'factor': 2}, 'note': '补录系数'})
    if endpoint == 'suspend':
        return client.post(f'/api/v1/instances/{running}/suspend', json={'reason': '待核实户籍'})
    if endpoint == 'resume':
        return client.post(f'/api/v1/instances/{running}/resume', json={'note': '已核实'})
    if endpoint == 'terminate':
        return client.post(f'/api/v1/instances/{running}/terminate', json={'reason': '申请人撤回申请'})
    raise AssertionError(endpoint)


def test_matrix_covers_every_role_and_endpoint():
    assert set(MATRIX) == set(ORDER)
    assert all(set(row) == set(ROLE_USER.values()) for row in MATRIX.values())


@pytest.mark.parametrize('role', list(ROLE_USER))
def test_permission_matrix(people, role):
    user = ROLE_USER[role]
    client = people[user]
    own, other = broken_case('t01'), broken_case('t02')
    running = {'own': running_case('t01'), 'other': running_case('t02')}
    broken = {'own': own, 'other': other}
    wrong = []
    for column in ('own', 'other'):
        if user in OPERATORS and column == 'other':
            continue     # county roles have no township of their own: one column is enough
        incident_id = open_incident_id(broken[column])
        for endpoint in ORDER:
            want = MATRIX[endpoint][user]
            r = _call(client, endpoint, broken[column], running[column], incident_id)
            if r.status_code != want:
                wrong.append(f'{role} {endpoint} {column}: {r.status_code} (want {want}) {r.json}')
            assert r.is_json and ('error' in r.json) == (r.status_code >= 400), (endpoint, r.json)
    assert not wrong, '\n'.join(wrong)
    if user in OPERATORS:
        assert (status(own), status(running['own'])) == ('running', 'terminated')
    else:
        # Nothing changed, nothing was written in the refused caller's name.
        assert (status(own), status(other)) == ('incident', 'incident')
        assert (status(running['own']), status(running['other'])) == ('running', 'running')
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.actor == user)).all()
        assert not set(actions) & {'retry', 'suspend', 'resume', 'terminate'}


def test_anonymous_gets_401(people):
    anon = people.anonymous
    for method, url in [('get', '/api/v1/incidents'), ('get', '/api/v1/incidents/1'),
                        ('post', '/api/v1/instances/1/retry'), ('post', '/api/v1/instances/1/suspend'),
                        ('post', '/api/v1/instances/1/resume'), ('post', '/api/v1/instances/1/terminate')]:
        r = getattr(anon, method)(url, json={})
        assert r.status_code == 401 and r.json['error'] == 'authentication_required', (method, url)


def test_unknown_cases_are_404_for_operators_and_403_for_the_others(people):
    for url, body in (('retry', {}), ('suspend', {'reason': '理由'}), ('resume', {}), ('terminate', {'reason': '理由'})):
        r = people[SUP].post(f'/api/v1/instances/999999/{url}', json=body)
        assert r.status_code == 404 and r.json['error'] == 'instance_not_found', url
        assert people[CW].post(f'/api/v1/instances/999999/{url}', json=body).status_code == 403
        assert people[SUP].post(f'/api/v1/instances/0/{url}', json=body).status_code == 404


# ------------------------------------------------------------------ the actions

def test_retry_with_corrected_data_goes_on_and_is_audited(people):
    iid = broken_case()
    incident_id = open_incident_id(iid)
    r = people[SUP].post(f'/api/v1/instances/{iid}/retry', json={'data': {'factor': 2}, 'note': '补录系数'})
    assert r.status_code == 200, r.json
    case = r.json
    assert (case['status'], case['incident']) == ('running', None)
    assert [t['bpmn_id'] for t in case['ready_tasks']] == ['review']
    assert {'history', 'timers', 'version'} <= set(case)
    assert [h['action'] for h in case['history'] if h['kind'] == 'audit'][-2:] == ['incident', 'retry']
    resolved = people[SUP].get(f'/api/v1/incidents/{incident_id}').json
    assert (resolved['state'], resolved['resolution'], resolved['resolved_by'], resolved['note']) == \
        ('resolved', 'retried', 'sup', '补录系数')
    [entry] = audit_entries(iid, 'retry')
    assert (entry.actor, entry.detail['note'], entry.detail['corrected']) == ('sup', '补录系数', ['factor'])
    # The audit API shows it too.
    listed = people[SUP].get(f'/api/v1/audit?instance_id={iid}&action=retry').json
    assert listed['total'] == 1 and listed['items'][0]['actor'] == 'sup'


def test_a_retry_that_fails_again_answers_the_new_incident(people):
    iid = broken_case()
    first = open_incident_id(iid)
    r = people[ADM].post(f'/api/v1/instances/{iid}/retry', json={})
    assert r.status_code == 200, r.json
    assert r.json['status'] == 'incident'
    assert r.json['incident']['id'] != first and r.json['incident']['trigger'] == 'retry'
    assert r.json['incident']['actor'] == 'adm'
    states = people[ADM].get(f'/api/v1/incidents?instance_id={iid}&state=all').json['items']
    assert sorted(i['state'] for i in states) == ['open', 'resolved']


def test_retry_on_the_newest_version_after_a_redeploy(people):
    iid = broken_case()
    source = (TEST_PROCESSES / 'fragile_case.bpmn').read_text()
    repository.deploy({'fragile_case.bpmn': source.replace('result = base // factor',
                                                           'result = base // max(factor, 1)').encode()}, 'des')
    r = people[SUP].post(f'/api/v1/instances/{iid}/retry', json={'latest_version': True})
    assert r.status_code == 200, r.json
    assert (r.json['status'], r.json['version']['version']) == ('running', 2)
    assert [t['bpmn_id'] for t in r.json['ready_tasks']] == ['review']
    [entry] = audit_entries(iid, 'retry')
    assert entry.detail['migrated']['version'] == 2


def test_a_version_that_removes_the_failed_step_is_409(people):
    iid = broken_case()
    source = (TEST_PROCESSES / 'fragile_case.bpmn').read_text()
    # The new version goes from acceptance straight to review: the step the case failed at is gone.
    start, end = source.index('    <bpmn:scriptTask id="compute"'), source.index('    <bpmn:userTask id="review"')
    removed = (source[:start] + source[end:]).replace('<bpmn:flowNodeRef>compute</bpmn:flowNodeRef>', '')
    removed = removed.replace('<bpmn:incoming>f4</bpmn:incoming>', '<bpmn:incoming>f3</bpmn:incoming>')
    removed = removed.replace('targetRef="compute"', 'targetRef="review"')
    removed = removed.replace('<bpmn:sequenceFlow id="f4" sourceRef="compute" targetRef="review" />', '')
    repository.deploy({'fragile_case.bpmn': removed.encode()}, 'des')
    r = people[SUP].post(f'/api/v1/instances/{iid}/retry', json={'latest_version': True})
    assert r.status_code == 409 and r.json['error'] == 'migration_refused', r.json
    assert r.json['details'] == {'elements': ['compute']}
    assert status(iid) == 'incident' and audit_entries(iid, 'retry') == []


def test_suspend_resume_terminate_through_the_api_are_audited(people):
    iid = running_case()
    sup = people[SUP]
    r = sup.post(f'/api/v1/instances/{iid}/suspend', json={'reason': '待核实户籍'})
    assert r.status_code == 200 and r.json['status'] == 'suspended' and r.json['ready_tasks'] == []
    assert people[CW].get('/api/v1/tasks?instance_id=' + str(iid)).json['total'] == 0   # out of the work lists
    r = sup.post(f'/api/v1/instances/{iid}/resume', json={'note': '户籍已核实'})
    assert r.status_code == 200 and r.json['status'] == 'running'
    assert [t['bpmn_id'] for t in r.json['ready_tasks']] == ['accept']
    r = people[ADM].post(f'/api/v1/instances/{iid}/terminate', json={'reason': '申请人撤回申请'})
    assert r.status_code == 200 and r.json['status'] == 'terminated' and r.json['ready_tasks'] == []
    assert [(e.actor, e.detail.get('reason')) for e in audit_entries(iid, 'suspend')] == [('sup', '待核实户籍')]
    assert [(e.actor, e.detail.get('note')) for e in audit_entries(iid, 'resume')] == [('sup', '户籍已核实')]
    assert [(e.actor, e.detail.get('reason')) for e in audit_entries(iid, 'terminate')] == [('adm', '申请人撤回申请')]


def test_terminate_an_incident_resolves_it(people):
    iid = broken_case()
    incident_id = open_incident_id(iid)
    r = people[SUP].post(f'/api/v1/instances/{iid}/terminate', json={'reason': '重复申请'})
    assert r.status_code == 200 and r.json['status'] == 'terminated' and r.json['incident'] is None
    one = people[SUP].get(f'/api/v1/incidents/{incident_id}').json
    assert (one['state'], one['resolution'], one['note']) == ('resolved', 'terminated', '重复申请')
    assert people[SUP].get('/api/v1/incidents').json['total'] == 0


@pytest.mark.parametrize('endpoint, body, state, code', [
    ('retry', {}, 'running', 'no_incident'),
    ('suspend', {'reason': '理由'}, 'incident', 'not_running'),
    ('suspend', {'reason': '理由'}, 'suspended', 'not_running'),
    ('resume', {}, 'running', 'not_suspended'),
    ('resume', {}, 'incident', 'not_suspended'),
    ('retry', {}, 'terminated', 'no_incident'),
    ('terminate', {'reason': '理由'}, 'terminated', 'not_running'),
    ('suspend', {'reason': '理由'}, 'completed', 'not_running'),
    ('terminate', {'reason': '理由'}, 'completed', 'not_running'),
])
def test_a_case_in_the_wrong_state_is_409(people, clock, endpoint, body, state, code):
    sup = people[SUP]
    if state == 'incident':
        iid = broken_case()
    elif state == 'completed':
        iid = runtime.start_instance('one_timer', 't01', {}, 'cw1').id
        clock.advance(timedelta(hours=2))
        sweep_due(people.app)
        assert status(iid) == 'completed'
    else:
        iid = running_case()
        if state == 'suspended':
            assert sup.post(f'/api/v1/instances/{iid}/suspend', json={'reason': '先挂起'}).status_code == 200
        if state == 'terminated':
            assert sup.post(f'/api/v1/instances/{iid}/terminate', json={'reason': '先终止'}).status_code == 200
    before = db.session.scalar(select(ProcessInstance.version).where(ProcessInstance.id == iid))
    r = sup.post(f'/api/v1/instances/{iid}/{endpoint}', json=body)
    assert r.status_code == 409 and r.json['error'] == code, r.json
    assert status(iid) == state
    assert db.session.scalar(select(ProcessInstance.version).where(ProcessInstance.id == iid)) == before


@pytest.mark.parametrize('endpoint, body, field', [
    ('suspend', {}, 'reason'),
    ('suspend', {'reason': ''}, 'reason'),
    ('suspend', {'reason': '   '}, 'reason'),
    ('suspend', {'reason': '长' * 501}, 'reason'),
    ('suspend', {'reason': 5}, 'reason'),
    ('terminate', {}, 'reason'),
    ('terminate', {'reason': None}, 'reason'),
    ('resume', {'note': '长' * 501}, 'note'),
    ('retry', {'data': [1, 2]}, 'data'),
    ('retry', {'data': 'factor=2'}, 'data'),
    ('retry', {'latest_version': 'maybe'}, 'latest_version'),
    ('retry', {'note': '长' * 501}, 'note'),
    ('retry', {'surprise': 1}, 'surprise'),
])
def test_bad_bodies_are_422_with_the_field(people, endpoint, body, field):
    iid = broken_case() if endpoint == 'retry' else running_case()
    if endpoint == 'resume':
        people[SUP].post(f'/api/v1/instances/{iid}/suspend', json={'reason': '先挂起'})
    before = status(iid)
    r = people[SUP].post(f'/api/v1/instances/{iid}/{endpoint}', json=body)
    assert r.status_code == 422, r.json
    assert r.json['error'] == 'validation_error' and field in r.json['details'], r.json
    assert status(iid) == before


def test_malformed_json_is_400(people):
    iid = broken_case()
    r = people[SUP].c.post(f'/api/v1/instances/{iid}/retry', data='{"data": ', content_type='application/json',
                           headers=people[SUP].headers())
    assert r.status_code == 400 and r.json['error'] == 'malformed_json'


def test_the_openapi_document_describes_the_incidents(people):
    doc = people.anonymous.get('/api/v1/openapi.json').json
    for path in ('/api/v1/incidents', '/api/v1/incidents/{incident_id}', '/api/v1/instances/{instance_id}/retry',
                 '/api/v1/instances/{instance_id}/suspend', '/api/v1/instances/{instance_id}/resume',
                 '/api/v1/instances/{instance_id}/terminate'):
        assert path in doc['paths'], path
    retry = doc['paths']['/api/v1/instances/{instance_id}/retry']['post']
    assert {'200', '403', '404', '409', '422'} <= set(retry['responses'])
    instance = doc['components']['schemas']['Instance']['properties']
    assert 'incident' in instance


def test_no_server_errors_from_the_incident_operations(people):
    """Property-based bodies and parameters on the incident operations, with cases in every state."""
    cases = [broken_case(), broken_case('t02'), running_case()]
    people[SUP].post(f'/api/v1/instances/{cases[2]}/suspend', json={'reason': '挂起'})
    schema = schemathesis.openapi.from_wsgi('/api/v1/openapi.json', people.app)
    operations = [op.ok() for op in schema.get_all_operations()
                  if 'incident' in op.ok().path or op.ok().path.endswith(('/retry', '/suspend', '/resume', '/terminate'))]
    assert len(operations) == 6
    failures = []
    for operation in operations:
        for who in (SUP, CW):
            headers = {'Authorization': f'Bearer {people[who].token}'}

            @given(case=operation.as_strategy())
            @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                if 'instance_id' in (case.path_parameters or {}):
                    case.path_parameters['instance_id'] = cases[zlib.crc32(repr(case.body).encode()) % len(cases)]
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(f'{case.method} {case.formatted_path} {case.body!r} -> {response.status_code}')
                elif response.status_code >= 400 and set(response.json()) != {'error', 'message', 'details'}:
                    failures.append(f'{case.method} {case.formatted_path}: error body {response.json()}')

            run()
    assert not failures, '\n'.join(failures[:20])
