"""Every confirmed decision makes or updates a household (issue 13): legacy dibao, both 特困 flows,
低保边缘 and 刚性支出 (with its 12-month term), each through its real diagram's `household_effect`
service task; the household carries every member the application form lists, encrypted at rest.

One app per backend for the module (tests/category_helpers.py); the manual clock only.
"""
from datetime import date, timedelta

from sqlalchemy import select, text

from service import crypto
from service.extensions import db
from service.models import Household, HouseholdCase, ProcessInstance
from service.scheduler import catch_up
from service.services import auth, users
from service.services.households import register, reviews, schedule
from service.services.households.effects import SHANGHAI, today

from . import test_flow_dibao_legacy as legacy_dibao
from . import test_flow_recognition as rc
from . import test_flow_tekun as tk
from .category_helpers import app, module_app_fixture, start  # noqa: F401
from .flow_helpers import do, ready

FILES = ('legacy/dibao.bpmn', 'legacy/tekun.bpmn', 'delegated/tekun.bpmn', 'decisions/tekun_care_level.dmn',
         'common/household_review.bpmn', *rc.FILES)
module_app = module_app_fixture(FILES, 'household_categories')

SPOUSE = {'name': '李明', 'id_number': tk.resident_id('19500101'), 'relation': '配偶'}
CHILD = {'name': '李小明', 'id_number': tk.resident_id('20150501'), 'relation': '子女'}


def _with_members(application, *members):
    return dict(application, applicant=dict(application['applicant'], members=list(members)))


def _household(case):
    household = register.for_case(case.id)
    assert household is not None, 'the decision registered no household'
    return household


def test_legacy_dibao_registers_the_household_with_every_member(app, clock):
    case = start('dibao_legacy', _with_members(legacy_dibao.APPLICATION, SPOUSE, CHILD))
    legacy_dibao.to_verification(case)
    legacy_dibao.to_township_review(clock, case)
    do(case, 'county_approval', legacy_dibao.decision(True), actor='county1')
    legacy_dibao.expire(clock, case, 'approval_publicity_expired')
    do(case, 'issue_approval_notice', legacy_dibao.APPROVAL, actor='county1')
    assert register.for_case(case.id) is None                        # not before the roster entry
    do(case, 'register_roster', {'roster': {'start_month': '2026-11', 'monthly_amount': 650}}, actor='county1')
    household = _household(case)
    assert case.status == 'completed'
    assert (household.category, household.status, household.amount_fen) == ('dibao', 'receiving', 65000)
    assert [(m['name'], m['relation']) for m in household.members] == [
        (legacy_dibao.APPLICATION['applicant']['name'], '本人'), ('李明', '配偶'), ('李小明', '子女')]
    assert household.members[1]['id_number'] == SPOUSE['id_number']
    assert register.entitlement_fen(household.id, '2026-11') == 65000
    # encrypted at rest: no member's name or number in the stored text
    raw = db.session.execute(text('SELECT members FROM household WHERE id = :id'), {'id': household.id}).scalar()
    assert SPOUSE['id_number'] not in raw and '李小明' not in raw


def test_both_tekun_flows_register_the_person_with_basic_and_care_amounts(app, clock):
    legacy = start('tekun_legacy', tk.APPLICATION)
    tk.accept(legacy)
    tk.investigate(legacy)
    tk.expire_publicity(clock, legacy)
    do(legacy, 'self_care_assessment', tk.self_care(), actor='county1')
    do(legacy, 'county_confirmation', dict(tk.decision(True), **tk.NO_SPOT_CHECK), actor='county1')
    do(legacy, 'issue_approval_notice', tk.APPROVAL, actor='county1')
    first = _household(legacy)
    assert legacy.status == 'completed'
    assert (first.category, first.amount_fen, first.size) == ('tekun', 125000, 1)     # 1100 + 150
    assert first.next_review_on == schedule.next_review('tekun', 'stable', today())   # every 特困 yearly

    delegated = start('tekun_delegated', tk.APPLICATION)
    tk.accept(delegated)
    tk.investigate(delegated, tk.opinion(major_doubt=False))
    tk.expire_publicity(clock, delegated)
    do(delegated, 'self_care_assessment', tk.self_care())
    do(delegated, 'township_confirmation', tk.decision(True), actor='leader1')
    do(delegated, 'issue_approval_notice', tk.APPROVAL)
    # registered on the notice, before the county's filing review
    assert set(ready(delegated)) == {'county_filing'}
    again = _household(delegated)
    # the same person and category: the same household, with both cases
    assert again.id == first.id
    assert [link.role for link, _ in register.cases(first.id)] == ['application', 'application']


def test_marginal_is_registered_without_a_payment_and_rigid_expense_lapses_after_its_term(app, clock):
    marginal = start('marginal_dibao_delegated', _with_members(rc.APPLICATION, SPOUSE))
    rc.accept(marginal)
    rc.investigate(marginal, rc.MARGINAL)
    rc.through_publicity(clock, marginal)
    do(marginal, 'confirmation', rc.decision(True), actor='leader1')
    do(marginal, 'issue_marginal_notice', rc.RECOGNITION)
    household = _household(marginal)
    assert (household.category, household.status, household.amount_fen) == ('marginal_dibao', 'receiving', 0)
    assert len(household.members) == 2
    assert household.next_review_on == schedule.next_review('marginal_dibao', 'stable', today())

    number = tk.resident_id('19600101')
    rigid = start('rigid_expense_legacy', dict(rc.APPLICATION, applicant=dict(rc.APPLICATION['applicant'],
                                                                               name='周强', id_number=number)))
    rc.accept(rigid)
    rc.investigate(rigid, rc.RIGID)
    rc.through_publicity(clock, rigid)
    do(rigid, 'confirmation', rc.decision(True), actor='county1')
    valid_until = date.fromisoformat(rc.data_of(rigid, 'issue_rigid_notice')['valid_until'][:10])
    do(rigid, 'issue_rigid_notice', rc.RECOGNITION, actor='county1')
    household = _household(rigid)
    assert household.category == 'rigid_expense' and household.next_review_on == valid_until
    assert household.head_id_hash == crypto.active().id_hash(number)
    # the day before the term ends nothing lapses; on its last day the recognition ends (no review case)
    reviews.raise_due(valid_until - timedelta(days=1))
    db.session.refresh(household)
    assert household.status == 'receiving'
    reviews.raise_due(valid_until)
    db.session.refresh(household)
    assert household.status == 'stopped' and household.end_reason.startswith('认定有效期满')
    assert register.open_review(household.id) is None
    assert db.session.scalar(select(Household.status).where(Household.id == household.id)) == 'stopped'


def _reviews_of(household_id):
    return db.session.scalars(select(ProcessInstance).join(HouseholdCase, HouseholdCase.instance_id == ProcessInstance.id)
                              .where(HouseholdCase.household_id == household_id, HouseholdCase.role == 'review')
                              .order_by(ProcessInstance.id)).all()


def test_a_year_on_the_clock_for_households_the_flows_registered(app, clock):
    """特困 (real flow) comes due after a year and is raised with a notice; a 低保边缘 member dies in
    spring: re-checked within 3 months (continued without a notice), and the periodic review counts
    from that re-check; neither is reviewed twice."""
    from .test_households import NOTICE, _survey
    person = dict(tk.APPLICATION, applicant=dict(tk.APPLICATION['applicant'], name='吴大爷',
                                                 id_number=tk.resident_id('19450202')))
    case = start('tekun_delegated', person)
    tk.accept(case)
    tk.investigate(case, tk.opinion(major_doubt=False))
    tk.expire_publicity(clock, case)
    do(case, 'self_care_assessment', tk.self_care())
    do(case, 'township_confirmation', tk.decision(True), actor='leader1')
    do(case, 'issue_approval_notice', tk.APPROVAL)
    tekun, tekun_granted_on = _household(case).id, today()
    family = start('marginal_dibao_delegated', _with_members(dict(rc.APPLICATION, applicant=dict(
        rc.APPLICATION['applicant'], name='郑红', id_number=tk.resident_id('19750505'))), SPOUSE))
    rc.accept(family)
    rc.investigate(family, rc.MARGINAL)
    rc.through_publicity(clock, family)
    do(family, 'confirmation', rc.decision(True), actor='leader1')
    do(family, 'issue_marginal_notice', rc.RECOGNITION)
    marginal = _household(family).id
    granted_on = today()
    due_tekun = db.session.get(Household, tekun).next_review_on
    assert due_tekun == schedule.next_review('tekun', 'stable', tekun_granted_on) and due_tekun.weekday() < 5
    if auth.find_user('cw_year') is None:
        users.add_user('cw_year', '年度经办', 'township_caseworker', 't01', 'secret-pass-1', 'tester')
        db.session.commit()
    day, death_reported_on = granted_on, None
    while day < granted_on + timedelta(days=380):
        day += timedelta(days=7)
        clock.set(f'{day.isoformat()}T09:00:00+08:00')
        catch_up(app)
        db.session.expire_all()
        if death_reported_on is None and day >= granted_on + timedelta(days=120):
            # spring: the spouse died; reported from the household page's service
            instance, due_day = reviews.report_change(auth.find_user('cw_year'), marginal, 'death', '配偶病故')
            assert due_day == schedule.working_day_on_or_after(schedule.add_months(day, 3))
            death_reported_on = day
        for hid in (tekun, marginal):
            for instance in _reviews_of(hid):
                if instance.status != 'running':
                    continue
                month = schedule.shift_month(schedule.month_of(day), 1)
                do(instance, 'review_survey', _survey())
                if hid == tekun:
                    outcome = {'result': 'raise', 'amount': 1300 + 150, 'effective_month': month,
                               'reasons': '当地特困人员基本生活标准提高', 'decided_on': day.isoformat()}
                else:
                    outcome = {'result': 'continue', 'effective_month': month, 'decided_on': day.isoformat()}
                do(instance, 'review_decision', {'outcome': outcome}, actor='leader1')
                if 'issue_change_notice' in ready(instance):
                    do(instance, 'issue_change_notice', NOTICE)
                db.session.refresh(instance)
                assert instance.status == 'completed'
                if hid == tekun:
                    raised_month = month
    tekun_reviews, marginal_reviews = _reviews_of(tekun), _reviews_of(marginal)
    assert len(tekun_reviews) == 1                                      # once in the year, about 30 days early
    assert due_tekun - timedelta(days=schedule.lead_days() + 7) < tekun_reviews[0].created_at.date() <= due_tekun
    assert register.entitlement_fen(tekun, schedule.shift_month(raised_month, -1)) == 125000
    assert register.entitlement_fen(tekun, raised_month) == 145000
    assert db.session.get(Household, tekun).next_review_on > due_tekun + timedelta(days=300)
    # the death re-check only: the next periodic review counts a year from it
    assert len(marginal_reviews) == 1 and marginal_reviews[0].business_key is None
    rechecked_on = marginal_reviews[0].completed_at.astimezone(SHANGHAI).date()
    assert rechecked_on - death_reported_on < timedelta(days=8)
    assert db.session.get(Household, marginal).next_review_on == schedule.next_review(
        'marginal_dibao', 'stable', rechecked_on)


def test_the_start_page_takes_members_as_rows_and_drops_empty_ones(app):
    from werkzeug.datastructures import MultiDict

    from service.services import forms
    from service.web import formrender
    schema = forms.load('dibao_application.schema.json')
    applicant = next(f for f in formrender.fields(schema) if f.path == 'applicant')
    members = next(f for f in applicant.children if f.path == 'applicant.members')
    assert members.kind == 'group' and members.children[0].title == '家庭成员1'
    assert [f.path for f in members.children[1].children] == [
        'applicant.members.1.name', 'applicant.members.1.id_number', 'applicant.members.1.relation']
    posted = MultiDict({'applicant.name': '王秀兰', 'applicant.members.0.name': '李明',
                        'applicant.members.0.id_number': SPOUSE['id_number'], 'applicant.members.0.relation': '配偶',
                        'applicant.members.1.name': '', 'applicant.members.2.relation': '子女'})
    data = formrender.parse(schema, posted)
    assert data['applicant']['members'] == [SPOUSE, {'relation': '子女'}]
    # the half-filled row is refused with the field's own path, shown next to it
    errors = forms.field_errors(schema, data)
    assert errors.get('applicant.members.1.name') == '必填'
    values = formrender.values_from_data(schema, {'applicant': {'members': [SPOUSE]}})
    assert values['applicant.members.0.relation'] == '配偶'
