"""100 % county home visits of close relatives' cases as county tasks (issue 13, DOMAIN.md §8.2), and the
close-relative register checked again whenever a staff member acts, not only at the start.

Real diagrams (legacy dibao, county_visit), the service layer and one HTTP answer; both backends.
"""
import pytest
from sqlalchemy import select

from service.errors import Forbidden
from service.extensions import db
from service.models import CaseExclusion, CloseRelative, ProcessInstance
from service.services import auth, cases, county_visits, users
from service.services.context import now

from .api_helpers import PASSWORD
from .category_helpers import app, module_app_fixture  # noqa: F401
from .flow_helpers import APPLICATION, COMPLETE, do, ready
from .security_helpers import signed_in
from .test_flow_tekun import resident_id

FILES = ('legacy/dibao.bpmn', 'common/county_visit.bpmn', 'common/household_review.bpmn')
module_app = module_app_fixture(FILES, 'county_visits')

VISIT = {'visit': {'visited_on': '2026-10-12', 'investigators': ['周建国', '陈立'], 'conforms': True,
                   'findings': '家庭人口、收入与申请材料一致，经办人员未参与办理'}}


def _user(name, role, township):
    if auth.find_user(name) is None:
        users.add_user(name, '测试' + name, role, township, 'secret-pass-1', 'tester')
        db.session.commit()
    return auth.find_user(name)


def _application(number, name):
    return dict(APPLICATION, applicant=dict(APPLICATION['applicant'], id_number=number, name=name))


def _visit(case):
    return db.session.scalar(select(ProcessInstance).where(
        ProcessInstance.process_key == 'county_visit',
        ProcessInstance.business_key == county_visits.business_key(case.id)))


def test_a_relative_registered_before_the_start_is_excluded_and_the_county_visits(app):
    caseworker = _user('cw_v1', 'township_caseworker', 't01')
    _user('cw_rel1', 'township_caseworker', 't01')
    users.register_close_relative('cw_rel1', '赵兰', resident_id('19700101'), '姐妹', 'leader1')
    case = cases.start_case(caseworker, 'dibao_legacy', 't01', _application(resident_id('19700101'), '赵兰'))
    assert case.review_required
    assert db.session.scalar(select(CaseExclusion.reason).where(
        CaseExclusion.instance_id == case.id, CaseExclusion.username == 'cw_rel1')) == 'registered'
    visit = _visit(case)
    assert visit is not None and visit.status == 'running' and visit.township == 't01'
    task = ready(visit)['county_home_visit']
    assert task.role == 'county_supervisor'
    # the same person's search finds the visit too; once only, however often the sweep runs
    assert visit.id_hash == case.id_hash
    assert db.session.scalar(select(CaseExclusion.username).where(CaseExclusion.instance_id == visit.id)) == 'cw_rel1'
    # the subject case's page points to its visit
    page = signed_in(app, 'cw_v1', PASSWORD).get(f'/cases/{case.id}').get_data(as_text=True)
    assert 'id="county-visit"' in page and f'案件 {visit.id}' in page
    assert '发起区民政局入户核查' in page and 'county_visit_opened' not in page     # the history, in Chinese
    assert county_visits.open_for(case, 'close_relative', 'tester') is None
    assert county_visits.sweep() == [] or all(v.id != visit.id for v in county_visits.sweep())
    do(visit, 'county_home_visit', VISIT, actor='sup1')
    assert visit.status == 'completed'
    # the subject case goes on as before, without the relative
    row = ready(case)['check_materials']
    with pytest.raises(Forbidden) as refused:
        cases.complete(auth.find_user('cw_rel1'), row.id, COMPLETE)
    assert '近亲属' in refused.value.message


def test_a_relative_registered_during_the_case_may_no_longer_act_and_the_county_visits(app):
    caseworker = _user('cw_v2', 'township_caseworker', 't01')
    case = cases.start_case(caseworker, 'dibao_legacy', 't01', _application(resident_id('19720202'), '钱芳'))
    assert not case.review_required and _visit(case) is None
    users.register_close_relative('cw_v2', '钱芳', resident_id('19720202'), '配偶', 'leader1')
    db.session.refresh(case)
    assert case.review_required
    assert db.session.scalar(select(CaseExclusion.reason).where(
        CaseExclusion.instance_id == case.id, CaseExclusion.username == 'cw_v2')) == 'registered_later'
    assert ready(_visit(case))['county_home_visit'].role == 'county_supervisor'
    # over HTTP: 403 with a Chinese message, and the task stays open
    row = ready(case)['check_materials']
    client = app.test_client()
    token, _ = auth.issue_token(caseworker)
    response = client.post(f'/api/v1/tasks/{row.id}/complete', json={'data': COMPLETE},
                           headers={'Authorization': f'Bearer {token}'})
    assert response.status_code == 403, response.get_data(as_text=True)
    assert '近亲属' in response.get_json()['message']
    assert 'check_materials' in ready(case)


def test_the_register_is_read_again_on_every_act_even_without_an_exclusion_row(app):
    """A registration that reached the register by another way (an import, a restore) still counts."""
    caseworker = _user('cw_v3', 'township_caseworker', 't01')
    colleague = _user('cw_v4', 'township_caseworker', 't01')
    case = cases.start_case(caseworker, 'dibao_legacy', 't01', _application(resident_id('19730303'), '孙伟'))
    from service import crypto
    db.session.add(CloseRelative(staff_username='cw_v3', name='孙伟', id_number=resident_id('19730303'),
                                 id_hash=crypto.active().id_hash(resident_id('19730303')), relation='兄弟',
                                 registered_by='import', registered_at=now()))
    db.session.commit()
    row = ready(case)['check_materials']
    with pytest.raises(Forbidden):
        cases.complete(caseworker, row.id, COMPLETE)
    cases.complete(colleague, row.id, COMPLETE)      # anyone else goes on
    assert 'check_materials' not in ready(case)
    # the daily sweep gives every flagged case its visit (here: flag it as the registration would)
    case.review_required = True
    db.session.commit()
    started = county_visits.sweep()
    assert [v.business_key for v in started] == [county_visits.business_key(case.id)]


def _with_member(number, name, member_number, member_name):
    application = _application(number, name)
    application['applicant'] = dict(application['applicant'], household_size=2, members=[
        {'name': member_name, 'id_number': member_number, 'relation': '子女'}])
    return application


def test_a_relative_of_a_household_member_registered_later_is_excluded_and_the_county_visits(app):
    """Not only the applicant: a staff member registered later as a close relative of another member."""
    from service.models import CaseMember
    caseworker = _user('cw_v5', 'township_caseworker', 't01')
    colleague = _user('cw_v6', 'township_caseworker', 't01')
    case = cases.start_case(caseworker, 'dibao_legacy', 't01',
                            _with_member(resident_id('19740404'), '李红', resident_id('20000505'), '李小明'))
    assert len(db.session.scalars(select(CaseMember.id_hash).where(CaseMember.instance_id == case.id)).all()) == 2
    assert not case.review_required and _visit(case) is None
    users.register_close_relative('cw_v5', '李小明', resident_id('20000505'), '外甥', 'leader1')
    db.session.refresh(case)
    assert case.review_required
    assert db.session.scalar(select(CaseExclusion.reason).where(
        CaseExclusion.instance_id == case.id, CaseExclusion.username == 'cw_v5')) == 'registered_later'
    visit = _visit(case)
    assert ready(visit)['county_home_visit'].role == 'county_supervisor'
    # the visit names the case's applicant, not the registered member
    assert visit.summary['applicant_name'] == '李红'
    row = ready(case)['check_materials']
    with pytest.raises(Forbidden) as refused:
        cases.complete(caseworker, row.id, COMPLETE)
    assert '家庭成员的近亲属' in refused.value.message
    with pytest.raises(Forbidden):
        cases.get_case(caseworker, case.id)
    cases.complete(colleague, row.id, COMPLETE)


def test_a_members_relative_in_the_register_without_an_exclusion_row_is_refused_on_every_act(app):
    caseworker = _user('cw_v7', 'township_caseworker', 't01')
    colleague = _user('cw_v8', 'township_caseworker', 't01')
    case = cases.start_case(caseworker, 'dibao_legacy', 't01',
                            _with_member(resident_id('19750606'), '周敏', resident_id('20010707'), '周小雨'))
    from service import crypto
    db.session.add(CloseRelative(staff_username='cw_v7', name='周小雨', id_number=resident_id('20010707'),
                                 id_hash=crypto.active().id_hash(resident_id('20010707')), relation='姑侄',
                                 registered_by='import', registered_at=now()))
    db.session.commit()
    row = ready(case)['check_materials']
    client = app.test_client()
    token, _ = auth.issue_token(caseworker)
    for response in (client.get(f'/api/v1/instances/{case.id}', headers={'Authorization': f'Bearer {token}'}),
                     client.post(f'/api/v1/tasks/{row.id}/complete', json={'data': COMPLETE},
                                 headers={'Authorization': f'Bearer {token}'})):
        assert response.status_code == 403, response.get_data(as_text=True)
        assert '家庭成员的近亲属' in response.get_json()['message']
    cases.complete(colleague, row.id, COMPLETE)


def test_a_relative_of_a_recorded_households_member_stays_out_of_its_review_and_the_county_visits(app):
    """A case about a recorded household (a review) counts every member of the household record."""
    from datetime import date
    from service import crypto
    from service.models import Household
    from service.services import case_members
    from service.services.households import reviews
    household = Household(category='dibao', township='t01', head_id_hash=crypto.active().id_hash(resident_id('19760808')),
                          head_name='吴刚', size=2, members=[
                              {'name': '吴刚', 'id_number': resident_id('19760808'), 'relation': '本人'},
                              {'name': '吴小丽', 'id_number': resident_id('20020909'), 'relation': '子女'}],
                          review_type='stable', status='receiving', amount_fen=50000, created_at=now())
    db.session.add(household)
    db.session.commit()
    data = {'household_id': household.id, 'applicant': {'name': '吴刚', 'id_number': resident_id('19760808')}}
    assert case_members.id_numbers(data) == [resident_id('19760808'), resident_id('20020909')]
    relative = _user('cw_v9', 'township_caseworker', 't01')
    users.register_close_relative('cw_v9', '吴小丽', resident_id('20020909'), '配偶', 'leader1')
    review = reviews.start_review(household, 'reported', date(2026, 11, 30), 'cw_v1', report='家庭成员就业')
    assert review.review_required
    assert db.session.scalar(select(CaseExclusion.reason).where(
        CaseExclusion.instance_id == review.id, CaseExclusion.username == 'cw_v9')) == 'registered'
    with pytest.raises(Forbidden) as refused:
        cases.get_case(relative, review.id)
    assert '家庭成员的近亲属' in refused.value.message
    assert [v.business_key for v in county_visits.sweep()] == [county_visits.business_key(review.id)]


def test_keys_rotate_with_rehash_rebuilds_the_member_hashes(app):
    """Cases older than the member rows (the migration copies only the applicant's hash) get them here."""
    from sqlalchemy import delete
    from service.models import CaseMember
    from service.services import keys
    caseworker = _user('cw_v10', 'township_caseworker', 't01')
    case = cases.start_case(caseworker, 'dibao_legacy', 't01',
                            _with_member(resident_id('19770101'), '郑洁', resident_id('20030303'), '郑一鸣'))
    before = set(db.session.scalars(select(CaseMember.id_hash).where(CaseMember.instance_id == case.id)))
    db.session.execute(delete(CaseMember).where(CaseMember.instance_id == case.id))
    db.session.commit()
    keys.rotate('tester', rehash=True)
    assert set(db.session.scalars(select(CaseMember.id_hash).where(CaseMember.instance_id == case.id))) == before
    assert len(before) == 2


PEOPLE_FORM = {'$schema': 'https://json-schema.org/draft/2020-12/schema', 'title': '更正家庭成员', 'type': 'object',
               'properties': {'applicant': {'type': 'object', 'title': '申请人', 'properties': {
                   'name': {'type': 'string', 'title': '姓名'},
                   'id_number': {'type': 'string', 'title': '公民身份号码'},
                   'members': {'type': 'array', 'title': '家庭成员', 'items': {'type': 'object', 'properties': {
                       'name': {'type': 'string', 'title': '姓名'},
                       'id_number': {'type': 'string', 'title': '公民身份号码'}}}}}}}}
PEOPLE_DIAGRAM = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_people" targetNamespace="http://jiuzhu.example/test">
  <bpmn:collaboration id="collab_people"><bpmn:participant id="p_people" processRef="people_change" /></bpmn:collaboration>
  <bpmn:process id="people_change" name="更正家庭成员" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="category" value="test" />
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:laneSet id="lanes_people"><bpmn:lane id="lane_cw" name="镇街经办人">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>correct</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>check</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="correct" name="更正家庭成员">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="people_change.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="check" name="核对">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="people_change.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="correct" />
    <bpmn:sequenceFlow id="f2" sourceRef="correct" targetRef="check" />
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>'''.encode()


def test_a_task_that_changes_the_members_updates_their_hashes_and_rechecks_the_exclusions(app):
    """A member added by a task's form counts from then on (a relative of theirs is excluded and the case
    flagged for the county's visit); a member removed no longer counts (their hash goes). A caller who becomes a relative
    of someone added cannot complete the change."""
    import json
    from service import crypto
    from service.models import CaseMember
    from service.services import repository
    repository.deploy({'test/people_change.bpmn': PEOPLE_DIAGRAM}, 'tester',
                      forms={'people_change.schema.json': json.dumps(PEOPLE_FORM, ensure_ascii=False)})
    starter = _user('cw_p1', 'township_caseworker', 't01')
    acting = _user('cw_p2', 'township_caseworker', 't01')
    _user('cw_p3', 'township_caseworker', 't01')
    head, old, new = resident_id('19660606'), resident_id('19880808'), resident_id('19990909')
    users.register_close_relative('cw_p3', '钱新', new, '配偶', 'leader1')
    db.session.commit()
    case = runtime_start(starter, head, [{'name': '钱旧', 'id_number': old}])
    assert not case.review_required
    changed = {'applicant': {'name': '钱一', 'id_number': head, 'members': [{'name': '钱新', 'id_number': new}]}}
    task = ready(case)['correct']
    # the caller is a relative of the member they add: refused, nothing kept
    users.register_close_relative('cw_p2', '钱新', new, '子女', 'leader1')
    db.session.commit()
    with pytest.raises(Forbidden):
        cases.complete(acting, task.id, changed)
    db.session.execute(CloseRelative.__table__.delete().where(CloseRelative.staff_username == 'cw_p2'))
    db.session.commit()
    hashes = set(db.session.scalars(select(CaseMember.id_hash).where(CaseMember.instance_id == case.id)))
    assert crypto.active().id_hash(new) not in hashes
    cases.complete(acting, task.id, changed)
    db.session.refresh(case)
    hashes = set(db.session.scalars(select(CaseMember.id_hash).where(CaseMember.instance_id == case.id)))
    assert hashes == {crypto.active().id_hash(head), crypto.active().id_hash(new)}
    assert case.review_required
    assert db.session.scalar(select(CaseExclusion.reason).where(
        CaseExclusion.instance_id == case.id, CaseExclusion.username == 'cw_p3')) == 'registered'
    with pytest.raises(Forbidden):
        cases.get_case(auth.find_user('cw_p3'), case.id)


def runtime_start(user, head, members):
    data = {'applicant': {'name': '钱一', 'id_number': head, 'members': members}}
    return cases.start_case(user, 'people_change', 't01', data)
