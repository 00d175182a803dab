"""The category's certificate text (最低生活保障证, 特困人员救助供养证): the third page of the
unified documents (统一行政文书) after the acceptance and decision notices.

Pure, like notices.py. A certificate is printed from the approval notice once that notice has
been issued (its task completed): the certificate repeats what the notice decided (holder,
household, amount, start month, number) and adds nothing of its own, so it can never say more
than the decision did. Before the notice is issued there is no certificate: a publicity
objection may still revoke the decision (dibao_a), and a draft certificate would be a document
in the applicant's hands without a decision behind it.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Certificate:
    key: str
    title: str
    source: str        # the approval notice it is printed from
    amount_label: str


KINDS = {c.key: c for c in (
    Certificate('dibao_certificate', '最低生活保障证', 'approval_notice', '月保障金额'),
    Certificate('tekun_certificate', '特困人员救助供养证', 'tekun_approval_notice', '基本生活标准'),
)}


def available(listing):
    """Certificates of the notices in `listing` that have been issued, each after its notice."""
    out = []
    for item in listing:
        out.append(item)
        for cert in KINDS.values():
            if cert.source == item['kind'] and item['status'] == 'issued':
                out.append({'kind': cert.key, 'title': cert.title, 'status': 'issued', 'status_zh': '已出具',
                            'task_name': item['task_name'], 'completed_by': item['completed_by'],
                            'completed_at': item['completed_at']})
    return out


def build(kind, notice):
    """The template context of a certificate from its approval notice's context."""
    cert = KINDS[kind]
    facts = [('持证人', notice['applicant']['name']), ('公民身份号码', notice['applicant']['id_number']),
             ('家庭住址', notice['applicant']['address'])]
    if notice['applicant'].get('household_size'):
        facts.append(('保障人口', f"{notice['applicant']['household_size']} 人"))
    for label, key in (('照料护理等级', 'care_level_name'), ('供养方式', 'support_mode')):
        if notice.get(key):
            facts.append((label, notice[key]))
    if notice.get('amount'):
        facts.append((cert.amount_label, f"{notice['amount']} 元"))
    if notice.get('care_amount'):
        facts.append(('照料护理标准', f"{notice['care_amount']} 元"))
    if notice.get('start_month'):
        facts.append(('起始发放月份', f"{notice['start_month']}起"))
    facts.append(('决定文号', notice['document_no']))
    return {'kind': kind, 'title': cert.title, 'status': 'issued', 'draft': False, 'issuer': notice['issuer'],
            'certificate_no': notice.get('certificate_no') or '', 'document_no': notice['document_no'],
            'issued_on': notice['issued_on'], 'decided_on': notice.get('decided_on') or '',
            'category': notice['category'], 'applicant': notice['applicant'], 'facts': facts,
            'verb': notice.get('verb') or '确认',
            'delivery': notice.get('delivery') or ''}
