"""月度备案 and 抽查复核: the county's filing of a township's month and its yearly spot check, as pages.

Both read the household records (services/households/filing.py, spot_checks.py) and decide nothing:
the filing page shows the changes of the month (new, exited, adjusted), the payment roster with
its totals, and checks a reported payment roster against it line by line; the spot-check page
draws (county supervisors), shows the seed, the population and the sample re-drawn from the seed,
and the drawn households with their home-visit cases. Every table exports to Excel.
"""
from flask import abort, flash, redirect, render_template, request, url_for

from ..errors import Conflict, Invalid
from ..services import access, exports
from ..services.households import filing, filing_reports, schedule, spot_checks
from ..services.households.effects import today
from . import export, fmt
from .core import bp, me, zh
from .fmt import CATEGORY_NAMES

CHANGE_GROUP_ZH = {'new': '新增', 'exited': '退出', 'adjusted': '调整'}


def _args(source):
    user = me()
    month = (source.get('month') or '').strip() or schedule.month_of(today())
    township = (source.get('township') or '').strip() or None
    if not access.sees_all_townships(user):
        township = user.township
    return user, township, month


def _render_filing(reported='', problems=None, error=None, status=200):
    user, township, month = _args(request.values)
    try:
        roster = filing.build(user, township, month)
    except Invalid as exc:
        return render_template('web/filing.html', roster=None, error=zh(exc.message), month=month,
                               township=township or '', county=access.sees_all_townships(user)), 422
    return render_template('web/filing.html', roster=roster, month=month, township=township or '',
                           county=access.sees_all_townships(user), groups=CHANGE_GROUP_ZH,
                           category_names=CATEGORY_NAMES, reported=reported, problems=problems,
                           problem_zh=filing.PROBLEM_ZH, error=error,
                           case_problems=filing_reports.compare(user, township, month, roster)), status


@bp.get('/filings')
def filing_page():
    return _render_filing()


@bp.post('/filings/check')
def filing_check():
    user, township, month = _args(request.form)
    reported = request.form.get('reported', '')
    try:
        lines = filing.parse_reported(reported)
    except Invalid as exc:
        return _render_filing(reported, None, zh(exc.message), 422)
    expected = filing.build(user, township, month)
    return _render_filing(reported, filing.compare(expected, lines))


def _format(file_format):
    if file_format not in ('xlsx', 'csv'):
        abort(404)
    return file_format


PAYMENT_COLUMNS = [('家庭编号', 10, 'int'), ('户主', 12, 'text'), ('救助类别', 18, 'text'), ('人口', 8, 'int'),
                   ('月发放金额（元）', 16, 'text')]
CHANGE_COLUMNS = [('变动', 8, 'text'), ('家庭编号', 10, 'int'), ('户主', 12, 'text'), ('月金额（元）', 14, 'text'),
                  ('理由', 40, 'text')]


@bp.get('/filings/payment.<string:file_format>')
def filing_payment_export(file_format):
    user, township, month = _args(request.args)
    _format(file_format)
    roster = filing.build(user, township, month)
    rows = [[line['household_id'], line['head_name'], CATEGORY_NAMES.get(line['category'], '其他'), line['size'],
             line['amount']] for line in roster['payment']]
    totals = roster['totals']
    rows.append(['', f'合计 {totals["households"]} 户', '', totals['persons'], totals['amount']])
    exports.record(user, 'filing_payment', file_format, len(rows) - 1, False, {'township': township, 'month': month})
    title = f'{fmt.township(township) if township else "全区"}{month}发放名册'
    return export.response(file_format, title, PAYMENT_COLUMNS, rows)


@bp.get('/filings/changes.<string:file_format>')
def filing_changes_export(file_format):
    user, township, month = _args(request.args)
    _format(file_format)
    roster = filing.build(user, township, month)
    rows = [[CHANGE_GROUP_ZH[group], c['household_id'], c['head_name'], c['amount'], c['reason']]
            for group in ('new', 'exited', 'adjusted') for c in roster['changes'][group]]
    exports.record(user, 'filing_changes', file_format, len(rows), False, {'township': township, 'month': month})
    title = f'{fmt.township(township) if township else "全区"}{month}变动名册'
    return export.response(file_format, title, CHANGE_COLUMNS, rows)


REPORT_COLUMNS = [('镇街', 14, 'text'), ('报送事项', 10, 'text'), ('案件', 10, 'text'), ('项目', 22, 'text'),
                  ('应为（按救助家庭记录）', 22, 'text'), ('报送', 14, 'text')]


@bp.get('/filings/reports.<string:file_format>')
def filing_reports_export(file_format):
    """The roster and payment cases against the records, one line per figure that differs."""
    user, township, month = _args(request.args)
    _format(file_format)
    rows = [[fmt.township(p['township']), p['source_zh'], p['instance_id'] or '', p['label'],
             '' if p['expected'] is None else p['expected'], '未报送' if p['reported'] is None else p['reported']]
            for p in filing_reports.compare(user, township, month)]
    exports.record(user, 'filing_reports', file_format, len(rows), False, {'township': township, 'month': month})
    title = f'{fmt.township(township) if township else "全区"}{month}报送核对'
    return export.response(file_format, title, REPORT_COLUMNS, rows)


# ------------------------------------------------------------------ spot checks

@bp.get('/spot-checks')
def spot_check_list():
    user = me()
    return render_template('web/spot_checks.html', draws=spot_checks.listing(user), year=today().year - 1,
                           min_percent=spot_checks.MIN_PERCENT, values={}, error=None)


@bp.post('/spot-checks')
def spot_check_draw():
    user = me()
    values = {k: request.form.get(k, '').strip() for k in ('year', 'percent', 'seed')}
    try:
        year = int(values['year'])
        percent = int(values['percent'] or spot_checks.MIN_PERCENT)
    except ValueError:
        return _draw_error(user, values, '年度和比例应为整数 (year and percent must be integers)')
    try:
        row = spot_checks.draw(user, year, percent, values['seed'] or None)
    except (Invalid, Conflict) as exc:
        return _draw_error(user, values, exc.message, exc.status)
    flash(f'已抽取 {sum(len(v) for v in row.sample.values())} 户，每户已发起区民政局入户抽查案件', 'ok')
    return redirect(url_for('web.spot_check', draw_id=row.id))


def _draw_error(user, values, message, status=422):
    return render_template('web/spot_checks.html', draws=spot_checks.listing(user), year=today().year - 1,
                           min_percent=spot_checks.MIN_PERCENT, values=values, error=zh(message)), status


@bp.get('/spot-checks/<int:draw_id>')
def spot_check(draw_id):
    row = spot_checks.get(me(), draw_id)
    return render_template('web/spot_check.html', d=spot_checks.describe(row), drawn=spot_checks.drawn(row),
                           category_names=CATEGORY_NAMES)


DRAWN_COLUMNS = [('镇街', 14, 'text'), ('家庭编号', 10, 'int'), ('户主', 12, 'text'), ('救助类别', 18, 'text'),
                 ('人口', 8, 'int'), ('入户抽查案件', 14, 'int'), ('案件状态', 10, 'text')]


@bp.get('/spot-checks/<int:draw_id>.<string:file_format>')
def spot_check_export(draw_id, file_format):
    user = me()
    _format(file_format)
    row = spot_checks.get(user, draw_id)
    rows = [[fmt.township(d['township']), d['household_id'], d['head_name'], CATEGORY_NAMES.get(d['category'], '其他'),
             d['size'], d['visit_id'], fmt.status(d['visit_status']) if d['visit_status'] else '未发起']
            for d in spot_checks.drawn(row)]
    exports.record(user, 'spot_check', file_format, len(rows), False, {'draw': draw_id})
    return export.response(file_format, f'{row.year}年抽查复核第{row.id}次', DRAWN_COLUMNS, rows)
