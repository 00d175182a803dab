"""Drafts of task forms, comments on a case and reassignment by the leader, in the pages and the API."""
import pytest
from sqlalchemy import select, text

from service.extensions import db
from service.models import AuditEntry, Task, TaskDraft
from service.services import cases, drafts
from service.services.auth import find_user

from .test_web_pages import app, signed_in, start  # noqa: F401  (the pages' app: dibao diagrams, demo people)

ACCEPTANCE = {'acceptance.result': 'complete', 'acceptance.checked_on': '2026-09-28'}


def _claimed_task(client, case):
    task = cases.ready_tasks(case.id)[0]
    assert client.post(f'/tasks/{task.id}/claim', data={'csrf_token': client.csrf}).status_code == 302
    return task


def test_a_draft_is_saved_restored_private_and_dropped_on_completion(app):
    case = start('t01')
    me = signed_in(app, 't01_jingban')
    task = _claimed_task(me, case)
    page = me.get(f'/tasks/{task.id}').get_data(as_text=True)
    assert '暂存' in page and 'data-autosave' in page and 'draft.js' in page

    r = me.post(f'/tasks/{task.id}/draft', data={'csrf_token': me.csrf, 'acceptance.result': 'incomplete',
                                                  'acceptance.missing_items': '户口簿复印件'})
    assert r.status_code == 302
    page = me.get(f'/tasks/{task.id}').get_data(as_text=True)
    assert '已恢复您' in page and '户口簿复印件' in page
    assert 'value="incomplete" checked' in page

    # The page's automatic save: JSON, no audit row, nothing written when nothing changed.
    r = me.post(f'/tasks/{task.id}/draft.json', data={'csrf_token': me.csrf, 'acceptance.result': 'incomplete',
                                                       'acceptance.missing_items': '户口簿复印件\n收入证明'})
    assert r.status_code == 200 and r.json['saved_at_zh']
    assert me.post(f'/tasks/{task.id}/draft.json', data={'acceptance.result': 'x'}).status_code == 400  # no CSRF
    assert '收入证明' in me.get(f'/tasks/{task.id}').get_data(as_text=True)
    saves = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'save_draft')).all()
    assert len(saves) == 1 and saves[0].task_id == task.id and '户口簿' not in str(saves[0].detail)
    # Encrypted at rest like a completed form.
    stored = db.session.execute(text('SELECT "values" FROM task_draft')).scalar()
    assert stored.startswith('jz1:') and '户口簿' not in stored

    # Nobody else sees it: not a colleague of the same role, not the leader.
    for other in ('t01_jingban2', 't01_lingdao'):
        page = signed_in(app, other).get(f'/tasks/{task.id}').get_data(as_text=True)
        assert '户口簿复印件' not in page and '已恢复您' not in page
    colleague = find_user('t01_jingban2')
    assert drafts.load(colleague, db.session.get(Task, task.id)) is None
    with pytest.raises(Exception) as refused:
        drafts.save(colleague, task.id, {'acceptance.result': 'complete'})
    assert getattr(refused.value, 'status', None) == 403
    r = signed_in(app, 't02_jingban').post(f'/tasks/{task.id}/draft.json', data={'csrf_token': 'x'})
    assert r.status_code in (400, 404)

    # Completing the task drops its drafts; the case history does not list them.
    r = me.post(f'/tasks/{task.id}', data={'csrf_token': me.csrf, **ACCEPTANCE})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert db.session.scalar(select(TaskDraft.id)) is None
    assert '暂存' not in me.get(f'/cases/{case.id}').get_data(as_text=True).split('id="history"')[1]


def test_comments_are_scoped_like_the_case_masked_and_audited(app):
    case = start('t01')
    cw = signed_in(app, 't01_jingban')
    r = cw.post(f'/cases/{case.id}/comments', data={'csrf_token': cw.csrf,
                                                     'body': '申请人之子 110105194912310021 电话 13912345678 在外地'})
    assert r.status_code == 302
    page = cw.get(f'/cases/{case.id}').get_data(as_text=True)
    assert '办理意见与沟通记录' in page and '在外地' in page
    assert '110105194912310021' not in page and '110105********0021' in page and '13912345678' not in page
    assert '李经办' in page.split('id="comments"')[1] or 'title="t01_jingban"' in page.split('id="comments"')[1]
    stored = db.session.execute(text('SELECT body FROM case_comment')).scalar()
    assert stored.startswith('jz1:')
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'comment')).one()
    assert entry.instance_id == case.id and entry.actor == 't01_jingban' and '在外地' not in str(entry.detail)

    empty = cw.post(f'/cases/{case.id}/comments', data={'csrf_token': cw.csrf, 'body': '  '})
    assert empty.status_code == 302
    assert '意见内容不能为空' in cw.get(f'/cases/{case.id}').get_data(as_text=True)

    other = signed_in(app, 't02_jingban')
    assert other.post(f'/cases/{case.id}/comments', data={'csrf_token': other.csrf, 'body': '看看'}).status_code == 404
    assert '在外地' in signed_in(app, 'jianguan').get(f'/cases/{case.id}').get_data(as_text=True)

    # The API: the same service, the same scope.
    client = app.test_client()

    def bearer(username):
        from service.demo import DEMO_PASSWORD
        r = client.post('/api/v1/auth/token', json={'username': username, 'password': DEMO_PASSWORD})
        return {'Authorization': f'Bearer {r.json["token"]}'}
    sup = bearer('jianguan')
    r = client.post(f'/api/v1/instances/{case.id}/comments', json={'body': '请加快办理'}, headers=sup)
    assert r.status_code == 201 and r.json['author'] == 'jianguan'
    items = client.get(f'/api/v1/instances/{case.id}/comments', headers=sup).json['items']
    assert [c['body'][:6] for c in items] == ['申请人之子 ', '请加快办理'] and '********' in items[0]['body']
    assert client.get(f'/api/v1/instances/{case.id}/comments', headers=bearer('t02_jingban')).status_code == 404
    assert client.post(f'/api/v1/instances/{case.id}/comments', json={'body': ''}, headers=sup).status_code == 422


def test_the_leader_reassigns_from_the_task_page_with_a_reason(app):
    case = start('t01')
    cw = signed_in(app, 't01_jingban')
    task = _claimed_task(cw, case)
    assert '分派给他人' not in cw.get(f'/tasks/{task.id}').get_data(as_text=True)
    r = cw.post(f'/tasks/{task.id}/assign', data={'csrf_token': cw.csrf, 'username': 't01_jingban2', 'reason': '请假'})
    assert r.status_code == 302
    assert db.session.get(Task, task.id).assignee == 't01_jingban'   # refused: not the leader

    leader = signed_in(app, 't01_lingdao')
    page = leader.get(f'/tasks/{task.id}').get_data(as_text=True)
    form = page.split('id="reassign"')[1]
    assert '分派给他人' in page and 'value="t01_jingban2"' in form
    assert 'value="t01_jingban"' not in form and 'value="t02_jingban"' not in form and 't01_xieli' not in form

    r = leader.post(f'/tasks/{task.id}/assign', data={'csrf_token': leader.csrf, 'username': 't01_jingban2', 'reason': ''})
    assert r.status_code == 302 and db.session.get(Task, task.id).assignee == 't01_jingban'
    assert '请填写分派理由' in leader.get(f'/tasks/{task.id}').get_data(as_text=True)
    r = leader.post(f'/tasks/{task.id}/assign', data={'csrf_token': leader.csrf, 'username': 't02_jingban', 'reason': '人手'})
    db.session.expire_all()
    assert db.session.get(Task, task.id).assignee == 't01_jingban'   # another township's person
    r = leader.post(f'/tasks/{task.id}/assign', data={'csrf_token': leader.csrf, 'username': 't01_jingban2',
                                                      'reason': '原经办人休假一周'})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Task, task.id).assignee == 't01_jingban2'
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'assign')).one()
    assert entry.actor == 't01_lingdao' and entry.detail == {
        'assignee': 't01_jingban2', 'previous': 't01_jingban', 'reason': '原经办人休假一周'}
    history = leader.get(f'/cases/{case.id}').get_data(as_text=True).split('id="history"')[1]
    assert '分派' in history

    # The API's assign is the same operation: the reason rides along into the audit log.
    client = app.test_client()
    from service.demo import DEMO_PASSWORD
    token = client.post('/api/v1/auth/token', json={'username': 't01_lingdao', 'password': DEMO_PASSWORD}).json['token']
    r = client.post(f'/api/v1/tasks/{task.id}/assign', json={'username': 't01_jingban', 'reason': '休假结束'},
                    headers={'Authorization': f'Bearer {token}'})
    assert r.status_code == 200 and r.json['assignee'] == 't01_jingban'
    last = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'assign').order_by(AuditEntry.id.desc())).first()
    assert last.detail['reason'] == '休假结束'
