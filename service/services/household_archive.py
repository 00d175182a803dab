"""一户一档: one household's archive — every case, its forms, notices, attachments and audit trail.

Seed 002 (五、档案管理) lists what a household's file holds and in what order: first the documents
of each application (单户审核确认类: 申请书、书面声明、授权书、核对报告、入户调查表、审核确认表,
then the certificates: 户籍证明、身份证明 and other proofs), then the day-to-day management
(日常管理类: 定期复核结果、告知书存根、动态管理记录 …). The archive follows that order without
naming any task: per case, the application data (what no task's form wrote), the completed
forms in the order they were done, the notices the case issued, the attachments; application
cases first, then reviews, checks, escalations and complaints by date; then the dated amounts
(动态管理记录) and the audit trail.

`gather` reads it (audited, like reading the cases); web/views_archive.py shows it, renders it as one
PDF (web/archive_pdf.py) and packs the originals in a zip.
"""
from sqlalchemy import select

from ..extensions import db
from ..models import Attachment, AuditEntry, Complaint, ProcessInstance, Task
from . import access, audit
from .households import register

# The roles of a household's cases in the archive's order (seed 002: application first).
ROLE_ORDER = {'application': 0, 'review': 1, 'spot_check': 2, 'escalated': 3, 'complaint': 4}
ROLE_ZH = dict(register.ROLE_ZH, complaint='举报核查')
SECTION_ZH = {'application': '一、单户审核确认类', 'management': '二、日常管理类', 'trail': '三、办理记录'}
MAX_AUDIT_ROWS = 5000


def _cases(household):
    linked = [(link.role, instance) for link, instance in register.cases(household.id)]
    seen = {instance.id for _, instance in linked}
    complaint_ids = db.session.scalars(select(Complaint.instance_id).where(
        Complaint.household_id == household.id, Complaint.instance_id.is_not(None))).all()
    for instance_id in complaint_ids:
        if instance_id not in seen:
            linked.append(('complaint', db.session.get(ProcessInstance, instance_id)))
    return sorted(linked, key=lambda pair: (ROLE_ORDER.get(pair[0], 9), pair[1].created_at, pair[1].id))


def _completed_tasks(instance):
    return db.session.scalars(select(Task).where(Task.instance_id == instance.id, Task.state == 'completed')
                              .order_by(Task.completed_at, Task.id)).all()


def _case_documents(user, role, instance, notices_of):
    """The documents of one case in seed order: application data, forms, notices, attachments."""
    access.check_instance_read(user, instance, instance.id)   # a close relative is excluded here too
    found = notices_of(instance)
    data, rows = found['data'], _completed_tasks(instance)
    written = {key for row in rows for key in (row.data or {})}
    start = {k: v for k, v in data.items() if k not in written and not k.startswith('_')}
    case = {'id': instance.id, 'role': role, 'role_zh': ROLE_ZH.get(role, role), 'process_name': instance.definition.name,
            'business_key': instance.business_key or '', 'status': instance.status, 'created_at': instance.created_at}
    docs = [dict(kind='application', title='申请及受理资料', case=case, data=start)]
    for row in rows:
        docs.append(dict(kind='form', title=row.name, case=case, done_at=row.completed_at, done_by=row.completed_by,
                         data=row.data or {}))
    for notice in found['notices']:
        docs.append(dict(kind='notice', title=notice['title'], case=case, notice_kind=notice['kind'],
                         document_no=notice.get('document_no') or '', issued_on=notice.get('issued_on') or ''))
    for att in db.session.scalars(select(Attachment).where(Attachment.instance_id == instance.id)
                                  .order_by(Attachment.id)):
        docs.append(dict(kind='attachment', title=att.filename, case=case, attachment_id=att.id,
                         content_type=att.content_type, size=att.size, sha256=att.sha256, uploaded_at=att.created_at))
    return docs


def gather(user, household_id, notices_of):
    """The archive as {household, documents, amounts, trail}; `notices_of(instance)` gives the case's
    data and issued notices ({'data', 'notices'}) — the documents package reads those."""
    household = register.get(user, household_id)
    documents, case_ids = [], []
    for role, instance in _cases(household):
        case_ids.append(instance.id)
        section = 'application' if role == 'application' else 'management'
        for doc in _case_documents(user, role, instance, notices_of):
            documents.append(dict(doc, section=section))
    amounts = [{'effective_month': a.effective_month, 'amount': round(a.amount_fen / 100, 2),
                'change_zh': register.CHANGE_ZH.get(a.change, a.change), 'reason': a.reason or '',
                'instance_id': a.instance_id} for a in register.amounts(household.id)]
    documents.append(dict(kind='amounts', title='救助金发放与调整记录（动态管理记录）', section='management',
                          case=None, rows=amounts))
    trail = db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id.in_(case_ids or [0]))
                               .order_by(AuditEntry.id).limit(MAX_AUDIT_ROWS)).all() if case_ids else []
    documents.append(dict(kind='trail', title='办理记录（审计日志）', section='trail', case=None,
                          rows=[{'at': e.at, 'actor': e.actor, 'action': e.action, 'instance_id': e.instance_id}
                                for e in trail]))
    for number, doc in enumerate(documents, 1):
        doc['number'] = number
    audit.record(user.username, 'household_archive_read', household_id=household.id, cases=len(case_ids),
                 documents=len(documents))
    db.session.commit()
    return {'household': household, 'documents': documents, 'case_ids': case_ids}
