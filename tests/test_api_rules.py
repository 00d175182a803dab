"""Accountability rules: separation of duties, close-relative exclusion, no proxy signing."""
from sqlalchemy import select

from service.extensions import db
from service.models import CaseExclusion, ProcessInstance
from service.services import repository, users

from .api_helpers import people, ready_tasks, start_core  # noqa: F401  (fixture)

# Survey and confirmation in one lane, so the same caseworker could otherwise do both.
SAME_LANE = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="defs_sep" targetNamespace="http://jiuzhu.example/test">
  <bpmn:process id="separation_case" name="分离测试" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l1" name="镇街经办人">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>survey</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>confirm</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="survey" name="入户调查">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="note.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="confirm" name="审核确认">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="note.schema.json" />
        <spiffworkflow:property name="separateFrom" value="survey" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="survey" />
    <bpmn:sequenceFlow id="f2" sourceRef="survey" targetRef="confirm" />
    <bpmn:sequenceFlow id="f3" sourceRef="confirm" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
'''


def test_the_surveyor_does_not_confirm(people):
    repository.deploy({'separation_case.bpmn': SAME_LANE.encode()}, 'tester')
    cw, other = people['cw1'], people['cw1b']
    case = cw.post('/api/v1/instances', json={'process_key': 'separation_case', 'township': 't01'}).json
    survey = ready_tasks(cw, case['id'])['survey']
    assert cw.post(f"/api/v1/tasks/{survey['id']}/complete", json={'data': {'note': '已入户'}}).status_code == 200
    confirm = ready_tasks(cw, case['id'])['confirm']
    for action in ('claim', 'complete'):
        r = cw.post(f"/api/v1/tasks/{confirm['id']}/{action}", json={'data': {}})
        assert r.status_code == 403 and r.json['error'] == 'separation_of_duties', r.json
        assert '入户调查' in r.json['message']
    assert other.post(f"/api/v1/tasks/{confirm['id']}/complete", json={'data': {'approved': True}}).status_code == 200


def test_no_proxy_signing_admin_and_body_fields_do_not_help(people):
    cw, adm, ld = people['cw1'], people['adm'], people['ld1']
    case = start_core(cw)
    accept = ready_tasks(cw, case['id'])['accept']
    # Admin sees everything but completes nothing on anyone's behalf.
    r = adm.post(f"/api/v1/tasks/{accept['id']}/complete", json={'data': {'note': 'x'}})
    assert r.status_code == 403 and r.json['error'] == 'wrong_role'
    # There is no "as whom" field: an extra field in the body is refused, the completer is the caller.
    r = cw.post(f"/api/v1/tasks/{accept['id']}/complete", json={'data': {'note': 'ok'}, 'completed_by': 'ld1'})
    assert r.status_code == 422 and 'completed_by' in r.json['details']
    r = cw.post(f"/api/v1/tasks/{accept['id']}/complete", json={'data': {'note': 'ok'}})
    assert r.status_code == 200 and r.json['completed_by'] == 'cw1'
    people['ver'].post(f"/api/v1/instances/{case['id']}/messages/verification_result", json={'payload': {}})
    survey = ready_tasks(cw, case['id'])['survey']
    cw.post(f"/api/v1/tasks/{survey['id']}/complete", json={'data': {}})
    confirm = ready_tasks(ld, case['id'])['confirm']
    assert confirm['role'] == 'township_leader'
    for who in ('cw1', 'va1', 'sup', 'adm', 'ld2'):
        assert people[who].post(f"/api/v1/tasks/{confirm['id']}/complete",
                                json={'data': {'approved': True}}).status_code in (403, 404), who
    assert ld.post(f"/api/v1/tasks/{confirm['id']}/complete", json={'data': {'approved': True}}).json[
        'completed_by'] == 'ld1'


def test_close_relative_declared_in_start_data_is_excluded_and_case_flagged(people):
    cw, cwb = people['cw1'], people['cw1b']
    case = start_core(cw, data={'applicant': {'name': '赵小红'}, 'close_relative_of_staff': 'cw1b'})
    assert case['review_required'] is True
    accept = case['ready_tasks'][0]
    for method, url in [('get', f"/api/v1/tasks/{accept['id']}"), ('post', f"/api/v1/tasks/{accept['id']}/claim"),
                        ('post', f"/api/v1/tasks/{accept['id']}/complete"), ('get', f"/api/v1/instances/{case['id']}")]:
        r = getattr(cwb, method)(url, **({'json': {'data': {}}} if method == 'post' else {}))
        assert r.status_code == 403 and r.json['error'] == 'excluded', (url, r.json)
    assert cwb.get('/api/v1/tasks').json['total'] == 0           # not in the relative's lists either
    assert cwb.get('/api/v1/instances').json['total'] == 0
    assert people['ld1'].post(f"/api/v1/tasks/{accept['id']}/assign", json={'username': 'cw1b'}).status_code == 403
    assert cw.post(f"/api/v1/tasks/{accept['id']}/complete", json={'data': {}}).status_code == 200
    flagged = people['sup'].get('/api/v1/instances?review_required=true').json
    assert [c['id'] for c in flagged['items']] == [case['id']]


def test_close_relative_registration_excludes_staff_from_new_cases(people):
    sup = people['sup']
    r = sup.post('/api/v1/close-relatives', json={'staff_username': 'cw1b', 'name': '王秀兰',
                                                   'id_number': '11010519491231002X', 'relation': '母亲'})
    assert r.status_code == 201 and r.json['id_number_masked'] == '110105********002X'
    # A leader registers only for its own township's staff; a caseworker not at all.
    body = {'staff_username': 'cw2', 'name': '某', 'id_number': '11010519491231002X', 'relation': '父亲'}
    assert people['ld1'].post('/api/v1/close-relatives', json=body).status_code == 404
    assert people['cw1'].post('/api/v1/close-relatives', json=body).status_code == 403
    case = start_core(people['cw1'], data={'applicant': {'name': '王秀兰', 'id_number': '11010519491231002X'}})
    assert case['review_required'] is True
    row = db.session.scalar(select(CaseExclusion).where(CaseExclusion.instance_id == case['id']))
    assert (row.username, row.reason) == ('cw1b', 'registered')
    assert people['cw1b'].get(f"/api/v1/instances/{case['id']}").status_code == 403
    assert users.relatives_of('11010519491231002x') == ['cw1b']
    assert db.session.get(ProcessInstance, case['id']).review_required
