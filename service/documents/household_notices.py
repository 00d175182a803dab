"""What the 救助金调整（停发）告知书 of a household review says (seed 002: 救助金调整（停发）告知书存根).

Pure, like notices.py. Decisions recorded here:

- A reduction or a stop is told in writing with its reasons (S1 art. 32; S4 art. 13); a raise is
  told too, without reasons required. The reasons print as the leader wrote them (masked like any
  free text by notices.build).
- The amounts and months come from the review's decision, never from the notice form: the
  form records only the document number, the date and how it was delivered.
- A stop with a 渐退期 (income rose above the line, S1 art. 33) prints the months still paid and
  the month payment ends; the remedies are those of any administrative decision.
"""
from .wording import format_amount, format_date, format_month, reasons
# The one notice of a household review (documents/categories.py reads KINDS of every module).
KINDS = (('household_change_notice', '救助金调整（停发）告知书', '调', 'household_review', None),)
RESULT_ZH = {'raise': '调增', 'lower': '调减', 'stop': '停发', 'continue': '维持'}


def _month(text):
    text = str(text or '')
    if len(text) == 7 and text[4] == '-' and text[:4].isdigit() and text[5:].isdigit():
        return int(text[:4]), int(text[5:])
    return None


def _shift(ym, n):
    total = ym[0] * 12 + ym[1] - 1 + n
    return total // 12, total % 12 + 1


def facts(data):
    from .notices import CATEGORY_NAMES  # notices imports this module at load time
    outcome = data.get('outcome') if isinstance(data.get('outcome'), dict) else {}
    household = data.get('household') if isinstance(data.get('household'), dict) else {}
    result = outcome.get('result')
    start = _month(outcome.get('effective_month'))
    phase = int(outcome.get('phase_out_months') or 0) if result == 'stop' else 0
    stop = _shift(start, phase) if start and result == 'stop' else None
    last_paid = _shift(stop, -1) if stop and phase else None
    return {
        'title': '救助金停发告知书' if result == 'stop' else '救助金调整告知书',
        'category': CATEGORY_NAMES.get(household.get('category'), '社会救助'),
        'result': result, 'result_zh': RESULT_ZH.get(result, ''),
        'review_kind': data.get('review_kind_name') or '复核',
        'decided_on': format_date(outcome.get('decided_on')),
        'old_amount': format_amount(household.get('amount')),
        'new_amount': format_amount(outcome.get('amount')) if result in ('raise', 'lower') else '',
        'effective_month': format_month(*start) if start else '',
        'phase_out_months': phase,
        'last_paid_month': format_month(*last_paid) if last_paid else '',
        'stop_month': format_month(*stop) if stop else '',
        'reasons': reasons(outcome.get('reasons')),
    }
