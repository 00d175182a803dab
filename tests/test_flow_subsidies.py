"""残疾人两项补贴 (the township accepts and checks first, the county disabled persons' federation checks
the certificate and grade, then the township — before the reform the county — decides; paid from the
month of application) and the one generic flow of 孤儿、事实无人抚养儿童、困境儿童、经济困难老年人补贴
(the subsidy is a start parameter), every branch with the clock moved across its limits.
"""
import pytest

from service.errors import Invalid

from .category_helpers import COMPLETE, FILING, NOTICE, app, cross, module_app_fixture, start  # noqa: F401
from .flow_helpers import data_of, do, ready

# One worker runs the whole module: its module-scoped app is built once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group('test_flow_subsidies')

FILES = ('legacy/disability_subsidy.bpmn', 'delegated/disability_subsidy.bpmn',
         'decisions/disability_subsidy_eligibility.dmn',
         'legacy/welfare_subsidy.bpmn', 'delegated/welfare_subsidy.bpmn')
module_app = module_app_fixture(FILES, 'subsidies')

APPLICANT = {'name': '孙志刚', 'id_number': '11010519491231002X', 'phone': '13800000000',
             'address': '城关镇幸福社区7号楼'}
DISABILITY = {'applicant': APPLICANT, 'application': {'applied_on': '2026-09-28', 'applied_by': 'self'},
              'disability_certificate_no': '11010519491231002X41', 'subsidies_requested': ['living', 'care'],
              'commitment_signed': True}


def first_check(passed=True, household='dibao'):
    return {'first_check': {'checked_on': '2026-09-30', 'household_type': household, 'registered_here': True,
                            'duplicate_benefit': not passed, 'passed': passed,
                            'reasons': '符合初审条件' if passed else '已享受工伤保险生活护理费'}}


def federation(grade):
    return {'federation_check': {'checked_on': '2026-10-09', 'certificate_valid': True,
                                 'disability_kind': 'physical', 'disability_grade': grade,
                                 'long_term_care': grade <= 2, 'opinion': '残疾人证真实有效'}}


DECIDED = {'decision': {'approved': True, 'living_amount': 100, 'care_amount': 120, 'decided_on': '2026-10-12'}}
APPROVAL = {'approval_notice': NOTICE}
REJECTION = {'rejection_notice': dict(NOTICE, reason='已享受工伤保险生活护理费')}


def accept(case):
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})


# ------------------------------------------------------------------ 残疾人两项补贴

def test_application_needs_the_certificate_and_a_subsidy(app):
    for bad, field in ((dict(DISABILITY, subsidies_requested=[]), 'subsidies_requested'),
                       ({k: v for k, v in DISABILITY.items() if k != 'disability_certificate_no'},
                        'disability_certificate_no')):
        with pytest.raises(Invalid) as caught:
            start('disability_subsidy_delegated', bad)
        assert field in str(caught.value.details), caught.value.details


def test_delegated_township_checks_federation_certifies_township_decides(app, clock):
    case = start('disability_subsidy_delegated', DISABILITY)
    accept(case)
    assert ready(case)['first_check'].role == 'township_caseworker'
    do(case, 'first_check', first_check(), actor='surveyor1')
    check = ready(case)['federation_check']
    assert check.role == 'disability_federation'
    do(case, 'federation_check', federation(1), actor='federation1')
    decide = ready(case)['subsidy_decision']
    assert decide.role == 'township_leader' and decide.properties['separateFrom'] == 'first_check'
    seen = data_of(case, 'subsidy_decision')
    assert (seen['living_subsidy_eligible'], seen['care_subsidy_eligible']) == (True, True)
    do(case, 'subsidy_decision', DECIDED, actor='leader1')
    do(case, 'issue_approval_notice', APPROVAL)
    assert ready(case)['county_filing'].role == 'county_supervisor'
    do(case, 'county_filing', FILING, actor='county1')
    assert case.status == 'completed' and not case.overdue


@pytest.mark.parametrize('household, grade, living, care', [
    ('dibao', 2, True, True), ('dibao', 3, True, False), ('other', 1, False, True),
    ('marginal_dibao', 4, False, False)])
def test_which_subsidies_the_table_grants(app, household, grade, living, care):
    case = start('disability_subsidy_delegated', DISABILITY)
    accept(case)
    do(case, 'first_check', first_check(household=household))
    do(case, 'federation_check', federation(grade), actor='federation1')
    seen = data_of(case, 'subsidy_decision')
    assert (seen['living_subsidy_eligible'], seen['care_subsidy_eligible']) == (living, care)


def test_failed_first_check_is_refused_without_the_federation(app, clock):
    case = start('disability_subsidy_delegated', DISABILITY)
    accept(case)
    do(case, 'first_check', first_check(passed=False))
    assert set(ready(case)) == {'issue_rejection_notice'}
    do(case, 'issue_rejection_notice', REJECTION)
    do(case, 'county_filing', FILING, actor='county1')
    assert case.status == 'completed'


def test_legacy_county_decides_and_every_limit_marks_overdue(app, clock):
    case = start('disability_subsidy_legacy', DISABILITY)
    accept(case)
    cross(clock, case, 'first_check_deadline')                             # 10 WD from acceptance
    do(case, 'first_check', first_check())
    cross(clock, case, 'federation_deadline')                              # 10 WD from the referral
    do(case, 'federation_check', federation(2), actor='federation1')
    decide = ready(case)['subsidy_decision']
    assert decide.role == 'county_supervisor'
    cross(clock, case, 'decision_deadline')                                # 10 WD from the federation's return
    do(case, 'subsidy_decision', {'decision': {'approved': False, 'reasons': '户籍不在本区',
                                               'decided_on': '2026-12-01'}}, actor='county1')
    do(case, 'issue_rejection_notice', REJECTION)
    assert case.status == 'completed' and case.overdue


# ------------------------------------------------------------------ 儿童和老年人补贴: one flow, the subsidy a parameter

WELFARE = {'subsidy_type': 'orphan', 'applicant': dict(APPLICANT, name='小梅', id_number='110105201505011236'),
           'guardian': '王桂英（祖母）',
           'application': {'applied_on': '2026-09-28', 'applied_by': 'guardian', 'agent_name': '王桂英',
                           'power_of_attorney': True},
           'commitment_signed': True}
SURVEY = {'survey': {'surveyed_on': '2026-09-30', 'investigators': ['李明', '赵强'], 'meets_conditions': True,
                     'findings': '父母双亡，由祖母抚养'}}


@pytest.mark.parametrize('subsidy', ['orphan', 'unsupported_child', 'child_in_distress', 'elderly'])
def test_each_subsidy_runs_the_same_steps(app, clock, subsidy):
    case = start('welfare_subsidy_delegated', dict(WELFARE, subsidy_type=subsidy))
    accept(case)
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    decide = ready(case)['subsidy_decision']
    assert decide.role == 'township_leader' and decide.properties['separateFrom'] == 'home_survey'
    with pytest.raises(Invalid):                                           # an approval names amount and month
        do(case, 'subsidy_decision', {'decision': {'approved': True, 'decided_on': '2026-10-12'}}, actor='leader1')
    do(case, 'subsidy_decision', {'decision': {'approved': True, 'amount': 1500, 'start_month': '2026-10',
                                               'decided_on': '2026-10-12'}}, actor='leader1')
    do(case, 'issue_approval_notice', APPROVAL)
    do(case, 'county_filing', FILING, actor='county1')
    assert case.status == 'completed' and not case.overdue


def test_welfare_legacy_county_approves_and_the_limit_marks_overdue(app, clock):
    case = start('welfare_subsidy_legacy', dict(WELFARE, subsidy_type='elderly'))
    accept(case)
    cross(clock, case, 'total_deadline')                                   # 20 WD from acceptance
    do(case, 'home_survey', SURVEY)
    assert ready(case)['subsidy_decision'].role == 'county_supervisor'
    do(case, 'subsidy_decision', {'decision': {'approved': False, 'reasons': '家庭经济状况不符合',
                                               'decided_on': '2026-11-12'}}, actor='county1')
    do(case, 'issue_rejection_notice', REJECTION)
    assert case.status == 'completed' and case.overdue
