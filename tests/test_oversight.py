"""The county's supervision cases (issue 13): written rectification orders with a deadline, and the
escalated review (提级复核) that can overturn a township's result in the household register.

Real diagrams, the API and pages, the manual clock moved across the deadline.
"""
from datetime import timedelta

from sqlalchemy import select

from service.extensions import db
from service.models import AuditEntry, Household, HouseholdCase
from service.services.households import register

from .api_helpers import PASSWORD
from .flow_helpers import do, fire_at, ready, timers
from .security_helpers import csrf_of, signed_in
from .test_complaints import app, case, client_of, make_household, module_app  # noqa: F401

MEMBERS = ['周建国（局长）', '陈立（副局长）', '刘芳（社会救助科科长）']
ORDER = {'township': 't01', 'document_no': '扎民整改〔2026〕3号', 'subject': '入户调查记录未签字',
         'content': '抽查发现3户入户调查记录未经申请人签字，请逐户补正。', 'deadline': '2026-10-30'}


def test_a_rectification_order_has_a_deadline_a_reply_and_is_closed_by_the_county(app, clock):
    sup, cw1 = client_of(app, 'sup'), client_of(app, 'cw1')
    assert cw1.post('/api/v1/rectifications', json=ORDER).status_code == 403
    past = sup.post('/api/v1/rectifications', json=dict(ORDER, deadline='2026-09-01'))
    assert past.status_code == 422 and '整改期限' in past.get_json()['message']
    assert sup.post('/api/v1/rectifications', json=dict(ORDER, township='t99')).status_code == 422
    r = sup.post('/api/v1/rectifications', json=ORDER)
    assert r.status_code == 201, r.get_json()
    order = case(r.get_json()['id'])
    assert order.township == 't01' and set(ready(order)) == {'rectification_reply'}
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == 'rectification_issued'))
    # the deadline is the end of the given day, Beijing time: overdue like any other deadline
    due = timers(order, 'waiting')['rectification_overdue'].due_at
    assert due.isoformat() == '2026-10-30T16:00:00+00:00'
    fire_at(clock, order, due - timedelta(seconds=1))
    assert not order.overdue
    fire_at(clock, order, due + timedelta(seconds=1))
    assert order.overdue
    assert [i['id'] for i in cw1.get('/api/v1/rectifications').get_json()['items']] == [order.id]
    assert client_of(app, 'cw2').get('/api/v1/rectifications').get_json()['items'] == []
    do(order, 'rectification_reply', {'rectification': {'replied_on': '2026-11-02', 'measures': '已补正'}},
       actor='lead1')
    do(order, 'rectification_check', {'county_check': {'checked_on': '2026-11-03', 'accepted': False,
                                                       'opinion': '未见制度文件'}}, actor='sup')
    assert set(ready(order)) == {'rectification_reply'}                 # sent back
    do(order, 'rectification_reply', {'rectification': {'replied_on': '2026-11-04', 'measures': '已印发制度',
                                                         'completed': True}}, actor='lead1')
    do(order, 'rectification_check', {'county_check': {'checked_on': '2026-11-05', 'accepted': True,
                                                       'opinion': '整改到位'}}, actor='sup')
    assert order.status == 'completed'


def test_an_escalated_review_overturns_the_township_result_and_the_township_signs_for_it(app, clock):
    household = make_household('110105194912310033')
    sup = client_of(app, 'sup')
    assert client_of(app, 'cw1').post(f'/api/v1/households/{household.id}/escalations',
                                      json={'raised_by': 'applicant', 'content': 'x'}).status_code == 403
    bad = sup.post(f'/api/v1/households/{household.id}/escalations',
                   json={'raised_by': 'applicant', 'content': '争议', 'disputed_instance_id': 999999})
    assert bad.status_code == 422
    r = sup.post(f'/api/v1/households/{household.id}/escalations',
                 json={'raised_by': 'applicant', 'content': '申请人认为务工收入已中断'})
    assert r.status_code == 201, r.get_json()
    review = case(r.get_json()['id'])
    assert review.township == 't01' and set(ready(review)) == {'county_rereview'}
    again = sup.post(f'/api/v1/households/{household.id}/escalations', json={'raised_by': 'county', 'content': '再次'})
    assert again.status_code == 409 and again.get_json()['details']['instance_id'] == review.id
    do(review, 'county_rereview', {
        'rereview': {'reviewed_on': '2026-09-29', 'members': MEMBERS, 'findings': '务工收入已中断',
                     'verdict': 'overturn'},
        'outcome': {'result': 'raise', 'amount': 800, 'effective_month': '2026-12', 'decided_on': '2026-09-29'}},
        actor='sup')
    db.session.refresh(household)
    assert household.amount_fen == 80000
    assert register.entitlement_fen(household.id, '2026-11') == 65000
    assert register.entitlement_fen(household.id, '2026-12') == 80000
    assert db.session.scalar(select(HouseholdCase.role).where(HouseholdCase.instance_id == review.id)) == 'escalated'
    assert set(ready(review)) == {'township_acknowledge'}               # the township is told
    do(review, 'township_acknowledge', {'acknowledgement': {'received_on': '2026-09-30'}}, actor='lead1')
    assert review.status == 'completed'


def test_an_upheld_escalation_leaves_the_household_as_it_was(app):
    household = make_household('110105194912310044')
    r = client_of(app, 'sup').post(f'/api/v1/households/{household.id}/escalations',
                                   json={'raised_by': 'reporter', 'content': '举报人不服核查结论'})
    review = case(r.get_json()['id'])
    do(review, 'county_rereview', {'rereview': {'reviewed_on': '2026-09-29', 'members': MEMBERS,
                                                'findings': '镇街结论事实清楚', 'verdict': 'uphold'}}, actor='sup')
    assert set(ready(review)) == {'township_acknowledge'}
    assert db.session.get(Household, household.id).amount_fen == 65000


def test_oversight_pages(app):
    household = make_household('110105194912310055')
    web = signed_in(app, 'sup', PASSWORD)
    html = web.get('/rectifications').get_data(as_text=True)
    assert '下达书面整改意见' in html
    r = web.post('/rectifications', data=dict(ORDER, csrf_token=csrf_of(html), deadline=''))
    assert r.status_code == 422 and '整改期限' in r.get_data(as_text=True)
    r = web.post('/rectifications', data=dict(ORDER, csrf_token=csrf_of(html), document_no='扎民整改〔2026〕9号'))
    assert r.status_code == 302
    assert '扎民整改〔2026〕9号' in web.get('/rectifications').get_data(as_text=True)
    html = web.get('/escalations').get_data(as_text=True)
    r = web.post('/escalations', data={'csrf_token': csrf_of(html), 'household_id': str(household.id),
                                       'raised_by': 'applicant', 'content': '申请人不服'})
    assert r.status_code == 302
    assert '王秀兰' in web.get('/escalations').get_data(as_text=True)
    township = signed_in(app, 'cw1', PASSWORD).get('/rectifications').get_data(as_text=True)
    assert '扎民整改〔2026〕9号' in township and 'rectification-form' not in township


def test_long_term_publicity_lists_current_recipients_with_names_masked(app):
    from openpyxl import load_workbook
    import io
    receiving = make_household('110105194912310066')
    stopped = make_household('110105194912310077')
    stopped.status = 'stopped'
    db.session.commit()
    web = signed_in(app, 'cw1', PASSWORD)
    html = web.get('/publicity').get_data(as_text=True)
    assert '长期公示名单' in html and '王**' in html and '王秀兰' not in html and '幸福社区' in html
    assert 'data-print' in html
    r = web.get('/publicity.xlsx?village=幸福社区')
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ('村（社区）', '救助类别', '户主')
    receiving_count = db.session.query(Household).filter_by(township='t01', status='receiving').count()
    assert len(rows) - 1 == receiving_count and all(row[2] == '王**' for row in rows[1:])
    assert receiving.id != stopped.id
    assert web.get('/publicity.pdf').status_code == 422
    # another township sees its own list only
    assert '王**' not in signed_in(app, 'cw2', PASSWORD).get('/publicity').get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == 'publicity_read'))
