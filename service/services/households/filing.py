"""Monthly filing from the household records (seed 002: 每月报送…备案; 人数、金额…相一致).

For a township and a month, everything comes from the dated amounts, nothing is typed in:

- the roster of changes: households new that month (granted), exited (stopped) and adjusted
  (raised, lowered);
- the payment roster: every household entitled to a payment that month, with its amount (the
  newest dated change in force), and the totals (households, persons, amount);
- `compare` checks a roster someone reported (a payment file, the roster case's figures) against
  it line by line: a household missing or extra, an amount that differs, totals that do not
  match. An empty list means they agree (相一致).
"""
from sqlalchemy import select

from ...errors import Invalid
from ...extensions import db
from ...models import Household, HouseholdAmount
from .. import access
from . import schedule

CHANGE_GROUPS = {'grant': 'new', 'stop': 'exited', 'raise': 'adjusted', 'lower': 'adjusted'}


def _rows(township, month):
    """Every dated change up to `month` of the township's households (None: all), with the household."""
    stmt = select(HouseholdAmount, Household).join(Household, Household.id == HouseholdAmount.household_id) \
        .where(HouseholdAmount.effective_month <= month)
    if township is not None:
        stmt = stmt.where(Household.township == township)
    return db.session.execute(
        stmt.order_by(Household.id, HouseholdAmount.effective_month, HouseholdAmount.id)).all()


def build(user, township, month):
    """`township` None: the caller's own township, or the whole district for the county."""
    if township is None and not access.sees_all_townships(user):
        township = user.township
    if township is not None:
        access.check_township_records(user, township)
    else:
        access.require_case_reader(user)
    schedule.check_month(month)
    current, households = {}, {}
    changes = {'new': [], 'exited': [], 'adjusted': []}
    for amount, household in _rows(township, month):
        current[household.id] = amount.amount_fen          # ordered: the newest in force wins
        households[household.id] = household
        group = CHANGE_GROUPS.get(amount.change)
        if group and amount.effective_month == month:
            changes[group].append({'household_id': household.id, 'head_name': household.head_name,
                                   'change': amount.change, 'amount': amount.amount_fen / 100,
                                   'reason': amount.reason or ''})
    lines = [{'household_id': hid, 'head_name': households[hid].head_name, 'size': households[hid].size,
              'category': households[hid].category, 'amount': fen / 100}
             for hid, fen in current.items() if fen > 0]
    return {'township': township or '', 'month': month, 'changes': changes, 'payment': lines,
            'totals': {'households': len(lines), 'persons': sum(line['size'] for line in lines),
                       'amount': round(sum(current[line['household_id']] for line in lines) / 100, 2)}}


def compare(expected, reported_lines, reported_total=None):
    """Differences between the roster from the records and a reported one, line by line."""
    want = {line['household_id']: round(float(line['amount']), 2) for line in expected['payment']}
    got = {}
    problems = []
    for line in reported_lines:
        hid = int(line['household_id'])
        if hid in got:
            problems.append({'household_id': hid, 'problem': 'duplicate', 'expected': want.get(hid),
                             'reported': float(line['amount'])})
        got[hid] = round(float(line['amount']), 2)
    for hid, amount in want.items():
        if hid not in got:
            problems.append({'household_id': hid, 'problem': 'missing', 'expected': amount, 'reported': None})
        elif got[hid] != amount:
            problems.append({'household_id': hid, 'problem': 'amount', 'expected': amount, 'reported': got[hid]})
    for hid, amount in got.items():
        if hid not in want:
            problems.append({'household_id': hid, 'problem': 'extra', 'expected': None, 'reported': amount})
    total = round(sum(got.values()), 2) if reported_total is None else round(float(reported_total), 2)
    if total != expected['totals']['amount']:
        problems.append({'household_id': None, 'problem': 'total', 'expected': expected['totals']['amount'],
                         'reported': total})
    return problems


PROBLEM_ZH = {'missing': '名册中应有而未列入', 'extra': '不应发放而列入', 'amount': '金额与核定不一致',
              'duplicate': '重复列入', 'total': '合计金额不一致'}


def parse_reported(text):
    """A reported payment roster typed or pasted as lines "家庭编号 金额" (tabs, commas or spaces
    between; a header line and empty lines are skipped): [{household_id, amount}], or Invalid
    naming the first line that is not such a pair."""
    lines = []
    for number, raw in enumerate(str(text or '').splitlines(), start=1):
        parts = [p for p in raw.replace('，', ' ').replace(',', ' ').replace('\t', ' ').split(' ') if p]
        if not parts or (number == 1 and not parts[0].isdigit()):
            continue
        try:
            if len(parts) != 2:
                raise ValueError
            lines.append({'household_id': int(parts[0]), 'amount': round(float(parts[1]), 2)})
        except ValueError:
            raise Invalid(f'第 {number} 行应为「家庭编号 金额」两项，如 12 650.00 (line {number}: household id and amount)',
                          details={'reported': f'第 {number} 行格式不对'}, code='bad_roster_line') from None
    if not lines:
        raise Invalid('请填写要核对的发放名册，每行「家庭编号 金额」 (no roster lines)',
                      details={'reported': '请填写发放名册'}, code='bad_roster_line')
    return lines
