"""A household refused 特困 or 低保 moves to the next category with its consent (一次申请、分类审核认定,
issue 12 item 2): the refusing diagram's consent task and `refer_case` service task record the move in
the case's own write; the scheduler's step starts the new case in its own transaction, on the flow the
entrustment registry picks for the township, category and day, linked both ways and shown on both pages.
"""
from datetime import date, datetime

import pytest
from sqlalchemy import select

from service.extensions import db
from service.models import AuditEntry, CaseReferral, Entrustment
from service.scheduler.referrals import start_referrals
from service.errors import Invalid
from service.services import referrals, users
from service.services.runtime import case_data

from . import test_flow_dibao_b as dibao_b
from . import test_flow_recognition as rec
from . import test_flow_tekun as tk
from .category_helpers import module_app_fixture
from .conftest import T0
from .flow_helpers import do, move_consent, ready
from .security_helpers import signed_in

FILES = ('legacy/tekun.bpmn', 'delegated/dibao_b.bpmn', 'legacy/dibao.bpmn', 'legacy/marginal_dibao.bpmn',
         'decisions/tekun_care_level.dmn', 'decisions/income_test.dmn', 'decisions/rigid_expense_test.dmn',
         'decisions/local_standards.dmn', 'decisions/assistance_classification.dmn')

module_app = module_app_fixture(FILES, 'referrals')


@pytest.fixture(scope='module')
def staff(module_app):
    users.add_user('cw1', '李经办', 'township_caseworker', 't01', 'secret-pass-1', 'tester')
    users.add_user('cw2', '王经办', 'township_caseworker', 't02', 'secret-pass-1', 'tester')
    # t01 is fully entrusted with 低保 on the 镇街确认 flow (dibao_b); t02 has no 低保 entrustment.
    db.session.add(Entrustment(township='t01', category='dibao', phase='full', variant='delegated_b',
                               valid_from=date(2026, 1, 1), created_by='tester',
                               created_at=datetime.fromisoformat(T0)))
    db.session.commit()


@pytest.fixture
def app(module_app, staff):
    module_app.extensions['jiuzhu.clock'].set(T0)
    yield module_app
    db.session.rollback()


def refuse_tekun(clock, township='t01', consent=None):
    """A legacy 特困 case the county does not confirm, up to the consent after the refusal notice."""
    case = tk.start('tekun_legacy', township=township)
    tk.accept(case)
    tk.investigate(case)
    tk.expire_publicity(clock, case)
    do(case, 'self_care_assessment', tk.self_care(['bathing']), actor='county1')
    do(case, 'county_confirmation', dict(tk.decision(False), **tk.NO_SPOT_CHECK), actor='county1')
    do(case, 'issue_rejection_notice', tk.REJECTION)
    task = ready(case)['move_consent']
    assert task.role == 'township_caseworker'
    if consent is not None:
        do(case, 'move_consent', consent)
    return case


def referral_of(case):
    return db.session.scalars(select(CaseReferral).where(CaseReferral.source_instance_id == case.id)).one()


def case_page(app, instance_id, username='cw1'):
    response = signed_in(app, username, 'secret-pass-1').get(f'/cases/{instance_id}')
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_refused_tekun_household_moves_to_dibao_on_the_flow_its_township_is_entrusted_with(app, clock):
    case = refuse_tekun(clock, consent=move_consent('dibao', consented=True))
    assert case.status == 'completed'                       # the refusal stands; the move is a new case
    row = referral_of(case)
    assert (row.status, row.category, row.township, row.target_instance_id) == ('pending', 'dibao', 't01', None)
    assert referrals.links(case.id)[0]['status'] == 'pending'

    outcome = referrals.start_pending()                      # the scheduler's step
    assert outcome == {row.id: 'started'}
    db.session.refresh(row)
    new = db.session.get(type(case), row.target_instance_id)
    assert row.status == 'started' and new.process_key == 'dibao_b'      # the entrustment in force picks it
    assert new.township == 't01' and new.started_by == referrals.ACTOR
    data = case_data(new.id)
    assert data['applicant'] == {'name': '张桂芳', 'id_number': tk.ADULT_ID, 'address': '城关镇幸福社区3号楼',
                                 'phone': '13800000000', 'household_size': 1}
    assert data['authorization_signed'] is True and data['commitment_signed'] is True
    assert data['referred_from'] == case.id and data['entrustment_phase'] == 'full'
    assert set(ready(new)) == {'check_materials'}           # the new procedure from its first step
    assert 'birth_date' not in data['applicant'] and 'application' not in data   # what dibao's form takes only

    # Linked both ways, on both case pages.
    assert referrals.links(new.id) == [dict(referrals.links(case.id)[0], direction='from',
                                            other_id=case.id, other_key='tekun_legacy', other_category='tekun')]
    html = case_page(app, case.id)
    assert '类别转入' in html and f'/cases/{new.id}' in html and '经申请人同意转入最低生活保障申请' in html
    html = case_page(app, new.id)
    assert f'/cases/{case.id}' in html and '特困人员救助供养申请不予确认后' in html

    # Started once: a second sweep (or a second scheduler) finds nothing pending.
    assert referrals.start_pending() == {} and referrals.start_one(row.id) is None
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == case.id))]
    assert 'referral_recorded' in actions and 'referral_started' in actions


def test_without_an_entrustment_the_move_starts_on_the_legacy_flow_through_the_scheduler(app, clock):
    case = refuse_tekun(clock, township='t02', consent=move_consent('dibao', consented=True))
    row = referral_of(case)
    assert start_referrals(app) == [row.id]                 # the sweep's entry, in its own app context
    db.session.expire_all()
    row = db.session.get(CaseReferral, row.id)
    new = db.session.get(type(case), row.target_instance_id)
    assert new.process_key == 'dibao_legacy' and new.township == 't02'


def test_declining_ends_the_case_without_a_referral(app, clock):
    case = refuse_tekun(clock, consent=move_consent('dibao', consented=False))
    assert case.status == 'completed'
    assert not db.session.scalars(select(CaseReferral).where(CaseReferral.source_instance_id == case.id)).all()
    assert 'referral_id' not in case_data(case.id) and referrals.links(case.id) == []


def test_consent_needs_the_signed_application_and_what_the_next_form_asks(app, clock):
    case = refuse_tekun(clock)
    with pytest.raises(Invalid) as refused:
        do(case, 'move_consent', {'category_move': {'category': 'dibao', 'informed_on': '2026-10-22',
                                                    'consented': True, 'signed_by_applicant': True}})
    assert {'category_move.documents_signed', 'category_move.phone', 'category_move.household_size'} <= \
        set(refused.value.details)


def test_a_move_that_cannot_start_is_marked_failed_and_shown_on_the_refused_case(app, clock):
    # 刚性支出 is not deployed here: the applicant's choice cannot start, the refusing case is unaffected.
    case = refuse_tekun(clock, consent=move_consent('rigid_expense', consented=True))
    row = referral_of(case)
    assert referrals.start_pending() == {row.id: 'failed'}
    db.session.refresh(row)
    assert row.status == 'failed' and row.target_instance_id is None and '没有部署' in row.error
    assert case.status == 'completed'
    html = case_page(app, case.id)
    assert '未能自动发起' in html and '没有部署' in html and 'no deployed flow' not in html
    assert referrals.start_pending() == {}                  # not retried by itself


def test_a_refused_dibao_household_moves_to_the_marginal_recognition(app, clock):
    case = dibao_b.start()
    dibao_b.accept(case)
    dibao_b.investigate(case)
    do(case, 'preliminary_opinion', dibao_b.opinion(recommendation='reject'))
    dibao_b.expire_publicity(clock, case)
    do(case, 'township_confirmation', dibao_b.decision(False), actor='leader1')
    do(case, 'issue_rejection_notice', {'rejection_notice': dict(dibao_b.NOTICE, reason='收入超标',
                                                                          remedies='可于60日内申请行政复议')})
    assert ready(case)['move_consent']                      # the next category is offered by the diagram
    do(case, 'move_consent', move_consent('marginal_dibao', consented=True, household_size=3))
    row = referral_of(case)
    assert referrals.start_pending() == {row.id: 'started'}
    db.session.refresh(row)
    new = db.session.get(type(case), row.target_instance_id)
    assert new.process_key == 'marginal_dibao_legacy'       # no 低保边缘 entrustment: the county decides
    data = case_data(new.id)
    assert data['application'] == {'applied_on': '2026-10-22', 'applied_by': 'self'}
    assert data['applicant']['household_size'] == 3 and data['referred_from'] == case.id


def test_a_recognition_sorted_into_dibao_starts_the_dibao_case_instead_of_ending_by_hand(app, clock):
    """The recognition flow's own move up (分类认定为低保, with consent) records the referral too."""
    case = rec.start('marginal_dibao_legacy', rec.APPLICATION)
    rec.accept(case)
    rec.investigate(case, rec.DIBAO)
    do(case, 'category_consent', rec.consent(True))
    assert case.status == 'completed'
    row = referral_of(case)
    assert row.category == 'dibao' and '分类认定为最低生活保障' in row.reason
    assert referrals.start_pending() == {row.id: 'started'}
    db.session.refresh(row)
    new = db.session.get(type(case), row.target_instance_id)
    assert new.process_key == 'dibao_b'                     # t01's 低保 entrustment picks the flow
    data = case_data(new.id)
    assert data['applicant'] == {'name': '刘建华', 'id_number': '11010519491231002X', 'phone': '13800000000',
                                 'address': '城关镇幸福社区5号楼', 'household_size': 3}


def test_the_case_history_names_the_referral_steps_in_chinese(app, clock):
    from service.web import fmt, people
    for action in ('referral_recorded', 'referral_started', 'referral_failed', 'start_referred'):
        assert fmt.ACTION_NAMES[action] and fmt.ACTION_NAMES[action].isascii() is False
    with app.test_request_context():
        assert people.name(referrals.ACTOR) == '系统（类别转入自动发起）'
