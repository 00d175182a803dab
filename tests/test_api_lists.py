"""Issue 11 over the API: search, the pages' task and case lists (filters, sorts, cursor pages), saved
filters and the inbox — the services of the pages, so the same scope, audit and masking; on SQLite
and PostgreSQL, one app per backend for the module."""
from datetime import timedelta

from sqlalchemy import func, select

from service.demo import demo_id_number
from service.extensions import db
from service.models import AuditEntry, ProcessInstance
from service.services import cases
from service.services.auth import find_user

from .lists_helpers import Api, app, module_app, start, world  # noqa: F401  (fixtures)


NOTICE = {'document_no': '城民救〔2026〕1号', 'issued_on': '2026-09-28', 'delivery': 'in_person'}


def _do(instance_id, bpmn_id, data, user):
    task = next(t for t in cases.ready_tasks(instance_id) if t.bpmn_id == bpmn_id)
    cases.claim(user, task.id)
    cases.complete(user, task.id, data)


def _ids(body):
    return sorted(item['id'] for item in body['items'])


def test_search_by_name_id_case_business_key_and_document_number_in_scope(app):
    a = start('t01', '赵秀英', 101, 'S01-2026-0101', verify=False)
    b = start('t01', '钱六', 102, verify=False)
    c = start('t02', '赵秀英', 103, verify=False)
    cw1, cw2, sup = Api(app, 't01_jingban'), Api(app, 't02_jingban'), Api(app, 'jianguan')

    def found(client, text):
        r = client.post('/api/v1/search', {'q': text})
        assert r.status_code == 200, r.json
        return r.json

    body = found(cw1, '赵秀英')
    assert body['kind'] == 'name' and _ids(body) == [a] and body['total'] == 1
    body = found(cw1, demo_id_number(102))
    assert body['kind'] == 'id_number' and _ids(body) == [b]
    assert demo_id_number(102) not in str(body)                 # the summary comes back masked
    assert _ids(found(cw1, str(b))) == [b]
    assert found(cw1, 'S01-2026-0101')['kind'] == 'business_key'
    assert _ids(found(cw1, 'S01-2026-0101')) == [a]
    seq = db.session.scalar(select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.township == 't01', ProcessInstance.id <= b))   # the township's n-th case of the year
    assert _ids(found(cw1, f'〔2026〕城民救受字第 {seq} 号')) == [b]
    assert _ids(found(sup, '赵秀英')) == [a, c]
    for text in ('钱六', demo_id_number(102), str(b), 'S01-2026-0101'):
        assert found(cw2, text)['items'] == [], text                # another township's case stays hidden
    # Audited like the page's search: who, what kind, the text masked.
    texts = [e.detail.get('text') for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == 'search_cases', AuditEntry.actor == 't01_jingban'))]
    assert '赵**' in texts and demo_id_number(102) not in texts
    # Bad input: 422 with a Chinese message; a village assistant's own township only.
    r = cw1.post('/api/v1/search', {'q': '1101051949123100'})
    assert r.status_code == 422 and '18 位' in r.json['message']
    assert cw1.post('/api/v1/search', {'q': ''}).status_code == 422
    assert cw1.post('/api/v1/search', {}).status_code == 422
    assert Api(app, 'sheji').post('/api/v1/search', {'q': '赵秀英'}).status_code == 403


def test_task_list_filters_sorts_and_cursor_pages(app):
    mine = [start('t01', '孙一', 111), start('t01', '孙二', 112), start('t01', '孙三', 113)]
    other = start('t02', '周四', 114)
    cw1, sup = Api(app, 't01_jingban'), Api(app, 'jianguan')

    r = cw1.get('/api/v1/lists/tasks', assigned='all', per_page=2)
    assert r.status_code == 200, r.json
    first = r.json
    assert len(first['items']) == 2 and first['next'] and first['total'] >= 3
    assert {i['township'] for i in first['items']} == {'t01'} and first['items'][0]['process_key'] == 'dibao_a'
    seen = [i['id'] for i in first['items']]
    cursor = first['next']
    while cursor:
        page = cw1.get('/api/v1/lists/tasks', assigned='all', per_page=2, cursor=cursor).json
        seen += [i['id'] for i in page['items']]
        cursor = page['next']
    assert len(seen) == len(set(seen)) == first['total']
    assert {i['instance_id'] for i in cw1.get('/api/v1/lists/tasks', assigned='all', per_page=100).json['items']} \
        >= set(mine)
    # The county sees both townships; sorted by township in the database, t01 before t02.
    items = sup.get('/api/v1/lists/tasks', assigned='all', sort='township', per_page=100).json['items']
    townships = [i['township'] for i in items]
    assert townships == sorted(townships) and {'t01', 't02'} <= set(townships)
    assert other in {i['instance_id'] for i in items}
    only = sup.get('/api/v1/lists/tasks', assigned='all', township='t02', process='dibao_a', per_page=100).json
    assert {i['township'] for i in only['items']} == {'t02'} and only['total'] >= 1
    assert sup.get('/api/v1/lists/tasks', assigned='all', category='tekun').json['total'] == 0
    assert cw1.get('/api/v1/lists/tasks', assigned='unassigned', overdue='true').json['total'] == 0
    assert cw1.get('/api/v1/lists/tasks', assigned='all', due_before='2026-01-01').json['total'] == 0
    # Bad parameters: 422, never a 500.
    for params in ({'sort': 'name'}, {'due_before': '2026-13-01'}, {'cursor': 'nonsense'}, {'per_page': 0},
                   {'cursor': first['next'], 'page': 2}):
        r = cw1.get('/api/v1/lists/tasks', **params)
        assert r.status_code == 422, (params, r.json)
        assert set(r.json) == {'error', 'message', 'details'}


def test_case_list_filters_and_cursor(app):
    a, b = start('t01', '吴一', 121, verify=False), start('t01', '吴二', 122, verify=False)
    start('t02', '郑三', 123, verify=False)
    cw1 = Api(app, 't01_jingban')
    body = cw1.get('/api/v1/lists/cases', status='running', per_page=1).json
    assert body['items'][0]['township'] == 't01' and body['next']
    nxt = cw1.get('/api/v1/lists/cases', status='running', per_page=1, cursor=body['next']).json
    assert nxt['items'][0]['id'] < body['items'][0]['id']           # newest first, one index range further
    listed = _ids(cw1.get('/api/v1/lists/cases', per_page=100).json)
    assert {a, b} <= set(listed)
    assert cw1.get('/api/v1/lists/cases', township='t02').json['total'] == 0   # scope first, then filters
    assert demo_id_number(121) not in str(cw1.get('/api/v1/lists/cases', per_page=100).json)
    assert cw1.get('/api/v1/lists/cases', status='lost').status_code == 422


def test_saved_filters_per_user(app):
    cw1, cw1b = Api(app, 't01_jingban'), Api(app, 't02_jingban')
    r = cw1.post('/api/v1/lists/tasks/filters', {'name': '我的超期', 'filters': {'overdue': True, 'sort': 'process'}})
    assert r.status_code == 201, r.json
    saved = r.json
    assert saved['filters'] == {'overdue': '1', 'sort': 'process'} and saved['list_name'] == 'tasks'
    assert [f['name'] for f in cw1.get('/api/v1/lists/tasks/filters').json['items']] == ['我的超期']
    assert cw1b.get('/api/v1/lists/tasks/filters').json['items'] == []
    # Applied: its filters are the list's query parameters.
    assert cw1.get('/api/v1/lists/tasks', **saved['filters']).status_code == 200
    cw1.post('/api/v1/lists/tasks/filters', {'name': '按镇街', 'filters': {'sort': 'township'}})
    r = cw1.put(f'/api/v1/lists/filters/{saved["id"]}', {'name': '按镇街'})
    assert r.status_code == 409 and r.json['error'] == 'name_taken'
    r = cw1.put(f'/api/v1/lists/filters/{saved["id"]}', {'name': '超期', 'filters': {'overdue': False}})
    assert r.status_code == 200 and r.json['name'] == '超期' and r.json['filters'] == {'overdue': '0'}
    assert cw1.get(f'/api/v1/lists/filters/{saved["id"]}').json['name'] == '超期'
    # Someone else's is a 404, like a missing one; deleting is the owner's.
    assert cw1b.get(f'/api/v1/lists/filters/{saved["id"]}').status_code == 404
    assert cw1b.delete(f'/api/v1/lists/filters/{saved["id"]}').status_code == 404
    assert cw1.delete(f'/api/v1/lists/filters/{saved["id"]}').status_code == 204
    assert cw1.get(f'/api/v1/lists/filters/{saved["id"]}').status_code == 404
    # Bad input.
    assert cw1.post('/api/v1/lists/nothing/filters', {'name': 'x'}).status_code == 404
    assert cw1.post('/api/v1/lists/tasks/filters', {'name': ''}).status_code == 422
    assert cw1.post('/api/v1/lists/cases/filters', {'name': 'x', 'filters': {'status': 'lost'}}).status_code == 422
    assert cw1.post('/api/v1/lists/cases/filters', {'name': 'x', 'filters': {'colour': 'red'}}).status_code == 422


def test_inbox_list_count_and_mark_read(app, clock):
    case = start('t01', '冯一', 131)
    user = find_user('t01_jingban')
    _do(case, 'check_materials', {'acceptance': {'result': 'complete', 'checked_on': '2026-09-28'}}, user)
    _do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE}, user)
    task = next(t for t in cases.ready_tasks(case) if t.due_at is not None)
    cases.claim(user, task.id)
    cw1 = Api(app, 't01_jingban')
    before = cw1.get('/api/v1/inbox/unread-count').json['unread']
    clock.set((task.due_at + timedelta(hours=1)).isoformat())
    body = cw1.get('/api/v1/inbox').json
    mine = [i for i in body['items'] if i['task_id'] == task.id]
    assert mine and mine[0]['kind'] == 'overdue' and mine[0]['label'] == '已超期' and not mine[0]['read']
    assert body['unread'] == cw1.get('/api/v1/inbox/unread-count').json['unread'] > before
    r = cw1.post('/api/v1/inbox/read', {'keys': [mine[0]['key'], 'overdue:someone-else']})
    assert r.status_code == 200 and r.json['marked'] == 1 and r.json['unread'] == body['unread'] - 1
    assert next(i for i in cw1.get('/api/v1/inbox').json['items'] if i['key'] == mine[0]['key'])['read']
    assert cw1.post('/api/v1/inbox/read', {'all': True}).json['unread'] == 0
    assert cw1.post('/api/v1/inbox/read', {'keys': 'x'}).status_code == 422
    # Another person's inbox is their own.
    assert all(i['task_id'] != task.id for i in Api(app, 't02_jingban').get('/api/v1/inbox').json['items'])
