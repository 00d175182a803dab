"""A county supervisor watches deadlines: moving the demo clock in the nav bar makes a case overdue."""
from datetime import datetime, timedelta

from service import calendar

from .helpers import accepted, start

T0 = '2026-09-28T09:00:00+08:00'


def test_case_becomes_overdue_when_the_clock_moves(server, person):
    late = start(server.app, business_key='T01-2026-0201', name='张大山', seq=2)
    accepted(server.app, late)                       # its 12-working-day limit runs from today
    start(server.app, township='t02', business_key='T02-2026-0001', name='刘桂兰', seq=3)

    sup = person('jianguan')
    page = sup.page
    page.goto('/supervision')
    assert page.inner_text('#overdue .count') == '0'
    assert page.locator('#townships tbody tr').count() == 2
    assert page.locator('#chart svg.chart').count() == 1

    # The clock control: +1 工作日 moves to the next working day at the same time.
    page.click('#clockbar button[value=workday]')
    assert '演示时间已调整为 2026-09-29 09:00' in page.inner_text('.flash-ok')
    assert page.inner_text('#clock-now') == '2026-09-29 09:00'

    # The National Day holidays lie in between: the statutory calendar says where 12 working days end.
    due = datetime.fromisoformat(calendar.add_working_days(T0, 12))
    page.fill('#clock-moment', (due - timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M'))
    page.click('#clockbar button[value=set]')
    assert page.locator('#due-soon tr[data-case]', has_text='T01-2026-0201').count() == 1
    assert page.inner_text('#overdue .count') == '0'
    sup.shot('supervision-due-soon')

    page.click('#clockbar button[value=hour]')
    page.click('#clockbar button[value=hour]')
    assert '1 个计时器到期' in page.inner_text('.flash-ok')
    assert page.inner_text('#overdue .count') == '1'
    row = page.locator('#overdue tr[data-case]')
    assert 'T01-2026-0201' in row.inner_text() and '城关镇' in row.inner_text()
    t01 = page.locator('#townships tbody tr', has_text='城关镇')
    assert t01.locator('td').nth(2).inner_text() == '1'
    sup.shot('supervision-overdue')

    # Filters narrow the lists; another township has nothing overdue.
    page.select_option('#filters select[name=township]', 't02')
    page.click('#filters button[type=submit]')
    assert page.inner_text('#overdue .count') == '0'
    page.goto('/supervision?variant=delegated_a')
    assert page.inner_text('#overdue .count') == '1'

    # Every row links to its case; the case page marks the overdue part of the diagram.
    page.locator('#overdue tr[data-case] a').first.click()
    page.wait_for_selector('#diagram[data-state=ready]')
    assert '已超期' in page.inner_text('h1')
    assert page.locator('.marker-overdue, .marker-frame-overdue').count() >= 1
    assert page.locator('#timers tr.overdue').count() == 1
    sup.shot('case-overdue')

    # The township's caseworker sees the same task highlighted as overdue, sorted first.
    cw = person('t01_jingban')
    cw.page.goto('/tasks')
    first = cw.page.locator('#group tbody tr').first
    assert 'T01-2026-0201' in first.inner_text() and 'overdue' in first.get_attribute('class')
    assert '已超期' in first.inner_text()
    cw.shot('tasks-overdue')
