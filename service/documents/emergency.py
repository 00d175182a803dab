"""The emergency temporary-aid registration and signature sheet (临时救助先行救助登记及签字表).

急难型临时救助 is paid first (先行救助, within 24 hours) and put in writing afterwards: within 5
working days the township registers the recipient, the cause and the amount, and collects the
signatures and the seal it skipped (民发〔2018〕23号; processes/delegated/temporary_aid.bpmn, the
`backfill` task). This sheet is that paper: printed while the backfill task is open, signed by the
recipient and the staff, sealed, filed in the household's file; the task records that it was.

Pure like notices.py: `gather.py`-style reading happens in sheets.py. Which task prints it is said
by the diagram (the task property `sheet` = `emergency_registration`), not by task names here.
Like every notice, it prints the recipient's own ID number in full (the receipt is signed against
it) and never the phone number; other numbers in free text are masked.
"""
from ..services.masking import mask_data
from . import notices, temporary_aid
from .wording import format_amount, format_date, text, to_date

KEY = 'emergency_registration'
TITLE = '临时救助（急难型）先行救助登记及签字表'
CODE = '急'
METHODS = {'cash': '发放临时救助金', 'goods': '发放实物'}
SIGNATURES = (('caseworker_signed', '经办人'), ('reviewer_signed', '审核人'), ('leader_signed', '分管领导'))

_DIGITS = '零壹贰叁肆伍陆柒捌玖'
_UNITS = ('', '拾', '佰', '仟')
_SECTIONS = ('', '万', '亿')


def amount_in_words(value):
    """人民币大写 of an amount in yuan (to the fen), as a receipt for money writes it; '' if not a number."""
    try:
        fen = round(float(value) * 100)
    except (TypeError, ValueError):
        return ''
    if fen < 0 or fen >= 10 ** 14:
        return ''
    yuan, jiao, fen = fen // 100, fen // 10 % 10, fen % 10
    words = ''
    if yuan:
        groups, section = [], 0
        while yuan:
            groups.append((yuan % 10000, section))
            yuan //= 10000
            section += 1
        pending_zero = False
        for group, section in reversed(groups):
            if group == 0:
                pending_zero = bool(words)
                continue
            digits = f'{group:04d}'
            part = ''
            for i, d in enumerate(digits):
                if d == '0':
                    pending_zero = bool(words or part)
                    continue
                if pending_zero:
                    part += '零'
                    pending_zero = False
                part += _DIGITS[int(d)] + _UNITS[3 - i]
            words += part + _SECTIONS[section]
        words += '元'
    if not jiao and not fen:
        return (words or '零元') + '整'
    if jiao:
        words += _DIGITS[jiao] + '角'
    elif words:
        words += '零'
    if fen:
        words += _DIGITS[fen] + '分'
    return words


def sheet_task(task_rows):
    """The newest ready or completed task whose diagram property asks for this sheet, or None."""
    found = [r for r in task_rows if (r.properties or {}).get('sheet') == KEY and r.state in ('ready', 'completed')]
    return max(found, key=notices._order) if found else None


def _dict(data, key):
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def build(case, data, row, *, township, today):
    """The template context. `case`: as gather._case; `data`: the case data; `row`: the sheet's task."""
    applicant, application = _dict(data, 'applicant'), _dict(data, 'application')
    intake, first_aid = _dict(data, 'intake'), _dict(data, 'first_aid')
    recorded = _dict(row.data or {}, 'registration') if row.state == 'completed' else {}
    signed = _dict(row.data or {}, 'signatures') if row.state == 'completed' else {}
    amount = recorded.get('amount', first_aid.get('amount'))
    year = (to_date(case.get('created_at')) or today).year
    ctx = {
        'title': TITLE, 'draft': row.state != 'completed',
        'issuer': township['name'],
        'document_no': f'〔{year}〕{township["short"]}民救{CODE}字第 {int(case["sequence"])} 号',
        'printed_on': format_date(today),
        'applicant': {'name': text(recorded.get('recipient_name'), applicant.get('name')) or '申请人',
                      'address': text(applicant.get('address')),
                      'household_size': applicant.get('household_size')},
        'hardship': temporary_aid.HARDSHIP_NAMES.get(intake.get('hardship'), ''),
        'aid_type': temporary_aid.AID_TYPE_NAMES.get(intake.get('aid_type'), ''),
        'reported_at': format_date(data.get('reported_at')),
        'situation': text(recorded.get('reason'), application.get('situation'), intake.get('description')),
        'method': METHODS.get(first_aid.get('method'), ''),
        'in_kind': first_aid.get('method') == 'goods',
        'amount': format_amount(amount),
        'amount_words': amount_in_words(amount),
        'paid_on': format_date(recorded.get('paid_on') or first_aid.get('paid_on') or data.get('paid_at')),
        'handled_by': text(first_aid.get('handled_by')),
        'note': text(first_aid.get('note')),
        'signatures': [(label, bool(signed.get(key))) for key, label in SIGNATURES],
        'sealed': bool(signed.get('seal_affixed')),
    }
    ctx = mask_data(ctx)
    ctx['applicant']['id_number'] = text(recorded.get('recipient_id_number'), applicant.get('id_number'))
    return ctx
