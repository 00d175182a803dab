"""Finding cases from one search box: applicant name, ID number, case number or document number.

What the text looks like decides what is matched; every match runs inside the user's scope
(access.scope_instances: a township's people never find another township's case) and every
search is audited with the searched text masked, like the ID search of the API.

- an 18-character ID number: its keyed hash (`id_hash`); the number is stored only encrypted;
- a number (1–9 digits): the internal case number; a word of letters, digits and dashes: the
  business key (DEMO-001);
- a document number 〔2026〕城民救受字第 17 号: the township (its 代字), the year and the
  sequence (documents/gather.sequence), i.e. the 17th case that township started that year;
- anything else is a name: the keyed hash of the full name (`name_hash`, one index probe). When
  no full name matches, part of a name (秀兰) is looked for in the list summary's display name,
  which lists show anyway — for township staff only: a scan of their township's cases, bounded by
  the page and the total cap (district-wide it would read every case: the county gives full names).
"""
import re
from datetime import datetime

from sqlalchemy import select

from .. import crypto
from ..documents import townships
from ..documents.wording import SHANGHAI
from ..errors import Invalid
from ..extensions import db
from ..models import ProcessInstance
from . import access, audit
from .cases import CASE_ORDER, id_number_filter
from .listing import page_of
from .masking import mask_id_number

MAX_TEXT = 40
CASE_NUMBER = re.compile(r'^\d{1,9}$')
BUSINESS_KEY = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,99}$')
DOCUMENT_NUMBER = re.compile(r'^[〔\[(（]?(\d{4})[〕\])）]?(\S+?)民救\S*?字第\s*(\d{1,9})\s*号?$')


def mask_name(name):
    """王秀兰 → 王**: what the audit log keeps of a searched name."""
    return name[:1] + '*' * (len(name) - 1)


def classify(text):
    """(kind, normalised text): id_number | case_number | business_key | document_number | name."""
    text = (text or '').strip()
    if not text:
        raise _invalid('请输入申请人姓名、身份证号或案件编号 (search text required)')
    if len(text) > MAX_TEXT:
        raise _invalid(f'查找内容不能超过 {MAX_TEXT} 个字 (search text too long)')
    compact = re.sub(r'\s', '', text)
    normal = crypto.normalise_id_number(compact)
    if crypto.is_id_number(normal):
        return 'id_number', normal
    if CASE_NUMBER.match(compact):
        return 'case_number', compact
    if re.fullmatch(r'\d{10,}[\dXx]?', compact):
        # A mistyped ID number (too short, too long): say so instead of searching for it.
        id_number_filter(compact)
    if DOCUMENT_NUMBER.match(compact):
        return 'document_number', compact
    if BUSINESS_KEY.match(compact):
        return 'business_key', compact
    return 'name', crypto.normalise_name(compact)


def find_cases(user, text, per_page=30):
    """(kind, Page) of the cases matching `text` in the user's scope; audited (masked)."""
    kind, value = classify(text)
    base = access.scope_instances(user, select(ProcessInstance).options(access.WITHOUT_STATE))
    if kind == 'id_number':
        found = page_of(base.where(id_number_filter(value)), CASE_ORDER, per_page)
    elif kind == 'case_number':
        found = page_of(base.where((ProcessInstance.id == int(value)) | (ProcessInstance.business_key == value)),
                        CASE_ORDER, per_page)
    elif kind == 'business_key':
        found = page_of(base.where(ProcessInstance.business_key == value), CASE_ORDER, per_page)
    elif kind == 'document_number':
        found = page_of(base.where(ProcessInstance.id == _document_case(user, value)), CASE_ORDER, per_page)
    else:
        found = page_of(base.where(ProcessInstance.name_hash == crypto.active().name_hash(value)), CASE_ORDER, per_page)
        if not found.items and not access.sees_all_townships(user):
            # Part of a name reads the township's cases (one index range, then a filter); across
            # the whole district that would be a scan of every case, so the county searches full names.
            kind = 'name_part'
            found = page_of(base.where(_name_part(value)), CASE_ORDER, per_page)
    shown = {'id_number': mask_id_number, 'name': mask_name, 'name_part': mask_name}.get(kind, str)(value)
    audit.record(user.username, 'search_cases', kind=kind, text=shown, found=found.total)
    db.session.commit()
    return kind, found


def _name_part(value):
    name = ProcessInstance.summary['applicant_name'].as_string()
    return name.contains(value, autoescape=True)


def _document_case(user, text):
    """The case id a derived document number names, or -1 (matches nothing)."""
    year, short, seq = DOCUMENT_NUMBER.match(text).groups()
    codes = [code for code in _township_codes(user) if townships.township(code)['short'] == short]
    if len(codes) != 1 or int(seq) < 1:
        return -1
    start = datetime(int(year), 1, 1, tzinfo=SHANGHAI)
    found = db.session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.township == codes[0], ProcessInstance.created_at >= start,
        ProcessInstance.created_at < start.replace(year=int(year) + 1))
        .order_by(ProcessInstance.id).offset(int(seq) - 1).limit(1))
    return found if found is not None else -1


def _township_codes(user):
    own = set() if access.sees_all_townships(user) else {user.township}
    return sorted(set(townships.codes()) | own)


def _invalid(message):
    return Invalid(message, details={'q': message.split(' (')[0]}, code='validation_error')
