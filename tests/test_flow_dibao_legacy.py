"""dibao_legacy (2012 national procedure): every branch end to end through the service layer.

Time only moves through the manual clock; timers fire through runtime.fire_due_timers.
"""
from datetime import datetime, timedelta

import pytest

from service import calendar
from service.extensions import db
from service.services import runtime

from .flow_helpers import (decline_move, APPLICATION, COMPLETE, NOTICE, SURVEY, data_of, deployed_app, do, due,  # noqa: F401
                           fire_at, ready, timers)

FILES = ('legacy/dibao.bpmn',)



def decision(approved):
    if approved:
        return {'decision': {'approved': True, 'amount': 650, 'decided_on': '2026-10-12'}}
    return {'decision': {'approved': False, 'reasons': '家庭人均收入高于当地低保标准', 'decided_on': '2026-10-12'}}

@pytest.fixture
def app(make_app):
    yield from deployed_app(make_app, FILES)


def start(township='t01'):
    return runtime.start_instance('dibao_legacy', township, APPLICATION, 'caseworker1')


APPROVAL = {'approval_notice': dict(NOTICE, certificate_no='DB-0001', monthly_amount=650, start_month='2026-11')}
REJECTION = {'rejection_notice': dict(NOTICE, reason='收入超标', remedies='可依法申请行政复议或提起行政诉讼')}
REVIEW_PASSED = {'democratic_review': {'held_on': '2026-10-09', 'participants': 12, 'villager_representatives': 9,
                                       'result': 'passed', 'record': '一致同意'}}


def expire(clock, case, timer_id):
    moment = due(timers(case, 'waiting')[timer_id])
    fire_at(clock, case, moment - timedelta(seconds=1))
    assert timers(case)[timer_id].state == 'waiting'
    fire_at(clock, case, moment + timedelta(seconds=1))
    assert timers(case)[timer_id].state == 'fired'


def to_verification(case, eligible=True):
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
    do(case, 'request_verification', {'verification_request': {'requested_on': '2026-09-28',
                                                               'authorization_confirmed': True}})
    assert not ready(case)                                     # sequential: the survey waits for the report
    runtime.deliver_message(case.id, 'verification_result', {'eligible': eligible, 'report_no': 'HD-1'}, 'verifier1')
    db.session.refresh(case)


def to_township_review(clock, case):
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    do(case, 'democratic_review', REVIEW_PASSED, actor='village1')
    expire(clock, case, 'review_publicity_expired')
    assert ready(case)['township_review'].role == 'township_leader'
    do(case, 'township_review', {'township_review': {'recommendation': 'approve', 'proposed_amount': 650,
                                                     'opinion': '建议批准'}}, actor='leader1')


def test_full_approval_path(app, clock):
    case = start()
    to_verification(case)
    assert set(ready(case)) == {'home_survey'}
    to_township_review(clock, case)
    assert ready(case)['county_approval'].role == 'county_supervisor'
    do(case, 'county_approval', decision(True), actor='county1')
    assert not ready(case)
    expire(clock, case, 'approval_publicity_expired')
    do(case, 'issue_approval_notice', APPROVAL, actor='county1')
    do(case, 'register_roster', {'roster': {'start_month': '2026-11', 'monthly_amount': 650}}, actor='county1')
    assert case.status == 'completed' and not case.overdue
    assert {t.state for t in timers(case).values()} <= {'cancelled', 'fired'}


def test_county_rejects_with_notice(app, clock):
    case = start()
    to_verification(case)
    to_township_review(clock, case)
    do(case, 'county_approval', decision(False), actor='county1')
    do(case, 'issue_rejection_notice', REJECTION, actor='county1')
    decline_move(case, 'marginal_dibao')
    assert case.status == 'completed'


def test_approval_publicity_objection_reinvestigation_and_new_publicity(app, clock):
    case = start()
    to_verification(case)
    to_township_review(clock, case)
    do(case, 'county_approval', decision(True), actor='county1')
    first = due(timers(case, 'waiting')['approval_publicity_expired'])
    clock.advance(timedelta(days=2))
    runtime.deliver_message(case.id, 'objection', {'reason': '有营运车辆', 'raised_by': '村民'}, 'village1')
    db.session.refresh(case)
    assert set(ready(case)) == {'reinvestigate_objection'}
    do(case, 'reinvestigate_objection', {'objection_investigation': {'founded': False, 'findings': '车辆已报废'}},
       actor='county1')
    assert set(ready(case)) == {'county_approval'}            # a new decision
    do(case, 'county_approval', decision(True), actor='county1')
    assert due(timers(case, 'waiting')['approval_publicity_expired']) > first   # publicised again
    expire(clock, case, 'approval_publicity_expired')
    do(case, 'issue_approval_notice', APPROVAL, actor='county1')
    do(case, 'register_roster', {'roster': {'start_month': '2026-11', 'monthly_amount': 650}}, actor='county1')
    assert case.status == 'completed'


def test_verification_ineligible_branches(app, clock):
    not_requested = start()
    to_verification(not_requested, eligible=False)
    do(not_requested, 'notify_verification_ineligible', {'verification_ineligible_notice': dict(
        NOTICE, reason='存款超标', reexamination_right=True)})
    do(not_requested, 'record_reexamination_request', {'reexamination_request': {'requested': False}})
    assert not_requested.status == 'completed'

    upheld = start()
    to_verification(upheld, eligible=False)
    do(upheld, 'notify_verification_ineligible', {'verification_ineligible_notice': dict(
        NOTICE, reason='存款超标', reexamination_right=True)})
    do(upheld, 'record_reexamination_request', {'reexamination_request': {'requested': True, 'evidence': '存款为借款'}})
    assert ready(upheld)['township_reexamination'].role == 'township_caseworker'
    do(upheld, 'township_reexamination', {'reexamination': {'result': 'upheld', 'findings': '无借款凭证'}})
    assert upheld.status == 'completed'

    overturned = start()
    to_verification(overturned, eligible=False)
    do(overturned, 'notify_verification_ineligible', {'verification_ineligible_notice': dict(
        NOTICE, reason='存款超标', reexamination_right=True)})
    do(overturned, 'record_reexamination_request', {'reexamination_request': {'requested': True, 'evidence': '借款合同'}})
    do(overturned, 'township_reexamination', {'reexamination': {'result': 'overturned', 'findings': '存款系借款'}})
    assert set(ready(overturned)) == {'home_survey'}


def test_disputed_democratic_review_and_founded_objection_reinvestigate(app, clock):
    case = start()
    to_verification(case)
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    do(case, 'democratic_review', {'democratic_review': dict(REVIEW_PASSED['democratic_review'], result='disputed')},
       actor='village1')
    assert set(ready(case)) == {'home_survey'}
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    do(case, 'democratic_review', REVIEW_PASSED, actor='village1')
    runtime.deliver_message(case.id, 'objection', {'reason': '隐瞒收入', 'raised_by': '村民'}, 'village1')
    db.session.refresh(case)
    do(case, 'investigate_review_objection', {'objection_investigation': {'founded': True, 'findings': '有务工收入'}})
    assert set(ready(case)) == {'home_survey'}
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    do(case, 'democratic_review', REVIEW_PASSED, actor='village1')
    runtime.deliver_message(case.id, 'objection', {'reason': '重复举报', 'raised_by': '村民'}, 'village1')
    db.session.refresh(case)
    do(case, 'investigate_review_objection', {'objection_investigation': {'founded': False, 'findings': '已核实'}})
    assert set(ready(case)) == {'township_review'}


def test_step_limits_mark_overdue(app, clock):
    case = start()
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
    accepted_at = data_of(case, 'request_verification')['accepted_at']
    limit = due(timers(case, 'waiting')['investigation_deadline'])
    assert limit == datetime.fromisoformat(calendar.add_working_days(accepted_at, 10))
    fire_at(clock, case, limit + timedelta(seconds=1))
    assert case.overdue and ready(case)['request_verification'].overdue
    do(case, 'request_verification', {'verification_request': {'requested_on': '2026-10-20',
                                                               'authorization_confirmed': True}})
    runtime.deliver_message(case.id, 'verification_result', {'eligible': True}, 'verifier1')
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    review_limit = due(timers(case, 'waiting')['review_deadline'])
    assert review_limit == datetime.fromisoformat(calendar.add_working_days(
        data_of(case, 'democratic_review')['investigation_completed_at'], 5))
    fire_at(clock, case, review_limit + timedelta(seconds=1))
    assert ready(case)['democratic_review'].overdue
    do(case, 'democratic_review', REVIEW_PASSED, actor='village1')
    expire(clock, case, 'review_publicity_expired')
    do(case, 'township_review', {'township_review': {'recommendation': 'approve', 'opinion': '建议批准'}},
       actor='leader1')
    approval_limit = due(timers(case, 'waiting')['approval_deadline'])
    fire_at(clock, case, approval_limit + timedelta(seconds=1))
    assert ready(case)['county_approval'].overdue
    do(case, 'county_approval', decision(False), actor='county1')
    do(case, 'issue_rejection_notice', REJECTION, actor='county1')
    decline_move(case, 'marginal_dibao')
    assert case.status == 'completed' and case.overdue
