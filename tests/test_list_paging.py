"""Long lists: keyset cursors, bounded page numbers, capped totals; supervision figures from stored columns."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select, text

from service.extensions import db
from service.migrations import runner
from service.models import ProcessDefinition, ProcessInstance
from service.services import cases, figures, listing, supervision

from .list_helpers import fill, staff
from .migration_helpers import connect, load_rows, url_of
from .security_helpers import api_token, bearer, start_case, web_app  # noqa: F401

SUP = staff('sup', 'county_supervisor', 'county')
CW = staff('cw_t05', 'township_caseworker', 't05')


def _definition():
    return db.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.id)).first()


def walk(call, per_page):
    """Every row of a list by following `next` from the first page."""
    found, page = [], call(per_page=per_page)
    while True:
        found += page.items
        if not page.next:
            return found, page
        page = call(per_page=per_page, cursor=page.next)


LISTS = {
    'tasks by due (with tasks without a due date)': lambda **k: cases.list_tasks(SUP, **k),
    'tasks of a township, all states': lambda **k: cases.list_tasks(CW, state='all', **k),
    'cases newest first': lambda **k: cases.list_cases(SUP, **k),
    'running cases': lambda **k: cases.list_cases(SUP, status='running', **k),
    'timers by due': lambda **k: cases.list_timers(SUP, **k),
}


@pytest.mark.parametrize('name', sorted(LISTS))
def test_following_next_gives_every_row_once_in_list_order(test_app, name):
    fill(_definition(), 400)
    call = LISTS[name]
    everything = call(per_page=1000).items
    assert len(everything) > 20
    walked, last = walk(call, 7)
    assert [row.id for row in walked] == [row.id for row in everything]
    assert last.next is None
    # Page numbers agree with the cursor where both reach.
    assert [r.id for r in call(per_page=7, page=3).items] == [r.id for r in everything[14:21]]


def test_totals_are_capped_and_deep_pages_need_the_cursor(test_app, monkeypatch):
    fill(_definition(), 120)
    found = cases.list_cases(SUP, per_page=5)
    assert (found.total, found.capped) == (120, False)
    monkeypatch.setattr(listing, 'TOTAL_CAP', 50)
    found = cases.list_cases(SUP, per_page=5)
    assert (found.total, found.capped) == (50, True) and len(found.items) == 5
    monkeypatch.setattr(listing, 'MAX_OFFSET', 20)
    assert cases.list_cases(SUP, per_page=5, page=4).items           # rows 15..19
    with pytest.raises(listing.Invalid) as refused:
        cases.list_cases(SUP, per_page=5, page=5)
    assert refused.value.status == 422 and '游标' in refused.value.message


def test_a_page_that_ends_the_list_gives_its_total_without_counting(test_app, monkeypatch):
    fill(_definition(), 23)
    counts = []
    listen = lambda conn, cursor, statement, *rest: counts.append('count(' in statement.lower())  # noqa: E731
    event.listen(db.engine, 'before_cursor_execute', listen)
    try:
        def page(n, per_page=5):
            counts.clear()
            found = cases.list_cases(SUP, per_page=per_page, page=n)
            return found.total, found.capped, len(found.items), any(counts)
        # Pages before the last one count; the last one (and a first page holding the whole list) knows
        # its total from its offset; a page past the end counts again.
        assert page(1) == (23, False, 5, True)
        assert page(5) == (23, False, 3, False)
        assert page(1, per_page=50) == (23, False, 23, False)
        assert page(6) == (23, False, 0, True)
        monkeypatch.setattr(listing, 'TOTAL_CAP', 20)
        assert page(5) == (20, True, 3, False)
        assert page(4) == (20, True, 5, True)
        assert cases.list_cases(SUP, status='no such status').total == 0
    finally:
        event.remove(db.engine, 'before_cursor_execute', listen)


def test_the_task_list_built_once_binds_each_caller_and_filter(test_app):
    """The task list's statement is kept per shape of its filters: the next caller's township, name and
    filter values are their own, never the previous caller's."""
    fill(_definition(), 200)
    other = staff('cw_t06', 'township_caseworker', 't06')
    for user, township in ((CW, 't05'), (other, 't06'), (CW, 't05')):
        found = cases.list_tasks(user, per_page=100, state='all')
        assert found.items and {t.township for t in found.items} == {township}
    first, second = (t.instance_id for t in cases.list_tasks(CW, per_page=100, state='all').items[::3][:2])
    for case_id in (first, second, first):
        found = cases.list_tasks(CW, instance_id=case_id, state='all')
        assert found.items and {t.instance_id for t in found.items} == {case_id}
    assert {t.township for t in cases.list_tasks(SUP, township='t07', state='all', per_page=100).items} == {'t07'}
    assert {t.township for t in cases.list_tasks(SUP, township='t08', state='all', per_page=100).items} == {'t08'}


@pytest.mark.parametrize('cursor', ['not-a-cursor', 'W10', 'WyJ4IiwxXQ', 'WzEsMl0', 'WyIyMDI2LTAxLTAxIiwxXQ',
                                    'WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiw5OTk5OTk5OTk5OV0'])
def test_a_broken_cursor_is_a_422_not_a_500(test_app, cursor):
    with pytest.raises(listing.Invalid) as refused:
        cases.list_cases(SUP, cursor=cursor)
    assert refused.value.status == 422 and '翻页游标' in refused.value.message


def test_a_cursor_with_a_nul_character_is_a_422(test_app):
    import base64
    raw = base64.urlsafe_b64encode(b'[null,0,"2026-01-01T00:00:00+00:00","a\\u0000b"]').decode()
    with pytest.raises(listing.Invalid):
        cases.list_tasks(SUP, cursor=raw)


def test_the_api_hands_out_next_and_takes_it_back(web_app):
    api = web_app.test_client()
    headers = bearer(api_token(api, 'jianguan'))
    for _ in range(3):
        with web_app.app_context():
            start_case()
    first = api.get('/api/v1/instances?per_page=1', headers=headers).json
    assert first['total'] >= 3 and first['total_capped'] is False and first['next']
    second = api.get(f"/api/v1/instances?per_page=1&cursor={first['next']}", headers=headers).json
    assert second['items'][0]['id'] < first['items'][0]['id']          # newest first
    r = api.get(f"/api/v1/instances?page=2&cursor={first['next']}", headers=headers)
    assert r.status_code == 422 and r.json['error'] == 'validation_error'
    r = api.get('/api/v1/tasks?cursor=%E4%B8%AD', headers=headers)
    assert r.status_code == 422 and '翻页游标' in r.json['message']
    r = api.get('/api/v1/timers?cursor=' + 'A' * 501, headers=headers)
    assert r.status_code == 422


def test_supervision_counts_past_the_parameter_limit_of_the_driver(test_app):
    # The old township table sent every visible case id as a parameter: past 65,535 PostgreSQL refused (500).
    fill(_definition(), 66000)
    table = supervision.township_table(SUP)
    assert sum(r['total'] for r in table) == 66000 and len(table) == 20
    assert sum(r['open'] for r in table) == 66000 - 46200
    t05 = next(r for r in table if r['township'] == 't05')
    assert t05['decided'] == 46200 // 20 and t05['median_days'] is not None
    deadlines = supervision.deadline_timers(SUP)
    assert deadlines['overdue'].items and all(tm is not None for tm, _, _ in deadlines['overdue'].items)


def test_township_median_comes_from_the_stored_working_days(test_app):
    fill(_definition(), 200)
    db.session.execute(text('UPDATE process_instance SET decision_days = NULL'))
    for case_id, days in ((1, 3), (21, 5), (41, 10), (61, 11)):    # all of t02
        db.session.execute(text('UPDATE process_instance SET decision_days = :d WHERE id = :i'),
                           {'d': days, 'i': case_id})
    figures.rebuild(db.session)    # updated past the ORM, as a bulk load would
    db.session.commit()
    row = next(r for r in supervision.township_table(SUP) if r['township'] == 't02')
    assert (row['decided'], row['median_days']) == (4, 7.5)
    assert all(r['median_days'] is None for r in supervision.township_table(SUP) if r['township'] != 't02')


def test_migration_backfills_the_milestones_from_completed_tasks(database_url, make_app):
    runner.upgrade(url_of(database_url), runner.BASELINE)
    load_rows(database_url)
    engine, conn = connect(database_url)
    try:
        with conn.begin():
            # MIG-C (id 3) as the old code left it: acceptance by its form, decision by a declared milestone.
            conn.execute(text("UPDATE task SET form = 'acceptance_notice.schema.json', "
                              "completed_at = :at WHERE instance_id = 3 AND bpmn_id = 'accept'"),
                         {'at': datetime(2026, 9, 28, 1, 0)})
            conn.execute(text("UPDATE task SET properties = :p, completed_at = :at "
                              "WHERE instance_id = 3 AND bpmn_id = 'confirm'"),
                         {'p': '{"milestone": "decision"}', 'at': datetime(2026, 10, 9, 8, 0)})
    finally:
        conn.close()
        engine.dispose()
    runner.upgrade(url_of(database_url))
    app = make_app()
    with app.app_context():
        c, a = db.session.get(ProcessInstance, 3), db.session.get(ProcessInstance, 1)
        assert c.accepted_at == datetime(2026, 9, 28, 1, 0, tzinfo=timezone.utc)
        assert c.decided_at == datetime(2026, 10, 9, 8, 0, tzinfo=timezone.utc)
        assert c.decision_days == 4     # 29, 30 Sep, 8, 9 Oct: the National Day week has no working days
        assert (a.accepted_at, a.decided_at, a.decision_days) == (None, None, None)
        assert c.decided_at - c.accepted_at == timedelta(days=11, hours=7)
