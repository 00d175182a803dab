"""Security headers and cookie flags on every response, in one place (web/security.py).

Found before: no SameSite (the setdefault did nothing), no Secure behind TLS, no CSP, the
confirmation form could be framed, no nosniff, pages with personal data cacheable.
The crawl opens every page each demo role can reach by following links from its start page.
"""
import html as htmlmod
import re
from collections import deque
from urllib.parse import urlsplit

import pytest

from service.services import cases
from service.services.auth import find_user

from .security_helpers import (api_token, bearer, demo_app, page_csrf, pre_verify_case, signed_in, start_case,  # noqa: F401
                               web_app, web_login)

NOTICE = {'document_no': '城民救〔2026〕1号', 'issued_on': '2026-09-28', 'delivery': 'in_person'}
ROLES = ('t01_xieli', 't01_jingban', 't01_lingdao', 't02_jingban', 'hedui', 'canlian', 'jianguan', 'sheji', 'admin')
STATIC_PREFIXES = ('/static/', '/vendor/')
INLINE_SCRIPT = re.compile(r'<script(?![^>]*\bsrc=)(?![^>]*type="application/json")[^>]*>', re.I)
HANDLER = re.compile(r'<[a-z][^>]*\son[a-z]+\s*=', re.I)
LINK = re.compile(r'\b(?:href|src)="([^"]+)"')


def check_headers(url, response):
    h = response.headers
    csp = h.get('Content-Security-Policy', '')
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, url
    assert "'unsafe-eval'" not in csp and "script-src 'self' 'unsafe-inline'" not in csp, url
    assert h.get('X-Frame-Options') == 'DENY', url
    assert h.get('X-Content-Type-Options') == 'nosniff', url
    assert h.get('Referrer-Policy') == 'same-origin', url
    cacheable = urlsplit(url).path.startswith(STATIC_PREFIXES) and response.status_code == 200
    if cacheable:
        assert 'no-store' not in h.get('Cache-Control', ''), url
    else:
        assert h.get('Cache-Control') == 'no-store', (url, h.get('Cache-Control'))


def check_html(url, text):
    assert not INLINE_SCRIPT.search(text), f'inline script on {url}: {INLINE_SCRIPT.search(text).group(0)}'
    assert not HANDLER.search(text), f'on…= handler on {url}: {HANDLER.search(text).group(0)}'
    assert 'javascript:' not in text, url


def crawl(client, start='/', limit=150):
    """Every same-site address reachable by links from `start` (GET only); returns what was opened."""
    seen, queue = set(), deque([start])
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url)
        check_headers(url, r)
        if r.status_code in (301, 302, 303):
            queue.append(urlsplit(r.headers['Location']).path or '/')
            continue
        if r.mimetype != 'text/html':
            continue
        text = r.get_data(as_text=True)
        check_html(url, text)
        for link in LINK.findall(text):
            link = htmlmod.unescape(link)
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not link.startswith('/'):
                continue
            queue.append(parts.path + (f'?{parts.query}' if parts.query else ''))
    return seen


@pytest.fixture
def busy_app(web_app):
    """Cases in both townships, one accepted so that its notice exists."""
    accepted = start_case('t01')
    start_case('t02')
    pre_verify_case(accepted.id)
    user = find_user('t01_jingban')
    for bpmn_id, data in (('check_materials', {'acceptance': {'result': 'complete', 'checked_on': '2026-09-28'}}),
                          ('issue_acceptance_notice', {'acceptance_notice': NOTICE})):
        task = next(t for t in cases.ready_tasks(accepted.id) if t.bpmn_id == bpmn_id)
        cases.claim(user, task.id)
        cases.complete(user, task.id, data)
    web_app.accepted_case = accepted.id
    return web_app


@pytest.mark.parametrize('username', ROLES)
def test_every_page_a_role_reaches_has_the_headers_and_no_inline_script(busy_app, username):
    client = signed_in(busy_app, username)
    opened = crawl(client)
    assert len(opened) >= 3, opened
    if username in ('t01_jingban', 'jianguan'):
        case = busy_app.accepted_case
        assert f'/cases/{case}' in opened and any(u.startswith(f'/cases/{case}/notices') for u in opened)
        assert any(u.startswith('/vendor/bpmn-js/') for u in opened) and '/static/web/app.css' in opened
    if username == 't01_jingban':
        assert any(u.startswith('/tasks/') for u in opened)


def test_signed_out_pages_and_error_pages_have_the_headers(web_app):
    client = web_app.test_client()
    for url in ('/login', '/cases', '/no-such-page', '/cases/99999999', '/password'):
        r = client.get(url)
        check_headers(url, r)
        if r.mimetype == 'text/html':
            check_html(url, r.get_data(as_text=True))
    signed = signed_in(web_app, 't01_jingban')
    for url in ('/cases/99999999', '/supervision', '/cases?page=0', '/designer'):
        r = signed.get(url)
        assert r.status_code in (403, 404, 422), url
        check_headers(url, r)
        check_html(url, r.get_data(as_text=True))


def test_every_api_answer_has_the_headers(web_app):
    api = web_app.test_client()
    token = api_token(api, 'jianguan')
    admin = api_token(api, 'admin')   # for what only an admin may read (the audit chain's check)
    spec = api.get('/api/v1/openapi.json')
    check_headers('/api/v1/openapi.json', spec)
    gets = [path for path, ops in spec.json['paths'].items() if 'get' in ops and '{' not in path]
    assert len(gets) >= 6
    for path in gets:
        r = api.get(path, headers=bearer(token))
        if r.status_code == 403:
            check_headers(path, r)
            r = api.get(path, headers=bearer(admin))
        assert r.status_code == 200, (path, r.json)
        check_headers(path, r)
    for method, path, status in (('get', '/api/v1/tasks', 401), ('get', '/api/v1/instances/99999', 404),
                                 ('get', '/api/v1/instances?page=0', 422), ('post', '/api/v1/auth/token', 422),
                                 ('delete', '/api/v1/clock', 405), ('get', '/api/v1/nothing', 404)):
        r = getattr(api, method)(path, headers=bearer(token) if status != 401 else {})
        assert r.status_code == status, (path, r.status_code)
        check_headers(path, r)


def test_the_session_cookie_is_httponly_and_samesite_lax_and_not_secure_over_http(web_app):
    client = web_app.test_client()
    r = web_login(client, 't01_jingban')
    cookie = r.headers['Set-Cookie']
    assert 'HttpOnly' in cookie and 'SameSite=Lax' in cookie and 'Secure' not in cookie


def test_an_api_call_gets_no_session_cookie_and_a_page_keeps_its_own(web_app):
    """A request without the cookie gets an empty session and sets none (every API call); a signed-in
    page reads and keeps its cookie, and signing out takes the sign-in out of it."""
    api = web_app.test_client()
    token = api_token(api, 't01_jingban')
    r = api.get('/api/v1/tasks', headers=bearer(token))
    assert r.status_code == 200
    assert 'Set-Cookie' not in r.headers and 'Cookie' not in r.headers.get('Vary', '')
    page = signed_in(web_app, 't01_jingban')
    r = page.get('/', follow_redirects=True)
    assert r.status_code == 200 and '/login' not in r.request.path and 'Cookie' in r.headers.get('Vary', '')
    r = page.post('/logout', data={'csrf_token': page_csrf(page)})
    assert r.status_code == 302 and 'Set-Cookie' in r.headers    # the session without its sign-in (a notice)
    assert page.get('/', follow_redirects=True).request.path == '/login'     # signed out


def test_the_session_cookie_is_secure_over_https(web_app):
    client = web_app.test_client()
    r = web_login(client, 't01_jingban', base_url='https://localhost')
    cookie = r.headers['Set-Cookie']
    assert 'Secure' in cookie and 'HttpOnly' in cookie and 'SameSite=Lax' in cookie


def test_the_session_cookie_is_secure_behind_a_trusted_tls_proxy(make_app, monkeypatch):
    app = demo_app(make_app, monkeypatch, JIUZHU_PROXIES=1)
    with app.app_context():
        client = app.test_client()
        r = web_login(client, 't01_jingban', headers={'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.5'})
        assert 'Secure' in r.headers['Set-Cookie']
        # Without a trusted proxy the same header is ignored.
    plain = demo_app(make_app, monkeypatch)
    with plain.app_context():
        r = web_login(plain.test_client(), 't01_jingban', headers={'X-Forwarded-Proto': 'https'})
        assert 'Secure' not in r.headers['Set-Cookie']


def test_secure_cookies_can_be_forced(make_app, monkeypatch):
    app = demo_app(make_app, monkeypatch, JIUZHU_SECURE_COOKIES=True)
    with app.app_context():
        r = web_login(app.test_client(), 't01_jingban')
        assert 'Secure' in r.headers['Set-Cookie']


def test_static_files_stay_cacheable_but_typed(web_app):
    client = web_app.test_client()
    for url in ('/static/web/app.css', '/static/web/page.js', '/static/web/diagram.js'):
        r = client.get(url)
        assert r.status_code == 200
        check_headers(url, r)
