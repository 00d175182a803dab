"""dibao_a (seed 001, Fucheng): every branch end to end through the service layer.

Time only moves through the manual clock; timers fire through runtime.fire_due_timers.
"""
from datetime import datetime, timedelta

import pytest

from service import calendar
from service.extensions import db
from service.services import runtime

from .flow_helpers import (decline_move, APPLICATION, COMPLETE, NOTICE, SURVEY, data_of, deployed_app, do, due,  # noqa: F401
                           fire_at, ready, timers)

FILES = ('delegated/dibao_a.bpmn',)

# Seed 001: the township's 社会救助领导小组 approves collectively; the record names who sat.
COLLECTIVE = {'collective_review': {'held_on': '2026-10-12', 'members': [
    '姚东伟（镇长）', '赵红伦（副书记）', '李晓华（副镇长）', '柏忍（社会保障服务中心主任）', '宋涛（财政所所长）']}}


def decision(approved):
    if approved:
        return {'decision': {'approved': True, 'amount': 650, 'decided_on': '2026-10-12'}, **COLLECTIVE}
    return {'decision': {'approved': False, 'reasons': '家庭人均收入高于当地低保标准', 'decided_on': '2026-10-12'},
            **COLLECTIVE}

@pytest.fixture
def app(make_app):
    yield from deployed_app(make_app, FILES)


def start(township='t01'):
    return runtime.start_instance('dibao_a', township, APPLICATION, 'caseworker1')


def verify(case, eligible=True):
    """Seed 001: at the intention stage, on the applicant's authorization, before acceptance."""
    assert set(ready(case)) == {'request_verification'}
    do(case, 'request_verification', {'verification_request': {'requested_on': '2026-09-28',
                                                               'authorization_confirmed': True}})
    assert not ready(case)                                 # the report decides whether to go on
    runtime.deliver_message(case.id, 'verification_result',
                            {'eligible': eligible, 'report_no': 'HD-1', 'summary': '核对完毕'}, 'verifier1')
    db.session.refresh(case)


def accept(case):
    verify(case)
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})


def accept_and_investigate(case):
    accept(case)
    assert {'home_survey'} == set(ready(case))
    do(case, 'home_survey', SURVEY, actor='surveyor1')


def ineligible_notice(case):
    verify(case, eligible=False)
    do(case, 'notify_verification_ineligible', {'verification_ineligible_notice': dict(
        NOTICE, reason='名下有两套住房', reexamination_right=True)})


def expire_publicity(clock, case):
    timer = due(timers(case, 'waiting')['publicity_expired'])
    fire_at(clock, case, timer - timedelta(seconds=1))
    assert timers(case)['publicity_expired'].state == 'waiting'
    fire_at(clock, case, timer + timedelta(seconds=1))
    assert timers(case)['publicity_expired'].state == 'fired'


APPROVAL = {'approval_notice': dict(NOTICE, monthly_amount=650, start_month='2026-11')}
REJECTION = {'rejection_notice': dict(NOTICE, reason='收入超标', remedies='可依法申请行政复议或提起行政诉讼')}


def test_approved_then_publicised_in_the_village(app, clock):
    case = start()
    accept_and_investigate(case)
    deadline = timers(case, 'waiting')['deadline']
    assert due(deadline) == datetime.fromisoformat(
        calendar.add_working_days(data_of(case, 'township_confirmation')['accepted_at'], 12))
    assert ready(case)['township_confirmation'].role == 'township_leader'
    started = clock.now()
    do(case, 'township_confirmation', decision(True), actor='leader1')
    assert timers(case)['deadline'].state == 'cancelled'      # decided within 12 WD: the limit stops here
    assert not ready(case)
    assert due(timers(case, 'waiting')['publicity_expired']) == datetime.fromisoformat(
        calendar.add_days(started.isoformat(), 7))
    expire_publicity(clock, case)
    do(case, 'issue_approval_notice', APPROVAL)
    assert case.status == 'completed' and not case.overdue


def test_rejected_by_the_township_is_not_publicised(app, clock):
    case = start()
    accept_and_investigate(case)
    do(case, 'township_confirmation', decision(False), actor='leader1')
    assert set(ready(case)) == {'issue_rejection_notice'}
    assert 'publicity_expired' not in timers(case)
    do(case, 'issue_rejection_notice', REJECTION)
    decline_move(case, 'marginal_dibao')
    assert case.status == 'completed'


def test_verification_comes_before_acceptance(app, clock):
    case = start()
    assert set(ready(case)) == {'request_verification'}       # not the acceptance check
    verify(case)
    assert set(ready(case)) == {'check_materials'}
    assert 'deadline' not in timers(case)                      # the 12 WD run from acceptance only
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
    assert 'deadline' in timers(case, 'waiting')
    assert set(ready(case)) == {'home_survey'}                 # the survey does not wait for anything


def test_clearly_ineligible_without_reexamination_closes_the_case_before_acceptance(app, clock):
    case = start()
    ineligible_notice(case)
    do(case, 'record_reexamination_request', {'reexamination_request': {'requested': False}})
    assert case.status == 'completed'
    assert not timers(case)                                     # never accepted: no time limit ran
    assert 'accepted_at' not in runtime.case_data(case.id)


def test_reexamination_by_the_county_upheld(app, clock):
    case = start()
    ineligible_notice(case)
    do(case, 'record_reexamination_request', {'reexamination_request': {'requested': True, 'evidence': '房屋已出售'}})
    assert ready(case)['county_reexamination'].role == 'county_supervisor'
    do(case, 'county_reexamination', {'reexamination': {'result': 'upheld', 'findings': '出售未过户'}}, actor='county1')
    assert case.status == 'completed'


def test_reexamination_by_the_county_overturned_goes_to_confirmation(app, clock):
    case = start()
    ineligible_notice(case)
    do(case, 'record_reexamination_request', {'reexamination_request': {'requested': True, 'evidence': '房屋已出售'}})
    do(case, 'county_reexamination', {'reexamination': {'result': 'overturned', 'findings': '已过户'}}, actor='county1')
    assert set(ready(case)) == {'check_materials'}               # back to acceptance
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    do(case, 'township_confirmation', decision(True), actor='leader1')
    expire_publicity(clock, case)
    do(case, 'issue_approval_notice', APPROVAL)
    assert case.status == 'completed'


def test_objection_during_publicity_county_upholds_the_approval(app, clock):
    case = start()
    accept_and_investigate(case)
    do(case, 'township_confirmation', decision(True), actor='leader1')
    clock.advance(timedelta(days=2))
    runtime.deliver_message(case.id, 'objection', {'reason': '家中有人在外务工', 'raised_by': '村民'}, 'village1')
    db.session.refresh(case)
    assert set(ready(case)) == {'county_investigation'}
    assert ready(case)['county_investigation'].role == 'county_supervisor'
    assert 'publicity_expired' not in timers(case, 'waiting')
    do(case, 'county_investigation', {'objection_review': {'result': 'approval_upheld', 'findings': '务工收入已计入'}},
       actor='county1')
    do(case, 'issue_approval_notice', APPROVAL)
    assert case.status == 'completed'


def test_objection_during_publicity_county_revokes_the_approval(app, clock):
    case = start()
    accept_and_investigate(case)
    do(case, 'township_confirmation', decision(True), actor='leader1')
    runtime.deliver_message(case.id, 'objection', {'reason': '隐瞒车辆', 'raised_by': '村民'}, 'village1')
    db.session.refresh(case)
    do(case, 'county_investigation', {'objection_review': {'result': 'approval_revoked', 'findings': '有营运车辆'}},
       actor='county1')
    assert set(ready(case)) == {'issue_revocation_notice'}
    assert data_of(case, 'issue_revocation_notice')['decision']['approved'] is False
    do(case, 'issue_revocation_notice', REJECTION)
    assert case.status == 'completed'


def test_twelve_working_day_limit_marks_overdue(app, clock):
    case = start()
    accept(case)
    deadline = due(timers(case, 'waiting')['deadline'])
    fire_at(clock, case, deadline - timedelta(seconds=1))
    assert not case.overdue
    fire_at(clock, case, deadline + timedelta(seconds=1))
    assert case.overdue and timers(case)['deadline'].state == 'fired'
    assert set(ready(case)) == {'home_survey'}                # non-interrupting: work goes on
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    do(case, 'township_confirmation', decision(False), actor='leader1')
    do(case, 'issue_rejection_notice', REJECTION)
    decline_move(case, 'marginal_dibao')
    assert case.status == 'completed' and case.overdue


def test_acceptance_branches(app):
    case = start()
    verify(case)
    do(case, 'check_materials', {'acceptance': {'result': 'incomplete', 'missing_items': ['收入证明'],
                                                'checked_on': '2026-09-28'}})
    do(case, 'notify_missing', {'missing_materials_notice': NOTICE})
    runtime.deliver_message(case.id, 'supplement_received', {'items': ['收入证明']}, 'caseworker1')
    db.session.refresh(case)
    do(case, 'check_materials', {'acceptance': {'result': 'ineligible', 'reason': '非本镇户籍',
                                                'checked_on': '2026-09-30'}})
    do(case, 'issue_refusal', {'refusal_notice': dict(NOTICE, reason='非本镇户籍')})
    assert case.status == 'completed'


def test_transition_phase_puts_county_guidance_before_the_decision_takes_effect(app, clock):
    """Seed 004: 下放过渡 — the county guides the township's decision; 'revise' sends it back."""
    case = runtime.start_instance('dibao_a', 't01', dict(APPLICATION, entrustment_phase='transition'), 'caseworker1')
    accept_and_investigate(case)
    do(case, 'township_confirmation', decision(True), actor='leader1')
    assert set(ready(case)) == {'county_guidance_confirmation'}
    assert ready(case)['county_guidance_confirmation'].role == 'county_supervisor'
    assert 'publicity_expired' not in timers(case)                 # not in effect yet: nothing publicised
    do(case, 'county_guidance_confirmation', {'county_guidance': {'result': 'revise', 'opinion': '保障金额核算有误'}},
       actor='county1')
    assert set(ready(case)) == {'township_confirmation'}
    do(case, 'township_confirmation', decision(True), actor='leader1')
    do(case, 'county_guidance_confirmation', {'county_guidance': {'result': 'agree', 'opinion': '同意'}},
       actor='county1')
    assert 'publicity_expired' in timers(case, 'waiting')


def test_full_delegation_needs_no_guidance(app, clock):
    case = runtime.start_instance('dibao_a', 't01', dict(APPLICATION, entrustment_phase='full'), 'caseworker1')
    accept_and_investigate(case)
    do(case, 'township_confirmation', decision(True), actor='leader1')
    assert not ready(case) and 'publicity_expired' in timers(case, 'waiting')


def test_the_collective_review_names_its_members(app, clock):
    """Seed 001: the 社会救助领导小组 approves; seed 003: 联审联批 of at least 5, 集体评审."""
    from service.errors import Invalid
    case = start()
    accept_and_investigate(case)
    for bad in ({'decision': decision(True)['decision']},
                dict(decision(True), collective_review={'held_on': '2026-10-12', 'members': ['姚东伟（镇长）']})):
        with pytest.raises(Invalid) as caught:
            do(case, 'township_confirmation', bad, actor='leader1')
        assert any(k.startswith('collective_review') for k in caught.value.details), caught.value.details
    do(case, 'township_confirmation', decision(True), actor='leader1')
    assert runtime.case_data(case.id)['collective_review']['members'][0] == '姚东伟（镇长）'
