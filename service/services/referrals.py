"""Moves to the next category (一次申请、分类审核认定, seed 002; DOMAIN §6): a household refused 特困 or
低保 — or sorted into another category by the recognition flow — applies for the next one with its
consent, without applying again by hand.

The rule (which category comes next, what the new application says) is the refusing diagram's: a
consent task and a service task calling the `refer_case` operator with the category and the new
case's application built by expressions. This module only carries it out, in two steps:

1. `refer_case` runs inside the refusing case's write (write.run_engine names the case): it adds a
   `case_referral` row (an outbox) to that transaction, under that case's version check. Starting
   the new case right there would not be safe: `runtime.start_instance` commits on its own, the
   new case's engine steps (its own service tasks) would run while the operator context names the
   refusing case, and a new case that cannot start (no entrustment in force, its start form not
   satisfied) would hold the refusing case in an incident.
2. `start_pending` (the scheduler's sweep; tests call it directly) starts each pending referral in
   a transaction of its own, on the flow the entrustment registry picks for the township, category
   and day (as a caseworker's start would), with the start form's checks; the new case and the
   referral's `started` mark commit together, claimed by a conditional UPDATE so two schedulers
   never start it twice. A referral that cannot start is marked `failed` with the reason, shown on
   the refusing case's page; nothing retries it by itself.
"""
import logging

from sqlalchemy import or_, select, update

from ..engine import service_operators
from ..errors import Invalid, JiuzhuError
from ..extensions import db
from ..models import CaseReferral, ProcessInstance
from . import audit, entrustments, exclusions, forms, runtime
from .context import now

log = logging.getLogger('jiuzhu.referrals')

ACTOR = 'system:referral'
STATUS_ZH = {'pending': '待发起', 'started': '已发起', 'failed': '未能发起'}


# ------------------------------------------------------------------ step 1: the operator

def refer_case(params):
    """The operator: record the move for the case being written; the referral's number back (the
    diagram keeps it as `referral_id`)."""
    instance = service_operators.current_case()
    if instance is None:
        raise Invalid('只能在案件办理中转入其他类别 (referrals run inside a case write)', code='no_case')
    category = str(params.get('category') or '').strip()
    application = params.get('application')
    if not category:
        raise Invalid('未指明转入的救助类别 (category required)', code='bad_referral')
    if not isinstance(application, dict):
        raise Invalid('转入申请的内容应为对象 (application must be an object)', code='bad_referral')
    row = CaseReferral(source_instance_id=instance.id, township=instance.township, category=category,
                       data=application, reason=str(params.get('reason') or '').strip() or None,
                       status='pending', attempts=0, created_at=now())
    db.session.add(row)
    db.session.flush()
    audit.record(ACTOR, 'referral_recorded', instance_id=instance.id, referral_id=row.id, category=category)
    return row.id


def install():
    service_operators.bind('refer_case', refer_case)


# ------------------------------------------------------------------ step 2: the new case

def _fit(schema, data):
    """`data` cut to what the form declares (nested objects too), unknown values (None) left out: the
    refusing diagram hands over one application for any target category, each start form takes its own
    fields of it, and a field the old case never knew is missing rather than empty."""
    declared = schema.get('properties') if isinstance(schema, dict) else None
    if not isinstance(data, dict) or not isinstance(declared, dict):
        return data
    return {key: _fit(declared[key], value) for key, value in data.items() if key in declared and value is not None}


def _start(row):
    """Start the referral's case; returns the new case (commits), or raises (nothing committed)."""
    definition = entrustments.definition_for(row.category, row.township)
    facts = entrustments.check_start(definition, row.township)
    data = dict(row.data or {})
    form_name = forms.start_form_name(definition)
    if form_name:
        schema = forms.load(form_name, definition)
        data = _fit(schema, data)
        forms.validate(schema, data, what='转入申请')
    data['referred_from'] = row.source_instance_id

    def prepare(instance, start_data):
        exclusions.apply_exclusions(instance, start_data)
        row.status, row.target_instance_id, row.started_at, row.error = 'started', instance.id, now(), None
        audit.record(ACTOR, 'referral_started', instance_id=row.source_instance_id, referral_id=row.id,
                     target_instance_id=instance.id, category=row.category)
        audit.record(ACTOR, 'start_referred', instance_id=instance.id, referral_id=row.id,
                     source_instance_id=row.source_instance_id)
    return runtime.start_instance(definition.key, row.township, dict(data, **facts), ACTOR, prepare=prepare)


def start_one(referral_id):
    """Start one pending referral in its own transaction: 'started', 'failed' or None (not pending)."""
    try:
        # The claim: a second scheduler waits on this row lock, then finds it no longer pending.
        claimed = db.session.execute(update(CaseReferral).where(
            CaseReferral.id == referral_id, CaseReferral.status == 'pending')
            .values(attempts=CaseReferral.attempts + 1)).rowcount
        if not claimed:
            db.session.rollback()
            return None
        row = db.session.get(CaseReferral, referral_id)
        _start(row)            # commits the new case with the referral's mark
        return 'started'
    except JiuzhuError as exc:
        message = exc.message
    except Exception as exc:   # a diagram error at start is an Invalid already; anything else is logged
        log.exception('starting referral %s failed', referral_id)
        message = f'发起出错：{exc}'
    db.session.rollback()
    row = db.session.get(CaseReferral, referral_id)
    if row is None or row.status != 'pending':
        return None
    row.status, row.error = 'failed', message[:2000]
    audit.record(ACTOR, 'referral_failed', instance_id=row.source_instance_id, referral_id=row.id,
                 category=row.category, error=row.error)
    db.session.commit()
    return 'failed'


def start_pending(limit=50):
    """Start the pending referrals, oldest first; {referral id: outcome}."""
    ids = db.session.scalars(select(CaseReferral.id).where(CaseReferral.status == 'pending')
                             .order_by(CaseReferral.id).limit(limit)).all()
    db.session.rollback()
    return {referral_id: start_one(referral_id) for referral_id in ids}


# ------------------------------------------------------------------ the case pages

def links(instance_id):
    """The moves from and to a case, for its page: [{direction, category, status, other case…}]."""
    rows = db.session.scalars(select(CaseReferral).where(or_(
        CaseReferral.source_instance_id == instance_id, CaseReferral.target_instance_id == instance_id))
        .order_by(CaseReferral.id)).all()
    others = {r.target_instance_id if r.source_instance_id == instance_id else r.source_instance_id for r in rows}
    cases = {c.id: c for c in db.session.scalars(select(ProcessInstance).where(
        ProcessInstance.id.in_([o for o in others if o is not None])))} if others else {}
    out = []
    for row in rows:
        outgoing = row.source_instance_id == instance_id
        other = cases.get(row.target_instance_id if outgoing else row.source_instance_id)
        out.append({'direction': 'to' if outgoing else 'from', 'category': row.category,
                    'status': row.status, 'status_zh': STATUS_ZH.get(row.status, row.status),
                    'error': row.error, 'reason': row.reason, 'created_at': row.created_at,
                    'other_id': other.id if other is not None else None,
                    'other_key': other.process_key if other is not None else None,
                    'other_category': other.definition.category if other is not None else None})
    return out
