"""A real server and Debian's chromium for the browser tests of the web pages.

The server is the app of the suite's `make_app` fixture (temporary database, manual clock at
T0), with the real dibao diagrams of processes/ deployed and the demo people loaded, served by werkzeug on a free
loopback port in a thread. Playwright drives /usr/bin/chromium (never `playwright install`:
this machine and CI have no browser downloads). Without chromium the tests are skipped.
"""
import os
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get('JIUZHU_CHROMIUM', '/usr/bin/chromium')
SCREENSHOTS = ROOT / 'tests' / 'artifacts' / 'screenshots'
# The real dibao diagrams of processes/ (the other categories are not walked through here).
DIAGRAMS = ('legacy/dibao.bpmn', 'delegated/dibao_a.bpmn', 'delegated/dibao_b.bpmn')
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run', '--lang=zh-CN']

if not Path(CHROMIUM).exists():
    pytest.skip(f'browser tests need chromium at {CHROMIUM} (apt-get install chromium; CI installs it)',
                allow_module_level=True)
sync_api = pytest.importorskip('playwright.sync_api', reason='playwright is in the [test] extra')


@pytest.fixture
def database_url(tmp_path):
    # Pages, not storage, are under test here: SQLite only (the rest of the suite covers PostgreSQL).
    yield f'sqlite:///{tmp_path / "jiuzhu.sqlite3"}'


@pytest.fixture(scope='session')
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(make_app):
    from service import demo
    from service.services import repository
    app = make_app()
    with app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({name: tree[name] for name in DIAGRAMS}, 'tester')
        demo.load_users()
        demo.load_entrustments()
    http = make_server('127.0.0.1', 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name='web-test-server', daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f'http://127.0.0.1:{http.server_port}', app=app)
    finally:
        http.shutdown()
        thread.join(timeout=10)


class Person:
    """One browser context (its own cookies) signed in as a demo user."""

    def __init__(self, browser, base, username):
        self.context = browser.new_context(base_url=base, locale='zh-CN', timezone_id='Asia/Shanghai',
                                           viewport={'width': 1360, 'height': 900})
        self.context.set_default_timeout(30000)
        self.page = self.context.new_page()
        self.username = username
        self.errors = []
        self.page.on('pageerror', lambda exc: self.errors.append(str(exc)))
        self.login()

    def login(self):
        from service.demo import DEMO_PASSWORD
        page = self.page
        page.goto('/login')
        page.fill('#username', self.username)
        page.fill('#password', DEMO_PASSWORD)
        page.click('button[type=submit]')
        page.wait_for_selector('.topbar .user')

    def shot(self, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f'{name}.png'), full_page=True)

    def close(self):
        self.context.close()


@pytest.fixture
def person(browser, server):
    people = []

    def sign_in(username):
        p = Person(browser, server.url, username)
        people.append(p)
        return p
    yield sign_in
    for p in people:
        p.close()
    for p in people:
        assert not p.errors, f'JavaScript errors on the pages of {p.username}: {p.errors}'
