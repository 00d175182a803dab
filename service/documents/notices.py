"""The unified administrative notices (统一行政文书): case facts → what each printed notice says.

Pure functions: no database, no request. `service/documents/gather.py` reads the case and
hands over plain values; the templates in `templates/notices/` only lay the result out.

Decisions recorded here because a printed notice cannot be taken back:

- Every notice is addressed to the applicant and prints the applicant's own resident ID number
  in full: it identifies the person the decision is about (the receipt is signed against it).
  The phone number never prints. Any other ID, mobile or bank card number in the free text
  (reasons, findings, missing items, address) is masked (services/masking.py): a notice is
  copied, filed and handed over by village staff.
- The document number (文号) is the one the caseworker recorded when issuing the notice (the
  notice task's `document_no`); before that, and for a notice with no producing task, it is
  derived: 〔year the case started〕 + township 代字 + 民救 + kind 代字 + the case's sequence
  number among the township's cases of that year. The internal case number never prints.
- Dates print in Arabic numerals, 2026年10月8日 (`wording.py`, shared with the category modules).
- Benefit starts the month after the decision (S1 art. 21, "下月起"); the amount and the date
  come from the leader's decision, not from what the notice form repeats.
- Remedies are printed from the law, not from a free-text field: reconsideration within 60
  days (行政复议法 art. 20), litigation within 6 months (行政诉讼法 art. 46).
- A decision notice is issued in the name of whoever decided: the county when a county lane
  recorded the decision (every legacy approval; a delegated temporary aid above the township's
  ceiling), the township otherwise. Without a recorded decision the variant says.
- 特困, 低保边缘/刚性支出 and the subsidies have notices of their own (`categories.py`: `tekun.py`,
  `recognition.py`, `subsidies.py`); the county and the township both *confirm* (确认) 特困.
- Temporary aid (临时救助) has notices of its own: its case data (intake, opinion, one-off amount)
  is not the 低保 procedure's, so no 低保 notice is derived from it (`temporary_aid.py`); its
  acceptance, one-time and 不予受理 notices are the common ones, produced by its diagrams' tasks.
"""
from dataclasses import dataclass
from datetime import date

from . import categories, temporary_aid
from .wording import format_amount, format_date, format_month, next_month, reasons, text, to_date
from ..datapath import at
from ..services.masking import mask_data


@dataclass(frozen=True)
class Kind:
    key: str
    title: str          # for the list and the page title
    code: str           # 文号 代字 of this kind
    decision: bool = False
    category: str | None = None  # the one category whose procedure issues it; None: the 低保 family
    record: str | None = None    # the key its task's form records under, when not `key`


KINDS = {k.key: k for k in (
    Kind('acceptance_notice', '受理通知书', '受'),
    Kind('missing_materials_notice', '补正材料一次性告知书', '补'),
    Kind('refusal_notice', '不予受理告知书', '不受'),
    Kind('verification_ineligible_notice', '家庭经济状况核对结果告知书', '核'),
    Kind('approval_notice', '审核确认通知书', '确', decision=True),
    Kind('rejection_notice', '不予确认通知书', '不确', decision=True),
    Kind('temporary_aid_approval_notice', '临时救助审核确认通知书', '临', decision=True,
         category='temporary_aid', record='approval_notice'),
    Kind('temporary_aid_rejection_notice', '不予临时救助告知书', '不临', decision=True,
         category='temporary_aid', record='rejection_notice'),
)}
KINDS.update({k.key: k for k in categories.kinds(Kind)})   # 特困, 低保边缘/刚性支出, subsidies

CATEGORY_NAMES = {
    'dibao': '最低生活保障',
    'tekun': '特困人员救助供养',
    'temporary_aid': '临时救助',
    'marginal_dibao': '低保边缘家庭认定',
    'rigid_expense': '刚性支出困难家庭认定',
    'disability_subsidy': '残疾人两项补贴',
}

DELIVERY_NAMES = {
    'in_person': '当面送达',
    'mail': '邮寄送达',
    'village': '委托村（社区）送达',
    'electronic': '电子送达',
}

COUNTY_ROLES = frozenset({'county_verifier', 'county_supervisor'})


# ------------------------------------------------------------------ document numbers

def document_number(kind, sequence, township_short, started):
    """〔2026〕城民救受字第 17 号: one number per case and kind, stable from the first print on.

    `sequence`: the case's number among its township's cases started that year (gather.py), so
    the number says nothing about the system's internal ids.
    """
    year = (to_date(started) or date.today()).year
    return f'〔{year}〕{township_short}民救{KINDS[kind].code}字第 {int(sequence)} 号'


# ------------------------------------------------------------------ the diagram

def diagram_facts(user_tasks, lanes):
    """What the deployed diagram says about notices.

    `user_tasks`: (properties, lane) pairs of every user task of the process and its
    subprocesses; `lanes`: lane name → role. Returns the notice kinds some task produces and
    whether the county (not the township) does the re-examination (复查) — Fucheng's variant
    sends it to the county, the national rule (S1 art. 18) keeps it at the township.
    """
    produced, county_reexamines = set(), False
    for properties, lane in user_tasks:
        properties = properties or {}
        if properties.get('notice') in KINDS:
            produced.add(properties['notice'])
        # The task marked `reexamination` (复查) in the diagram, done in a county lane.
        if str(properties.get('reexamination', '')).lower() == 'true' and lanes.get(lane) in COUNTY_ROLES:
            county_reexamines = True
    return {'produced': produced, 'county_reexamines': county_reexamines}


# ------------------------------------------------------------------ which notices a case has

def _data_says(kind, data, case_status):
    """Whether the case data alone shows the step that this notice records."""
    result = at(data, 'acceptance.result')
    if kind == 'acceptance_notice':
        return result == 'complete' or bool(data.get('accepted_at'))
    if kind == 'missing_materials_notice':
        return result == 'incomplete' and bool(at(data, 'acceptance.missing_items'))
    if kind == 'refusal_notice':
        return result == 'ineligible'
    if kind == 'verification_ineligible_notice':
        return at(data, 'verification.eligible') is False
    # A decision is only final once the case has ended: a publicity objection may still revoke it.
    if kind == 'approval_notice':
        return case_status == 'completed' and at(data, 'decision.approved') is True
    if kind == 'rejection_notice':
        return case_status == 'completed' and at(data, 'decision.approved') is False
    return False


def _order(row):
    created = row.created_at or row.completed_at
    return (created.timestamp() if created else 0, str(row.id))


def notice_tasks(task_rows):
    """kind → the newest completed or ready task producing it (a second one-time notice after a
    supplement replaces the first)."""
    found = {}
    for row in sorted(task_rows, key=_order):
        kind = (row.properties or {}).get('notice')
        if kind in KINDS and row.state in ('completed', 'ready'):
            found[kind] = row
    return found


def available(case, data, task_rows, produced):
    """The notices this case has, in the order of the procedure.

    `case`: {'id', 'status', ...}; `data`: the case's current data; `produced`: kinds some task
    of the diagram produces (`diagram_facts`). A notice whose task has been completed is
    issued (已出具); one whose task is ready is a draft to print, sign, seal and hand over before
    completing the task (待出具); a kind the diagram has no task for follows the data.
    """
    rows = notice_tasks(task_rows)
    # A category with notices of its own has its own procedure: the 低保 data rules would misread it.
    own_kinds = any(k.category is not None and k.category == case.get('category') for k in KINDS.values())
    out = []
    for key, kind in KINDS.items():
        row = rows.get(key)
        if row is not None:
            status = 'issued' if row.state == 'completed' else 'draft'
        elif key not in produced and not own_kinds and _data_says(key, data, case.get('status')):
            status = 'issued'
        else:
            continue
        out.append({'kind': key, 'title': kind.title, 'status': status,
                    'status_zh': '已出具' if status == 'issued' else '待出具',
                    'task_name': row.name if row is not None else None,
                    'completed_by': row.completed_by if row is not None else None,
                    'completed_at': row.completed_at if row is not None else None})
    return out


# ------------------------------------------------------------------ one notice

def _decision_task(task_rows):
    """The completed task that recorded the decision (its form carries `decision`)."""
    done = [r for r in task_rows if r.state == 'completed' and isinstance((r.data or {}).get('decision'), dict)]
    return max(done, key=_order) if done else None


def build(kind, case, data, task_rows, status, *, township, district, county_reexamines, today):
    """The template context of one notice.

    `case`: {'sequence', 'created_at', 'category', 'variant', 'status'}; `data`: the data the
    producing task saw (or the case data); `township`: {'name', 'short'}; `district`: the
    bodies of `townships.district()`; `today`: the date a draft is dated.
    """
    spec = KINDS[kind]
    row = notice_tasks(task_rows).get(kind)
    record = spec.record or kind
    recorded = data.get(record) if isinstance(data.get(record), dict) else {}
    if row is not None and isinstance((row.data or {}).get(record), dict):
        recorded = row.data[record]
    applicant = data.get('applicant') if isinstance(data.get('applicant'), dict) else {}
    acceptance = data.get('acceptance') if isinstance(data.get('acceptance'), dict) else {}
    decision = data.get('decision') if isinstance(data.get('decision'), dict) else {}
    verification = data.get('verification') if isinstance(data.get('verification'), dict) else {}
    # A county escalated review names the category of the household it is about.
    category = categories.matter(case.get('category'), data) or CATEGORY_NAMES.get(case.get('category')) or \
        CATEGORY_NAMES.get(at(data, 'household.category'), '社会救助')
    legacy = case.get('variant') == 'legacy'

    issued = status == 'issued'
    issued_on = recorded.get('issued_on') or (row.completed_at if row is not None and row.completed_at else None)
    if issued_on is None and not issued:
        issued_on = today
    if issued_on is None:
        issued_on = _fallback_day(kind, data, task_rows) or today

    county = spec.decision and _county_decided(legacy, task_rows, row)
    refusal = _temporary_aid_refusal(data, task_rows) if kind == 'temporary_aid_rejection_notice' else None
    if refusal is not None and refusal['stage'] != 'decision':
        county = False  # the township's own finding ended the case before anyone decided
    issuer = district['bureau'] if county else township['name']
    title = spec.title
    if kind in ('approval_notice', 'temporary_aid_approval_notice'):
        title = category + ('审批通知书' if county else '审核确认通知书')
    elif kind == 'rejection_notice':
        title = category + ('不予批准通知书' if county else spec.title)

    ctx = {
        'kind': kind, 'title': title, 'status': status, 'draft': not issued,
        'issuer': issuer, 'township_name': township['name'],
        'document_no': text(recorded.get('document_no')) or document_number(
            kind, case['sequence'], township['short'], case.get('created_at')),
        'issued_on': format_date(issued_on),
        'category': category,
        'applicant': {
            'name': text(applicant.get('name')) or '申请人',
            'address': text(applicant.get('address')),
            'household_size': applicant.get('household_size'),
        },
        'delivery': DELIVERY_NAMES.get(recorded.get('delivery'), ''),
        'district': district,
        'verb': '批准' if county else '确认',
        'remedies': None,
    }
    # The date the applicant wrote on the application, where the form asks for it (临时救助).
    applied_on = format_date(at(data, 'application.applied_on') or case.get('created_at'))
    ctx['applied_on'] = applied_on

    if kind == 'acceptance_notice':
        ctx['accepted_on'] = format_date(data.get('accepted_at') or acceptance.get('checked_on')
                                         or at(data, 'intake.accepted_on') or issued_on)
        # What follows acceptance, where the category's procedure is not 低保's (temporary aid).
        ctx['next_steps'] = categories.next_steps(case.get('category'), data, legacy)
    elif kind == 'missing_materials_notice':
        ctx['items'] = [str(i).strip() for i in (acceptance.get('missing_items') or []) if str(i).strip()]
        ctx['deadline'] = format_date(recorded.get('deadline'))
    elif kind == 'refusal_notice':
        ctx['reasons'] = reasons(acceptance.get('reason'), recorded.get('reason'))
        ctx['remedies'] = remedies(district)
    elif kind == 'verification_ineligible_notice':
        ctx['reasons'] = reasons(recorded.get('reason'), verification.get('summary'))
        ctx['report_no'] = text(verification.get('report_no'))
        ctx['reexamination_body'] = district['bureau'] if county_reexamines else township['name']
    elif kind == 'approval_notice':
        decided = decision.get('decided_on') or _completed_day(_decision_task(task_rows))
        start = next_month(decided)
        recorded_start = text(recorded.get('start_month'))
        if start is None and len(recorded_start) == 7:
            start = (int(recorded_start[:4]), int(recorded_start[5:]))
        amount = decision.get('amount', recorded.get('monthly_amount'))
        ctx.update(decided_on=format_date(decided), amount=format_amount(amount),
                   start_month=format_month(*start) if start else '',
                   certificate_no=text(recorded.get('certificate_no')))
    elif kind == 'rejection_notice':
        decided = decision.get('decided_on') or _completed_day(_decision_task(task_rows))
        ctx['decided_on'] = format_date(decided)
        ctx['revoked'] = isinstance(data.get('objection_review'), dict) and \
            data['objection_review'].get('result') == 'approval_revoked'
        ctx['reasons'] = reasons(decision.get('reasons'), recorded.get('reason'))
        ctx['remedies'] = remedies(district)
    elif kind == 'temporary_aid_approval_notice':
        decided = decision.get('decided_on') or _completed_day(_decision_task(task_rows))
        method = recorded.get('aid_method') or at(data, 'opinion.aid_method')
        ctx.update(temporary_aid.facts(data), decided_on=format_date(decided),
                   amount=format_amount(decision.get('amount', recorded.get('amount', data.get('amount')))),
                   aid_method=temporary_aid.AID_METHOD_NAMES.get(method, ''), in_kind=method == 'goods',
                   causes=reasons(at(data, 'application.situation'), at(data, 'opinion.reasons')))
    elif kind == 'temporary_aid_rejection_notice':
        ctx.update(temporary_aid.facts(data), **refusal)
        ctx['reasons'] = reasons(ctx['reasons'], recorded.get('reason'))
        ctx['remedies'] = remedies(district)
    elif spec.category in categories.MODULES:
        decided = decision.get('decided_on') or _completed_day(_decision_task(task_rows))
        ctx.update(categories.facts(kind, spec.category, data, recorded, decided, ctx), remedies=remedies(district))
    # Free text may name other people's numbers: masked. The applicant's own ID number is not.
    ctx = mask_data(ctx)
    ctx['applicant']['id_number'] = text(applicant.get('id_number'))
    return ctx


def _county_decided(legacy, task_rows, notice_row=None):
    """Whether the county made the decision a notice carries: the lane of the task that recorded it
    says; where a script recorded it (the county's escalated review), a notice issued in a county lane
    is the county's; else before the reform (legacy) the county decided."""
    row = _decision_task(task_rows)
    role = getattr(row, 'role', None) if row is not None else None
    if role:
        return role in COUNTY_ROLES
    return getattr(notice_row, 'role', None) in COUNTY_ROLES or legacy


def _temporary_aid_refusal(data, task_rows):
    return temporary_aid.refusal(data, _completed_day(_decision_task(task_rows)))


def remedies(district):
    return (f'如对本决定不服，可以自收到本文书之日起六十日内向{district["reconsideration_body"]}申请行政复议，'
            f'或者自收到本文书之日起六个月内向{district["court"]}提起行政诉讼。')


def _completed_day(row):
    return row.completed_at if row is not None else None


def _fallback_day(kind, data, task_rows):
    """The day a data-derived notice is dated: when the step it records happened."""
    if kind == 'acceptance_notice':
        return data.get('accepted_at') or at(data, 'acceptance.checked_on') or at(data, 'intake.accepted_on')
    if kind in ('approval_notice', 'rejection_notice'):
        return at(data, 'decision.decided_on') or _completed_day(_decision_task(task_rows))
    return at(data, 'acceptance.checked_on')
