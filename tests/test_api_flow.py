"""A whole dibao_a case driven over HTTP by the people who do it, each with their own token."""
from datetime import datetime, timedelta

from sqlalchemy import select

from service.extensions import db
from service.models import AuditEntry

from .api_helpers import COLLECTIVE, dibao_people, people, pre_verify, ready_tasks, start_core  # noqa: F401  (fixtures)

APPLICATION = {
    'applicant': {'name': '王秀兰', 'id_number': '11010519491231002X', 'phone': '13800001234',
                  'address': '城关镇幸福社区3号楼', 'household_size': 3},
    'authorization_signed': True, 'commitment_signed': True,
}
NOTICE = {'document_no': '城民救〔2026〕1号', 'issued_on': '2026-09-28', 'delivery': 'in_person'}


def complete(client, task, data, expect=200):
    r = client.post(f"/api/v1/tasks/{task['id']}/complete", json={'data': data})
    assert r.status_code == expect, r.json
    return r.json


def test_dibao_a_from_application_to_notice(dibao_people):
    p = dibao_people
    village, caseworker, surveyor = p['va1'], p['cw1'], p['cw1b']
    leader, verifier, supervisor = p['ld1'], p['ver'], p['sup']

    # The village assistant hands in the application for the household.
    r = village.post('/api/v1/instances', json={'process_key': 'dibao_a', 'township': 't01',
                                                'business_key': 'T01-2026-0001', 'data': APPLICATION})
    assert r.status_code == 201, r.json
    case = r.json
    assert case['version']['key'] == 'dibao_a' and case['version']['version'] == 1
    assert case['summary']['id_number_masked'] == '110105********002X'
    assert [t['bpmn_id'] for t in case['ready_tasks']] == ['request_verification']
    # Seed 001: verification first, on the applicant's authorization; then the acceptance check.
    pre_verify(caseworker, verifier, case['id'])

    # The caseworker finds it in the group list, claims it, reads the form and accepts.
    group = caseworker.get('/api/v1/tasks?group=true').json
    assert [t['bpmn_id'] for t in group['items']] == ['check_materials'] and group['total'] == 1
    task = group['items'][0]
    assert task['name'] == '受理审查' and task['role'] == 'township_caseworker' and task['form_key']
    assert caseworker.post(f"/api/v1/tasks/{task['id']}/claim").json['assignee'] == 'cw1'
    assert caseworker.get('/api/v1/tasks?mine=true').json['total'] == 1
    detail = caseworker.get(f"/api/v1/tasks/{task['id']}").json
    assert detail['form']['schema']['title'] == '受理审查' and detail['form']['ui_schema'] is not None
    assert detail['data']['applicant']['id_number'] == '11010519491231002X'   # the worker sees the real data
    complete(caseworker, task, {'acceptance': {'result': 'complete', 'checked_on': '2026-09-28'}})
    complete(caseworker, ready_tasks(caseworker, case['id'])['issue_acceptance_notice'],
             {'acceptance_notice': NOTICE})

    # Another caseworker surveys.
    survey = ready_tasks(surveyor, case['id'])['home_survey']
    complete(surveyor, survey, {'survey': {'surveyed_on': '2026-09-29', 'investigators': ['李明', '赵强'],
                                           'per_capita_income': 420, 'findings': '家庭无稳定收入',
                                           'signed_by_applicant': True}})

    # Only the leader confirms; the caseworker cannot sign in the leader's place.
    confirm = ready_tasks(leader, case['id'])['township_confirmation']
    assert confirm['due_at'] is not None
    r = caseworker.post(f"/api/v1/tasks/{confirm['id']}/complete", json={'data': {}})
    assert r.status_code == 403 and r.json['error'] == 'wrong_role'
    complete(leader, confirm, {'decision': {'approved': True, 'amount': 650, 'decided_on': '2026-10-12'}, **COLLECTIVE})

    # 7 days of publicity without objection: the supervisor moves the demo clock, the timer fires.
    now = datetime.fromisoformat(supervisor.get('/api/v1/clock').json['now'])
    r = supervisor.put('/api/v1/clock', json={'now': (now + timedelta(days=8)).isoformat()})
    assert r.status_code == 200, r.json
    notice = ready_tasks(caseworker, case['id'])['issue_approval_notice']
    complete(caseworker, notice, {'approval_notice': dict(NOTICE, monthly_amount=650, start_month='2026-11')})

    final = supervisor.get(f"/api/v1/instances/{case['id']}").json
    assert final['status'] == 'completed' and not final['overdue'] and final['ready_tasks'] == []
    done = [(h['task_name'], h['actor']) for h in final['history'] if h['kind'] == 'task' and h['action'] == 'completed']
    assert ('受理审查', 'cw1') in done and ('入户调查', 'cw1b') in done and ('审核审批（分管领导）', 'ld1') in done
    assert {'publicity_expired', 'deadline'} <= {t['bpmn_id'] for t in final['timers']}
    assert any(t['bpmn_id'] == 'publicity_expired' and t['fired'] for t in final['timers'])
    # The history shows who did what, with ID and phone numbers masked.
    assert '11010519491231002X' not in str(final['history'])
    actions = [h['action'] for h in final['history'] if h['kind'] == 'audit']
    assert actions[0] == 'start' and 'message' in actions and 'claim' in actions


def test_objection_during_publicity_goes_to_the_county(dibao_people):
    p = dibao_people
    cw, ld, ver, sup = p['cw1'], p['ld1'], p['ver'], p['sup']
    case = cw.post('/api/v1/instances', json={'process_key': 'dibao_a', 'township': 't01',
                                              'data': APPLICATION}).json
    complete(cw, ready_tasks(cw, case['id'])['request_verification'],
             {'verification_request': {'requested_on': '2026-09-28', 'authorization_confirmed': True}})
    # The payload must fit the message's form (forms/verification_result.schema.json): 422 with field errors.
    r = ver.post(f"/api/v1/instances/{case['id']}/messages/verification_result", json={'payload': {'eligible': True}})
    assert r.status_code == 422 and {'report_no', 'summary'} <= set(r.json['details']), r.json
    r = ver.post(f"/api/v1/instances/{case['id']}/messages/verification_result",
                 json={'payload': {'eligible': True, 'report_no': 'HD-1', 'summary': '核对完毕'}})
    assert r.status_code == 200, r.json
    complete(cw, ready_tasks(cw, case['id'])['check_materials'], {'acceptance': {'result': 'complete',
                                                                                'checked_on': '2026-09-28'}})
    complete(cw, ready_tasks(cw, case['id'])['issue_acceptance_notice'], {'acceptance_notice': NOTICE})
    complete(p['cw1b'], ready_tasks(cw, case['id'])['home_survey'],
             {'survey': {'surveyed_on': '2026-09-29', 'investigators': ['李明', '赵强'], 'per_capita_income': 420,
                         'findings': '无收入', 'signed_by_applicant': True}})
    complete(ld, ready_tasks(ld, case['id'])['township_confirmation'],
             {'decision': {'approved': True, 'amount': 650, 'decided_on': '2026-10-12'}, **COLLECTIVE})
    # The verification centre may not record an objection; a village assistant may.
    r = ver.post(f"/api/v1/instances/{case['id']}/messages/objection", json={'payload': {'reason': 'x'}})
    assert r.status_code == 403
    r = p['va1'].post(f"/api/v1/instances/{case['id']}/messages/objection",
                      json={'payload': {'reason': '家中有营运车辆', 'raised_by': '村民'}})
    assert r.status_code == 200, r.json
    assert [t['bpmn_id'] for t in r.json['ready_tasks']] == ['county_investigation']
    assert r.json['ready_tasks'][0]['role'] == 'county_supervisor'
    assert any(t['bpmn_id'] == 'county_investigation' for t in sup.get('/api/v1/tasks?group=true').json['items'])


def test_reads_of_personal_data_are_audited_and_lists_mask_numbers(people):
    cw = people['cw1']
    case = start_core(cw, data={'applicant': {'name': '张三', 'id_number': '11010519491231002X',
                                              'phone': '13800001234'}})
    listed = cw.get('/api/v1/instances').json['items'][0]
    assert listed['summary']['id_number_masked'] == '110105********002X'
    assert '11010519491231002X' not in str(listed)
    cw.get(f"/api/v1/instances/{case['id']}", environ_base={'REMOTE_ADDR': '10.1.2.3'})
    task = ready_tasks(cw, case['id'])['accept']
    cw.get(f"/api/v1/tasks/{task['id']}")
    reads = db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(['read_case', 'read_task']))
                               .order_by(AuditEntry.id)).all()
    assert [(e.actor, e.action, e.instance_id) for e in reads] == [('cw1', 'read_case', case['id']),
                                                                   ('cw1', 'read_task', case['id'])]
    assert reads[0].remote_addr == '10.1.2.3'
    # Supervisors read the audit log; its details are masked too.
    log = people['sup'].get('/api/v1/audit?action=read_case').json
    assert log['total'] == 1 and log['items'][0]['remote_addr'] == '10.1.2.3'
    assert people['cw1'].get('/api/v1/audit').status_code == 403


def test_task_list_filters_and_order(people):
    cw, ld = people['cw1'], people['ld1']
    clock = people.app.extensions['jiuzhu.clock']
    first = start_core(cw)
    clock.advance(minutes=5)
    second = start_core(cw)
    start_core(people['cw2'], township='t02')
    items = cw.get('/api/v1/tasks').json['items']
    assert [t['instance_id'] for t in items] == [first['id'], second['id']]      # created order, own township
    # Accepting the second case gives it a survey deadline: dated tasks come first.
    accept = ready_tasks(cw, second['id'])['accept']
    complete(cw, accept, {'note': 'ok'})
    items = cw.get('/api/v1/tasks').json['items']
    assert [t['bpmn_id'] for t in items] == ['survey', 'accept'] and items[0]['due_at']
    due = items[0]['due_at']
    assert cw.get('/api/v1/tasks', query_string={'due_before': due}).json['total'] == 0
    later = (datetime.fromisoformat(due) + timedelta(seconds=1)).isoformat()
    assert cw.get('/api/v1/tasks', query_string={'due_before': later}).json['total'] == 1
    assert cw.get('/api/v1/tasks?overdue=true').json['total'] == 0
    # Assign: the leader gives the survey to another caseworker of the same township only.
    survey = items[0]
    assert ld.post(f"/api/v1/tasks/{survey['id']}/assign", json={'username': 'cw2'}).status_code == 403
    assert ld.post(f"/api/v1/tasks/{survey['id']}/assign", json={'username': 'ld1'}).status_code == 403
    r = ld.post(f"/api/v1/tasks/{survey['id']}/assign", json={'username': 'cw1b'})
    assert r.status_code == 200 and r.json['assignee'] == 'cw1b'
    assert people['cw1b'].get('/api/v1/tasks?mine=true').json['total'] == 1
    # Claimed by someone else: no completing in their place, no claiming it away.
    assert cw.post(f"/api/v1/tasks/{survey['id']}/complete", json={'data': {}}).status_code == 403
    assert cw.post(f"/api/v1/tasks/{survey['id']}/claim").status_code == 409
    assert cw.post(f"/api/v1/tasks/{survey['id']}/unclaim").status_code == 403
    assert people['cw1b'].post(f"/api/v1/tasks/{survey['id']}/unclaim").json['assignee'] is None
    # Priority orders tasks of equal due date; only leaders (and county supervisors) set it.
    r = ld.put(f"/api/v1/tasks/{accept['id']}/priority", json={'priority': 5})
    assert r.status_code == 409    # already completed
    other = ready_tasks(cw, first['id'])['accept']
    assert ld.put(f"/api/v1/tasks/{other['id']}/priority", json={'priority': 5}).json['priority'] == 5
    assert cw.put(f"/api/v1/tasks/{other['id']}/priority", json={'priority': 9}).status_code == 403
