"""dibao_b (seed 002, Zhalainuoer): every branch end to end through the service layer.

Time only moves through the manual clock; timers fire through runtime.fire_due_timers.
"""
from datetime import datetime, timedelta

import pytest

from service import calendar
from service.errors import Conflict
from service.extensions import db
from service.services import runtime

from .flow_helpers import (decline_move, APPLICATION, COMPLETE, NOTICE, SURVEY, data_of, deployed_app, do, due,  # noqa: F401
                           fire_at, ready, timers)

FILES = ('delegated/dibao_b.bpmn',)


def opinion(major_doubt=False, recommendation='approve'):
    return {'preliminary_opinion': {'recommendation': recommendation, 'proposed_amount': 650,
                                    'major_doubt': major_doubt, 'opinion': '符合条件'}}


def decision(approved):
    if approved:
        return {'decision': {'approved': True, 'amount': 650, 'decided_on': '2026-10-20'}}
    return {'decision': {'approved': False, 'reasons': '家庭人均收入高于当地低保标准', 'decided_on': '2026-10-20'}}


@pytest.fixture
def app(make_app):
    yield from deployed_app(make_app, FILES)


def start(township='t01'):
    return runtime.start_instance('dibao_b', township, APPLICATION, 'caseworker1')


def accept(case):
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})


def investigate(case):
    assert {'request_verification', 'home_survey'} <= set(ready(case))   # parallel
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    do(case, 'request_verification', {'verification_request': {'requested_on': '2026-09-28',
                                                               'authorization_confirmed': True}})
    assert 'preliminary_opinion' not in ready(case)                       # the join waits for the report
    runtime.deliver_message(case.id, 'verification_result',
                            {'eligible': True, 'report_no': 'HD-2026-001', 'summary': '无异常'}, 'verifier1')
    db.session.refresh(case)


def expire_publicity(clock, case, started=None):
    timer = timers(case, 'waiting')['publicity_expired']
    if started is not None:   # 24:00 of the 7th calendar day after the publicity started
        assert due(timer) == datetime.fromisoformat(calendar.add_days(started.isoformat(), 7))
    fire_at(clock, case, due(timer) - timedelta(seconds=1))
    assert timers(case)['publicity_expired'].state == 'waiting'           # still publicising
    fire_at(clock, case, due(timer) + timedelta(seconds=1))
    assert timers(case)['publicity_expired'].state == 'fired'


def test_approved_after_quiet_publicity(app, clock):
    case = start()
    assert set(ready(case)) == {'check_materials'}
    accept(case)
    data = data_of(case, 'home_survey')
    assert data['accepted_at']
    deadline = timers(case, 'waiting')['deadline']
    assert due(deadline) == datetime.fromisoformat(calendar.add_working_days(data['accepted_at'], 20))
    investigate(case)
    started = clock.now()
    do(case, 'preliminary_opinion', opinion())
    assert 'publicity_expired' in timers(case, 'waiting')
    assert not ready(case)                                                # nobody can end the publicity early
    expire_publicity(clock, case, started)
    confirm = ready(case)['township_confirmation']
    assert confirm.role == 'township_leader'
    do(case, 'township_confirmation', decision(True), actor='leader1')
    notice = ready(case)['issue_approval_notice']
    assert notice.role == 'township_caseworker'
    do(case, 'issue_approval_notice', {'approval_notice': dict(NOTICE, monthly_amount=650, start_month='2026-11')})
    assert case.status == 'completed'
    assert not case.overdue
    assert timers(case)['deadline'].state == 'cancelled'


def test_rejected_with_reasons(app, clock):
    case = start()
    accept(case)
    investigate(case)
    do(case, 'preliminary_opinion', opinion(recommendation='reject'))
    expire_publicity(clock, case)
    do(case, 'township_confirmation', decision(False), actor='leader1')
    assert set(ready(case)) == {'issue_rejection_notice'}
    do(case, 'issue_rejection_notice', {'rejection_notice': dict(NOTICE, reason='收入超标', remedies='可于60日内申请行政复议')})
    decline_move(case, 'marginal_dibao')
    assert case.status == 'completed'


def test_incomplete_materials_wait_for_supplement_then_accept(app, clock):
    case = start()
    do(case, 'check_materials', {'acceptance': {'result': 'incomplete', 'missing_items': ['户口簿复印件'],
                                                'checked_on': '2026-09-28'}})
    do(case, 'notify_missing', {'missing_materials_notice': NOTICE})
    assert not ready(case)
    assert 'accepted_at' not in runtime.case_data(case.id)
    runtime.deliver_message(case.id, 'supplement_received', {'items': ['户口簿复印件']}, 'caseworker1')
    db.session.refresh(case)
    assert set(ready(case)) == {'check_materials'}
    assert data_of(case, 'check_materials')['supplement'] == {'items': ['户口簿复印件']}
    accept(case)
    assert {'request_verification', 'home_survey'} <= set(ready(case))


def test_clearly_ineligible_is_refused(app):
    case = start()
    do(case, 'check_materials', {'acceptance': {'result': 'ineligible', 'reason': '非本辖区户籍',
                                                'checked_on': '2026-09-28'}})
    do(case, 'issue_refusal', {'refusal_notice': dict(NOTICE, reason='非本辖区户籍')})
    assert case.status == 'completed'
    assert not timers(case)


REVIEW = {'democratic_review': {'held_on': '2026-10-09', 'participants': 9, 'villager_representatives': 7,
                                'result': 'passed', 'record': '车辆已报废',
                                'signed_by': {'name': '刘芳', 'capacity': 'secretary'}}}


def object_to(case, clock):
    clock.advance(timedelta(days=3))
    runtime.deliver_message(case.id, 'objection', {'reason': '有经营性车辆', 'raised_by': '邻居'}, 'caseworker1')
    db.session.refresh(case)


def test_major_dispute_leads_to_democratic_review_new_opinion_and_new_publicity(app, clock):
    case = start()
    accept(case)
    investigate(case)
    do(case, 'preliminary_opinion', opinion())
    first = due(timers(case, 'waiting')['publicity_expired'])
    object_to(case, clock)
    assert 'publicity_expired' not in timers(case, 'waiting')            # the first publicity ended
    # Seed 002: democratic review only on 「投诉、举报等较大争议」: the objection is checked first.
    assert set(ready(case)) == {'assess_objection'}
    assert data_of(case, 'assess_objection')['objection']['reason'] == '有经营性车辆'
    do(case, 'assess_objection', {'objection_assessment': {'major_dispute': True, 'findings': '多名群众举报'}})
    assert set(ready(case)) == {'democratic_review'}
    assert ready(case)['democratic_review'].role == 'village_assistant'
    do(case, 'democratic_review', REVIEW, actor='village1')
    do(case, 'preliminary_opinion', opinion())
    second = due(timers(case, 'waiting')['publicity_expired'])
    assert second > first                                                 # a new 7-day publicity
    expire_publicity(clock, case)
    do(case, 'township_confirmation', decision(True), actor='leader1')
    do(case, 'issue_approval_notice', {'approval_notice': dict(NOTICE, monthly_amount=650, start_month='2026-11')})
    assert case.status == 'completed'


def test_an_objection_without_major_dispute_gets_a_new_opinion_without_democratic_review(app, clock):
    case = start()
    accept(case)
    investigate(case)
    do(case, 'preliminary_opinion', opinion())
    object_to(case, clock)
    do(case, 'assess_objection', {'objection_assessment': {'major_dispute': False, 'findings': '车辆登记在亲属名下'}})
    assert set(ready(case)) == {'preliminary_opinion'}                    # 重新提出初审意见, no review
    do(case, 'preliminary_opinion', opinion())
    assert 'publicity_expired' in timers(case, 'waiting')                # 重新公示
    expire_publicity(clock, case)
    assert set(ready(case)) == {'township_confirmation'}


def test_the_democratic_review_record_names_the_chair_or_secretary_who_signed(app):
    from service.services import forms
    from service.errors import Invalid
    schema = forms.load('democratic_review_signed.schema.json')
    unsigned = {'democratic_review': {k: v for k, v in REVIEW['democratic_review'].items() if k != 'signed_by'}}
    for bad in (unsigned, {'democratic_review': dict(REVIEW['democratic_review'], signed_by={'name': '刘芳'})},
                {'democratic_review': dict(REVIEW['democratic_review'],
                                           signed_by={'name': '刘芳', 'capacity': 'member'})}):
        with pytest.raises(Invalid) as caught:
            forms.validate(schema, bad)
        assert any(k.startswith('democratic_review.signed_by') for k in caught.value.details), caught.value.details
    forms.validate(schema, REVIEW)


def test_major_doubt_goes_to_democratic_review_before_publicity(app, clock):
    case = start()
    accept(case)
    investigate(case)
    do(case, 'preliminary_opinion', opinion(major_doubt=True))
    assert set(ready(case)) == {'democratic_review'}
    assert 'publicity_expired' not in timers(case)
    do(case, 'democratic_review', REVIEW, actor='village1')
    do(case, 'preliminary_opinion', opinion(major_doubt=False))
    expire_publicity(clock, case)
    assert set(ready(case)) == {'township_confirmation'}


def test_objection_after_publicity_is_refused(app, clock):
    case = start()
    accept(case)
    investigate(case)
    do(case, 'preliminary_opinion', opinion())
    expire_publicity(clock, case)
    with pytest.raises(Conflict):
        runtime.deliver_message(case.id, 'objection', {'reason': '迟到的异议'}, 'caseworker1')


def test_twenty_working_day_deadline_marks_overdue_and_the_case_goes_on(app, clock):
    case = start()
    accept(case)
    deadline = due(timers(case, 'waiting')['deadline'])
    fire_at(clock, case, deadline - timedelta(seconds=1))
    assert not case.overdue
    fire_at(clock, case, deadline + timedelta(seconds=1))
    assert case.overdue
    assert timers(case)['deadline'].state == 'fired'
    assert {'request_verification', 'home_survey'} <= set(ready(case))   # non-interrupting
    investigate(case)
    do(case, 'preliminary_opinion', opinion())
    expire_publicity(clock, case)
    do(case, 'township_confirmation', decision(True), actor='leader1')
    do(case, 'issue_approval_notice', {'approval_notice': dict(NOTICE, monthly_amount=650, start_month='2027-01')})
    assert case.status == 'completed'
    assert case.overdue


def test_transition_phase_puts_county_guidance_before_the_confirmation_takes_effect(app, clock):
    """Seed 004: 下放过渡 — the county guides the township's confirmation before the notice."""
    case = runtime.start_instance('dibao_b', 't01', dict(APPLICATION, entrustment_phase='transition'), 'caseworker1')
    accept(case)
    investigate(case)
    do(case, 'preliminary_opinion', opinion())
    expire_publicity(clock, case)
    do(case, 'township_confirmation', decision(True), actor='leader1')
    assert set(ready(case)) == {'county_guidance_confirmation'}
    assert ready(case)['county_guidance_confirmation'].lane == '区民政局'
    do(case, 'county_guidance_confirmation', {'county_guidance': {'result': 'agree', 'opinion': '程序规范'}},
       actor='county1')
    assert set(ready(case)) == {'issue_approval_notice'}
