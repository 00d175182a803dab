"""Issue 11, lists: search by name / ID / case and document number, task and case filters, sorts and
totals, saved filters, Excel and CSV exports, the inbox — through the pages, on SQLite and PostgreSQL."""
import csv
import io
from datetime import date, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from service import calendar
from service.demo import demo_id_number
from service.extensions import db
from service.models import AuditEntry, ProcessInstance, SavedFilter
from service.scheduler.sweep import sweep_due
from service.services import cases
from service.services.auth import find_user

from .security_helpers import APPLICATION, csrf_of, pre_verify_case, signed_in, web_app  # noqa: F401  (fixture)

T0 = '2026-09-28T09:00:00+08:00'
NOTICE = {'document_no': '城民救〔2026〕1号', 'issued_on': '2026-09-28', 'delivery': 'in_person'}


def start(township, name, seq, business_key=None):
    data = {**APPLICATION, 'applicant': dict(APPLICATION['applicant'], name=name, id_number=demo_id_number(seq))}
    instance_id = cases.start_case(find_user(f'{township}_jingban'), 'dibao_a', township, data, business_key).id
    pre_verify_case(instance_id, township)   # dibao_a verifies before acceptance (seed 001)
    return instance_id


def do(instance_id, bpmn_id, data, username):
    user = find_user(username)
    task = next(t for t in cases.ready_tasks(instance_id) if t.bpmn_id == bpmn_id)
    cases.claim(user, task.id)
    cases.complete(user, task.id, data)


def accept(instance_id, username='t01_jingban'):
    do(instance_id, 'check_materials', {'acceptance': {'result': 'complete', 'checked_on': '2026-09-28'}}, username)
    do(instance_id, 'issue_acceptance_notice', {'acceptance_notice': NOTICE}, username)


def search(client, text):
    token = csrf_of(client.get('/cases').get_data(as_text=True))
    r = client.post('/cases/search', data={'q': text, 'csrf_token': token})
    return r.status_code, r.get_data(as_text=True)


def case_links(html):
    import re
    return sorted({int(n) for n in re.findall(r'href="/cases/(\d+)"', html)})


def test_search_finds_by_name_id_case_and_document_number_within_the_township(web_app):
    a = start('t01', '王秀兰', 1, 'T01-2026-0001')
    b = start('t01', '李四', 2)
    c = start('t02', '王秀兰', 3)                       # the same name in the other township
    cw1, cw2, sup = (signed_in(web_app, u) for u in ('t01_jingban', 't02_jingban', 'jianguan'))

    assert case_links(search(cw1, '王秀兰')[1]) == [a]          # full name: its keyed hash
    assert case_links(search(cw1, ' 王 秀兰 ')[1]) == [a]       # spaces do not matter
    status, html = search(cw1, '秀兰')                          # part of a name
    assert status == 200 and case_links(html) == [a] and '姓名中含有所填文字' in html
    assert case_links(search(cw1, demo_id_number(2))[1]) == [b]
    assert demo_id_number(2) not in search(cw1, demo_id_number(2))[1]   # listed masked
    assert case_links(search(cw1, str(b))[1]) == [b]
    assert case_links(search(cw1, 'T01-2026-0001')[1]) == [a]
    assert case_links(search(cw1, '〔2026〕城民救受字第 2 号')[1]) == [b]  # the township's 2nd case of 2026
    assert case_links(search(sup, '王秀兰')[1]) == [a, c]
    # Scoping: the other township's caseworker never finds t01's cases, by any key.
    for text in ('李四', demo_id_number(2), str(b), 'T01-2026-0001', '〔2026〕城民救受字第 2 号'):
        assert case_links(search(cw2, text)[1]) == [], text
    assert case_links(search(cw2, '王秀兰')[1]) == [c]
    # Bad input: a clear 422 in Chinese.
    status, html = search(cw1, '1101051949123100')
    assert status == 422 and '18 位' in html
    status, html = search(cw1, 'x' * 41)
    assert status == 422 and '不能超过' in html
    # Stored as a keyed hash, never the name; each search audited with the text masked.
    row = db.session.get(ProcessInstance, a)
    assert row.name_hash and len(row.name_hash) == 64 and row.name_hash != row.id_hash
    shown = [e.detail['text'] for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == 'search_cases', AuditEntry.actor == 't01_jingban'))]
    assert '王**' in shown and '*' in shown[2] and demo_id_number(2) not in str(shown)
    # The navigation carries the search box on every page.
    assert 'id="nav-q"' in cw1.get('/tasks').get_data(as_text=True)


def test_task_filters_sorts_totals_and_saved_filters(web_app):
    first, second, third = start('t01', '甲', 1), start('t01', '乙', 2), start('t02', '丙', 3)
    accept(first)                                   # a deadline; then the acceptance steps are done
    cw = signed_in(web_app, 't01_jingban')
    html = cw.get('/tasks').get_data(as_text=True)
    assert '共 0 件' in html and '共 2 件' in html  # nothing claimed; both cases' next steps in my group
    html = cw.get('/tasks?assigned=all').get_data(as_text=True)
    assert '待办（筛选结果）' in html and '共 2 件' in html and '丙' not in html  # t02 not visible
    for sort in ('due', 'started', 'process', 'township'):
        r = cw.get(f'/tasks?assigned=all&sort={sort}')
        assert r.status_code == 200 and '共 2 件' in r.get_data(as_text=True), sort
    assert '共 0 件' in cw.get('/tasks?assigned=all&overdue=1').get_data(as_text=True)
    assert '共 0 件' in cw.get('/tasks?assigned=all&category=tekun').get_data(as_text=True)
    assert '共 2 件' in cw.get('/tasks?assigned=all&process=dibao_a').get_data(as_text=True)
    due = datetime.fromisoformat(calendar.add_working_days(T0, 12)).date()
    assert '共 1 件' in cw.get(f'/tasks?assigned=all&due_before={due}').get_data(as_text=True)
    assert '共 0 件' in cw.get(f'/tasks?assigned=all&due_before={due - timedelta(days=1)}').get_data(as_text=True)
    assert '共 0 件' in cw.get('/tasks?assigned=t01_jingban2').get_data(as_text=True)
    for bad in ('sort=name', 'due_before=2026-13-01', 'overdue=2'):
        r = cw.get(f'/tasks?{bad}')
        assert r.status_code == 422 and '<h1>' in r.get_data(as_text=True), bad

    # Saved filters: per person, listed, replaced under the same name, deleted only by their owner.
    token = csrf_of(html)
    r = cw.post('/lists/tasks/filters', data={'csrf_token': token, 'filter_name': '我的超期',
                                              'assigned': 'all', 'overdue': '1', 'q': '王秀兰'})
    assert r.status_code == 302 and 'overdue=1' in r.headers['Location']
    row = db.session.scalar(select(SavedFilter).where(SavedFilter.username == 't01_jingban'))
    assert row.query == 'assigned=all&overdue=1'     # filters only: no search text is kept
    assert '我的超期' in cw.get('/tasks').get_data(as_text=True)
    assert '我的超期' not in signed_in(web_app, 't01_jingban2').get('/tasks').get_data(as_text=True)
    other = signed_in(web_app, 't01_jingban2')
    r = other.post(f'/lists/filters/{row.id}/delete', data={'csrf_token': csrf_of(other.get('/tasks').get_data(as_text=True))})
    assert r.status_code == 404
    r = cw.post('/lists/tasks/filters', data={'csrf_token': token, 'filter_name': '', 'overdue': '1'})
    assert r.status_code == 302 and '未能保存筛选' in cw.get('/tasks').get_data(as_text=True)
    r = cw.post(f'/lists/filters/{row.id}/delete', data={'csrf_token': token})
    db.session.expire_all()
    assert r.status_code == 302 and db.session.get(SavedFilter, row.id) is None

    # The case list: filters in the URL, totals, a saved filter of its own.
    html = cw.get('/cases?status=running&process=dibao_a&category=dibao&overdue=0').get_data(as_text=True)
    assert '共 2 件' in html and 'id="export-xlsx"' in html
    assert '共 0 件' in cw.get('/cases?status=completed').get_data(as_text=True)
    assert cw.get('/cases?status=nonsense').status_code == 422
    del second, third


def _xlsx(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype.endswith('spreadsheetml.sheet')
    return load_workbook(io.BytesIO(response.data)).active


def test_exports_follow_the_page_scope_and_filters(web_app):
    clock = web_app.extensions['jiuzhu.clock']
    late = start('t01', '张大山', 1, 'T01-2026-0201')
    accept(late)
    start('t01', '李四', 2)
    start('t02', '刘桂兰', 3)
    due = datetime.fromisoformat(calendar.add_working_days(T0, 12))
    clock.set((due + timedelta(hours=1)).isoformat())
    assert sweep_due(web_app) >= 1                  # the deadline fires: the case is overdue

    cw = signed_in(web_app, 't01_jingban')
    sheet = _xlsx(cw.get('/tasks/export.xlsx?assigned=all'))
    rows = list(sheet.values)
    assert rows[0][:3] == ('任务', '案件', '申请人') and '到期时间' in rows[0]
    assert len(rows) == 1 + 2 and '刘桂兰' not in str(rows)   # t01's two tasks only
    created = rows[1][rows[0].index('创建时间')]
    assert isinstance(created, datetime) and created.date() == date(2026, 9, 28)
    widths = [sheet.column_dimensions[c].width for c in 'ABC']
    assert all(w and w >= 10 for w in widths)

    sheet = _xlsx(cw.get('/cases/export.xlsx?status=running'))
    assert [r[1] for r in list(sheet.values)[1:]] == ['李四', '张大山']
    r = cw.get('/cases/export.csv?overdue=1')
    assert r.status_code == 200 and r.data.startswith(b'\xef\xbb\xbf')
    table = list(csv.reader(io.StringIO(r.data.decode('utf-8-sig'))))
    assert table[0][0] == '案件' and [row[1] for row in table[1:]] == ['张大山']
    assert table[1][-1].startswith('2026-09-28 ')
    assert cw.get('/supervision/overdue.xlsx').status_code == 403       # the county's list
    assert cw.get('/tasks/export.pdf').status_code == 404
    assert cw.get('/tasks/export.xlsx?sort=bad').status_code == 422

    sup = signed_in(web_app, 'jianguan')
    sheet = _xlsx(sup.get('/supervision/overdue.xlsx'))
    rows = list(sheet.values)
    assert rows[0][0] == '案件' and len(rows) == 2 and rows[1][0] == 'T01-2026-0201'
    assert isinstance(rows[1][5], datetime)        # the deadline that passed, a real date cell
    assert len(list(_xlsx(sup.get('/supervision/overdue.xlsx?township=t02')).values)) == 1
    sheet = _xlsx(sup.get('/supervision/townships.xlsx'))
    assert [r[0] for r in list(sheet.values)[1:]] == ['城关镇', '河西街道']
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'export_list')
                                 .order_by(AuditEntry.id)).all()
    assert [(e.actor, e.detail['list'], e.detail['rows']) for e in entries][:2] == [
        ('t01_jingban', 'tasks', 2), ('t01_jingban', 'cases', 2)]


def test_exports_are_bounded_and_say_so(web_app, monkeypatch):
    from service.services import exports
    for seq in range(1, 4):
        start('t01', f'申请人{seq}', seq)
    monkeypatch.setattr(exports, 'MAX_ROWS', 2)
    cw = signed_in(web_app, 't01_jingban')
    rows = list(_xlsx(cw.get('/cases/export.xlsx')).values)
    assert len(rows) == 1 + 2 + 1 and '只导出了前 2 行' in rows[-1][0]
    text = cw.get('/cases/export.csv').data.decode('utf-8-sig')
    assert '只导出了前 2 行' in text.splitlines()[-1]


def test_inbox_due_soon_overdue_supervision_and_returned(web_app):
    clock = web_app.extensions['jiuzhu.clock']
    late = start('t01', '张大山', 1)
    accept(late)
    task = next(t for t in cases.ready_tasks(late) if t.due_at is not None)
    cases.claim(find_user('t01_jingban'), task.id)
    cw = signed_in(web_app, 't01_jingban')
    assert 'data-item=' not in cw.get('/inbox').get_data(as_text=True)     # twelve working days ahead
    # Move to a day before its due time: due soon; then past it: overdue.
    clock.set((task.due_at - timedelta(hours=20)).isoformat())
    html = cw.get('/inbox').get_data(as_text=True)
    assert '即将到期' in html and 'id="inbox-count">1<' in html
    clock.set((task.due_at + timedelta(hours=1)).isoformat())
    html = cw.get('/inbox').get_data(as_text=True)
    assert '已超期' in html and f'overdue:{task.id}' in html
    token = csrf_of(html)
    cw.post('/inbox/read', data={'csrf_token': token, 'item': f'overdue:{task.id}'})
    html = cw.get('/inbox').get_data(as_text=True)
    assert 'id="inbox-count"' not in html and '0 条未读' in html
    # Another township's people see nothing of it.
    assert 'data-item=' not in signed_in(web_app, 't02_jingban').get('/inbox').get_data(as_text=True)
    cw.post('/inbox/read', data={'csrf_token': token, 'all': '1'})
    assert cw.get('/inbox').status_code == 200


def test_inbox_shows_a_case_that_came_back_to_an_earlier_step(web_app):
    back = start('t01', '赵六', 1)
    do(back, 'check_materials', {'acceptance': {'result': 'incomplete', 'missing_items': ['收入证明'],
                                                'checked_on': '2026-09-28'}}, 't01_jingban')
    do(back, 'notify_missing', {'missing_materials_notice': NOTICE}, 't01_jingban')
    cases.send_message(find_user('t01_jingban'), back, 'supplement_received',
                       {'items': ['收入证明'], 'received_on': '2026-09-29'})
    again = next(t for t in cases.ready_tasks(back) if t.bpmn_id == 'check_materials')
    cw = signed_in(web_app, 't01_jingban')
    html = cw.get('/inbox').get_data(as_text=True)
    assert f'returned:{again.id}' in html and '案件退回' in html
    assert 'id="inbox-count">1<' in html
    # The county's people have no such item (their role does not work the step).
    assert f'returned:{again.id}' not in signed_in(web_app, 'jianguan').get('/inbox').get_data(as_text=True)
    cw.post('/inbox/read', data={'csrf_token': csrf_of(html), 'all': '1'})
    assert 'id="inbox-count"' not in cw.get('/inbox').get_data(as_text=True)
