"""Sign-ins are rows (user_session): logout, disabling, a new password and timeouts end them at once.

Found before: after logout the old cookie and its CSRF token still claimed a task and read a case
for 8 hours, and tokens lived until they expired whatever happened to the account.
"""
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from service.extensions import db
from service.models import AuditEntry, Task, UserSession
from service.services import cases, users
from service.services.auth import find_user

from .security_helpers import (api_token, bearer, csrf_of, demo_app, page_csrf, signed_in, start_case,  # noqa: F401
                               wall_clock, web_app, web_login)


def _sessions(username):
    user = find_user(username)
    return db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)
                              .order_by(UserSession.created_at)).all()


def test_a_cookie_replayed_after_logout_reads_and_claims_nothing(web_app):
    case = start_case('t01')
    task = cases.ready_tasks(case.id)[0]
    client = signed_in(web_app, 't01_jingban')
    assert client.get(f'/cases/{case.id}').status_code == 200
    csrf = page_csrf(client, f'/cases/{case.id}')
    stolen = client.get_cookie('session').value

    assert client.post('/logout', data={'csrf_token': csrf}).status_code == 302
    row = _sessions('t01_jingban')[-1]
    assert row.ended_why == 'logout' and row.ended_at is not None and row.kind == 'web'

    replay = web_app.test_client()
    replay.set_cookie('session', stolen)
    r = replay.get(f'/cases/{case.id}')
    assert r.status_code == 302 and '/login' in r.headers['Location']
    r = replay.post(f'/tasks/{task.id}/claim', data={'csrf_token': csrf})
    assert r.status_code == 302 and '/login' in r.headers['Location']
    assert replay.get(f'/cases/{case.id}/notices').status_code == 302
    db.session.expire_all()
    assert db.session.get(Task, task.id).assignee is None
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.actor == 't01_jingban'))]
    assert 'logout' in actions


def test_signing_in_again_starts_a_new_session_id(web_app):
    client = web_app.test_client()
    web_login(client, 't01_jingban')
    first = client.get_cookie('session').value
    web_login(client, 't01_jingban')
    assert client.get_cookie('session').value != first
    rows = _sessions('t01_jingban')
    assert len(rows) == 2 and all(r.remote_addr == '127.0.0.1' for r in rows)


def test_a_token_after_logout_is_refused(web_app):
    api = web_app.test_client()
    token = api_token(api, 't01_jingban')
    assert api.get('/api/v1/users/me', headers=bearer(token)).status_code == 200
    assert api.post('/api/v1/auth/logout', headers=bearer(token)).status_code == 204
    r = api.get('/api/v1/users/me', headers=bearer(token))
    assert r.status_code == 401 and r.json['error'] == 'session_ended'
    assert api.get('/api/v1/tasks', headers=bearer(token)).status_code == 401
    # Another sign-in of the same person is not touched by this logout.
    other = api_token(api, 't01_jingban')
    assert api.get('/api/v1/users/me', headers=bearer(other)).status_code == 200


def test_disabling_a_user_ends_tokens_and_cookies_at_once(web_app):
    api = web_app.test_client()
    token = api_token(api, 't01_jingban')
    browser = signed_in(web_app, 't01_jingban')
    users.set_active('t01_jingban', False, 'tester')
    r = api.get('/api/v1/users/me', headers=bearer(token))
    assert r.status_code == 401 and r.json['error'] == 'user_disabled'
    assert browser.get('/cases').status_code == 302
    assert {r.ended_why for r in _sessions('t01_jingban')} == {'user_disabled'}
    # Enabled again: the old token stays dead, a new sign-in works.
    users.set_active('t01_jingban', True, 'tester')
    assert api.get('/api/v1/users/me', headers=bearer(token)).status_code == 401
    assert api.get('/api/v1/users/me', headers=bearer(api_token(api, 't01_jingban'))).status_code == 200


def test_a_new_password_ends_every_session(web_app):
    api = web_app.test_client()
    token = api_token(api, 't01_jingban')
    browser = signed_in(web_app, 't01_jingban')
    users.set_password('t01_jingban', 'Neues-Passwort-42', 'admin', must_change=False)
    r = api.get('/api/v1/users/me', headers=bearer(token))
    assert r.status_code == 401 and r.json['error'] == 'session_ended'
    assert browser.get('/cases').status_code == 302
    assert {r.ended_why for r in _sessions('t01_jingban')} == {'password_changed'}


def test_changing_ones_own_password_over_the_api_ends_the_others_and_returns_a_new_token(web_app):
    api = web_app.test_client()
    old, other = api_token(api, 't01_jingban'), api_token(api, 't01_jingban')
    browser = signed_in(web_app, 't01_jingban')
    r = api.post('/api/v1/users/me/password', headers=bearer(old),
                 json={'current_password': 'jiuzhu-demo', 'new_password': 'Herbst-Laub-2026'})
    assert r.status_code == 200, r.json
    new = r.json['token']
    for token in (old, other):
        assert api.get('/api/v1/users/me', headers=bearer(token)).status_code == 401
    assert browser.get('/cases').status_code == 302
    assert api.get('/api/v1/users/me', headers=bearer(new)).status_code == 200
    assert api_token(api, 't01_jingban', 'Herbst-Laub-2026')


def test_changing_ones_own_password_on_the_page_keeps_this_browser_signed_in(web_app):
    browser = signed_in(web_app, 't01_jingban')
    elsewhere = signed_in(web_app, 't01_jingban')
    csrf = page_csrf(browser, '/password')
    r = browser.post('/password', data={'csrf_token': csrf, 'current_password': 'jiuzhu-demo',
                                        'new_password': 'Herbst-Laub-2026', 'confirm_password': 'Herbst-Laub-2026'})
    assert r.status_code == 302
    assert browser.get('/cases').status_code == 200
    assert elsewhere.get('/cases').status_code == 302


def test_idle_timeout_ends_tokens_and_cookies_by_the_wall_clock(web_app):
    clock = web_app.extensions['jiuzhu.clock']
    wall = wall_clock(web_app)
    api = web_app.test_client()
    token = api_token(api, 't01_jingban')
    browser = signed_in(web_app, 't01_jingban')
    # The demo clock jumping a month does not end anything: sessions run on the wall clock.
    clock.advance(days=30)
    wall.advance(minutes=29)
    assert api.get('/api/v1/users/me', headers=bearer(token)).status_code == 200
    assert browser.get('/cases').status_code == 200
    wall.advance(minutes=29)      # 29 minutes after the last request: still within the idle limit
    assert api.get('/api/v1/users/me', headers=bearer(token)).status_code == 200
    wall.advance(minutes=31)
    r = api.get('/api/v1/users/me', headers=bearer(token))
    assert r.status_code == 401 and r.json['error'] == 'token_expired' and '超时' in r.json['message']
    r = browser.get('/cases')
    assert r.status_code == 302 and '/login' in r.headers['Location']
    assert {r.ended_why for r in _sessions('t01_jingban')} == {'idle'}
    ends = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'session_end')).all()
    assert [e.detail['why'] for e in ends] == ['idle', 'idle']


def test_absolute_timeout_ends_a_busy_session_after_eight_hours(web_app):
    wall = wall_clock(web_app)
    api = web_app.test_client()
    token = api_token(api, 'hedui')
    for _ in range(int(8 * 60 / 25)):          # a request every 25 minutes for 8 hours
        wall.advance(minutes=25)
        assert api.get('/api/v1/users/me', headers=bearer(token)).status_code == 200
    wall.advance(minutes=25)
    r = api.get('/api/v1/users/me', headers=bearer(token))
    assert r.status_code == 401 and r.json['error'] == 'token_expired'
    assert _sessions('hedui')[-1].ended_why == 'expired'


def test_timeouts_follow_the_configuration(make_app, monkeypatch):
    app = demo_app(make_app, monkeypatch, JIUZHU_SESSION_IDLE_MINUTES=5, JIUZHU_SESSION_MAX_HOURS=1)
    with app.app_context():
        wall = wall_clock(app)
        api = app.test_client()
        r = api.post('/api/v1/auth/token', json={'username': 'hedui', 'password': 'jiuzhu-demo'})
        assert r.json['idle_minutes'] == 5
        token = r.json['token']
        wall.advance(minutes=6)
        assert api.get('/api/v1/users/me', headers=bearer(token)).status_code == 401


def test_last_seen_is_written_at_most_once_a_minute_and_a_request_costs_one_read(web_app):
    wall = wall_clock(web_app)
    api = web_app.test_client()
    token = api_token(api, 'hedui')
    row_id = _sessions('hedui')[-1].id
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, 'before_cursor_execute', count)
    try:
        wall.advance(seconds=30)
        assert api.get('/api/v1/users/me', headers=bearer(token)).status_code == 200
        reads = list(statements)
        wall.advance(seconds=31)
        statements.clear()
        assert api.get('/api/v1/users/me', headers=bearer(token)).status_code == 200
        touched = list(statements)
    finally:
        event.remove(db.engine, 'before_cursor_execute', count)
    assert len(reads) == 1 and 'user_session' in reads[0] and 'app_user' in reads[0], reads
    assert any(s.lstrip().upper().startswith('UPDATE USER_SESSION') for s in touched), touched
    db.session.expire_all()
    assert db.session.get(UserSession, row_id).last_seen_at.replace(microsecond=0) == \
        (wall.now()).replace(microsecond=0)
    assert wall.now() - timedelta(minutes=2) < db.session.get(UserSession, row_id).created_at


def test_the_table_holds_no_working_secret(web_app):
    api = web_app.test_client()
    token = api_token(api, 'hedui')
    row = _sessions('hedui')[-1]
    assert token not in row.id and len(row.id) == 64
    # The row id (the secret's hash) does not work as a token.
    r = api.get('/api/v1/users/me', headers={'Authorization': f'Bearer {row.id}'})
    assert r.status_code == 401 and r.json['error'] == 'token_invalid'


def test_an_administrator_signs_a_person_out_everywhere(web_app):
    api = web_app.test_client()
    token = api_token(api, 'hedui')
    browser = signed_in(web_app, 'hedui')
    assert users.end_sessions('hedui', 'admin') == 2
    assert api.get('/api/v1/users/me', headers=bearer(token)).status_code == 401
    assert browser.get('/tasks').status_code == 302


def test_the_signed_in_user_is_read_only_and_its_row_is_at_hand(make_app):
    """auth.Caller carries the columns a request reads; a change goes through the User row."""
    from service.services import auth, users
    app = make_app()
    with app.app_context():
        users.add_user('ro_caller', '只读', 'township_caseworker', 't01', 'bench-pass-1234!', 'test')
        token, _ = auth.issue_token(auth.find_user('ro_caller'))
    with app.test_request_context('/api/v1/users/me', headers={'Authorization': f'Bearer {token}'}):
        caller = auth.user_from_bearer(f'Bearer {token}')
        assert (caller.username, caller.role, caller.township, caller.is_county) == \
            ('ro_caller', 'township_caseworker', 't01', False)
        with pytest.raises(AttributeError):
            caller.must_change_password = True
        assert caller.row().username == 'ro_caller'
