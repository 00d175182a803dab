"""temporary_aid_delegated (seeds 001 and 002): emergency first aid and backfill, expense type with
publicity after confirmation, the township ceiling (DMN) on both paths, the county, and the
12-working-day total limit, through the service layer on the real processes/ and forms/.

Time only moves through the manual clock; timers fire through runtime.fire_due_timers. Every
form submission is first validated against the task's own form, as the API does.
"""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from service import calendar
from service.errors import Conflict, Invalid
from service.extensions import db
from service.models import Task
from service.services import forms, repository, runtime

from .flow_helpers import ROOT, deployed_app, do, fire_at, ready, timers  # noqa: F401

BPMN = 'delegated/temporary_aid.bpmn'
DMN = 'decisions/temporary_aid_ceiling.dmn'
KEY = 'temporary_aid_delegated'

APPLICATION = {
    'applicant': {'name': '王秀兰', 'id_number': '11010519491231002X', 'phone': '13800000000',
                  'address': '第一街道幸福社区3号楼', 'household_size': 3},
    'application': {'situation': '家中突发火灾，房屋和生活用品烧毁', 'applied_on': '2026-09-28'},
    'authorization_signed': True, 'commitment_signed': True,
    'commitment_signed': True,
}
NOTICE = {'document_no': '扎民临救〔2026〕1号', 'issued_on': '2026-10-09', 'delivery': 'in_person'}
SURVEY = {'surveyed_on': '2026-09-29', 'investigators': ['李明', '赵强'], 'per_capita_income': 420,
          'rigid_expense': 38000, 'findings': '子女大学学费和住院费用骤增', 'signed_by_applicant': True,
          'democratic_review_needed': False}
VERIFIED = {'eligible': True, 'report_no': 'HD-2026-001', 'summary': '核对完毕，未发现不符合条件的财产'}


def intake(aid_type, standard=900):
    return {'intake': {'aid_type': aid_type, 'hardship': 'fire' if aid_type == 'emergency' else 'medical',
                       'description': '经核实情况属实', 'accepted_on': '2026-09-28'},
            'dibao_standard': standard, 'acceptance': {'result': 'complete'}}


def accept(case, aid_type, standard=900):
    """Intake (aid type, materials complete) and the acceptance notice: the case is accepted."""
    do(case, 'intake', intake(aid_type, standard))
    assert set(ready(case)) == {'issue_acceptance_notice'}
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})


def first_aid(paid_on='2026-09-28'):
    return {'first_aid': {'method': 'cash', 'amount': 2000, 'paid_on': paid_on, 'handled_by': '张华'}}


def backfill(paid_on='2026-09-28'):
    return {'registration': {'recipient_name': '王秀兰', 'recipient_id_number': '11010519491231002X',
                             'reason': '家中突发火灾', 'amount': 2000, 'paid_on': paid_on},
            'signatures': {'caseworker_signed': True, 'reviewer_signed': True, 'leader_signed': True,
                           'seal_affixed': True}}


def opinion(eligible=True, amount=None):
    data = {'opinion': {'eligible': eligible, 'reasons': '刚性支出远超家庭承受能力' if eligible else '家庭收入较高',
                        'opinion_on': '2026-09-30'}}
    if eligible:
        data['opinion']['aid_method'] = 'cash'
        data['amount'] = amount
    return data


def decision(approved, amount=None):
    """The county's approval form."""
    if approved:
        return {'decision': {'approved': True, 'amount': amount, 'decided_on': '2026-10-09'}}
    return {'decision': {'approved': False, 'reasons': '申请人家庭有存款可以负担', 'decided_on': '2026-10-09'}}


# Seed 003: the township's 联审联批 group (at least 5) reviews collectively; the record names them.
COLLECTIVE = {'collective_review': {'held_on': '2026-10-09', 'members': [
    '王旭东（镇长）', '宋涛（财政所所长）', '张华（民政岗位主管）', '罗贤平（纪委副书记）', '赵海峰（社区书记）']}}


def confirmation(approved, amount=None):
    """The township leader's confirmation form: the decision and the collective review."""
    return dict(decision(approved, amount), **COLLECTIVE)


FILED = {'filing': {'result': 'recorded', 'filed_on': '2026-10-10'}}


APPROVAL = {'approval_notice': dict(NOTICE, aid_method='cash', amount=4500)}
REJECTION = {'rejection_notice': dict(NOTICE, reason='家庭有存款可以负担', remedies='可自收到之日起60日内申请行政复议')}


@pytest.fixture
def app(make_app):
    """Only this flow and its decision deployed, so diagrams being edited elsewhere cannot break these tests."""
    yield from deployed_app(make_app, (BPMN, DMN))


def aware(value):
    return value   # timer columns are always aware UTC


def start(key=KEY, township='t01'):
    definition = repository.latest(key)
    forms.validate(forms.load(forms.start_form_name(definition)), APPLICATION, what='申请')
    return runtime.start_instance(key, township, APPLICATION, 'caseworker1')


def data(case):
    return runtime.case_data(case.id)


def investigate(case, standard=900, survey=None):
    """Expense type up to the township's opinion: survey and verification in parallel."""
    accept(case, 'expense', standard)
    assert set(ready(case)) == {'home_survey'}
    runtime.deliver_message(case.id, 'verification_result', VERIFIED, 'verifier1')
    db.session.refresh(case)
    assert set(ready(case)) == {'home_survey'}            # the join waits for the survey
    do(case, 'home_survey', {'survey': dict(SURVEY, **(survey or {}))}, actor='surveyor1')


def expire_publicity(clock, case):
    timer = timers(case, 'waiting')['publicity_expired']
    assert timer.kind == 'wait'                           # the end of a period, not a deadline
    fire_at(clock, case, aware(timer.due_at) - timedelta(seconds=1))
    assert timers(case)['publicity_expired'].state == 'waiting'
    fire_at(clock, case, aware(timer.due_at) + timedelta(seconds=1))
    assert timers(case)['publicity_expired'].state == 'fired'


def to_decision(case, amount, standard=900):
    """Up to the decision: the township (within its ceiling) or the county decides before any publicity."""
    investigate(case, standard)
    do(case, 'opinion', opinion(True, amount))
    assert 'publicity_expired' not in timers(case)       # seed 002: publicity follows the confirmation


def confirmed_and_publicised(clock, case, amount=3000):
    to_decision(case, amount)
    do(case, 'leader_confirm', confirmation(True, amount), actor='leader1')
    assert not ready(case)                                # publicity: nobody has anything to do


# ------------------------------------------------------------------ emergency (急难型)

def test_emergency_not_paid_within_24_hours_becomes_overdue(app, clock):
    case = start()
    reported = clock.now()
    assert set(ready(case)) == {'intake'}
    clock.advance(timedelta(hours=1))
    accept(case, 'emergency')
    assert set(ready(case)) == {'first_aid'}
    deadline = timers(case, 'waiting')['first_aid_deadline']
    assert (deadline.kind, deadline.attached_to) == ('deadline', 'first_aid')
    assert aware(deadline.due_at) == reported + timedelta(hours=24)    # from the report, not the intake

    fire_at(clock, case, reported + timedelta(hours=24) - timedelta(seconds=1))
    assert timers(case)['first_aid_deadline'].state == 'waiting'
    assert not case.overdue and not ready(case)['first_aid'].overdue

    fire_at(clock, case, reported + timedelta(hours=24, seconds=1))
    assert timers(case)['first_aid_deadline'].state == 'fired'
    assert case.overdue
    open_tasks = ready(case)
    assert open_tasks['first_aid'].overdue                # non-interrupting: still to do, now overdue
    assert open_tasks['supervise_first_aid'].role == 'county_supervisor'

    do(case, 'supervise_first_aid', {'supervision': {'supervised_on': '2026-09-29', 'finding': '经办人外出',
                                                     'measures': '立即发放并说明情况'}}, actor='county1')
    do(case, 'first_aid', first_aid('2026-09-29'))
    do(case, 'backfill', backfill('2026-09-29'))
    do(case, 'county_filing', FILED, actor='county1')
    assert case.status == 'completed' and case.overdue    # the overdue stays on the record


def test_emergency_paid_in_time_is_not_overdue(app, clock):
    case = start()
    accept(case, 'emergency')
    clock.advance(timedelta(hours=20))
    do(case, 'first_aid', first_aid())
    paid_at = data(case)['paid_at']
    assert timers(case)['first_aid_deadline'].state == 'cancelled'
    assert set(ready(case)) == {'backfill'}
    backfill_deadline = timers(case, 'waiting')['backfill_deadline']
    assert backfill_deadline.kind == 'deadline'
    assert aware(backfill_deadline.due_at) == datetime.fromisoformat(calendar.add_working_days(paid_at, 5))
    assert ready(case)['backfill'].due_at == backfill_deadline.due_at
    clock.advance(timedelta(days=2))
    do(case, 'backfill', backfill())
    assert data(case)['within_township_ceiling'] is True   # 2000 <= 5 months of 900
    assert ready(case)['county_filing'].role == 'county_supervisor'   # the township's aid is filed
    do(case, 'county_filing', FILED, actor='county1')
    assert case.status == 'completed' and not case.overdue
    assert timers(case)['backfill_deadline'].state == 'cancelled'
    assert 'supervise_first_aid' not in {t.bpmn_id for t in db.session.scalars(
        select(Task).where(Task.instance_id == case.id))}


def test_backfill_must_be_complete_to_submit(app, clock):
    case = start()
    accept(case, 'emergency')
    do(case, 'first_aid', first_aid())
    incomplete = backfill()
    incomplete['signatures']['seal_affixed'] = False
    with pytest.raises(Invalid) as err:
        do(case, 'backfill', incomplete)
    assert 'signatures.seal_affixed' in err.value.details


LABOUR_DAY_PAID = '2026-04-30T16:00:00+08:00'
# 5 working days after Thursday 04-30: 05-01..05-05 are the Labour Day holidays, Saturday 05-09 is a
# make-up working day, so 05-06, 05-07, 05-08, 05-09, 05-11: the backfill is due at 24:00 on 05-11.
BACKFILL_DUE = datetime.fromisoformat('2026-05-12T00:00:00+08:00')


def test_the_calendar_knows_the_labour_day_holiday_and_make_up_saturday():
    assert [calendar.is_working_day(date(2026, 5, d)) for d in range(1, 12)] == [
        False, False, False, False, False, True, True, True, True, False, True]
    assert date(2026, 5, 9).weekday() == 5


def pay_before_labour_day(clock):
    clock.set('2026-04-30T09:00:00+08:00')
    case = start()
    accept(case, 'emergency')
    clock.set(LABOUR_DAY_PAID)
    do(case, 'first_aid', first_aid('2026-04-30'))
    assert data(case)['paid_at'] == LABOUR_DAY_PAID
    assert aware(timers(case, 'waiting')['backfill_deadline'].due_at) == BACKFILL_DUE
    return case


def test_backfill_overdue_after_five_working_days_across_labour_day(app, clock):
    case = pay_before_labour_day(clock)
    fire_at(clock, case, BACKFILL_DUE - timedelta(seconds=1))          # 23:59:59 on Monday 05-11
    assert timers(case)['backfill_deadline'].state == 'waiting'
    assert not case.overdue and not ready(case)['backfill'].overdue
    fire_at(clock, case, BACKFILL_DUE + timedelta(seconds=1))
    assert timers(case)['backfill_deadline'].state == 'fired'
    assert case.overdue and ready(case)['backfill'].overdue
    assert aware(case.overdue_since) == BACKFILL_DUE + timedelta(seconds=1)
    do(case, 'backfill', backfill('2026-04-30'))                       # late, but still done
    do(case, 'county_filing', FILED, actor='county1')
    assert case.status == 'completed' and case.overdue


def test_backfill_on_the_make_up_saturday_is_in_time(app, clock):
    case = pay_before_labour_day(clock)
    fire_at(clock, case, '2026-05-09T10:00:00+08:00')                 # day 4 of 5: the make-up Saturday
    assert timers(case)['backfill_deadline'].state == 'waiting'
    do(case, 'backfill', backfill('2026-04-30'))
    do(case, 'county_filing', FILED, actor='county1')
    assert case.status == 'completed' and not case.overdue
    assert timers(case)['backfill_deadline'].state == 'cancelled'


def test_an_emergency_payment_above_the_township_ceiling_goes_to_the_county_and_is_filed(app, clock):
    """An emergency payment of 100,000 with a 900 standard used to close with no county approval and no filing."""
    case = start()
    accept(case, 'emergency', 900)
    big = first_aid(); big['first_aid']['amount'] = 100000
    do(case, 'first_aid', big)
    registered = backfill(); registered['registration']['amount'] = 100000
    do(case, 'backfill', registered)
    assert (data(case)['within_township_ceiling'], data(case)['ceiling']) == (False, 4500)
    approval = ready(case)['emergency_county_approval']
    assert set(ready(case)) == {'emergency_county_approval'}
    assert (approval.lane, approval.role) == ('区民政局', 'county_supervisor')
    do(case, 'emergency_county_approval', decision(True, 100000), actor='county1')
    assert set(ready(case)) == {'county_filing'}
    do(case, 'county_filing', FILED, actor='county1')
    assert case.status == 'completed'


# ------------------------------------------------------------------ the 12-working-day total (seed 001)

def test_twelve_working_days_from_acceptance_mark_the_case_overdue(app, clock):
    """Seed 001: 「临时救助审核审批时限压缩到12个工作日内」, on the whole case, seen by the county."""
    from service.services import cases
    case = start()
    clock.set('2026-09-28T10:00:00+08:00')
    accept(case, 'expense')
    accepted = data(case)['accepted_at']
    deadline = timers(case, 'waiting')['deadline']
    assert (deadline.kind, deadline.attached_to) == ('deadline', 'temporary_aid_delegated_work')
    # 09-28 accepted: 09-29, 09-30, 10-08, 10-09, 10-10 (make-up Saturday), 10-12 … 10-16, 10-19, 10-20.
    assert aware(deadline.due_at) == datetime.fromisoformat(calendar.add_working_days(accepted, 12))
    assert aware(deadline.due_at) == datetime.fromisoformat('2026-10-21T00:00:00+08:00')
    fire_at(clock, case, '2026-10-20T23:59:59+08:00')
    assert not case.overdue
    fire_at(clock, case, '2026-10-21T00:00:01+08:00')
    assert case.overdue and timers(case)['deadline'].state == 'fired'
    assert set(ready(case)) == {'home_survey'}            # non-interrupting: the work goes on
    from service.models import User
    county = User(username='county1', display_name='区民政局', role='county_supervisor', township='county')
    assert case.id in {c.id for c in cases.list_cases(county, overdue=True).items}   # 监管: the overdue list


def test_a_case_decided_in_time_cancels_the_total_limit(app, clock):
    case = start()
    confirmed_and_publicised(clock, case)
    expire_publicity(clock, case)
    do(case, 'notify_approval', {'approval_notice': dict(NOTICE, aid_method='cash', amount=3000)})
    do(case, 'county_filing', FILED, actor='county1')
    assert case.status == 'completed' and not case.overdue
    assert timers(case)['deadline'].state == 'cancelled'


# ------------------------------------------------------------------ expense (支出型)

def test_survey_and_verification_run_in_parallel(app, clock):
    case = start()
    accept(case, 'expense')
    assert set(ready(case)) == {'home_survey'}
    do(case, 'home_survey', {'survey': SURVEY}, actor='surveyor1')
    assert not ready(case)                                # waits for the county verification centre
    runtime.deliver_message(case.id, 'verification_result', VERIFIED, 'verifier1')
    db.session.refresh(case)
    assert set(ready(case)) == {'opinion'}                # no democratic review: not flagged
    assert data(case)['verification'] == VERIFIED


def test_within_the_ceiling_the_township_confirms_publicises_and_files_with_the_county(app, clock):
    case = start()
    to_decision(case, amount=3000)
    result = data(case)
    assert (result['within_township_ceiling'], result['ceiling']) == (True, 4500)
    confirm = ready(case)['leader_confirm']
    assert set(ready(case)) == {'leader_confirm'}
    assert (confirm.lane, confirm.role) == ('镇街分管领导', 'township_leader')
    assert confirm.properties['separateFrom'] == 'home_survey'
    do(case, 'leader_confirm', confirmation(True, 3000), actor='leader1')
    assert not ready(case) and 'publicity_expired' in timers(case, 'waiting')   # 审核确认通过，张榜公示
    expire_publicity(clock, case)
    notice = ready(case)['notify_approval']
    assert notice.properties['notice'] == 'temporary_aid_approval_notice'
    do(case, 'notify_approval', {'approval_notice': dict(NOTICE, aid_method='cash', amount=3000)})
    filing = ready(case)['county_filing']                 # 事后备案: after the applicant has the notice
    assert filing.role == 'county_supervisor'
    do(case, 'county_filing', {'filing': {'result': 'recorded', 'filed_on': '2026-10-10'}}, actor='county1')
    assert case.status == 'completed' and not case.overdue


def test_above_the_ceiling_the_county_approves(app, clock):
    case = start()
    to_decision(case, amount=6000)
    assert data(case)['within_township_ceiling'] is False
    approval = ready(case)['county_approval']
    assert set(ready(case)) == {'county_approval'}
    assert (approval.lane, approval.role) == ('区民政局', 'county_supervisor')
    do(case, 'county_approval', decision(True, 6000), actor='county1')
    expire_publicity(clock, case)                         # the approval is publicised too
    do(case, 'notify_approval', {'approval_notice': dict(NOTICE, aid_method='cash', amount=6000)})
    assert case.status == 'completed'                     # the county decided: nothing to file
    assert 'county_filing' not in {t.bpmn_id for t in db.session.scalars(
        select(Task).where(Task.instance_id == case.id))}


def test_county_refusal_sends_the_rejection_notice(app, clock):
    case = start()
    to_decision(case, amount=6000)
    do(case, 'county_approval', decision(False), actor='county1')
    assert set(ready(case)) == {'notify_rejection'}
    assert 'publicity_expired' not in timers(case)        # a refusal is not publicised
    assert ready(case)['notify_rejection'].properties['notice'] == 'temporary_aid_rejection_notice'
    do(case, 'notify_rejection', REJECTION)
    assert case.status == 'completed'


def test_township_refusal_sends_the_rejection_notice(app, clock):
    case = start()
    to_decision(case, amount=3000)
    do(case, 'leader_confirm', confirmation(False), actor='leader1')
    assert set(ready(case)) == {'notify_rejection'}
    do(case, 'notify_rejection', REJECTION)
    assert case.status == 'completed'


@pytest.mark.parametrize('standard, amount, township', [
    (900, 4500, True),            # exactly 5 months: "不超过" includes the ceiling
    (900, 4500.01, False),        # one fen above
    (700.03, 3500.15, True),      # 700.03 * 5 is 3500.1499999999996 in floating point: the table rounds
    (700.03, 3500.16, False),
])
def test_the_ceiling_edge(app, clock, standard, amount, township):
    case = start()
    to_decision(case, amount=amount, standard=standard)
    result = data(case)
    assert result['within_township_ceiling'] is township
    assert result['ceiling'] == round(standard * 5, 2)
    assert set(ready(case)) == ({'leader_confirm'} if township else {'county_approval'})


def test_not_eligible_is_rejected_without_publicity(app, clock):
    case = start()
    investigate(case)
    do(case, 'opinion', opinion(False))
    assert set(ready(case)) == {'notify_rejection'}
    assert 'publicity_expired' not in timers(case)
    do(case, 'notify_rejection', REJECTION)
    assert case.status == 'completed'


def test_democratic_review_only_when_the_survey_asks_for_it(app, clock):
    case = start()
    investigate(case, survey={'democratic_review_needed': True})
    review = ready(case)['democratic_review']
    assert (review.lane, review.role) == ('村（社区）', 'village_assistant')
    do(case, 'democratic_review', {'democratic_review': {
        'held_on': '2026-09-30', 'participants': 9, 'result': 'agree', 'record': '一致同意', 'chair_signed': True,
        'signed_by': {'name': '刘芳', 'capacity': 'director'}}},
       actor='village1')
    assert set(ready(case)) == {'opinion'}


# ------------------------------------------------------------------ publicity (公示)

def test_publicity_lasts_seven_working_days(app, clock):
    """Seed 002 (Zhalainuoer): 公示时间不少于7个工作日, so National Day and the weekend do not count."""
    case = start()
    to_decision(case, 3000)
    started = clock.now()
    do(case, 'leader_confirm', confirmation(True, 3000), actor='leader1')
    timer = timers(case, 'waiting')['publicity_expired']
    # Started Monday 09-28: 09-29, 09-30, 10-08, 10-09, Saturday 10-10 (make-up day), 10-12, 10-13.
    assert aware(timer.due_at) == datetime.fromisoformat(calendar.add_working_days(started.isoformat(), 7))
    assert aware(timer.due_at) == datetime.fromisoformat('2026-10-14T00:00:00+08:00')
    assert (timer.kind, timer.attached_to) == ('wait', 'publicity')   # guards the receive task
    expire_publicity(clock, case)
    assert set(ready(case)) == {'notify_approval'}
    assert not case.overdue                               # a period that ends is not a missed deadline
    with pytest.raises(Conflict) as err:                  # too late to object in this case
        runtime.deliver_message(case.id, 'objection', {'reason': '迟到的异议', 'raised_by': '村民'}, 'village1')
    assert err.value.code == 'not_waiting'


def object_during_publicity(clock, case):
    confirmed_and_publicised(clock, case)
    clock.advance(timedelta(days=3))
    runtime.deliver_message(case.id, 'objection', {'reason': '申请人家中有车辆', 'raised_by': '邻居'}, 'village1')
    db.session.refresh(case)
    assert timers(case)['publicity_expired'].state == 'cancelled'
    assert set(ready(case)) == {'reinvestigation'}
    assert data(case)['objection'] == {'reason': '申请人家中有车辆', 'raised_by': '邻居'}


def reinvestigated(conclusion):
    return {'reinvestigation': {'investigated_on': '2026-10-02', 'findings': '车辆已于去年报废',
                                'conclusion': conclusion}}


def test_objection_upheld_rejects(app, clock):
    case = start()
    object_during_publicity(clock, case)
    do(case, 'reinvestigation', reinvestigated('ineligible'))
    assert set(ready(case)) == {'notify_rejection'}
    do(case, 'notify_rejection', REJECTION)
    assert case.status == 'completed'


def test_objection_dismissed_and_publicised_again(app, clock):
    case = start()
    object_during_publicity(clock, case)
    again = clock.now()
    do(case, 'reinvestigation', reinvestigated('eligible_republish'))
    assert not ready(case)
    waiting = timers(case, 'waiting')['publicity_expired']     # a new, full 7-working-day period
    assert aware(waiting.due_at) == datetime.fromisoformat(calendar.add_working_days(again.isoformat(), 7))
    expire_publicity(clock, case)
    assert set(ready(case)) == {'notify_approval'}


def test_objection_dismissed_without_new_publicity(app, clock):
    case = start()
    object_during_publicity(clock, case)
    do(case, 'reinvestigation', reinvestigated('eligible'))
    assert set(ready(case)) == {'notify_approval'}
    assert set(timers(case, 'waiting')) == {'deadline'}   # only the case's total limit still runs


# ------------------------------------------------------------------ the decision table

def test_designer_changes_the_ceiling_to_two_months(app, clock):
    """Designers edit the table; the three "* 5" cells are the months (see the table's description)."""
    tree = repository.read_tree(ROOT / 'processes')
    table = tree[DMN].decode('utf-8')
    assert table.count('dibao_standard * 5') == 3
    two_months = table.replace('dibao_standard * 5', 'dibao_standard * 2').encode('utf-8')
    results = repository.deploy({BPMN: tree[BPMN], DMN: two_months}, 'designer')
    assert [(d.key, d.version, new) for d, new in results] == [(KEY, 2, True)]
    case = start()
    to_decision(case, amount=3000)                         # within 5 months of 900, above 2 months
    assert (data(case)['within_township_ceiling'], data(case)['ceiling']) == (False, 1800)
    assert set(ready(case)) == {'county_approval'}


# ------------------------------------------------------------------ transition phase (seed 004)

def test_transition_phase_puts_county_guidance_before_the_confirmation_takes_effect(app, clock):
    case = runtime.start_instance(KEY, 't01', dict(APPLICATION, entrustment_phase='transition'), 'caseworker1')
    to_decision(case, 3000)
    do(case, 'leader_confirm', confirmation(True, 3000), actor='leader1')
    assert set(ready(case)) == {'county_guidance_confirmation'}
    assert 'publicity_expired' not in timers(case)
    do(case, 'county_guidance_confirmation', {'county_guidance': {'result': 'agree', 'opinion': '同意'}},
       actor='county1')
    assert not ready(case) and 'publicity_expired' in timers(case, 'waiting')
