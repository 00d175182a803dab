"""Password guessing is throttled; passwords follow one policy; demo passwords are replaced outside demo mode.

Found before: 100 wrong API passwords at 7 per second and then the right one got a 200, the web
login the same, and `jiuzhu users add` accepted `12345678`.
"""
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from service import demo
from service.extensions import db
from service.models import AuditEntry, User
from service.services import passwords, users
from service.services.auth import find_user

from .security_helpers import api_token, bearer, csrf_of, demo_app, page_csrf, signed_in, web_app, web_login  # noqa: F401

RIGHT = 'jiuzhu-demo'


def _throttled(action=None):
    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'login_throttled')
                              .order_by(AuditEntry.id)).all()
    return rows


def test_the_sixth_quick_wrong_api_password_is_throttled_even_when_right(web_app):
    api = web_app.test_client()
    for _ in range(5):
        r = api.post('/api/v1/auth/token', json={'username': 't01_jingban', 'password': 'wrong-guess-1'})
        assert r.status_code == 401 and r.json['error'] == 'invalid_credentials'
    r = api.post('/api/v1/auth/token', json={'username': 't01_jingban', 'password': RIGHT})
    assert r.status_code == 429, r.json
    assert r.json['error'] == 'too_many_attempts'
    assert '登录失败次数过多' in r.json['message'] and '分钟后再试' in r.json['message']
    retry = int(r.headers['Retry-After'])
    assert 0 < retry <= 15 * 60
    assert f'请 {-(-retry // 60)} 分钟后再试' in r.json['message']
    rows = _throttled()
    assert [(e.actor, e.detail['scope']) for e in rows] == [('t01_jingban', 'account')]
    # Every further try is refused and audited too; another account from this address still signs in.
    assert api.post('/api/v1/auth/token', json={'username': 't01_jingban', 'password': RIGHT}).status_code == 429
    assert len(_throttled()) == 2
    assert api_token(api, 't01_jingban2')


def test_the_sixth_quick_wrong_web_password_is_throttled(web_app):
    client = web_app.test_client()
    for _ in range(5):
        r = web_login(client, 't02_jingban', 'wrong-guess-1')
        assert r.status_code == 401
    r = web_login(client, 't02_jingban', RIGHT)
    assert r.status_code == 429
    page = r.get_data(as_text=True)
    assert '登录失败次数过多' in page and '分钟后再试' in page
    assert int(r.headers['Retry-After']) > 0
    assert [(e.actor, e.detail['scope']) for e in _throttled()] == [('t02_jingban', 'account')]
    assert client.get('/cases').status_code == 302       # not signed in


def test_the_web_and_the_api_share_one_count_per_account(web_app):
    client = web_app.test_client()
    for _ in range(3):
        web_login(client, 'hedui', 'wrong-guess-1')
    for _ in range(2):
        client.post('/api/v1/auth/token', json={'username': 'hedui', 'password': 'wrong-guess-1'})
    assert client.post('/api/v1/auth/token', json={'username': 'hedui', 'password': RIGHT}).status_code == 429


def test_a_right_password_clears_the_accounts_count(web_app):
    api = web_app.test_client()
    for _ in range(3):
        for _ in range(4):
            api.post('/api/v1/auth/token', json={'username': 'jianguan', 'password': 'wrong-guess-1'})
        assert api_token(api, 'jianguan')


def test_one_address_guessing_many_accounts_is_throttled(web_app):
    api = web_app.test_client()
    attacker = {'REMOTE_ADDR': '198.51.100.9'}
    for i in range(20):
        r = api.post('/api/v1/auth/token', json={'username': f'guess{i}', 'password': 'x'}, environ_base=attacker)
        assert r.status_code == 401
    r = api.post('/api/v1/auth/token', json={'username': 'sheji', 'password': RIGHT}, environ_base=attacker)
    assert r.status_code == 429 and r.json['details']['scope'] == 'address'
    # The same account from another address is not affected.
    assert api_token(api, 'sheji', environ_base={'REMOTE_ADDR': '198.51.100.10'})


def test_unknown_accounts_are_counted_like_real_ones(web_app):
    api = web_app.test_client()
    for _ in range(5):
        assert api.post('/api/v1/auth/token', json={'username': 'ghost', 'password': 'x'}).status_code == 401
    assert api.post('/api/v1/auth/token', json={'username': 'ghost', 'password': 'x'}).status_code == 429


def test_the_current_password_on_the_change_form_is_throttled_too(web_app):
    api = web_app.test_client()
    token = api_token(api, 't01_lingdao')
    for _ in range(5):
        r = api.post('/api/v1/users/me/password', headers=bearer(token),
                     json={'current_password': 'wrong-guess-1', 'new_password': 'Herbst-Laub-2026'})
        assert r.status_code == 422 and r.json['details'] == {'current_password': '当前密码不正确'}
    r = api.post('/api/v1/users/me/password', headers=bearer(token),
                 json={'current_password': RIGHT, 'new_password': 'Herbst-Laub-2026'})
    assert r.status_code == 429 and 'Retry-After' in r.headers


def test_throttle_limits_follow_the_configuration(make_app, monkeypatch):
    app = demo_app(make_app, monkeypatch, JIUZHU_LOGIN_LIMIT_ACCOUNT='2 per hour')
    with app.app_context():
        api = app.test_client()
        for _ in range(2):
            api.post('/api/v1/auth/token', json={'username': 'admin', 'password': 'x'})
        r = api.post('/api/v1/auth/token', json={'username': 'admin', 'password': RIGHT})
        assert r.status_code == 429 and 50 <= int(r.headers['Retry-After']) / 60 <= 60


# ------------------------------------------------------------------ the policy

@pytest.mark.parametrize('password, name, problem', [
    ('12345678', 'cw', '至少 10 位'),
    ('1234567890', 'cw', '过于常见'),
    ('Password@123', 'cw', '过于常见'),
    ('JIUZHU-DEMO', 'cw', '过于常见'),
    ('abcdefghijkl', 'cw', '两类字符'),
    ('ABCDEFGHIJKL', 'cw', '两类字符'),
    ('738291046583', 'cw', '两类字符'),
    ('aaaaaaaaaa11', 'cw', '不同的字符'),
    ('wangxiaoming-7', 'wangxiaoming', '用户名'),
])
def test_the_policy_refuses(password, name, problem):
    found = passwords.problems(password, name)
    assert any(problem in text for text in found), found


@pytest.mark.parametrize('password', ['Herbst-Laub-2026', 'secret-pass-1', '城关镇社会救助2026', 'correct horse battery'])
def test_the_policy_accepts(password):
    assert passwords.problems(password, 't01_jingban') == []


def test_the_common_list_ships_and_is_not_tiny():
    assert len(passwords.common_passwords()) >= 100
    assert 'jiuzhu-demo' in passwords.common_passwords()


def test_every_way_of_setting_a_password_uses_the_policy(web_app):
    from service.errors import Invalid
    with pytest.raises(Invalid) as err:
        users.add_user('newcw', '新经办', 'township_caseworker', 't01', '12345678', 'tester')
    assert err.value.details == {'password': '密码至少 10 位；密码须包含至少两类字符（小写字母、大写字母、数字、符号或汉字）'}
    with pytest.raises(Invalid):
        users.set_password('t01_jingban', 'qwertyuiop', 'tester')
    api = web_app.test_client()
    token = api_token(api, 't01_jingban')
    r = api.post('/api/v1/users/me/password', headers=bearer(token),
                 json={'current_password': RIGHT, 'new_password': 't01_jingban-2026'})
    assert r.status_code == 422 and '用户名' in r.json['details']['new_password']
    browser = signed_in(web_app, 't01_jingban')
    r = browser.post('/password', data={'csrf_token': page_csrf(browser, '/password'), 'current_password': RIGHT,
                                        'new_password': 'abc1234567', 'confirm_password': 'abc1234567'})
    assert r.status_code == 422 and '过于常见' in r.get_data(as_text=True)
    r = browser.post('/password', data={'csrf_token': page_csrf(browser, '/password'), 'current_password': RIGHT,
                                        'new_password': 'Herbst-Laub-2026', 'confirm_password': 'Herbst-Laub-2027'})
    assert r.status_code == 422 and '不一致' in r.get_data(as_text=True)


def test_users_cli_refuses_a_weak_password_and_marks_new_ones_temporary(database_url, monkeypatch):
    from service.cli import main
    monkeypatch.setenv('DATABASE_URL', database_url)
    monkeypatch.setenv('SECRET_KEY', 'cli-test')
    runner = CliRunner()
    r = runner.invoke(main, ['users', 'add', 'newcw', '--role', 'township_caseworker', '--township', 't01',
                             '--password', '12345678'])
    assert r.exit_code == 1 and '密码至少 10 位' in r.output
    r = runner.invoke(main, ['users', 'add', 'newcw', '--role', 'township_caseworker', '--township', 't01',
                             '--password', 'Herbst-Laub-2026'])
    assert r.exit_code == 0 and '首次登录须修改密码' in r.output, r.output
    r = runner.invoke(main, ['users', 'password', 'newcw', '--password', 'qwertyuiop123'])
    assert r.exit_code == 1 and '过于常见' in r.output
    r = runner.invoke(main, ['users', 'password', 'newcw', '--password', 'Winter-Schnee-7', '--permanent'])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ['users', 'logout', 'newcw'])
    assert r.exit_code == 0 and '已退出 newcw 的全部登录' in r.output, r.output
    assert runner.invoke(main, ['users', 'logout', 'nobody']).exit_code == 1
    from service import create_app
    app = create_app({'TESTING': True})
    with app.app_context():
        assert find_user('newcw').must_change_password is False
        db.session.remove()
        db.engine.dispose()


# ------------------------------------------------------------------ demo passwords outside demo mode

def test_demo_passwords_keep_working_in_demo_mode(web_app):
    api = web_app.test_client()
    r = api.post('/api/v1/auth/token', json={'username': 't01_jingban', 'password': RIGHT})
    assert r.json['password_change_required'] is False
    assert api.get('/api/v1/tasks', headers=bearer(r.json['token'])).status_code == 200


def test_a_demo_password_on_a_real_clock_must_be_changed_first_api(make_app, monkeypatch):
    app = demo_app(make_app, monkeypatch, JIUZHU_CLOCK='real')
    with app.app_context():
        api = app.test_client()
        r = api.post('/api/v1/auth/token', json={'username': 't01_jingban', 'password': RIGHT})
        assert r.status_code == 200 and r.json['password_change_required'] is True
        token = r.json['token']
        r = api.get('/api/v1/tasks', headers=bearer(token))
        assert r.status_code == 403 and r.json['error'] == 'password_change_required'
        assert api.get('/api/v1/users/me', headers=bearer(token)).json['must_change_password'] is True
        r = api.post('/api/v1/users/me/password', headers=bearer(token),
                     json={'current_password': RIGHT, 'new_password': 'Herbst-Laub-2026'})
        assert r.status_code == 200 and r.json['password_change_required'] is False
        assert api.get('/api/v1/tasks', headers=bearer(r.json['token'])).status_code == 200
        assert api.get('/api/v1/tasks', headers=bearer(token)).status_code == 401
        actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.actor == 't01_jingban'))]
        assert 'password_change_required' in actions and 'password_change' in actions


def test_a_demo_password_on_a_real_clock_must_be_changed_first_web(make_app, monkeypatch):
    app = demo_app(make_app, monkeypatch, JIUZHU_CLOCK='real')
    with app.app_context():
        browser = app.test_client()
        r = web_login(browser, 'jianguan', RIGHT)
        assert r.status_code == 302 and '/password' in r.headers['Location']
        for url in ('/cases', '/supervision', '/'):
            r = browser.get(url)
            assert r.status_code == 302 and '/password' in r.headers['Location'], url
        page = browser.get('/password').get_data(as_text=True)
        assert '初始密码或演示密码' in page
        csrf = csrf_of(page)
        # The notices (another blueprint) do not open either.
        assert browser.get('/cases/1/notices').status_code == 302
        r = browser.post('/password', data={'csrf_token': csrf, 'current_password': RIGHT,
                                            'new_password': 'Herbst-Laub-2026', 'confirm_password': 'Herbst-Laub-2026',
                                            'next': '/supervision'})
        assert r.status_code == 302 and r.headers['Location'].endswith('/supervision')
        assert browser.get('/supervision').status_code == 200
        # Signed out and in again with the new password: no detour.
        other = app.test_client()
        assert '/password' not in web_login(other, 'jianguan', 'Herbst-Laub-2026').headers['Location']


def test_when_the_shared_store_fails_this_process_keeps_counting(web_app):
    from limits.strategies import MovingWindowRateLimiter

    class Down(MovingWindowRateLimiter):
        def _fail(self, *args, **kwargs):
            raise ConnectionError('redis down')
        test = hit = get_window_stats = clear = _fail

    web_app.extensions['jiuzhu.limiter']._limiter = Down(web_app.extensions['jiuzhu.limiter'].storage)
    api = web_app.test_client()
    assert api_token(api, 'admin')                      # sign-in stays open
    for _ in range(5):
        api.post('/api/v1/auth/token', json={'username': 'admin', 'password': 'wrong-guess-1'})
    assert api.post('/api/v1/auth/token', json={'username': 'admin', 'password': RIGHT}).status_code == 429


def test_the_throttle_adds_no_hook_to_every_request(web_app):
    """Only sign-in uses the counters: Flask-Limiter's own per-request hooks are not installed."""
    hooks = [f for funcs in (web_app.before_request_funcs, web_app.after_request_funcs,
                             web_app.teardown_request_funcs) for f in funcs.get(None, [])]
    assert not [f for f in hooks if 'limiter' in repr(f).lower()], hooks
    assert web_app.extensions['jiuzhu.limiter'].limiter is not None


def test_a_real_clock_start_flags_the_demo_accounts_still_on_the_demo_password(make_app, monkeypatch):
    demo_db = demo_app(make_app, monkeypatch)             # the demo ran on this database (manual clock)
    with demo_db.app_context():
        api = demo_db.test_client()
        old_token = api_token(api, 'admin')
        users.set_password('jianguan', 'Herbst-Laub-2026', 'admin', must_change=False)
    production = make_app(JIUZHU_CLOCK='real')            # then production starts on it
    with production.app_context():
        flagged = {u.username for u in db.session.scalars(select(User).where(User.must_change_password.is_(True)))}
        assert 'admin' in flagged and 't01_jingban' in flagged and 'jianguan' not in flagged
        assert len(flagged) == len(demo.DEMO_USERS) - 1     # every demo account but the one changed
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'password_change_required')).all()
        assert {r.detail['username'] for r in rows} == flagged
        # A token from the demo days cannot act before the password is changed.
        r = production.test_client().get('/api/v1/tasks', headers=bearer(old_token))
        assert r.status_code == 403 and r.json['error'] == 'password_change_required'
        from service.demo import flag_demo_passwords
        assert flag_demo_passwords() == []                # the next start has nothing to do
