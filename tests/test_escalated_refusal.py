"""提级复核 of an application the township refused (issue 13): overturned by the county, it registers the
household through the same `household_effect` grant a granting decision uses, with the county's
approval notice. Real diagrams (delegated dibao_a, escalated_review), the API, a page; both backends.
"""
import pytest
from sqlalchemy import select

from service.extensions import db
from service.models import Household, HouseholdCase, ProcessInstance
from service.services import auth, runtime, users
from service.services.households import register

from .category_helpers import module_app_fixture
from .conftest import T0
from .flow_helpers import APPLICATION, COLLECTIVE, COMPLETE, NOTICE, SURVEY, decline_move, do, pre_verify, ready
from .api_helpers import PASSWORD
from .security_helpers import csrf_of, signed_in
from .test_complaints import client_of
from .test_flow_tekun import resident_id

FILES = ('delegated/dibao_a.bpmn', 'common/escalated_review.bpmn')
module_app = module_app_fixture(FILES, 'escalated_refusal')
MEMBERS = ['周建国（局长）', '陈立（副局长）', '刘芳（社会救助科科长）']
REJECTION = {'rejection_notice': dict(NOTICE, reason='收入超标', remedies='可依法申请行政复议或提起行政诉讼')}
OVERTURN = {'rereview': {'reviewed_on': '2026-10-20', 'members': MEMBERS, 'verdict': 'overturn',
                         'findings': '配偶务工收入已中断，家庭人均收入低于低保标准'},
            'outcome': {'result': 'grant', 'amount': 720, 'effective_month': '2026-11', 'decided_on': '2026-10-20'}}
GRANT_NOTICE = {'approval_notice': dict(NOTICE, document_no='扎民救〔2026〕55号', issued_on='2026-10-21',
                                        monthly_amount=720, start_month='2026-11')}


@pytest.fixture
def app(module_app):
    module_app.extensions['jiuzhu.clock'].set(T0)
    if auth.find_user('cw1') is None:
        for name, role, township in (('cw1', 'township_caseworker', 't01'), ('lead1', 'township_leader', 't01'),
                                     ('sup', 'county_supervisor', None)):
            users.add_user(name, '测试' + name, role, township, 'secret-pass-1', 'tester')
        db.session.commit()
    yield module_app
    db.session.rollback()


def refused(born, member_born):
    applicant = dict(APPLICATION['applicant'], name='赵淑芬', id_number=resident_id(born), household_size=2,
                     members=[{'name': '李小军', 'id_number': resident_id(member_born), 'relation': '配偶'}])
    case = runtime.start_instance('dibao_a', 't01', dict(APPLICATION, applicant=applicant), 'cw1')
    pre_verify(case, actor='cw1')
    do(case, 'check_materials', COMPLETE, actor='cw1')
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE}, actor='cw1')
    do(case, 'home_survey', SURVEY, actor='cw1')
    do(case, 'township_confirmation', {'decision': {'approved': False, 'reasons': '收入超标', 'decided_on': '2026-10-12'},
                                       **COLLECTIVE}, actor='lead1')
    do(case, 'issue_rejection_notice', REJECTION, actor='cw1')
    decline_move(case, 'marginal_dibao')
    assert case.status == 'completed' and register.for_case(case.id) is None
    return case


def test_an_overturned_refusal_registers_the_household_with_the_countys_approval_notice(app):
    case = refused('19560303', '19580505')
    sup = client_of(app, 'sup')
    assert client_of(app, 'cw1').post(f'/api/v1/instances/{case.id}/escalations',
                                      json={'raised_by': 'applicant', 'content': '不服'}).status_code == 403
    r = sup.post(f'/api/v1/instances/{case.id}/escalations',
                 json={'raised_by': 'applicant', 'content': '申请人认为配偶务工收入已中断'})
    assert r.status_code == 201, r.get_json()
    review = db.session.get(ProcessInstance, r.get_json()['id'])
    assert set(ready(review)) == {'county_rereview'}
    again = sup.post(f'/api/v1/instances/{case.id}/escalations', json={'raised_by': 'county', 'content': '再次'})
    assert again.status_code == 409 and again.get_json()['details']['instance_id'] == review.id
    do(review, 'county_rereview', OVERTURN, actor='sup')
    assert set(ready(review)) == {'issue_approval_notice'}            # the county's notice first
    assert ready(review)['issue_approval_notice'].role == 'county_supervisor'
    do(review, 'issue_approval_notice', GRANT_NOTICE, actor='sup')
    household = register.for_case(review.id)
    assert household is not None and household.status == 'receiving' and household.category == 'dibao'
    assert household.amount_fen == 72000 and register.entitlement_fen(household.id, '2026-11') == 72000
    assert [m['name'] for m in household.members] == ['赵淑芬', '李小军']
    roles = dict(db.session.execute(select(HouseholdCase.instance_id, HouseholdCase.role)
                                    .where(HouseholdCase.household_id == household.id)).all())
    assert roles == {case.id: 'application', review.id: 'escalated'}
    # the notice is the county's approval, in the household's category
    page = signed_in(app, 'sup', PASSWORD).get(f'/cases/{review.id}/notices/approval_notice').get_data(as_text=True)
    assert '最低生活保障审批通知书' in page and '720.00' in page
    do(review, 'township_acknowledge', {'acknowledgement': {'received_on': '2026-10-22'}}, actor='lead1')
    assert review.status == 'completed'
    # granted now: no second escalation as a refusal
    r = sup.post(f'/api/v1/instances/{case.id}/escalations', json={'raised_by': 'county', 'content': '再次'})
    assert r.status_code == 409 and r.get_json()['error'] == 'not_refused'


def test_only_a_refused_application_is_escalated_as_one_and_the_page_takes_it(app):
    sup = client_of(app, 'sup')
    running = runtime.start_instance('dibao_a', 't01', APPLICATION, 'cw1')
    r = sup.post(f'/api/v1/instances/{running.id}/escalations', json={'raised_by': 'county', 'content': '争议'})
    assert r.status_code == 409 and '不予确认' in r.get_json()['message']
    assert sup.post('/api/v1/instances/999999/escalations',
                    json={'raised_by': 'county', 'content': '争议'}).status_code == 404
    case = refused('19570404', '19590606')
    web = signed_in(app, 'sup', PASSWORD)
    html = web.get('/escalations').get_data(as_text=True)
    r = web.post('/escalations', data={'csrf_token': csrf_of(html), 'household_id': '', 'raised_by': 'applicant',
                                       'content': '申请人不服', 'disputed_instance_id': ''})
    assert r.status_code == 422 and '案件编号' in r.get_data(as_text=True)
    r = web.post('/escalations', data={'csrf_token': csrf_of(html), 'household_id': '', 'raised_by': 'applicant',
                                       'content': '申请人不服', 'disputed_instance_id': str(case.id)})
    assert r.status_code == 302
    assert db.session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.business_key == f'提级复核-{case.id}')) is not None
    assert db.session.scalar(select(Household.id).where(Household.head_name == '赵淑芬')) is None


def test_without_a_household_the_county_may_only_uphold_or_grant_and_upholding_ends_the_case(app):
    """A choice that needs a household (停发, 调整) is refused on the field, even when an API client
    claims the household is registered (the carried value is the case's); 「维持」 upholds the refusal."""
    case = refused('19550707', '19570808')
    sup = client_of(app, 'sup')
    if auth.find_user('cw_rel') is None:
        users.add_user('cw_rel', '测试cw_rel', 'township_caseworker', 't01', 'secret-pass-1', 'tester')
    users.register_close_relative('cw_rel', '李小军', resident_id('19570808'), '子女', 'lead1')
    db.session.commit()
    r = sup.post(f'/api/v1/instances/{case.id}/escalations', json={'raised_by': 'applicant', 'content': '不服'})
    review = db.session.get(ProcessInstance, r.get_json()['id'])
    # the member's registered relative is excluded at start and the county visits (flagged)
    assert review.review_required and client_of(app, 'cw_rel').get(f'/api/v1/instances/{review.id}').status_code == 403
    task = ready(review)['county_rereview']
    stop = {'rereview': dict(OVERTURN['rereview'], household_registered=True),
            'outcome': {'result': 'stop', 'effective_month': '2026-11', 'reasons': '收入超标',
                        'decided_on': '2026-10-20'}}
    r = sup.post(f'/api/v1/tasks/{task.id}/complete', json={'data': stop})
    assert r.status_code == 422, r.get_json()
    assert '尚未登记救助家庭' in r.get_json()['details']['outcome.result']
    keep = {'rereview': OVERTURN['rereview'],
            'outcome': {'result': 'continue', 'effective_month': '2026-11', 'decided_on': '2026-10-20'}}
    r = sup.post(f'/api/v1/tasks/{task.id}/complete', json={'data': keep})
    assert r.status_code == 200, r.get_json()
    db.session.refresh(review)
    assert set(ready(review)) == {'township_acknowledge'} and review.status == 'running'
    data = runtime.case_data(review.id)
    assert data['decision']['approved'] is False and data['rereview']['household_registered'] is False
    do(review, 'township_acknowledge', {'acknowledgement': {'received_on': '2026-10-22'}}, actor='lead1')
    assert review.status == 'completed' and register.for_case(review.id) is None
