"""The `household_effect` service operator: what a decision does to the household register.

A diagram calls it from a service task (processes/README.md, "救助家庭"), naming the effect and
handing over the data by expressions, so each diagram maps its own form data:

  effect=grant    category, amount (元/月), start_month (YYYY-MM), applicant {name, id_number,
                  household_size, members [{name, id_number, relation}]}, optional members [...]
                  (instead of the applicant's), village, review_type, valid_until (a recognition
                  with a term, 刚性支出: it lapses on that day instead of being reviewed); on the
                  county's escalated review of a refusal: link_role 'escalated' and
                  application_instance_id (the refused application, linked as the application)
  effect=review   household_id, outcome continue|raise|lower|stop, amount, effective_month,
                  reasons (required to lower or stop), phase_out_months (0-6, a stop after a rise
                  in income: 渐退期), review_type

It runs inside the write of the case that reached the service task (write.run_engine names the
case): the household rows, the dated amount and the link to the case are in that transaction,
under that case's version check, and an error holds the case in an incident like any step.
"""
from datetime import date, timedelta, timezone

from sqlalchemy import select

from ... import crypto
from ...engine import service_operators
from ...errors import Invalid
from ...extensions import db
from ...models import Household, HouseholdAmount, HouseholdCase, ProcessInstance
from .. import audit, exclusions
from ..context import now
from . import schedule

ACTOR = 'system:decision'
SHANGHAI = timezone(timedelta(hours=8))
OUTCOMES = ('continue', 'raise', 'lower', 'stop')
MAX_PHASE_OUT = 6


def today():
    return now().astimezone(SHANGHAI).date()


def to_fen(amount, what='金额'):
    try:
        value = round(float(amount) * 100)
    except (TypeError, ValueError):
        raise Invalid(f'{what}无效 (amount must be a number): {amount!r}', code='bad_amount') from None
    if value < 0:
        raise Invalid(f'{what}不能为负数 (amount must not be negative)', code='bad_amount')
    return value


def _members(applicant, members):
    """The applicant first (本人), then every member the application form lists, each person once."""
    if not (isinstance(members, list) and members):
        members = applicant.get('members')
    out = [{'name': applicant.get('name'), 'id_number': applicant.get('id_number'), 'relation': '本人'}]
    seen = {crypto.normalise_id_number(applicant.get('id_number'))}
    for member in members if isinstance(members, list) else []:
        if not isinstance(member, dict):
            continue
        number = crypto.normalise_id_number(member.get('id_number'))
        if number in seen and number:
            continue
        seen.add(number)
        out.append({'name': member.get('name') or '', 'id_number': member.get('id_number') or '',
                    'relation': member.get('relation') or ''})
    return out


def _valid_until(value):
    """The last day of a recognition with a term: a date or an ISO date-time (Beijing time)."""
    text = str(value or '')
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise Invalid(f'认定有效期无效 (valid_until must be a date): {text!r}', code='bad_household') from None


def link(household, instance, role):
    exists = db.session.scalar(select(HouseholdCase.id).where(HouseholdCase.instance_id == instance.id))
    if exists is None:
        db.session.add(HouseholdCase(household_id=household.id, instance_id=instance.id, role=role,
                                     linked_at=now()))


def _amount_row(household, instance, month, fen, change, reason=None):
    db.session.add(HouseholdAmount(household_id=household.id, effective_month=month, amount_fen=fen,
                                   change=change, reason=reason, instance_id=instance.id if instance else None,
                                   recorded_by=ACTOR, recorded_at=now()))


def grant(instance, params):
    applicant = params.get('applicant')
    if not isinstance(applicant, dict) or not applicant.get('id_number'):
        raise Invalid('登记救助家庭需要申请人及其身份证号 (applicant with id_number required)', code='bad_household')
    category = str(params.get('category') or '')
    review_type = params.get('review_type') or 'stable'
    if review_type not in schedule.REVIEW_TYPES:
        raise Invalid(f'复核类型无效 (review_type): {review_type!r}', code='bad_household')
    fen = to_fen(params.get('amount'), '月保障金额')
    start_month = schedule.check_month(params.get('start_month') or schedule.shift_month(schedule.month_of(today()), 1),
                                       '起始发放月份')
    id_hash = crypto.active().id_hash(applicant.get('id_number'))
    household = db.session.scalar(select(Household).where(Household.category == category,
                                                          Household.head_id_hash == id_hash))
    members = _members(applicant, params.get('members'))
    if household is None:
        household = Household(category=category, township=instance.township, head_id_hash=id_hash,
                              created_at=now())
        db.session.add(household)
    household.village = params.get('village') or household.village
    household.head_name = str(applicant.get('name') or '')
    household.members = members
    household.size = int(applicant.get('household_size') or len(members) or 1)
    household.review_type = review_type
    household.status = 'receiving'
    household.amount_fen = fen
    household.started_on = date(int(start_month[:4]), int(start_month[5:]), 1)
    household.ended_on = household.end_reason = household.phase_out_until = None
    # A term (刚性支出, 12 months) ends on the day the decision wrote; otherwise the review interval.
    household.next_review_on = _valid_until(params['valid_until']) if params.get('valid_until') else \
        schedule.next_review(category, review_type, today())
    household.updated_at = now()
    db.session.flush()
    _amount_row(household, instance, start_month, fen, 'grant', params.get('reason'))
    link(household, instance, params.get('link_role') or 'application')
    exclusions.household_changed(household, but=instance)     # its open reviews count new members too
    # A grant on the county's escalated review: the refused application is the household's too.
    refused = params.get('application_instance_id')
    application = db.session.get(ProcessInstance, int(refused)) if refused else None
    if application is not None:
        link(household, application, 'application')
    return household


def review(instance, params):
    household = db.session.get(Household, int(params.get('household_id') or 0))
    if household is None:
        raise Invalid('复核的救助家庭不存在 (no such household)', code='household_not_found')
    outcome = params.get('outcome')
    if outcome not in OUTCOMES:
        raise Invalid(f'复核结论无效 (outcome must be one of {OUTCOMES}): {outcome!r}', code='bad_outcome')
    reasons = str(params.get('reasons') or '').strip()
    if outcome in ('lower', 'stop') and not reasons:
        raise Invalid('减发或停发必须书面说明理由 (a reduction or stop needs written reasons)', code='reasons_required')
    month = schedule.check_month(params.get('effective_month') or schedule.shift_month(schedule.month_of(today()), 1),
                                 '生效月份')
    if params.get('review_type') in schedule.REVIEW_TYPES:
        household.review_type = params['review_type']
    day = today()
    if outcome == 'continue':
        pass
    elif outcome in ('raise', 'lower'):
        fen = to_fen(params.get('amount'), '调整后月保障金额')
        if (outcome == 'raise') != (fen > household.amount_fen) or fen == household.amount_fen:
            raise Invalid('调增须高于、调减须低于现行金额 (raise must increase, lower must decrease the amount)',
                          code='bad_amount')
        household.amount_fen = fen
        _amount_row(household, instance, month, fen, outcome, reasons or None)
    else:
        phase_out = int(params.get('phase_out_months') or 0)
        if not 0 <= phase_out <= MAX_PHASE_OUT:
            raise Invalid(f'渐退期最长 {MAX_PHASE_OUT} 个月 (phase-out of at most 6 months)', code='bad_phase_out')
        stop_month = schedule.shift_month(month, phase_out)
        if phase_out:
            household.phase_out_until = schedule.shift_month(stop_month, -1)
            _amount_row(household, instance, month, household.amount_fen, 'phase_out', reasons)
        else:
            household.status = 'stopped'
        household.ended_on = date(int(stop_month[:4]), int(stop_month[5:]), 1)
        household.end_reason = reasons
        _amount_row(household, instance, stop_month, 0, 'stop', reasons)
    household.next_review_on = None if outcome == 'stop' else \
        schedule.next_review(household.category, household.review_type, day)
    household.updated_at = now()
    link(household, instance, 'review')
    return household


EFFECTS = {'grant': grant, 'review': review}


def household_effect(params):
    """The operator: apply the effect to the case being written; the household's id and state back."""
    instance = service_operators.current_case()
    if instance is None:
        raise Invalid('只能在案件办理中登记救助家庭 (household effects run inside a case write)', code='no_case')
    effect = EFFECTS.get(params.get('effect'))
    if effect is None:
        raise Invalid(f'未知的救助家庭变更 (unknown household effect): {params.get("effect")!r}', code='bad_effect')
    household = effect(instance, params)
    db.session.flush()
    audit.record(ACTOR, f'household_{params["effect"]}', instance_id=instance.id, household_id=household.id,
                 status=household.status, amount=household.amount_fen / 100,
                 outcome=params.get('outcome'))
    return {'household_id': household.id, 'status': household.status,
            'next_review_on': household.next_review_on.isoformat() if household.next_review_on else None}


def install():
    service_operators.bind('household_effect', household_effect)
