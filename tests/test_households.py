"""Households after the decision (issue 13): a confirmed dibao decision registers the household in
the case's own write; a year of the clock raises the periodic reviews on their frequencies; reviews
adjust, stop (with 渐退期) and continue, with the notices; any month's entitlement is recomputed.

Real diagrams (dibao_a, household_review), the real scheduler entry (`catch_up`), the manual clock.
"""
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from service import crypto
from service.extensions import db
from service.models import AuditEntry, Household, HouseholdAmount, HouseholdCase, ProcessInstance
from service.scheduler import catch_up
from service.services import auth, users
from service.services.households import register, schedule
from service.services.households.effects import today as shanghai_today

from .flow_helpers import APPLICATION, deployed_app, do, ready
from .test_flow_dibao_a import APPROVAL, accept_and_investigate, decision, expire_publicity, start

FILES = ('delegated/dibao_a.bpmn', 'delegated/dibao_b.bpmn', 'common/household_review.bpmn')


@pytest.fixture
def app(make_app):
    yield from deployed_app(make_app, FILES)


def granted_household(clock):
    case = start()
    accept_and_investigate(case)
    do(case, 'township_confirmation', decision(True), actor='leader1')
    expire_publicity(clock, case)
    do(case, 'issue_approval_notice', APPROVAL)
    assert case.status == 'completed'
    return case, register.for_case(case.id)


def test_a_confirmed_dibao_decision_registers_the_household(app, clock):
    case, household = granted_household(clock)
    assert household is not None and household.status == 'receiving'
    assert (household.category, household.township, household.amount_fen) == ('dibao', 't01', 65000)
    assert household.head_name == '王秀兰' and household.size == 3
    assert household.head_id_hash == crypto.active().id_hash(APPLICATION['applicant']['id_number'])
    assert household.members[0]['id_number'] == APPLICATION['applicant']['id_number']
    # yearly for a stable 低保 household, on a working day
    today = shanghai_today()
    assert household.next_review_on == schedule.next_review('dibao', 'stable', today)
    assert household.next_review_on.weekday() < 5 and household.next_review_on >= date(today.year + 1, today.month, 1)
    # the entitlement starts with the notice's start month
    assert register.entitlement_fen(household.id, '2026-10') == 0
    assert register.entitlement_fen(household.id, '2026-11') == 65000
    assert register.entitlement_fen(household.id, '2030-01') == 65000
    assert [(link.role, inst.id) for link, inst in register.cases(household.id)] == [('application', case.id)]
    # the audit entry was written with the case's completion
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.instance_id == case.id,
                                                             AuditEntry.action == 'household_grant'))
    # personal data at rest: neither the name nor the ID number is stored in clear
    raw = db.session.execute(text('SELECT head_name, members FROM household')).one()
    assert '王秀兰' not in raw[0] and APPLICATION['applicant']['id_number'] not in raw[1]


def test_dibao_b_registers_the_household_too(app, clock):
    from . import test_flow_dibao_b as b
    case = b.start()
    b.accept(case)
    b.investigate(case)
    started = clock.now()
    do(case, 'preliminary_opinion', b.opinion())
    b.expire_publicity(clock, case, started)
    do(case, 'township_confirmation', b.decision(True), actor='leader1')
    do(case, 'issue_approval_notice', APPROVAL)
    household = register.for_case(case.id)
    assert case.status == 'completed' and household.status == 'receiving' and household.amount_fen == 65000


def _fixture_household(category, review_type, name, number, on, amount_fen=50000):
    """A household as a decision `on` that day would have left it (for the categories other
    helpers' diagrams grant)."""
    household = Household(category=category, township='t01', review_type=review_type, status='receiving',
                          head_name=name, head_id_hash=crypto.active().id_hash(number),
                          members=[{'name': name, 'id_number': number, 'relation': '本人'}], size=1,
                          amount_fen=amount_fen, started_on=on.replace(day=1),
                          next_review_on=schedule.next_review(category, review_type, on))
    db.session.add(household)
    db.session.flush()
    db.session.add(HouseholdAmount(household_id=household.id, effective_month=schedule.shift_month(
        schedule.month_of(on), 1), amount_fen=amount_fen, change='grant', recorded_by='tester', recorded_at=None))
    db.session.commit()
    return household.id


def _review_cases():
    rows = db.session.execute(select(HouseholdCase.household_id, ProcessInstance).join(
        ProcessInstance, ProcessInstance.id == HouseholdCase.instance_id).where(HouseholdCase.role == 'review')).all()
    return {(hid, inst.id): inst for hid, inst in rows}


def _survey(review_type='stable', income_rose=False):
    return {'review': {'surveyed_on': '2027-01-05', 'per_capita_income': 300, 'review_type': review_type,
                       'income_rose': income_rose, 'findings': '入户核实家庭人口、收入情况'}}


NOTICE = {'household_change_notice': {'document_no': '城民救调字〔2027〕1号', 'issued_on': '2027-01-06',
                                      'delivery': 'in_person'}}


def _notice_html(app, case):
    if auth.find_user('cw_h') is None:
        users.add_user('cw_h', '李经办', 'township_caseworker', 't01', 'secret-pass-1', 'tester')
        db.session.commit()
    token, _ = auth.issue_token(auth.find_user('cw_h'))
    response = app.test_client().get(f'/cases/{case.id}/notices/household_change_notice',
                                      headers={'Authorization': f'Bearer {token}'})
    assert response.status_code == 200
    return response.get_data(as_text=True)


STEP = 7   # days the clock moves between two scheduler runs


def test_a_year_of_reviews_on_their_frequencies(app, clock):
    case, household = granted_household(clock)
    a = household.id
    granted_on = shanghai_today()
    b = _fixture_household('dibao', 'irregular', '李四', '110105198001010018', granted_on)
    c = _fixture_household('tekun', 'stable', '张三', '110105194001010015', granted_on, 80000)
    d = _fixture_household('rigid_expense', 'stable', '赵六', '11010519700101001X', granted_on, 30000)
    due = {h: db.session.get(Household, h).next_review_on for h in (a, b, c, d)}
    assert due[b] == schedule.next_review('dibao', 'irregular', granted_on)           # half a year
    assert (due[b] - granted_on).days < 190 and (due[a] - granted_on).days > 360
    raised_on, done = {}, set()
    day = granted_on
    while day < granted_on + timedelta(days=400):
        day += timedelta(days=STEP)
        clock.set(f'{day.isoformat()}T09:00:00+08:00')
        catch_up(app)
        db.session.expire_all()
        for (hid, instance_id), instance in _review_cases().items():
            raised_on.setdefault(hid, day)
            if (hid, instance_id) in done or instance.status != 'running':
                continue
            done.add((hid, instance_id))
            if hid == b:        # income rose with a job: stopped after a 3-month 渐退期
                do(instance, 'review_survey', _survey('irregular', income_rose=True))
                month = schedule.shift_month(schedule.month_of(day), 1)
                do(instance, 'review_decision', {'outcome': {
                    'result': 'stop', 'effective_month': month, 'phase_out_months': 3,
                    'reasons': '家庭成员就业，人均收入超过当地低保标准', 'decided_on': day.isoformat()}}, actor='leader1')
                assert set(ready(instance)) == {'issue_change_notice'}
                html = _notice_html(app, instance)
                assert '停发' in html and '3个月渐退期' in html and '家庭成员就业' in html
                do(instance, 'issue_change_notice', NOTICE)
                household = db.session.get(Household, b)
                assert household.next_review_on is None and household.phase_out_until == \
                    schedule.shift_month(month, 2)
                assert register.entitlement_fen(b, schedule.shift_month(month, 2)) == 50000   # still paid
                assert register.entitlement_fen(b, schedule.shift_month(month, 3)) == 0       # stopped
                b_stop_month = schedule.shift_month(month, 3)
            elif hid == c:      # 特困: nothing changed, continue without a notice
                do(instance, 'review_survey', _survey())
                do(instance, 'review_decision', {'outcome': {
                    'result': 'continue', 'effective_month': schedule.shift_month(schedule.month_of(day), 1),
                    'decided_on': day.isoformat()}}, actor='leader1')
                assert not ready(instance)
            elif hid == a:   # 低保 lowered, with reasons and a notice
                do(instance, 'review_survey', _survey())
                month = schedule.shift_month(schedule.month_of(day), 1)
                do(instance, 'review_decision', {'outcome': {
                    'result': 'lower', 'amount': 500, 'effective_month': month,
                    'reasons': '子女外出务工收入增加', 'decided_on': day.isoformat()}}, actor='leader1')
                assert '调减' in _notice_html(app, instance)
                do(instance, 'issue_change_notice', NOTICE)
                assert register.entitlement_fen(a, schedule.shift_month(month, -1)) == 65000
                assert register.entitlement_fen(a, month) == 50000
            db.session.refresh(instance)
            assert instance.status == 'completed'
    # raised about lead_days before they were due: b at half a year, a and c at a year; d never
    lead = timedelta(days=schedule.lead_days())
    for hid in (a, b, c):
        assert due[hid] - lead <= raised_on[hid] < due[hid] - lead + timedelta(days=STEP), hid
    assert d not in raised_on
    households = {h.id: h for h in db.session.scalars(select(Household))}
    assert households[d].status == 'stopped' and households[d].end_reason.startswith('认定有效期满')
    assert households[b].status == 'stopped' and b_stop_month <= schedule.month_of(day)
    assert households[c].status == 'receiving' and households[c].next_review_on > due[c] + timedelta(days=300)
    assert households[a].amount_fen == 50000 and households[a].status == 'receiving'
    # one review case each, however many sweeps ran
    assert sorted(hid for hid, _ in _review_cases()) == sorted([a, b, c])


def test_a_reduction_without_reasons_is_refused(app, clock):
    from service.errors import Invalid
    from service.services import forms
    case, household = granted_household(clock)
    db.session.get(Household, household.id).next_review_on = shanghai_today() + timedelta(days=5)
    db.session.commit()
    catch_up(app)
    (instance,) = _review_cases().values()
    do(instance, 'review_survey', _survey())
    row = ready(instance)['review_decision']
    with pytest.raises(Invalid):
        forms.validate(forms.task_form(row)['schema'], {'outcome': {
            'result': 'lower', 'amount': 500, 'effective_month': '2027-01', 'decided_on': '2026-12-01'}})
