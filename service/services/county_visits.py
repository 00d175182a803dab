"""The county's 100 % home visits (百分之百入户核查, DOMAIN.md §8.2) as county tasks, not only a flag.

Cases of a close relative of staff (近亲属备案: declared on the form or found in the register) and
reported cases (被举报) are all visited by the county bureau. Each gets one case of
`county_visit` (processes/common/county_visit.bpmn) beside it, whose one task is the county
supervisors'; the subject case carries `review_required` and goes on as before.

- `open_for` starts the visit of one case, once: its business key `入户核查-<case>` is a
  `calendar_start` row committed with the visit (as the monthly and review cases are), so a
  second call, or two processes at once, start nothing more.
- `relative_registered` is called when a close relative is registered: every case still open of
  that person (the applicant or a member of the household) gets the exclusion row (the relative no
  longer sees or acts on it), the flag and a visit — the registration is checked again after the start, not only at it.
- `sweep` starts the visits still missing (a case flagged before this existed, or whose visit
  could not start because the diagram was not deployed): the scheduler's daily job runs it.
"""
import logging

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..errors import NotFound
from ..extensions import db
from ..models import CaseExclusion, ProcessInstance
from ..scheduler.models import CalendarStart
from . import audit, case_members, exclusions, repository, runtime
from .context import now

log = logging.getLogger('jiuzhu.county_visits')

PROCESS_KEY = 'county_visit'
REASONS = {'close_relative': '近亲属备案', 'reported': '被举报'}
OPEN = exclusions.OPEN


def business_key(instance_id):
    return f'入户核查-{instance_id}'


def visit_of(instance_id):
    """The visit case of a case (its id), or None."""
    return db.session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.business_key == business_key(instance_id)))


def open_for(instance, reason, actor, applicant=None):
    """Start the county's visit of `instance` (once); the visit case, or None when there is one already
    or the diagram is not deployed yet (the sweep starts it later)."""
    key = business_key(instance.id)
    if db.session.get(CalendarStart, key) is not None:
        return None
    try:
        repository.latest(PROCESS_KEY)
    except NotFound:
        log.warning('%s is not deployed: the visit of case %s waits for the sweep', PROCESS_KEY, instance.id)
        return None
    summary = instance.summary or {}
    applicant = dict(applicant or {'name': summary.get('applicant_name') or ''})
    applicant.pop('members', None)
    data = {'subject_instance_id': instance.id, 'subject_business_key': instance.business_key or '', 'visit_reason': reason,
            'visit_reason_name': REASONS[reason], 'applicant': applicant}
    db.session.add(CalendarStart(business_key=key, process_key=PROCESS_KEY, township=instance.township,
                                 period=now().strftime('%Y-%m'), created_at=now()))
    def prepare(visit, _data):
        # Whoever stays out of the case stays out of its visit too (lists read these rows).
        for username in db.session.scalars(select(CaseExclusion.username).where(
                CaseExclusion.instance_id == instance.id)):
            db.session.add(CaseExclusion(instance_id=visit.id, username=username, reason='subject_excluded'))
    try:
        visit = runtime.start_instance(PROCESS_KEY, instance.township, data, actor, business_key=key, prepare=prepare)
    except IntegrityError:
        db.session.rollback()
        log.info('%s was started by another process', key)
        return None
    audit.record(actor, 'county_visit_opened', instance_id=instance.id, visit_id=visit.id, reason=reason)
    db.session.commit()
    return visit


def relative_registered(username, id_hash, actor, applicant=None):
    """A close relative registered while cases of that person's household are open (the person is the
    applicant or a member: services/case_members.py): exclude, flag, visit."""
    cases = db.session.scalars(select(ProcessInstance).where(
        or_(ProcessInstance.id_hash == id_hash, ProcessInstance.id.in_(case_members.cases_of(id_hash))),
        ProcessInstance.status.in_(OPEN), ProcessInstance.process_key != PROCESS_KEY)
        .order_by(ProcessInstance.id)).all()
    for instance in cases:
        for target in (instance.id, visit_of(instance.id)):    # the case, and its visit if it has one
            if target is not None and db.session.scalar(select(CaseExclusion.id).where(
                    CaseExclusion.instance_id == target, CaseExclusion.username == username)) is None:
                db.session.add(CaseExclusion(instance_id=target, username=username, reason='registered_later'))
        instance.review_required = True
        audit.record(actor, 'close_relative_excluded', instance_id=instance.id, staff=username)
    db.session.commit()
    # The registered person is the visit's applicant only when they applied; a member's case names its applicant.
    return [open_for(instance, 'close_relative', actor, applicant if instance.id_hash == id_hash else None)
            for instance in cases]


def sweep(actor='system:county_visit'):
    """Start the visits missing for open flagged cases; the visit cases started."""
    flagged = db.session.scalars(select(ProcessInstance).where(
        ProcessInstance.review_required.is_(True), ProcessInstance.status.in_(OPEN),
        ProcessInstance.process_key != PROCESS_KEY).order_by(ProcessInstance.id)).all()
    started = []
    for instance in flagged:
        if db.session.get(CalendarStart, business_key(instance.id)) is None:
            visit = open_for(instance, 'close_relative', actor)
            if visit is not None:
                started.append(visit)
    return started
