"""The monthly filing and the spot check as pages (issue 13): the month's changes and payment roster from
the records, a pasted roster checked line by line, the draw with its seed and population, the drawn
households with their visit cases, and each table as an Excel file; township staff see their own."""
import io
from datetime import datetime, timezone

from openpyxl import load_workbook

from service.extensions import db
from service.services import runtime

from .api_helpers import PASSWORD
from .flow_helpers import do
from .security_helpers import csrf_of, signed_in
# The filing tests' app: the spot-check and monthly diagrams, township caseworkers and a county supervisor.
from .test_households_filing import IN_2026, app, household  # noqa: F401


def _sheet(response):
    assert response.status_code == 200 and response.mimetype.endswith('spreadsheetml.sheet')
    return [list(row) for row in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)]


def test_the_filing_page_shows_the_month_and_catches_a_pasted_mismatch(app):
    a = household('t01', 1, '2026-10', 60000, IN_2026)
    b = household('t01', 2, '2026-11', 45000, IN_2026)                                  # new in November
    c = household('t01', 3, '2026-05', 50000, IN_2026, [('lower', '2026-11', 30000)])  # adjusted
    d = household('t01', 4, '2026-05', 40000, IN_2026, [('stop', '2026-11', 0)])       # exited
    household('t02', 5, '2026-05', 70000, IN_2026)
    db.session.commit()
    web = signed_in(app, 'cw1', PASSWORD)
    page = web.get('/filings?month=2026-11&township=t02')     # a township's staff: always their own
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '3 户' in html and '1350.00 元' in html and '户主5' not in html
    for text in ('新增', '退出', '调整', '户主2', '户主4', '发放名册'):
        assert text in html
    # a pasted roster (a header line, tabs as Excel copies them): each difference on its own line
    pasted = f'家庭编号\t金额\n{a}\t600\n{c}\t500\n{d}\t400\n'
    checked = web.post('/filings/check', data={'month': '2026-11', 'reported': pasted, 'csrf_token': csrf_of(html)})
    body = checked.get_data(as_text=True)
    assert checked.status_code == 200 and '共 4 处' in body
    for text in ('名册中应有而未列入', '金额与核定不一致', '不应发放而列入', '合计金额不一致'):
        assert text in body
    agreeing = f'{a} 600\n{b} 450\n{c} 300\n'
    assert 'id="agrees"' in web.post('/filings/check', data={
        'month': '2026-11', 'reported': agreeing, 'csrf_token': csrf_of(html)}).get_data(as_text=True)
    bad = web.post('/filings/check', data={'month': '2026-11', 'reported': f'{a} 六百', 'csrf_token': csrf_of(html)})
    assert bad.status_code == 422 and '第 1 行' in bad.get_data(as_text=True)
    assert web.get('/filings?month=11').status_code == 422
    # Excel: the payment roster with its totals line, and the changes
    rows = _sheet(web.get('/filings/payment.xlsx?month=2026-11'))
    assert rows[0] == ['家庭编号', '户主', '救助类别', '人口', '月发放金额（元）']
    assert [r[0] for r in rows[1:4]] == [a, b, c] and rows[4][4] == 1350
    changes = _sheet(web.get('/filings/changes.xlsx?month=2026-11'))
    assert sorted((r[0], r[1]) for r in changes[1:]) == sorted([('新增', b), ('退出', d), ('调整', c)])
    # the county sees the whole district, or one township
    county = signed_in(app, 'sup', PASSWORD).get('/filings?month=2026-11&township=t02').get_data(as_text=True)
    assert '户主5' in county and '700.00 元' in county


def test_the_spot_check_pages_draw_show_the_seed_population_and_visits_and_export(app):
    ids = [household('t01', n, '2026-07', 50000, IN_2026) for n in range(7)]
    household('t01', 99, '2025-07', 50000, datetime(2025, 6, 1, tzinfo=timezone.utc))
    db.session.commit()
    assert signed_in(app, 'cw1', PASSWORD).get('/spot-checks').status_code == 403
    web = signed_in(app, 'sup', PASSWORD)
    html = web.get('/spot-checks').get_data(as_text=True)
    refused = web.post('/spot-checks', data={'year': '2026', 'percent': '20', 'csrf_token': csrf_of(html)})
    assert refused.status_code == 422 and '30%' in refused.get_data(as_text=True)
    drawn = web.post('/spot-checks', data={'year': '2026', 'percent': '30', 'seed': 'page-seed-2026',
                                           'csrf_token': csrf_of(html)})
    assert drawn.status_code == 302
    page = web.get(drawn.headers['Location'])
    body = page.get_data(as_text=True)
    assert 'page-seed-2026' in body and '与记录的样本相同' in body
    assert '7 户' in body and '3 户' in body                    # ⌈7 × 30 %⌉ = 3 of 7
    assert '、'.join(str(i) for i in sorted(ids)) in body       # the population, as recorded
    assert body.count('入户抽查案件') >= 1 and body.count('（办理中）') == 3
    rows = _sheet(web.get(drawn.headers['Location'] + '.xlsx'))
    assert rows[0][:3] == ['镇街', '家庭编号', '户主'] and len(rows) == 4
    assert all(r[5] and r[6] == '办理中' for r in rows[1:])
    assert web.get('/spot-checks').get_data(as_text=True).count('第 ') >= 1


def _monthly(process, township, task, data, actor):
    case = runtime.start_instance(process, township, {'period': '2026-09', 'period_start': '2026-09-01T00:00:00+08:00',
                                                      'next_period': '2026-10'}, 'system:calendar')
    do(case, task, data, actor=actor)
    return case.id


def test_the_filing_page_compares_the_typed_roster_and_payment_cases_with_the_records(app):
    """The monthly roster and payment cases carry figures typed by hand: each one that differs from the
    household records is a line of its own, on the page and in Excel; a township that reported nothing is named."""
    household('t01', 11, '2026-10', 60000, IN_2026)
    household('t01', 12, '2026-11', 45000, IN_2026)                                  # new
    household('t01', 13, '2026-05', 50000, IN_2026, [('lower', '2026-11', 30000)])  # adjusted
    household('t01', 14, '2026-05', 40000, IN_2026, [('stop', '2026-11', 0)])       # exited
    household('t02', 15, '2026-05', 70000, IN_2026)
    db.session.commit()
    # an older report of the month, then a corrected one: the newest is compared
    _monthly('monthly_roster', 't01', 'submit_roster', {'roster_report': {
        'roster_month': '2026-11', 'households': 9, 'persons': 9, 'total_amount': 1.0, 'submitted_on': '2026-10-20'}}, 'cw1')
    roster_case = _monthly('monthly_roster', 't01', 'submit_roster', {'roster_report': {
        'roster_month': '2026-11', 'households': 3, 'persons': 7, 'total_amount': 1350.0, 'new_households': 1,
        'exited_households': 1, 'submitted_on': '2026-10-24'}}, 'cw1')
    payment_case = _monthly('monthly_payment', 't01', 'confirm_payment', {'payment': {
        'payment_month': '2026-11', 'paid_households': 2, 'total_amount': 1350.0, 'paid_on': '2026-11-09'}}, 'sup')
    html = signed_in(app, 'cw1', PASSWORD).get('/filings?month=2026-11').get_data(as_text=True)
    section = html[html.index('id="reports"'):html.index('id="check"')]
    assert '共 2 处' in section
    assert f'案件 {roster_case}' in section and '保障人数' in section and '>7<' in section and '>6<' in section
    assert f'案件 {payment_case}' in section and '发放户数（含发放失败）' in section
    assert '保障户数' not in section and '月发放总额' not in section          # these agree
    # the county, whole district: t02 reported nothing
    rows = _sheet(signed_in(app, 'sup', PASSWORD).get('/filings/reports.xlsx?month=2026-11'))
    assert rows[0][:4] == ['镇街', '报送事项', '案件', '项目']
    assert len(rows) == 1 + 2 + 2
    assert [r[3] for r in rows[1:] if r[5] == '未报送'] == ['未报送', '未报送']
    # agreeing figures: nothing listed
    _monthly('monthly_payment', 't01', 'confirm_payment', {'payment': {
        'payment_month': '2026-11', 'paid_households': 2, 'failed_households': 1, 'total_amount': 1350.0,
        'paid_on': '2026-11-10'}}, 'sup')
    _monthly('monthly_roster', 't01', 'submit_roster', {'roster_report': {
        'roster_month': '2026-11', 'households': 3, 'persons': 6, 'total_amount': 1350.0,
        'submitted_on': '2026-10-25'}}, 'cw1')
    assert 'id="reports-agree"' in signed_in(app, 'cw1', PASSWORD).get('/filings?month=2026-11').get_data(as_text=True)
