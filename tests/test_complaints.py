"""Reports and complaints (举报投诉, 12349) as an entry point of county supervision (issue 13).

Recording one stores the reporter's contact encrypted, starts the handling case (verification, the
answer under a 15-working-day deadline) and — for a household still receiving — its review; the
answer closes the row from inside the case's write. Real diagrams, the API and pages, the manual clock.
"""
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from service import crypto
from service.extensions import db
from service.models import AuditEntry, Complaint, Household, HouseholdAmount, ProcessInstance
from service.services import auth, users
from service.services.households import register

from .api_helpers import PASSWORD
from .category_helpers import module_app_fixture
from .conftest import T0
from .flow_helpers import do, fire_at, ready, timers
from .security_helpers import csrf_of, signed_in

FILES = ('common/household_review.bpmn', 'common/complaint_review.bpmn', 'common/rectification_order.bpmn',
         'common/escalated_review.bpmn', 'delegated/temporary_aid.bpmn', 'decisions/temporary_aid_ceiling.dmn')
module_app = module_app_fixture(FILES, 'complaints')
PHONE = '13912345678'
CHECK = {'complaint_check': {'checked_on': '2026-09-30', 'investigators': ['李明'], 'findings': '入户核查',
                             'substantiated': 'substantiated', 'measures': '启动复核'}}
ANSWER = {'complaint_answer': {'answered_on': '2026-10-09', 'method': 'phone', 'text': '经核查属实，已启动复核。'}}


@pytest.fixture
def app(module_app):
    module_app.extensions['jiuzhu.clock'].set(T0)
    if auth.find_user('cw1') is None:
        for name, role, township in (('cw1', 'township_caseworker', 't01'), ('cw2', 'township_caseworker', 't02'),
                                     ('lead1', 'township_leader', 't01'), ('sup', 'county_supervisor', None),
                                     ('des', 'designer', None)):
            users.add_user(name, '测试' + name, role, township, 'secret-pass-1', 'tester')
        db.session.commit()
    yield module_app
    db.session.rollback()


def client_of(app, username):
    client = app.test_client()
    token, _ = auth.issue_token(auth.find_user(username))
    client.environ_base['HTTP_AUTHORIZATION'] = f'Bearer {token}'
    return client


def make_household(id_number, township='t01', amount_fen=65000):
    """A household receiving since November 2026, as a granted decision leaves it (no case needed here)."""
    h = Household(township=township, village='幸福社区', category='dibao', review_type='stable', status='receiving',
                  head_name='王秀兰', head_id_hash=crypto.active().id_hash(id_number),
                  members=[{'name': '王秀兰', 'id_number': id_number, 'relation': '本人'}], size=3,
                  amount_fen=amount_fen, started_on=date(2026, 11, 1), next_review_on=date(2027, 10, 8))
    db.session.add(h)
    db.session.flush()
    db.session.add(HouseholdAmount(household_id=h.id, effective_month='2026-11', amount_fen=amount_fen,
                                   change='grant', recorded_by='tester'))
    db.session.commit()
    return h


def case(instance_id):
    return db.session.get(ProcessInstance, instance_id)


def test_a_complaint_about_a_household_opens_its_review_and_is_answered_in_time(app, clock):
    household = make_household('110105194912310011')
    sup = client_of(app, 'sup')
    r = sup.post('/api/v1/complaints', json={
        'source': 'hotline_12349', 'content': '反映王某家有轿车仍享受低保', 'reporter_name': '张三',
        'reporter_contact': PHONE, 'household_id': household.id})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body['status'] == 'open' and body['township'] == 't01' and body['source_zh'] == '12349热线'
    assert PHONE not in str(body) and body['reporter_contact_masked'] == '139****5678'
    row = db.session.get(Complaint, body['id'])
    # the reporter's contact, the name and the content are encrypted at rest
    raw = db.session.execute(text('SELECT reporter_contact, reporter_name, content FROM complaint WHERE id = :i'),
                             {'i': row.id}).one()
    assert PHONE not in raw[0] and '张三' not in raw[1] and '轿车' not in raw[2]
    # the handling case and the household's review (reason: 举报核查) started with it
    handling, review = case(row.instance_id), case(row.review_instance_id)
    assert handling.process_key == 'complaint_review' and handling.township == 't01'
    assert review.process_key == 'household_review' and register.open_review(household.id) == review.id
    assert set(ready(handling)) == {'complaint_verify'} and set(ready(review)) == {'review_survey'}
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == 'complaint_recorded'))
    # a second complaint about the same household joins the running review instead of a second one
    second = sup.post('/api/v1/complaints', json={'source': 'letter', 'content': '同一户', 'household_id': household.id})
    assert second.status_code == 201 and second.get_json()['review_instance_id'] == review.id

    # the deadline is 15 working days from the complaint: just before it nothing is overdue
    deadline = timers(handling, 'waiting')['verify_overdue'].due_at
    fire_at(clock, handling, deadline - timedelta(hours=1))
    assert not handling.overdue
    do(handling, 'complaint_verify', CHECK, actor='cw1')
    assert set(ready(handling)) == {'answer_reporter'}
    do(handling, 'answer_reporter', ANSWER, actor='sup')
    assert handling.status == 'completed' and not handling.overdue
    db.session.refresh(row)
    assert (row.status, row.substantiated) == ('answered', 'substantiated')
    assert row.feedback.startswith('经核查属实') and row.answered_at is not None
    detail = client_of(app, 'cw1').get(f'/api/v1/complaints/{row.id}').get_json()
    assert detail['status_zh'] == '已答复' and detail['feedback'] == ANSWER['complaint_answer']['text']
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == 'complaint_read'))
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == 'complaint_closed',
                                                         AuditEntry.instance_id == handling.id))


def test_an_unanswered_complaint_becomes_overdue_and_an_anonymous_one_closes_without_answer(app, clock):
    cw1 = client_of(app, 'cw1')
    named = cw1.post('/api/v1/complaints', json={'source': 'visit', 'content': '来访反映低保审核不公',
                                                 'reporter_contact': PHONE}).get_json()
    anonymous = cw1.post('/api/v1/complaints', json={'source': 'letter', 'content': '匿名来信'}).get_json()
    assert named['township'] == anonymous['township'] == 't01' and named['review_instance_id'] is None
    handling = case(named['instance_id'])
    do(handling, 'complaint_verify', CHECK, actor='cw1')
    deadline = timers(handling, 'waiting')['feedback_overdue'].due_at
    fire_at(clock, handling, deadline + timedelta(seconds=1))
    assert handling.overdue and set(ready(handling)) == {'answer_reporter'}   # overdue, still to be answered
    assert db.session.get(Complaint, named['id']).status == 'open'

    quiet = case(anonymous['instance_id'])
    do(quiet, 'complaint_verify', CHECK, actor='cw1')
    assert quiet.status == 'completed'
    row = db.session.get(Complaint, anonymous['id'])
    assert row.status == 'closed' and row.feedback is None
    listed = cw1.get('/api/v1/complaints?status=closed').get_json()['items']
    assert anonymous['id'] in [c['id'] for c in listed] and named['id'] not in [c['id'] for c in listed]


def test_complaints_are_refused_clearly_and_scoped_by_township(app):
    household = make_household('110105194912310022', township='t02')
    cw1, sup = client_of(app, 'cw1'), client_of(app, 'sup')
    bad = cw1.post('/api/v1/complaints', json={'source': 'fax', 'content': 'x'})
    assert bad.status_code == 422
    empty = cw1.post('/api/v1/complaints', json={'source': 'letter', 'content': '   '})
    assert empty.status_code == 422 and '举报内容' in empty.get_json()['message']
    # another township's household is not found, like a missing one
    assert cw1.post('/api/v1/complaints', json={'source': 'letter', 'content': 'x',
                                                'household_id': household.id}).status_code == 404
    # the county names the township when no household or case is named
    no_township = sup.post('/api/v1/complaints', json={'source': 'letter', 'content': 'x'})
    assert no_township.status_code == 422 and '镇街' in no_township.get_json()['message']
    theirs = sup.post('/api/v1/complaints', json={'source': 'online', 'content': '网上举报',
                                                  'township': 't02'}).get_json()
    assert cw1.get(f'/api/v1/complaints/{theirs["id"]}').status_code == 404
    assert client_of(app, 'cw2').get(f'/api/v1/complaints/{theirs["id"]}').status_code == 200
    assert client_of(app, 'des').get('/api/v1/complaints').status_code == 403


def test_complaint_pages(app):
    web = signed_in(app, 'cw1', PASSWORD)
    page = web.get('/complaints')
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '登记举报投诉' in html and '举报投诉' in html
    r = web.post('/complaints', data={'csrf_token': csrf_of(html), 'source': 'hotline_12349', 'content': '',
                                      'reporter_contact': PHONE})
    assert r.status_code == 422 and '请填写举报内容' in r.get_data(as_text=True)
    r = web.post('/complaints', data={'csrf_token': csrf_of(html), 'source': 'hotline_12349',
                                      'content': '热线反映某户隐瞒收入', 'reporter_contact': PHONE,
                                      'household_id': 'abc'})
    assert r.status_code == 422
    r = web.post('/complaints', data={'csrf_token': csrf_of(html), 'source': 'hotline_12349',
                                      'content': '热线反映某户隐瞒收入', 'reporter_contact': PHONE})
    assert r.status_code == 302
    detail = web.get(r.headers['Location']).get_data(as_text=True)
    assert '热线反映某户隐瞒收入' in detail and '139****5678' in detail and PHONE not in detail
    assert '12349热线' in web.get('/complaints').get_data(as_text=True)


def test_scope_township_keeps_staff_to_their_own_township_and_lets_the_county_choose(app):
    from sqlalchemy import select
    from service.services import access
    t01, t02 = make_household('110105194912310066'), make_household('110105194912310077', township='t02')
    def ids(username, township=None):
        stmt = access.scope_township(auth.find_user(username), select(Household.id), Household.township, township)
        return set(db.session.scalars(stmt)) & {t01.id, t02.id}
    assert ids('cw1') == ids('cw1', 't02') == {t01.id}          # the asked township is ignored for staff
    assert ids('sup') == {t01.id, t02.id} and ids('sup', 't02') == {t02.id}


def test_complaint_review_and_escalation_exclude_close_relatives_of_any_member_and_are_flagged(app):
    """近亲属回避 at the start of a complaint's handling case, the review it opens and an escalated
    review, as for an application: the relative is recorded as excluded and the case is flagged for
    the county's 100 % visit (county_visits.sweep starts it, tests/test_county_visits.py)."""
    from service.models import CaseExclusion
    from service.services import oversight
    from .test_flow_tekun import resident_id
    head, member = resident_id('19630303'), resident_id('19910101')
    household = make_household(head)
    household.members = household.members + [{'name': '王小明', 'id_number': member, 'relation': '子女'}]
    db.session.commit()
    if auth.find_user('cw_rel') is None:
        users.add_user('cw_rel', '测试cw_rel', 'township_caseworker', 't01', 'secret-pass-1', 'tester')
    users.register_close_relative('cw_rel', '王小明', member, '配偶', 'lead1')
    db.session.commit()
    sup = auth.find_user('sup')
    r = client_of(app, 'sup').post('/api/v1/complaints', json={'source': 'letter', 'content': '反映收入',
                                                               'household_id': household.id})
    row = db.session.get(Complaint, r.get_json()['id'])
    escalated = oversight.escalate(sup, household.id, {'raised_by': 'applicant', 'content': '不服镇街结论'})
    for instance in (case(row.instance_id), case(row.review_instance_id), escalated):
        assert instance.review_required, instance.process_key
        assert db.session.scalar(select(CaseExclusion.reason).where(
            CaseExclusion.instance_id == instance.id, CaseExclusion.username == 'cw_rel')) == 'registered'
    assert client_of(app, 'cw_rel').get(f'/api/v1/instances/{escalated.id}').status_code == 403


def test_a_complaint_about_a_case_without_a_household_keeps_that_case_s_relatives_out(app):
    """Temporary aid makes no household: a complaint about such a case is about its applicant and the
    members it lists, so their registered relatives stay out of the complaint's handling too, also
    when registered after the complaint was recorded."""
    from service.models import CaseExclusion
    from service.services import runtime
    from .test_flow_temporary_aid import APPLICATION
    from .test_flow_tekun import resident_id
    member, applicant = resident_id('19950505'), APPLICATION['applicant']['id_number']
    for name in ('cw_rel2', 'cw_rel3'):
        if auth.find_user(name) is None:
            users.add_user(name, '测试' + name, 'township_caseworker', 't01', 'secret-pass-1', 'tester')
    data = dict(APPLICATION, members=[{'name': '王小军', 'id_number': member, 'relation': '子女'}])
    aid = runtime.start_instance('temporary_aid_delegated', 't01', data, 'cw1')
    users.register_close_relative('cw_rel2', '王小军', member, '配偶', 'lead1')
    db.session.commit()
    r = client_of(app, 'sup').post('/api/v1/complaints', json={'source': 'letter', 'content': '反映虚报灾情',
                                                               'instance_id': aid.id})
    assert r.status_code == 201, r.get_json()
    handling = case(r.get_json()['instance_id'])
    assert handling.review_required
    assert db.session.scalar(select(CaseExclusion.reason).where(
        CaseExclusion.instance_id == handling.id, CaseExclusion.username == 'cw_rel2')) == 'registered'
    assert client_of(app, 'cw_rel2').get(f'/api/v1/instances/{handling.id}').status_code == 403
    assert client_of(app, 'cw_rel3').get(f'/api/v1/instances/{handling.id}').status_code == 200
    users.register_close_relative('cw_rel3', '王秀兰', applicant, '子女', 'lead1')     # registered afterwards
    db.session.commit()
    assert client_of(app, 'cw_rel3').get(f'/api/v1/instances/{handling.id}').status_code == 403


def test_a_decision_adding_a_member_keeps_the_member_s_relatives_out_of_the_household_s_open_review(app):
    """A grant writes the household's members (a new application of the same head): the household's
    open review counts the new member at once, so a relative of that member is excluded and flagged."""
    from service.services.households import effects
    from .test_flow_tekun import resident_id
    head, newborn = resident_id('19640404'), resident_id('20250606')
    household = make_household(head)
    if auth.find_user('cw_rel4') is None:
        users.add_user('cw_rel4', '测试cw_rel4', 'township_caseworker', 't01', 'secret-pass-1', 'tester')
    users.register_close_relative('cw_rel4', '王小宝', newborn, '祖父母', 'lead1')
    db.session.commit()
    r = client_of(app, 'sup').post('/api/v1/complaints', json={'source': 'letter', 'content': '反映人口变化',
                                                               'household_id': household.id})
    row = db.session.get(Complaint, r.get_json()['id'])
    review = case(row.review_instance_id)
    assert not review.review_required
    assert client_of(app, 'cw_rel4').get(f'/api/v1/instances/{review.id}').status_code == 200
    effects.grant(case(row.instance_id), {
        'applicant': {'name': '王秀兰', 'id_number': head, 'household_size': 2}, 'category': 'dibao', 'amount': 650,
        'members': [{'name': '王秀兰', 'id_number': head, 'relation': '本人'},
                    {'name': '王小宝', 'id_number': newborn, 'relation': '孙子女'}]})
    db.session.commit()
    assert case(row.review_instance_id).review_required
    assert client_of(app, 'cw_rel4').get(f'/api/v1/instances/{review.id}').status_code == 403
