"""Reports and complaints (举报投诉, the 12349 hotline): recorded, verified, answered (DOMAIN.md §8).

`record` is the entry point: a township or county person writes down the source, the reporter's
contact (encrypted; may be left out — an anonymous report is still verified), the content and the
household or case it concerns. In one transaction it stores the row and starts the handling case
(processes/common/complaint_review.bpmn: the township verifies, the county answers the reporter
under the diagram's deadline). A complaint about a household still receiving also opens that
household's review (household_review, reason 举报核查) unless one is already running — then the
complaint is linked to it.

The answer is written back by the handling case's service task (operator `complaint_feedback`),
inside that case's write: the row is `answered` (or `closed` for an anonymous report) exactly when
the case passed that task, never by a separate call that could be forgotten.
"""
from sqlalchemy import select

from ..engine import service_operators
from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import Complaint, ProcessInstance
from . import access, audit, entrustments, exclusions, runtime
from .context import now
from .households import register, reviews
from .households.effects import today
from .masking import mask_phone, mask_text

PROCESS_KEY = 'complaint_review'
SOURCES = {'hotline_12349': '12349热线', 'letter': '来信', 'visit': '来访', 'online': '网上举报',
           'referral': '上级转办', 'other': '其他'}
STATUS_ZH = {'open': '办理中', 'answered': '已答复', 'closed': '已办结（匿名）'}
SUBSTANTIATED_ZH = {'substantiated': '举报属实', 'partly': '部分属实', 'unfounded': '举报不实'}
MAX_TEXT = 4000


def _text(value, field, label, required=False, limit=MAX_TEXT):
    text = str(value or '').strip()
    if required and not text:
        raise Invalid(f'请填写{label} ({field} required)', details={field: f'请填写{label}'}, code=f'{field}_required')
    if len(text) > limit:
        raise Invalid(f'{label}过长，最多 {limit} 字 ({field} too long)', details={field: f'最多 {limit} 字'},
                      code='too_long')
    return text or None


def _subject(user, household_id, instance_id):
    """The household and the case a complaint names, checked like reading them (404 when not visible)."""
    household = subject = None
    if household_id:
        household = register.get(user, int(household_id))
    if instance_id:
        subject = db.session.get(ProcessInstance, int(instance_id))
        access.check_instance_visible(user, subject, instance_id)
        linked = register.for_case(subject.id)
        if household is None:
            household = linked
        elif linked is not None and linked.id != household.id:
            raise Invalid('所填案件不属于所填救助家庭 (the case belongs to another household)',
                          details={'instance_id': '案件与家庭不一致'}, code='subject_mismatch')
    return household, subject


def _case_data(row, household, subject):
    data = {'complaint_id': row.id, 'has_contact': bool(row.reporter_contact),
            'received_at': row.recorded_at.isoformat(),
            'complaint': {'source': row.source, 'source_name': SOURCES[row.source], 'content': row.content,
                          'received_on': today().isoformat()}}
    if household is not None:
        members = household.members or []
        data['household_id'] = household.id
        data['applicant'] = {'name': household.head_name, 'id_number': (members[0] if members else {}).get('id_number'),
                             'household_size': household.size}
    if subject is not None:
        data['subject_instance_id'] = subject.id
    return data


def record(user, fields):
    """Record a complaint and start its handling case (and the household's review): the row back."""
    source = fields.get('source')
    if source not in SOURCES:
        raise Invalid(f'举报来源无效 (source must be one of {sorted(SOURCES)}): {source!r}',
                      details={'source': '请选择举报来源'}, code='bad_source')
    content = _text(fields.get('content'), 'content', '举报内容', required=True)
    contact = _text(fields.get('reporter_contact'), 'reporter_contact', '举报人联系方式', limit=100)
    name = _text(fields.get('reporter_name'), 'reporter_name', '举报人姓名', limit=50)
    household, subject = _subject(user, fields.get('household_id'), fields.get('instance_id'))
    township = household.township if household else subject.township if subject else \
        (fields.get('township') if access.sees_all_townships(user) else user.township)
    access.check_complaint_record(user, township)
    if township not in entrustments.staffed_townships():
        raise Invalid(f'没有这个镇街 (no such township): {township}', details={'township': '请选择镇街'},
                      code='bad_township')
    row = Complaint(township=township, source=source, reporter_name=name, reporter_contact=contact,
                    content=content, household_id=household.id if household else None,
                    subject_instance_id=subject.id if subject else None, status='open',
                    recorded_by=user.username, recorded_at=now())
    db.session.add(row)
    db.session.flush()
    audit.record(user.username, 'complaint_recorded', complaint_id=row.id, source=source, township=township,
                 household_id=row.household_id, subject_instance_id=row.subject_instance_id)

    def attach(instance, data):
        row.instance_id = instance.id
        # 近亲属回避 and the county's 100 % visit, as for an application (county_visits.sweep).
        exclusions.apply_exclusions(instance, data)
    runtime.start_instance(PROCESS_KEY, township, _case_data(row, household, subject), user.username,
                           business_key=f'举报-{row.id}', prepare=attach)
    if household is not None and household.status in ('receiving', 'suspended'):
        _open_review(user, row, household)
    return row


def _open_review(user, row, household):
    running = register.open_review(household.id)
    if running is not None:
        row.review_instance_id = running
        db.session.commit()
        return

    def prepare(instance, data):
        reviews.link_review(household, instance)
        exclusions.apply_exclusions(instance, data)     # as reviews.start_review does
        row.review_instance_id = instance.id
    due_day = reviews.reported_due_day('complaint')
    runtime.start_instance(reviews.PROCESS_KEY, household.township,
                           reviews.review_data(household, 'complaint', due_day, f'举报：{row.content}'),
                           user.username, prepare=prepare)


def get(user, complaint_id):
    row = db.session.get(Complaint, complaint_id)
    access.check_complaint_visible(user, row, complaint_id)
    return row


def listing(user, status=None, township=None, limit=200):
    access.check_complaint_read(user)
    stmt = access.scope_township(user, select(Complaint).order_by(Complaint.id.desc()), Complaint.township, township)
    if status:
        stmt = stmt.where(Complaint.status == status)
    return db.session.scalars(stmt.limit(limit)).all()


def summary(row):
    """A complaint in a list: no reporter, the content shortened and masked."""
    content = mask_text(row.content or '')
    return {'id': row.id, 'township': row.township, 'source': row.source, 'source_zh': SOURCES.get(row.source, ''),
            'content_short': content if len(content) <= 40 else content[:40] + '…',
            'household_id': row.household_id, 'instance_id': row.instance_id, 'status': row.status,
            'status_zh': STATUS_ZH.get(row.status, row.status), 'recorded_at': row.recorded_at,
            'recorded_by': row.recorded_by}


def detail(user, complaint_id):
    """One complaint, the reporter's contact masked; reading it is audited (it names the reporter)."""
    row = get(user, complaint_id)
    audit.record(user.username, 'complaint_read', complaint_id=row.id)
    db.session.commit()
    return dict(summary(row), content=row.content, reporter_name=row.reporter_name or '',
                reporter_contact_masked=mask_phone(row.reporter_contact) if row.reporter_contact else '',
                subject_instance_id=row.subject_instance_id, review_instance_id=row.review_instance_id,
                substantiated=row.substantiated or '',
                substantiated_zh=SUBSTANTIATED_ZH.get(row.substantiated, '') if row.substantiated else '',
                feedback=row.feedback or '', answered_at=row.answered_at)


def complaint_feedback(params):
    """The operator: the handling case passed its last step; the verification and answer go on its row.

    A handling case started without `record` (the generic start, a designer's scenario) gets its
    row here, from the case's own data and without a reporter: every complaint case is listed.
    """
    instance = service_operators.current_case()
    if instance is None:
        raise Invalid('只能在案件办理中登记举报答复 (complaint feedback runs inside a case write)', code='no_case')
    substantiated = params.get('substantiated')
    if substantiated not in SUBSTANTIATED_ZH:
        raise Invalid(f'核查结论无效 (substantiated): {substantiated!r}', code='bad_substantiated')
    row = db.session.scalar(select(Complaint).where(Complaint.instance_id == instance.id))
    if row is None:
        source = params.get('source') if params.get('source') in SOURCES else 'other'
        row = Complaint(township=instance.township, source=source, content=str(params.get('content') or ''),
                        instance_id=instance.id, status='open', recorded_by=instance.started_by or 'system',
                        recorded_at=instance.created_at)
        db.session.add(row)
    if row.status != 'open':
        raise Conflict('该举报已办结 (the complaint is already closed)', code='complaint_closed')
    row.substantiated = substantiated
    if params.get('answered'):
        feedback = str(params.get('feedback') or '').strip()
        if not feedback:
            raise Invalid('答复内容为空 (feedback text required)', code='feedback_required')
        row.feedback, row.answered_at, row.status = feedback, now(), 'answered'
    else:
        row.status = 'closed'
    db.session.flush()
    audit.record('system:complaint', 'complaint_closed', instance_id=instance.id, complaint_id=row.id,
                 status=row.status, substantiated=substantiated)
    return {'complaint_id': row.id, 'status': row.status}


def install():
    service_operators.bind('complaint_feedback', complaint_feedback)
