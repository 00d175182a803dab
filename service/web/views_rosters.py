"""The monthly rosters as files (Excel and CSV, the lists' export helper): the payment roster
(发放名册: every household entitled that month, its amount) and the roster of changes (变动名册:
new, exited, adjusted), both computed from the household records by services/households/filing.py.

`?township=t01&month=2026-11`; a township's staff get their own township, the county any or the
whole district (no township). Each download is audited like the other exports.
"""
from flask import abort, request

from ..services import exports
from ..services.households import filing, register
from ..services.households.schedule import check_month
from ..services.context import now
from . import export, fmt
from .core import bp, me

FORMATS = ('xlsx', 'csv')
GROUPS_ZH = {'new': '新纳入', 'exited': '退出', 'adjusted': '调整'}

PAYMENT_COLUMNS = [('户号', 8, 'int'), ('户主', 12, 'text'), ('镇街', 12, 'text'), ('救助类别', 14, 'text'),
                   ('人数', 6, 'int'), ('月救助金额（元）', 16, 'text')]
CHANGE_COLUMNS = [('变动', 8, 'text'), ('户号', 8, 'int'), ('户主', 12, 'text'), ('变动事项', 10, 'text'),
                  ('月救助金额（元）', 16, 'text'), ('原因', 30, 'text')]


def _roster(file_format):
    if file_format not in FORMATS:
        abort(404)
    month = (request.args.get('month') or '').strip() or fmt.shanghai(now()).strftime('%Y-%m')
    check_month(month)
    township = (request.args.get('township') or '').strip()[:50] or None
    return filing.build(me(), township, month)


def _title(kind, roster):
    where = fmt.township(roster['township']) if roster['township'] else '全区'
    return f'{where}{roster["month"]}{kind}'


@bp.get('/rosters/payment.<string:file_format>')
def roster_payment_export(file_format):
    roster = _roster(file_format)
    rows = [[line['household_id'], line['head_name'], fmt.township(roster['township']) if roster['township'] else '',
             fmt.category(line['category']), line['size'], line['amount']] for line in roster['payment']]
    totals = roster['totals']
    rows.append(['合计', f'{totals["households"]} 户', '', '', totals['persons'], totals['amount']])
    exports.record(me(), 'roster_payment', file_format, len(rows) - 1, False,
                   {'township': roster['township'], 'month': roster['month']})
    return export.response(file_format, _title('发放名册', roster), PAYMENT_COLUMNS, rows)


@bp.get('/rosters/changes.<string:file_format>')
def roster_changes_export(file_format):
    roster = _roster(file_format)
    rows = [[GROUPS_ZH[group], line['household_id'], line['head_name'],
             register.CHANGE_ZH.get(line['change'], line['change']), line['amount'], line['reason']]
            for group in ('new', 'exited', 'adjusted') for line in roster['changes'][group]]
    exports.record(me(), 'roster_changes', file_format, len(rows), False,
                   {'township': roster['township'], 'month': roster['month']})
    return export.response(file_format, _title('变动名册', roster), CHANGE_COLUMNS, rows)
