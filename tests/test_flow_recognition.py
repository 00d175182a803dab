"""低保边缘家庭 and 刚性支出困难家庭 before (the county recognises) and after the reform (the township
recognises, the county files), every branch through the service layer: the income and rigid-expense
tests and the classification (一次申请、分类审核认定) as decision tables with the local standards as
data, the consent move to another category, the 30-WD limit and its extension to 45, the 12-month
validity of a 刚性 recognition. The clock only moves through the manual clock.
"""
from datetime import datetime, timedelta

import pytest

from service import calendar
from service.errors import Invalid
from service.extensions import db
from service.services import runtime

from .category_helpers import COMPLETE, FILING, NOTICE, app, cross, module_app_fixture, start  # noqa: F401
from .flow_helpers import data_of, do, due, fire_at, ready, timers

# One worker runs the whole module: its module-scoped app is built once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group('test_flow_recognition')

FILES = ('legacy/marginal_dibao.bpmn', 'delegated/marginal_dibao.bpmn', 'legacy/rigid_expense.bpmn',
         'delegated/rigid_expense.bpmn', 'decisions/local_standards.dmn', 'decisions/income_test.dmn',
         'decisions/rigid_expense_test.dmn', 'decisions/assistance_classification.dmn')
module_app = module_app_fixture(FILES, 'recognition')

APPLICATION = {
    'applicant': {'name': '刘建华', 'id_number': '11010519491231002X', 'phone': '13800000000',
                  'address': '城关镇幸福社区5号楼', 'household_size': 3},
    'application': {'applied_on': '2026-09-28', 'applied_by': 'self'},
    'authorization_signed': True,
    'commitment_signed': True,
}


def survey(income, rigid=0, *, household_income=None, property_ok=True, work='full', supporters=True):
    """Monthly per-capita income; rigid spending of the last 12 months (all medical here)."""
    return {'survey': {
        'surveyed_on': '2026-09-29', 'investigators': ['李明', '赵强'], 'per_capita_income': income,
        'household_income_12m': income * 3 * 12 if household_income is None else household_income,
        'rigid_expenses': {'living': 0, 'medical': rigid, 'education': 0},
        'property_qualifies': property_ok, 'work_capacity': work, 'able_supporters': supporters,
        'findings': '家庭成员患病', 'signed_by_applicant': True}}


MARGINAL = survey(1000)                     # 1000 / 820 = 1.22: below 1.5 × the standard
RIGID = survey(1500, 30000)                 # 1.83 × the standard; 18,000 a year < 38,000; 30,000 > 50 % of 54,000
DIBAO = survey(500)
TEKUN = survey(300, work='none', supporters=False)
NONE = survey(1500, 10000)


def opinion(recommendation='approve', major_doubt=False):
    return {'preliminary_opinion': {'recommendation': recommendation, 'major_doubt': major_doubt,
                                    'opinion': '符合认定条件', 'opinion_on': '2026-10-09'}}


def decision(approved):
    if approved:
        return {'decision': {'approved': True, 'decided_on': '2026-10-21'}}
    return {'decision': {'approved': False, 'reasons': '家庭人均收入高于认定标准', 'decided_on': '2026-10-21'}}


RECOGNITION = {'recognition_notice': dict(NOTICE, certificate_no='BY-T01-0003')}
REJECTION = {'rejection_notice': dict(NOTICE, reason='家庭人均收入高于认定标准')}


def consent(yes):
    return {'category_consent': {'informed_on': '2026-10-08', 'consented': yes, 'signed_by_applicant': True}}


def accept(case):
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})


def investigate(case, survey_data):
    assert {'request_verification', 'home_survey'} <= set(ready(case))    # at the same time
    do(case, 'home_survey', survey_data, actor='surveyor1')
    do(case, 'request_verification', {'verification_request': {'requested_on': '2026-09-28',
                                                               'authorization_confirmed': True}})
    runtime.deliver_message(case.id, 'verification_result',
                            {'eligible': True, 'report_no': 'HD-2026-011', 'summary': '无大额存款'}, 'verifier1')
    db.session.refresh(case)


def expire_publicity(clock, case):
    timer = timers(case, 'waiting')['publicity_expired']
    fire_at(clock, case, due(timer) - timedelta(seconds=1))
    assert not ready(case)                                                 # nobody can end it early
    fire_at(clock, case, due(timer) + timedelta(seconds=1))


def through_publicity(clock, case, recommendation='approve'):
    do(case, 'preliminary_opinion', opinion(recommendation))
    expire_publicity(clock, case)


# ------------------------------------------------------------------ the application

def test_application_needs_every_member_s_authorization_and_the_commitment(app):
    for bad, field in ((dict(APPLICATION, authorization_signed=False), 'authorization_signed'),
                       (dict(APPLICATION, commitment_signed=False), 'commitment_signed'),
                       (dict(APPLICATION, application={'applied_on': '2026-09-28', 'applied_by': 'agent'}),
                        'application.agent_name')):
        with pytest.raises(Invalid) as caught:
            start('marginal_dibao_delegated', bad)
        assert field in caught.value.details, caught.value.details


# ------------------------------------------------------------------ the classification table

@pytest.mark.parametrize('facts, township, category, name', [
    (TEKUN, 't01', 'tekun', '特困人员'),
    (DIBAO, 't01', 'dibao', '最低生活保障'),
    (MARGINAL, 't01', 'marginal_dibao', '低保边缘家庭'),
    (RIGID, 't01', 'rigid_expense', '刚性支出困难家庭'),
    (NONE, 't01', 'none', '不符合'),
    (survey(1000, property_ok=False), 't01', 'none', '不符合'),
    (survey(850), 't01', 'marginal_dibao', '低保边缘家庭'),      # 850 > t01's standard of 820
    (survey(850), 't02', 'dibao', '最低生活保障'),               # 850 < t02's standard of 900: local data
    (survey(1500, 30000, household_income=0), 't01', 'rigid_expense', '刚性支出困难家庭'),
])
def test_classification_sorts_one_application_into_its_category(app, facts, township, category, name):
    case = start('marginal_dibao_delegated', APPLICATION, township=township)
    accept(case)
    investigate(case, facts)
    nxt = 'preliminary_opinion' if category in ('marginal_dibao', 'none') else 'category_consent'
    seen = data_of(case, nxt)
    assert (seen['classified_category'], seen['classified_name']) == (category, name)
    assert seen['dibao_standard'] == (900 if township == 't02' else 820)


# ------------------------------------------------------------------ after: the township recognises

def test_delegated_marginal_recognised_by_the_township_and_filed(app, clock):
    case = start('marginal_dibao_delegated', APPLICATION)
    accept(case)
    accepted_at = data_of(case, 'home_survey')['accepted_at']
    assert due(timers(case, 'waiting')['total_deadline']) == datetime.fromisoformat(
        calendar.add_working_days(accepted_at, 30))
    investigate(case, MARGINAL)
    assert set(ready(case)) == {'preliminary_opinion'}                     # same category: no consent asked
    through_publicity(clock, case)
    confirm = ready(case)['confirmation']
    assert confirm.role == 'township_leader' and confirm.properties['milestone'] == 'decision'
    assert confirm.properties['separateFrom'] == 'home_survey'
    do(case, 'confirmation', decision(True), actor='leader1')
    assert set(ready(case)) == {'issue_marginal_notice'}
    do(case, 'issue_marginal_notice', RECOGNITION)
    assert ready(case)['county_filing'].role == 'county_supervisor'
    do(case, 'county_filing', FILING, actor='county1')
    assert case.status == 'completed' and not case.overdue
    assert not timers(case, 'waiting')


def test_failing_marginal_moves_to_rigid_expense_with_consent_valid_twelve_months(app, clock):
    case = start('marginal_dibao_delegated', APPLICATION)
    accept(case)
    investigate(case, RIGID)
    assert set(ready(case)) == {'category_consent'}
    assert data_of(case, 'category_consent')['category_sought'] == 'marginal_dibao'
    do(case, 'category_consent', consent(True))
    seen = data_of(case, 'preliminary_opinion')
    assert (seen['category_sought'], seen['category_applied']) == ('rigid_expense', 'marginal_dibao')
    through_publicity(clock, case)
    do(case, 'confirmation', decision(True), actor='leader1')
    notice = data_of(case, 'issue_rigid_notice')
    decided_day = datetime.fromisoformat(notice['decided_at']).date()
    assert notice['valid_until'] == calendar.last_day_of_months(notice['decided_at'], 12)
    assert notice['valid_until'] == decided_day.replace(year=decided_day.year + 1).isoformat()
    do(case, 'issue_rigid_notice', RECOGNITION)
    do(case, 'county_filing', FILING, actor='county1')
    assert case.status == 'completed'


def test_declined_consent_keeps_the_category_sought_and_is_refused_with_reasons(app, clock):
    case = start('marginal_dibao_delegated', APPLICATION)
    accept(case)
    investigate(case, RIGID)
    do(case, 'category_consent', consent(False))
    assert data_of(case, 'preliminary_opinion')['category_sought'] == 'marginal_dibao'
    through_publicity(clock, case, 'reject')
    with pytest.raises(Invalid):                                           # a refusal needs its reasons
        do(case, 'confirmation', {'decision': {'approved': False, 'decided_on': '2026-10-21'}}, actor='leader1')
    do(case, 'confirmation', decision(False), actor='leader1')
    assert set(ready(case)) == {'issue_rejection_notice'}
    do(case, 'issue_rejection_notice', REJECTION)
    do(case, 'county_filing', FILING, actor='county1')
    assert case.status == 'completed'


def test_a_household_meeting_dibao_is_referred_with_consent(app, clock):
    case = start('rigid_expense_delegated', APPLICATION)
    accept(case)
    investigate(case, DIBAO)
    assert data_of(case, 'category_consent')['classified_category'] == 'dibao'
    do(case, 'category_consent', consent(True))
    assert case.status == 'completed' and not ready(case)
    assert not timers(case, 'waiting')                                     # the limit ends with the case


def test_rigid_flow_moves_up_to_marginal_with_consent(app, clock):
    case = start('rigid_expense_delegated', APPLICATION)
    accept(case)
    investigate(case, MARGINAL)
    do(case, 'category_consent', consent(True))
    through_publicity(clock, case)
    do(case, 'confirmation', decision(True), actor='leader1')
    assert set(ready(case)) == {'issue_marginal_notice'}
    assert 'valid_until' not in data_of(case, 'issue_marginal_notice')     # no term for 低保边缘


def test_objection_means_democratic_review_new_opinion_and_new_publicity(app, clock):
    case = start('rigid_expense_delegated', APPLICATION)
    accept(case)
    investigate(case, RIGID)
    do(case, 'preliminary_opinion', opinion())
    first = due(timers(case, 'waiting')['publicity_expired'])
    clock.advance(timedelta(days=2))
    runtime.deliver_message(case.id, 'objection', {'reason': '有营运车辆', 'raised_by': '邻居'}, 'village1')
    db.session.refresh(case)
    assert ready(case)['democratic_review'].role == 'village_assistant'
    do(case, 'democratic_review', {'democratic_review': {
        'held_on': '2026-10-10', 'participants': 9, 'villager_representatives': 7, 'result': 'passed',
        'record': '车辆已报废'}}, actor='village1')
    do(case, 'revise_opinion', opinion())
    assert due(timers(case, 'waiting')['publicity_expired']) > first
    expire_publicity(clock, case)
    assert set(ready(case)) == {'confirmation'}


def test_major_doubt_goes_to_democratic_review_before_publicity(app, clock):
    case = start('marginal_dibao_delegated', APPLICATION)
    accept(case)
    investigate(case, MARGINAL)
    do(case, 'preliminary_opinion', opinion(major_doubt=True))
    assert set(ready(case)) == {'democratic_review'}
    assert 'publicity_expired' not in timers(case)


def test_thirty_working_days_from_acceptance_then_extended_to_forty_five(app, clock):
    case = start('rigid_expense_delegated', APPLICATION)
    accept(case)
    accepted_at = data_of(case, 'home_survey')['accepted_at']
    runtime.extend_deadline(case.id, 'total_deadline', 45, 'separated_household', 'leader1', note='人户分离')
    db.session.refresh(case)
    assert due(timers(case, 'waiting')['total_deadline']) == datetime.fromisoformat(
        calendar.add_working_days(accepted_at, 45))
    with pytest.raises(Invalid):
        runtime.extend_deadline(case.id, 'total_deadline', 46, 'hard_investigation', 'leader1')
    cross(clock, case, 'total_deadline')
    assert ready(case)['home_survey'].overdue                              # still to do, now overdue


# ------------------------------------------------------------------ before: the county recognises

def test_legacy_recognised_by_the_county_within_thirty_working_days(app, clock):
    case = start('rigid_expense_legacy', APPLICATION)
    accept(case)
    cross(clock, case, 'total_deadline')                                   # 30 WD, not extended
    investigate(case, RIGID)
    through_publicity(clock, case)
    confirm = ready(case)['confirmation']
    assert confirm.role == 'county_supervisor' and 'separateFrom' not in confirm.properties
    do(case, 'confirmation', decision(True), actor='county1')
    assert ready(case)['issue_rigid_notice'].role == 'county_supervisor'   # the county's decision
    assert data_of(case, 'issue_rigid_notice')['valid_until']
    do(case, 'issue_rigid_notice', RECOGNITION, actor='county1')
    assert case.status == 'completed' and case.overdue
    assert 'county_filing' not in {t for t in ready(case)}


def test_legacy_refusal_goes_through_the_township(app, clock):
    case = start('marginal_dibao_legacy', APPLICATION)
    accept(case)
    investigate(case, NONE)
    through_publicity(clock, case, 'reject')
    do(case, 'confirmation', decision(False), actor='county1')
    assert ready(case)['issue_rejection_notice'].role == 'township_caseworker'
    do(case, 'issue_rejection_notice', REJECTION)
    assert case.status == 'completed' and not case.overdue


def test_incomplete_materials_one_time_notice_then_acceptance(app, clock):
    case = start('marginal_dibao_delegated', APPLICATION)
    do(case, 'check_materials', {'acceptance': {'result': 'incomplete', 'checked_on': '2026-09-28',
                                                'missing_items': ['医疗费用票据']}})
    do(case, 'notify_missing', {'missing_materials_notice': dict(NOTICE, deadline='2026-10-15')})
    runtime.deliver_message(case.id, 'supplement_received', {'items': ['医疗费用票据']}, 'caseworker1')
    db.session.refresh(case)
    accept(case)
    assert {'home_survey', 'request_verification'} <= set(ready(case))


def test_last_day_of_months_follows_the_civil_code():
    assert calendar.last_day_of_months('2026-10-21T10:00:00+08:00', 12) == '2027-10-21'
    assert calendar.last_day_of_months('2027-01-31', 1) == '2027-02-28'
    assert calendar.last_day_of_months('2027-12-15', 1) == '2028-01-15'
    assert calendar.last_day_of_months('2026-10-20T16:30:00+00:00', 12) == '2027-10-21'   # the Shanghai day
    with pytest.raises(ValueError):
        calendar.last_day_of_months('2026-10-21', 0)
