"""Issue 11 in the browser: finding a household by ID number and by name, a supervisor's Excel
export of the overdue list (downloaded and opened with openpyxl), the inbox count in the navigation."""
import io
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook

from service import calendar
from service.demo import demo_id_number
from service.extensions import db
from service.scheduler.sweep import sweep_due
from service.services import cases
from service.services.auth import find_user

from .helpers import accepted, start

T0 = '2026-09-28T09:00:00+08:00'


def test_caseworker_finds_a_household_by_id_number_and_by_name(server, person):
    start(server.app, business_key='T01-2026-0301', name='王秀兰', seq=1)
    start(server.app, business_key='T01-2026-0302', name='李四', seq=2)
    start(server.app, township='t02', business_key='T02-2026-0301', name='王秀兰', seq=3)
    cw = person('t01_jingban')
    page = cw.page
    page.goto('/cases')
    page.fill('#case-search input[name=q]', demo_id_number(2))
    page.click('#case-search button[type=submit]')
    rows = page.locator('table.list tbody tr')
    assert rows.count() == 1 and 'T01-2026-0302' in rows.first.inner_text()
    assert demo_id_number(2) not in page.inner_text('main')          # listed masked
    # From the navigation search box on any page, by name: the other township's namesake stays hidden.
    page.goto('/tasks')
    page.fill('#nav-q', '王秀兰')
    page.press('#nav-q', 'Enter')
    page.wait_for_selector('#case-total')
    rows = page.locator('table.list tbody tr')
    assert rows.count() == 1 and 'T01-2026-0301' in rows.first.inner_text()
    assert '共 1 件' in page.inner_text('#case-total')
    cw.shot('case-search-by-name')
    rows.first.locator('a').first.click()
    page.wait_for_selector('h1')
    assert '/cases/' in page.url


def test_supervisor_exports_the_overdue_list_to_excel(server, person):
    late = start(server.app, business_key='T01-2026-0401', name='张大山', seq=4)
    accepted(server.app, late)
    start(server.app, township='t02', business_key='T02-2026-0401', name='刘桂兰', seq=5)
    with server.app.app_context():
        due = datetime.fromisoformat(calendar.add_working_days(T0, 12))
        server.app.extensions['jiuzhu.clock'].set((due + timedelta(hours=1)).isoformat())
        assert sweep_due(server.app) >= 1
    sup = person('jianguan')
    page = sup.page
    page.goto('/supervision')
    assert page.inner_text('#overdue .count') == '1'
    with page.expect_download() as download:
        page.click('#overdue-xlsx')
    assert download.value.suggested_filename.endswith('.xlsx')
    # The file as the supervisor's Excel would get it (openpyxl wants the bytes, the temp path has no suffix).
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    rows = list(sheet.values)
    assert rows[0][:3] == ('案件', '申请人', '镇街')
    assert len(rows) == 2 and rows[1][0] == 'T01-2026-0401' and rows[1][2] == '城关镇'
    assert isinstance(rows[1][5], datetime)


def test_inbox_count_in_the_navigation(server, person):
    case = start(server.app, business_key='T01-2026-0501', name='孙七', seq=6)
    accepted(server.app, case)
    with server.app.app_context():
        task = next(t for t in cases.ready_tasks(case) if t.due_at is not None)
        cases.claim(find_user('t01_jingban'), task.id)
        server.app.extensions['jiuzhu.clock'].set((task.due_at - timedelta(hours=20)).isoformat())
        db.session.remove()
    cw = person('t01_jingban')
    page = cw.page
    page.goto('/tasks')
    assert page.inner_text('#inbox-count') == '1'
    page.click('#nav-inbox')
    assert '即将到期' in page.inner_text('#inbox')
    cw.shot('inbox')
    page.get_by_role('button', name='全部标为已读').click()
    page.wait_for_selector('.flash-ok')
    assert page.locator('#inbox-count').count() == 0
