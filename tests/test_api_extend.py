"""Extending a case's time limit over the API (DOMAIN §3.3): who may, on which grounds, how far."""
from datetime import datetime

from service import calendar

from .api_helpers import dibao_people, pre_verify, ready_tasks  # noqa: F401  (fixtures)
from .test_api_flow import APPLICATION, NOTICE, complete


def accepted_case(p):
    cw = p['cw1']
    case = cw.post('/api/v1/instances', json={'process_key': 'dibao_a', 'township': 't01',
                                              'data': APPLICATION}).json
    pre_verify(cw, p['ver'], case['id'])
    complete(cw, ready_tasks(cw, case['id'])['check_materials'], {'acceptance': {'result': 'complete',
                                                                                'checked_on': '2026-09-28'}})
    complete(cw, ready_tasks(cw, case['id'])['issue_acceptance_notice'], {'acceptance_notice': NOTICE})
    return case


def deadline(client, case_id):
    timers = client.get(f'/api/v1/instances/{case_id}').json['timers']
    return next(t for t in timers if t['bpmn_id'] == 'deadline' and not t['fired'])


def test_leader_extends_on_a_statutory_ground(dibao_people):
    p = dibao_people
    case = accepted_case(p)
    url = f"/api/v1/instances/{case['id']}/deadlines/deadline/extend"
    before = deadline(p['ld1'], case['id'])
    # 12 working days from Monday 2026-09-28 end at 24:00 on 10-20 (DOMAIN.md's example).
    assert before['due_at'].startswith('2026-10-20T16:00:00')

    assert p['cw1'].post(url, json={'working_days': 20, 'reason': 'hard_investigation'}).status_code == 403
    r = p['ld1'].post(url, json={'working_days': 20, 'reason': '工作太忙'})
    # The grounds are the timer's extensionForm (forms/deadline_extension.schema.json): a field error.
    assert r.status_code == 422 and 'reason' in r.json['details'], r.json
    r = p['ld1'].post(url, json={'working_days': 46, 'reason': 'hard_investigation'})
    assert r.status_code == 422 and 'working_days' in r.json['details'], r.json     # the form's maximum: 45
    r = p['ld1'].post(url, json={'working_days': 20, 'reason': '人户分离', 'note': '申请人在外地务工'})
    assert r.status_code == 200, r.json

    after = deadline(p['ld1'], case['id'])
    expected = datetime.fromisoformat(calendar.add_working_days('2026-09-28T09:00:00+08:00', 20))
    assert datetime.fromisoformat(after['due_at']) == expected == datetime.fromisoformat('2026-10-31T00:00:00+08:00')
    history = p['sup'].get(f"/api/v1/instances/{case['id']}").json['history']
    entry = next(h for h in history if h.get('action') == 'extend_deadline')
    assert entry['actor'] == 'ld1'
    assert (entry['detail']['ground'], entry['detail']['note']) == ('separated_household', '申请人在外地务工')


def test_another_townships_leader_cannot_see_the_case(dibao_people):
    p = dibao_people
    case = accepted_case(p)
    r = p['ld2'].post(f"/api/v1/instances/{case['id']}/deadlines/deadline/extend",
                   json={'working_days': 20, 'reason': 'objection'})
    assert r.status_code == 404
