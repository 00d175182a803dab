"""The county's supervision cases (DOMAIN.md §8): written rectification orders and escalated reviews.

Both are cases of diagrams, so their deadlines, tasks and overdue marks are the ordinary ones:

- `issue_rectification` — 书面整改意见 (processes/common/rectification_order.bpmn): the county
  writes the problems, the requirement and the deadline; the township leader replies with the
  measures; the county closes it or sends it back. The deadline is the end of the given day
  (Beijing time), the diagram's non-interrupting timer: past it, the case is overdue like any other.
- `escalate` — 提级复核（一事一议） (processes/common/escalated_review.bpmn): the county takes up a
  disputed township result about a household; overturning it writes the new decision through the
  `household_effect` operator (the household's dated amounts) and the township leader signs for it.
  `escalate_refusal` takes up an application the township refused: overturned, the county issues
  the approval notice and the household is registered as by any granting decision.
"""
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import HouseholdCase, ProcessInstance
from . import access, audit, entrustments, exclusions, runtime
from .context import now
from .households import register, schedule
from .households.effects import SHANGHAI, today

RECTIFICATION = 'rectification_order'
ESCALATED = 'escalated_review'
RAISED_BY = {'applicant': '申请人', 'reporter': '举报人', 'county': '区民政局监督发现', 'township': '镇街报请'}
OPEN = exclusions.OPEN


def _required(fields, name, label, limit):
    text = str(fields.get(name) or '').strip()
    if not text:
        raise Invalid(f'请填写{label} ({name} required)', details={name: f'请填写{label}'}, code=f'{name}_required')
    if len(text) > limit:
        raise Invalid(f'{label}过长，最多 {limit} 字 ({name} too long)', details={name: f'最多 {limit} 字'},
                      code='too_long')
    return text


def _day(value, name, label):
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or ''))
    except ValueError:
        raise Invalid(f'{label}格式应为 2026-11-30 ({name} must be YYYY-MM-DD)', details={name: '日期格式有误'},
                      code='bad_date') from None


def end_of_day(day):
    """24:00 of `day` in Beijing: a deadline `day` is met all that day."""
    return datetime.combine(day + timedelta(days=1), time(), SHANGHAI).isoformat()


def issue_rectification(user, fields):
    access.check_oversight(user)
    township = _required(fields, 'township', '镇街', 50)
    if township not in entrustments.staffed_townships():
        raise Invalid(f'没有这个镇街 (no such township): {township}', details={'township': '请选择镇街'},
                      code='bad_township')
    subject = _required(fields, 'subject', '问题概述', 200)
    content = _required(fields, 'content', '整改意见', 4000)
    document_no = _required(fields, 'document_no', '文号', 100)
    deadline = _day(fields.get('deadline'), 'deadline', '整改期限')
    issued = today()
    if deadline <= issued:
        raise Invalid('整改期限应晚于今天 (the deadline must be after today)', details={'deadline': '应晚于今天'},
                      code='bad_deadline')
    data = {'order': {'document_no': document_no, 'issued_on': issued.isoformat(), 'subject': subject,
                      'content': content, 'deadline': deadline.isoformat()},
            'rectify_deadline': end_of_day(deadline)}
    audit.record(user.username, 'rectification_issued', township=township, document_no=document_no,
                 deadline=deadline.isoformat())
    return runtime.start_instance(RECTIFICATION, township, data, user.username, business_key=f'整改-{document_no}')


def open_escalation(household_id):
    return db.session.scalar(
        select(ProcessInstance.id).join(HouseholdCase, HouseholdCase.instance_id == ProcessInstance.id)
        .where(HouseholdCase.household_id == household_id, HouseholdCase.role == 'escalated',
               ProcessInstance.status.in_(OPEN)).limit(1))


def escalate(user, household_id, fields):
    access.check_oversight(user)
    household = register.get(user, household_id)
    raised_by = fields.get('raised_by')
    if raised_by not in RAISED_BY:
        raise Invalid(f'争议提出方无效 (raised_by must be one of {sorted(RAISED_BY)}): {raised_by!r}',
                      details={'raised_by': '请选择争议提出方'}, code='bad_raised_by')
    content = _required(fields, 'content', '争议事项', 4000)
    disputed = fields.get('disputed_instance_id')
    if disputed:
        linked = register.for_case(int(disputed))
        if linked is None or linked.id != household.id:
            raise Invalid('所填案件不是该家庭的案件 (the disputed case is not this household\'s)',
                          details={'disputed_instance_id': '不是该家庭的案件'}, code='subject_mismatch')
    running = open_escalation(household.id)
    if running is not None:
        raise Conflict(f'该家庭已有提级复核在办（案件 {running}） (an escalated review is already running)',
                       details={'instance_id': running}, code='escalation_running')
    members = household.members or []
    data = {'household_id': household.id, 'disputed_instance_id': int(disputed) if disputed else None,
            'dispute': {'raised_by': raised_by, 'raised_by_name': RAISED_BY[raised_by], 'content': content},
            'applicant': {'name': household.head_name, 'id_number': (members[0] if members else {}).get('id_number'),
                          'household_size': household.size},
            'household': {'category': household.category, 'amount': household.amount_fen / 100,
                          'status': household.status, 'registered': True}}

    def prepare(instance, data):
        db.session.add(HouseholdCase(household_id=household.id, instance_id=instance.id, role='escalated',
                                     linked_at=now()))
        # Close relatives of any member stay out, and the county visits, as for an application.
        exclusions.apply_exclusions(instance, data)
    audit.record(user.username, 'review_escalated', household_id=household.id, disputed_instance_id=disputed,
                 raised_by=raised_by)
    return runtime.start_instance(ESCALATED, household.township, data, user.username, prepare=prepare)


def escalate_refusal(user, instance_id, fields):
    """提级复核 of an application the township refused (no household yet): overturning it grants aid
    through the same `household_effect` grant a granting decision uses, with the county's notice."""
    access.check_oversight(user)
    refused = db.session.get(ProcessInstance, instance_id)
    access.check_instance_read(user, refused, instance_id)
    category = refused.definition.category if refused.definition is not None else None
    data = runtime.case_data(refused.id) if refused.status == 'completed' else {}
    decision = data.get('decision') if isinstance(data.get('decision'), dict) else {}
    if decision.get('approved') is not False or register.for_case(refused.id) is not None \
            or category not in schedule.intervals()['categories']:
        raise Conflict(f'案件 {refused.id} 不是已办结的不予确认（批准）的救助申请，不能按此提级复核 '
                       f'(only a refused, completed application can be escalated this way)', code='not_refused')
    raised_by = fields.get('raised_by')
    if raised_by not in RAISED_BY:
        raise Invalid(f'争议提出方无效 (raised_by must be one of {sorted(RAISED_BY)}): {raised_by!r}',
                      details={'raised_by': '请选择争议提出方'}, code='bad_raised_by')
    content = _required(fields, 'content', '争议事项', 4000)
    key = f'提级复核-{refused.id}'
    running = db.session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.process_key == ESCALATED, ProcessInstance.business_key == key,
        ProcessInstance.status.in_(OPEN)).limit(1))
    if running is not None:
        raise Conflict(f'该申请已有提级复核在办（案件 {running}） (an escalated review is already running)',
                       details={'instance_id': running}, code='escalation_running')
    applicant = data.get('applicant') if isinstance(data.get('applicant'), dict) else {}
    start = {'household_id': None, 'disputed_instance_id': refused.id,
             'dispute': {'raised_by': raised_by, 'raised_by_name': RAISED_BY[raised_by], 'content': content},
             'applicant': applicant,
             'household': {'category': category, 'amount': 0, 'status': 'applying', 'registered': False}}
    audit.record(user.username, 'review_escalated', disputed_instance_id=refused.id, raised_by=raised_by,
                 refused=True)
    return runtime.start_instance(ESCALATED, refused.township, start, user.username, business_key=key,
                                  prepare=exclusions.apply_exclusions)


def listing(user, process_key, township=None, limit=200):
    """The county's cases of one kind, newest first, as a township or the county sees them."""
    stmt = access.scope_instances(user, select(ProcessInstance).where(ProcessInstance.process_key == process_key))
    stmt = access.scope_township(user, stmt, ProcessInstance.township, township)
    return db.session.scalars(stmt.order_by(ProcessInstance.id.desc()).limit(limit)).all()


def summary(instance):
    return {'id': instance.id, 'township': instance.township, 'business_key': instance.business_key or '',
            'status': instance.status, 'overdue': bool(instance.overdue), 'waiting_for': instance.waiting_for or '',
            'created_at': instance.created_at, 'completed_at': instance.completed_at,
            'applicant_name': (instance.summary or {}).get('applicant_name') or ''}
