"""特困人员救助供养 before (tekun_legacy: the county confirms) and after the reform (tekun_delegated:
the township confirms, the county files), every branch end to end through the service layer.

Time only moves through the manual clock; timers fire through runtime.fire_due_timers. Every form
submission, the application included, is first validated against its own form, as the API does.
The tests share one app and database per backend (each starts its own case, and the clock is set
back to T0 before each test): building an app and deploying costs more than most of these cases.
"""
from datetime import datetime, timedelta

import pytest
from stdnum.cn import ric

from service import calendar
from service.errors import Invalid
from service.extensions import db
from service.services import forms, repository, runtime

from .category_helpers import app, module_app_fixture  # noqa: F401  (the per-test fixture)
from .flow_helpers import decline_move, ROOT, data_of, do, due, fire_at, ready, timers

# One worker runs the whole module: its module-scoped app is built once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group('test_flow_tekun')

FILES = ('legacy/tekun.bpmn', 'delegated/tekun.bpmn', 'decisions/tekun_care_level.dmn')
ADULT_ID = '11010519491231002X'


def resident_id(born):
    body = f'110105{born}123'
    return body + ric.calc_check_digit(body + '0')


MINOR_ID = resident_id('20150501')

APPLICATION = {
    'applicant': {'name': '张桂芳', 'id_number': ADULT_ID, 'phone': '13800000000', 'address': '城关镇幸福社区3号楼'},
    'application': {'applied_on': '2026-09-28', 'applied_by': 'self',
                    'statement': '年满76周岁，无劳动能力，无收入，无子女'},
    'legal_supporters': [],
    'authorization_signed': True, 'commitment_signed': True,
    'commitment_signed': True,
}
COMPLETE = {'acceptance': {'result': 'complete', 'checked_on': '2026-09-28'}}
NOTICE = {'document_no': '城民救〔2026〕1号', 'issued_on': '2026-09-28', 'delivery': 'in_person'}
SURVEY = {'survey': {'surveyed_on': '2026-09-29', 'investigators': ['李明', '赵强'], 'work_capacity': 'none',
                     'monthly_income': 0, 'property_qualifies': True, 'supporters_status': 'none',
                     'findings': '独居，无生活来源', 'signed_by_applicant': True}}
ALL_MET = dict(eating=True, dressing=True, bed_transfer=True, toileting=True, indoor_walking=True, bathing=True)


def opinion(recommendation='approve', **extra):
    return {'preliminary_opinion': dict(recommendation=recommendation, support_mode='scattered',
                                        opinion='符合特困人员救助供养条件', opinion_on='2026-10-09', **extra)}


def self_care(failed=()):
    return {'self_care': dict(ALL_MET, **{name: False for name in failed}, assessed_on='2026-10-20',
                              assessors=['周评估'])}


def decision(approved):
    if approved:
        return {'decision': {'approved': True, 'support_mode': 'scattered', 'amount': 1100, 'care_amount': 150,
                             'decided_on': '2026-10-21'}}
    return {'decision': {'approved': False, 'reasons': '其子具有履行赡养义务能力', 'decided_on': '2026-10-21'}}


NO_SPOT_CHECK = {'spot_check': {'drawn': False}}
APPROVAL = {'tekun_approval_notice': dict(NOTICE, certificate_no='TK-T01-0007', start_month='2026-11')}
REJECTION = {'tekun_rejection_notice': dict(NOTICE, reason='其子具有履行赡养义务能力',
                                            remedies='可于六十日内申请行政复议')}
FILING = {'filing': {'reviewed_on': '2026-11-02', 'identification_accurate': True, 'procedure_compliant': True,
                     'materials_complete': True, 'spot_checked': False, 'corrections_required': False}}


# One app per backend for this module, with only these diagrams deployed (as `deployed_app`).
module_app = module_app_fixture(FILES, 'tekun')


def start(key, data=APPLICATION, township='t01'):
    """As POST /instances does: the application must fit the process's start form."""
    forms.validate(forms.load(forms.start_form_name(repository.latest(key))), data, what='申请')
    return runtime.start_instance(key, township, data, 'caseworker1')


def minor_application():
    return dict(APPLICATION, applicant=dict(APPLICATION['applicant'], name='小军', id_number=MINOR_ID),
                application=dict(APPLICATION['application'], applied_by='village', agent_name='幸福社区居委会',
                                 power_of_attorney=True),
                legal_supporters=['王某（祖母）'], supporters_authorization_signed=True)


def accept(case):
    do(case, 'check_materials', COMPLETE)
    assert ready(case)['issue_acceptance_notice'].properties['milestone'] == 'acceptance'
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})


def investigate(case, opinion_data=None):
    assert {'request_verification', 'home_survey'} <= set(ready(case))   # at the same time
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    do(case, 'request_verification', {'verification_request': {'requested_on': '2026-09-28',
                                                               'authorization_confirmed': True}})
    assert 'preliminary_opinion' not in ready(case)                       # the join waits for the report
    runtime.deliver_message(case.id, 'verification_result',
                            {'eligible': True, 'report_no': 'HD-2026-009', 'summary': '无收入、无财产'}, 'verifier1')
    db.session.refresh(case)
    do(case, 'preliminary_opinion', opinion_data or opinion())


def expire_publicity(clock, case, started=None):
    timer = timers(case, 'waiting')['publicity_expired']
    if started is not None:   # 24:00 of the 7th calendar day after the publicity started
        assert due(timer) == datetime.fromisoformat(calendar.add_days(started.isoformat(), 7))
    fire_at(clock, case, due(timer) - timedelta(seconds=1))
    assert timers(case)['publicity_expired'].state == 'waiting'
    assert not ready(case)                                                # nobody can end it early
    fire_at(clock, case, due(timer) + timedelta(seconds=1))
    assert timers(case)['publicity_expired'].state == 'fired'


def object_now(case, reason='其子在外地经商，收入较高'):
    runtime.deliver_message(case.id, 'objection', {'reason': reason, 'raised_by': '邻居'}, 'village1')
    db.session.refresh(case)


def cross(clock, case, timer_id):
    """Move the clock across a deadline: just before it nothing is overdue, just after it is."""
    moment = due(timers(case, 'waiting')[timer_id])
    fire_at(clock, case, moment - timedelta(seconds=1))
    assert timers(case)[timer_id].state == 'waiting'
    fire_at(clock, case, moment + timedelta(seconds=1))
    assert timers(case)[timer_id].state == 'fired'
    assert case.overdue


# ------------------------------------------------------------------ the application

def test_application_needs_the_commitment_and_the_supporters_authorization(app):
    for bad, field in ((dict(APPLICATION, commitment_signed=False), 'commitment_signed'),
                       (dict(APPLICATION, authorization_signed=False), 'authorization_signed'),
                       (dict(APPLICATION, legal_supporters=['张某（儿子）']), 'supporters_authorization_signed'),
                       (dict(APPLICATION, legal_supporters=['张某（儿子）'], supporters_authorization_signed=False),
                        'supporters_authorization_signed'),
                       (dict(APPLICATION, application=dict(APPLICATION['application'], applied_by='agent')),
                        'application.agent_name')):
        with pytest.raises(Invalid) as caught:
            start('tekun_legacy', bad)
        assert field in caught.value.details, caught.value.details
    case = start('tekun_legacy', minor_application())
    assert set(ready(case)) == {'check_materials'}


def test_age_on_reads_a_resident_id_or_a_birth_date():
    assert calendar.age_on(MINOR_ID, '2026-09-28T09:00:00+08:00') == 11
    assert calendar.age_on(resident_id('20080928'), '2026-09-27T23:59:00+08:00') == 17
    assert calendar.age_on(resident_id('20080928'), '2026-09-28T00:00:00+08:00') == 18   # on the birthday
    assert calendar.age_on('2008-09-28', '2026-09-27T16:00:00+00:00') == 18   # Shanghai day counts
    assert calendar.age_on('2008-02-29', '2026-02-28') == 17 and calendar.age_on('2008-02-29', '2026-03-01') == 18
    with pytest.raises(ValueError):
        calendar.age_on('not a date', '2026-09-28')


# ------------------------------------------------------------------ before: the county confirms

def test_legacy_confirmed_after_quiet_publicity(app, clock):
    case = start('tekun_legacy')
    accept(case)
    accepted_at = data_of(case, 'home_survey')['accepted_at']
    assert due(timers(case, 'waiting')['investigation_deadline']) == datetime.fromisoformat(
        calendar.add_working_days(accepted_at, 15))
    investigate(case)
    assert not ready(case)                                                # publicity runs
    expire_publicity(clock, case, clock.now())
    assert 'investigation_deadline' not in timers(case, 'waiting')
    assessment = ready(case)['self_care_assessment']
    assert assessment.role == 'county_supervisor'
    received = data_of(case, 'self_care_assessment')['county_received_at']
    assert due(timers(case, 'waiting')['confirmation_deadline']) == datetime.fromisoformat(
        calendar.add_working_days(received, 15))
    do(case, 'self_care_assessment', self_care(), actor='county1')
    confirm = ready(case)['county_confirmation']
    assert confirm.role == 'county_supervisor' and confirm.properties['milestone'] == 'decision'
    seen = data_of(case, 'county_confirmation')
    assert (seen['care_level'], seen['care_level_name'], seen['self_care_ability']) == (
        'self_sufficient', '全自理', '具备生活自理能力')
    with pytest.raises(Invalid):   # a case drawn for the random check needs the home visit
        do(case, 'county_confirmation', dict(decision(True), spot_check={'drawn': True}), actor='county1')
    do(case, 'county_confirmation', dict(decision(True), spot_check={
        'drawn': True, 'visited_on': '2026-10-20', 'findings': '情况属实'}), actor='county1')
    notice = ready(case)['issue_approval_notice']
    assert notice.role == 'county_supervisor'
    do(case, 'issue_approval_notice', APPROVAL, actor='county1')
    assert case.status == 'completed' and not case.overdue
    assert not timers(case, 'waiting')


def test_legacy_rejected_with_reasons_through_the_township_within_three_working_days(app, clock):
    case = start('tekun_legacy')
    accept(case)
    investigate(case, opinion('reject'))
    expire_publicity(clock, case)
    do(case, 'self_care_assessment', self_care(), actor='county1')
    do(case, 'county_confirmation', dict(decision(False), **NO_SPOT_CHECK), actor='county1')
    notice = ready(case)['issue_rejection_notice']
    assert notice.role == 'township_caseworker'                            # through the township
    decided_at = data_of(case, 'issue_rejection_notice')['decided_at']
    assert due(timers(case, 'waiting')['rejection_notice_deadline']) == datetime.fromisoformat(
        calendar.add_working_days(decided_at, 3))
    do(case, 'issue_rejection_notice', REJECTION)
    decline_move(case, 'dibao')
    assert case.status == 'completed' and not case.overdue


def test_legacy_objection_means_reinvestigation_and_a_second_publicity(app, clock):
    case = start('tekun_legacy')
    accept(case)
    investigate(case)
    first = due(timers(case, 'waiting')['publicity_expired'])
    clock.advance(timedelta(days=3))
    object_now(case)
    assert set(ready(case)) == {'reinvestigate'}
    assert 'publicity_expired' not in timers(case, 'waiting')             # the first publicity ended
    seen = data_of(case, 'reinvestigate')
    assert seen['objection']['reason'] == '其子在外地经商，收入较高'
    assert due(timers(case, 'waiting')['reinvestigation_deadline']) == datetime.fromisoformat(
        calendar.add_working_days(seen['objection_received_at'], 15))
    do(case, 'reinvestigate', dict(opinion(), objection_investigation={
        'founded': False, 'findings': '其子已于2024年去世', 'investigated_on': '2026-10-12'}))
    second = due(timers(case, 'waiting')['publicity_expired'])
    assert second > first                                                 # published again, 7 days
    expire_publicity(clock, case)
    assert set(ready(case)) == {'self_care_assessment'}


def test_legacy_minor_is_not_publicised(app, clock):
    case = start('tekun_legacy', minor_application())
    accept(case)
    investigate(case)
    assert set(ready(case)) == {'self_care_assessment'}                   # straight to the county
    assert 'publicity_expired' not in timers(case)
    assert 'publicity_started_at' not in data_of(case, 'self_care_assessment')


def test_legacy_every_limit_marks_overdue_when_the_clock_passes_it(app, clock):
    case = start('tekun_legacy')
    accept(case)
    cross(clock, case, 'investigation_deadline')                          # 15 WD from acceptance
    assert ready(case)['home_survey'].overdue                             # non-interrupting: still to do
    investigate(case)
    object_now(case)
    cross(clock, case, 'reinvestigation_deadline')                        # 15 WD from the objection
    assert ready(case)['reinvestigate'].overdue
    do(case, 'reinvestigate', dict(opinion('reject'), objection_investigation={
        'founded': True, 'findings': '异议属实', 'investigated_on': '2026-11-20'}))
    expire_publicity(clock, case)
    cross(clock, case, 'confirmation_deadline')                           # the county's 15 WD
    assert ready(case)['self_care_assessment'].overdue
    do(case, 'self_care_assessment', self_care(), actor='county1')
    assert ready(case)['county_confirmation'].overdue
    do(case, 'county_confirmation', dict(decision(False), **NO_SPOT_CHECK), actor='county1')
    assert not ready(case)['issue_rejection_notice'].overdue
    cross(clock, case, 'rejection_notice_deadline')                       # 3 WD to tell the applicant
    assert ready(case)['issue_rejection_notice'].overdue
    do(case, 'issue_rejection_notice', REJECTION)
    decline_move(case, 'dibao')
    assert case.status == 'completed' and case.overdue


# ------------------------------------------------------------------ after: the township confirms

def test_delegated_confirmed_by_the_township_and_filed_with_the_county(app, clock):
    case = start('tekun_delegated')
    accept(case)
    investigate(case, opinion(major_doubt=False))
    expire_publicity(clock, case, clock.now())
    assessment = ready(case)['self_care_assessment']
    assert assessment.role == 'township_caseworker'
    started = data_of(case, 'self_care_assessment')['confirmation_started_at']
    assert due(timers(case, 'waiting')['confirmation_deadline']) == datetime.fromisoformat(
        calendar.add_working_days(started, 15))
    do(case, 'self_care_assessment', self_care(['bathing', 'toileting', 'dressing', 'indoor_walking']))
    confirm = ready(case)['township_confirmation']
    assert confirm.role == 'township_leader' and confirm.properties['milestone'] == 'decision'
    assert confirm.properties['separateFrom'] == 'home_survey'
    assert data_of(case, 'township_confirmation')['care_level_name'] == '全护理'
    do(case, 'township_confirmation', decision(True), actor='leader1')
    do(case, 'issue_approval_notice', APPROVAL)
    filing = ready(case)['county_filing']
    assert filing.role == 'county_supervisor'
    assert case.status == 'running'
    do(case, 'county_filing', FILING, actor='county1')
    assert case.status == 'completed' and not case.overdue


def test_delegated_rejection_is_filed_too(app, clock):
    case = start('tekun_delegated')
    accept(case)
    investigate(case, opinion('reject', major_doubt=False))
    expire_publicity(clock, case)
    do(case, 'self_care_assessment', self_care())
    do(case, 'township_confirmation', decision(False), actor='leader1')
    assert set(ready(case)) == {'issue_rejection_notice'}
    do(case, 'issue_rejection_notice', REJECTION)
    decline_move(case, 'dibao')
    do(case, 'county_filing', {'filing': dict(FILING['filing'], spot_checked=True, spot_check_findings='属实')},
       actor='county1')
    assert case.status == 'completed'


def test_delegated_objection_goes_to_democratic_review_new_opinion_and_new_publicity(app, clock):
    case = start('tekun_delegated')
    accept(case)
    investigate(case, opinion(major_doubt=False))
    first = due(timers(case, 'waiting')['publicity_expired'])
    clock.advance(timedelta(days=2))
    object_now(case)
    assert set(ready(case)) == {'democratic_review'}
    assert ready(case)['democratic_review'].role == 'village_assistant'
    do(case, 'democratic_review', {'democratic_review': {
        'held_on': '2026-10-10', 'participants': 9, 'villager_representatives': 7, 'result': 'passed',
        'record': '其子已去世，异议不成立'}}, actor='village1')
    revise = ready(case)['revise_opinion']
    assert revise.role == 'township_caseworker'
    assert due(timers(case, 'waiting')['revise_deadline']) == datetime.fromisoformat(
        calendar.add_working_days(data_of(case, 'revise_opinion')['review_started_at'], 15))
    do(case, 'revise_opinion', opinion(major_doubt=False))
    assert due(timers(case, 'waiting')['publicity_expired']) > first
    expire_publicity(clock, case)
    assert set(ready(case)) == {'self_care_assessment'}


def test_delegated_major_doubt_goes_to_democratic_review_before_publicity(app, clock):
    case = start('tekun_delegated')
    accept(case)
    investigate(case, opinion(major_doubt=True))
    assert set(ready(case)) == {'democratic_review'}
    assert 'publicity_expired' not in timers(case)


def test_delegated_minor_is_not_publicised(app, clock):
    case = start('tekun_delegated', minor_application())
    accept(case)
    investigate(case, opinion(major_doubt=False))
    assert set(ready(case)) == {'self_care_assessment'}
    assert 'publicity_expired' not in timers(case)


@pytest.mark.parametrize('failed, level, name', [
    ((), 'self_sufficient', '全自理'),
    (('bathing',), 'partial_care', '半护理'),
    (('bathing', 'toileting', 'indoor_walking'), 'partial_care', '半护理'),
    (('bathing', 'toileting', 'indoor_walking', 'dressing'), 'full_care', '全护理'),
    (tuple(ALL_MET), 'full_care', '全护理'),
])
def test_each_care_level(app, clock, failed, level, name):
    case = start('tekun_delegated', minor_application())   # the shortest way to the assessment
    accept(case)
    investigate(case, opinion(major_doubt=False))
    do(case, 'self_care_assessment', self_care(failed))
    seen = data_of(case, 'township_confirmation')
    assert (seen['care_level'], seen['care_level_name']) == (level, name)


def test_delegated_every_limit_marks_overdue_when_the_clock_passes_it(app, clock):
    case = start('tekun_delegated')
    accept(case)
    cross(clock, case, 'investigation_deadline')
    assert ready(case)['request_verification'].overdue
    investigate(case, opinion(major_doubt=True))
    do(case, 'democratic_review', {'democratic_review': {
        'held_on': '2026-10-30', 'participants': 9, 'villager_representatives': 7, 'result': 'passed',
        'record': '疑点已说明'}}, actor='village1')
    cross(clock, case, 'revise_deadline')
    assert ready(case)['revise_opinion'].overdue
    do(case, 'revise_opinion', opinion(major_doubt=False))
    expire_publicity(clock, case)
    cross(clock, case, 'confirmation_deadline')
    assert ready(case)['self_care_assessment'].overdue
    do(case, 'self_care_assessment', self_care())
    do(case, 'township_confirmation', decision(False), actor='leader1')
    cross(clock, case, 'rejection_notice_deadline')
    assert ready(case)['issue_rejection_notice'].overdue
    do(case, 'issue_rejection_notice', REJECTION)
    decline_move(case, 'dibao')
    do(case, 'county_filing', FILING, actor='county1')
    assert case.status == 'completed' and case.overdue


def test_delegated_transition_phase_puts_county_guidance_before_the_decision_takes_effect(app, clock):
    """Seed 004: in the 下放过渡 phase the county guides every township decision before it takes effect."""
    # What cases.start_case adds from the entrustment in force (the start form has no such field).
    case = runtime.start_instance('tekun_delegated', 't01', dict(APPLICATION, entrustment_phase='transition'),
                                  'caseworker1')
    accept(case)
    investigate(case, opinion(major_doubt=False))
    expire_publicity(clock, case, clock.now())
    do(case, 'self_care_assessment', self_care())
    do(case, 'township_confirmation', decision(True), actor='leader1')
    guidance = ready(case)['county_guidance_confirmation']
    assert set(ready(case)) == {'county_guidance_confirmation'} and guidance.role == 'county_supervisor'
    do(case, 'county_guidance_confirmation', {'county_guidance': {'result': 'agree', 'opinion': '程序规范'}},
       actor='county1')
    assert set(ready(case)) == {'issue_approval_notice'}
