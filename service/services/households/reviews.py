"""Raising review cases (动态管理): periodic ones when due, event-driven ones when a change is reported.

A review is a case of `household_review` (processes/common/household_review.bpmn): survey,
the leader's decision (continue / raise / lower / stop), the adjustment or stop notice, and the
`household_effect` service task that writes the result. This module only starts them:

- periodic: `raise_due` (the scheduler, daily, and after the demo clock moved) starts one for
  every household whose next review falls within `lead_days`; its deadline is the due date.
  Idempotent like the monthly cases: the business key `定期复核-<household>-<due date>` is a
  `calendar_start` row committed with the case. A recognition that expires instead (刚性支出)
  is stopped on its due date, without a case: the family applies again.
- reported: `report_change` (API, page) for a change the family or the village reports, a
  member's death (re-checked within 3 months), or the county's clean-out of doubtful data.
One review at a time per household: a second report while one runs answers 409 with its number.
"""
import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...errors import Conflict, Invalid
from ...extensions import db
from ...models import Household, HouseholdAmount, HouseholdCase, ProcessDefinition
from ...scheduler.models import CalendarStart
from .. import access, audit, exclusions, runtime
from ..context import now
from . import register, schedule
from .effects import SHANGHAI, today

log = logging.getLogger('jiuzhu.households')

PROCESS_KEY = 'household_review'
ACTOR = 'system:review'
KINDS = {'periodic': '定期复核', 'reported': '家庭情况变化', 'death': '家庭成员死亡',
         'clean_out': '专项治理（核对存疑）', 'complaint': '举报核查'}
# Kinds opened elsewhere, not by a reported change: the scheduler's, and a complaint's (services/complaints.py).
NOT_REPORTED = ('periodic', 'complaint')


def review_data(household, kind, due_day, report=''):
    members = household.members or []
    head = members[0] if members else {}
    return {
        'household_id': household.id, 'review_kind': kind, 'review_kind_name': KINDS[kind],
        'report': report or '',
        'applicant': {'name': household.head_name, 'id_number': head.get('id_number'),
                      'household_size': household.size},
        'household': {'category': household.category, 'amount': household.amount_fen / 100,
                      'review_type': household.review_type, 'status': household.status},
        'review_due_on': due_day.isoformat(),
        # The end of the due day, Beijing time: the diagram's deadline timer.
        'review_deadline': datetime.combine(due_day + timedelta(days=1), time(), SHANGHAI).isoformat(),
    }


def link_review(household, instance):
    db.session.add(HouseholdCase(household_id=household.id, instance_id=instance.id, role='review', linked_at=now()))


def reported_due_day(kind):
    """The working day an event-driven review must be done by (a death: within 3 months)."""
    months = schedule.death_recheck_months() if kind == 'death' else \
        int(schedule.intervals().get('reported_recheck_months', 1))
    return schedule.working_day_on_or_after(schedule.add_months(today(), months))


def start_review(household, kind, due_day, actor, report='', business_key=None):
    def prepare(instance, data):
        link_review(household, instance)
        # Staff registered as close relatives of any member stay out of the review too, and the flag
        # gets it the county's visit (county_visits.sweep, daily), as an application's would.
        exclusions.apply_exclusions(instance, data)
    return runtime.start_instance(PROCESS_KEY, household.township, review_data(household, kind, due_day, report),
                                  actor, business_key=business_key, prepare=prepare)


def _expire(household, day):
    """A recognition with a term (刚性支出) lapses on its due day: stopped from the next month."""
    month = schedule.shift_month(schedule.month_of(day), 1)
    household.status, household.next_review_on = 'stopped', None
    household.ended_on = date(int(month[:4]), int(month[5:]), 1)
    household.end_reason = '认定有效期满，需重新申请'
    household.updated_at = now()
    db.session.add(HouseholdAmount(household_id=household.id, effective_month=month, amount_fen=0, change='stop',
                                   reason=household.end_reason, recorded_by=ACTOR, recorded_at=now()))
    audit.record(ACTOR, 'household_expired', household_id=household.id, effective_month=month)


def _end_phase_outs(day):
    """Households whose 渐退期 ended before this month are stopped now (their stop month came)."""
    month = schedule.month_of(day)
    for household in db.session.scalars(select(Household).where(
            Household.status == 'receiving', Household.phase_out_until.is_not(None),
            Household.phase_out_until < month)):
        household.status, household.updated_at = 'stopped', now()
        audit.record(ACTOR, 'household_phase_out_ended', household_id=household.id)


def raise_due(day=None):
    """Start the due review cases, expire lapsed recognitions; the business keys started now."""
    day = day or today()
    horizon = day + timedelta(days=schedule.lead_days())
    _end_phase_outs(day)
    db.session.commit()
    due = db.session.scalars(select(Household).where(
        Household.status.in_(('receiving', 'suspended')), Household.next_review_on.is_not(None),
        Household.next_review_on <= horizon).order_by(Household.next_review_on, Household.id)).all()
    deployed = db.session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key == PROCESS_KEY).limit(1))
    started = []
    for household in due:
        if schedule.expires(household.category):
            if household.next_review_on <= day:
                _expire(household, day)
                db.session.commit()
            continue
        if deployed is None:
            continue   # nothing to start a review on yet (`jiuzhu deploy` puts it in place)
        key = f'定期复核-{household.id}-{household.next_review_on.isoformat()}'
        if register.open_review(household.id) is not None or db.session.scalar(
                select(CalendarStart.business_key).where(CalendarStart.business_key == key)) is not None:
            continue
        db.session.add(CalendarStart(business_key=key, process_key=PROCESS_KEY, township=household.township,
                                     period=schedule.month_of(household.next_review_on), created_at=now()))
        try:
            start_review(household, 'periodic', household.next_review_on, ACTOR, business_key=key)
        except IntegrityError:
            db.session.rollback()
            log.info('%s was started by another scheduler', key)
            continue
        except Exception:
            db.session.rollback()
            log.exception('could not start the review %s', key)
            continue
        started.append(key)
    return started


def report_change(user, household_id, kind, report):
    """A reported change (or death, or doubtful data) opens a review case at once: (case, due day)."""
    household = db.session.get(Household, household_id)
    access.check_report_change(user, household)
    if kind not in KINDS or kind in NOT_REPORTED:
        raise Invalid(f'变化类型无效 (kind must be reported, death or clean_out): {kind!r}',
                      details={'kind': '请选择变化类型'}, code='bad_kind')
    report = str(report or '').strip()
    if not report:
        raise Invalid('请写明变化情况 (report text required)', details={'report': '请写明变化情况'},
                      code='report_required')
    if household.status == 'stopped':
        raise Conflict('该家庭已停发，无需复核 (the household no longer receives)', code='household_stopped')
    running = register.open_review(household.id)
    if running is not None:
        raise Conflict(f'该家庭已有复核案件在办（案件 {running}） (a review is already running)',
                       details={'instance_id': running}, code='review_running')
    due_day = reported_due_day(kind)
    audit.record(user.username, 'household_change_reported', household_id=household.id, kind=kind)
    return start_review(household, kind, due_day, user.username, report=report), due_day
