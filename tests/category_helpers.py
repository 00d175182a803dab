"""What the tests of the issue-12 categories share (低保边缘、刚性支出、两项补贴、儿童和老年人补贴): one app
per backend and module with only the module's diagrams deployed, and starting a case as the API does.

The pattern of tests/test_flow_tekun.py: building an app and deploying costs more than most cases,
so a module shares one, each test starts its own case and the clock goes back to T0 before it.
"""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from service import create_app
from service.extensions import db
from service.services import forms, repository, runtime

from .conftest import BACKENDS, PG_URL, T0, _pg_admin_engine, app_config, schema_at_head
from .flow_helpers import ROOT, fire_at, timers

NOTICE = {'document_no': '城民救〔2026〕1号', 'issued_on': '2026-09-28', 'delivery': 'in_person'}
COMPLETE = {'acceptance': {'result': 'complete', 'checked_on': '2026-09-28'}}
FILING = {'filing': {'reviewed_on': '2026-11-02', 'identification_accurate': True, 'procedure_compliant': True,
                     'materials_complete': True, 'spot_checked': False, 'corrections_required': False}}


def module_app_fixture(files, label):
    """A module-scoped `module_app` fixture deploying `files` of processes/ on each backend."""
    @pytest.fixture(scope='module', params=BACKENDS)
    def module_app(request, tmp_path_factory):
        schema = None
        folder = tmp_path_factory.mktemp(label)
        if request.param == 'sqlite':
            url = f'sqlite:///{folder / "jiuzhu.sqlite3"}'
        else:
            schema = 't_' + uuid.uuid4().hex[:12]
            with _pg_admin_engine().connect() as conn:
                conn.execute(text(f'CREATE SCHEMA {schema}'))
            url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
        schema_at_head(url)
        # As make_app's: attachments under the module's temporary folder, never the repository's instance/.
        app = create_app(app_config(url, folder))
        with app.app_context():
            tree = repository.read_tree(ROOT / 'processes')
            repository.deploy({name: tree[name] for name in files}, 'tester')
            yield app
            db.session.remove()
            db.engine.dispose()
        if schema:
            admin = _pg_admin_engine()
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA {schema} CASCADE'))
            admin.dispose()
    return module_app


@pytest.fixture
def app(module_app):
    module_app.extensions['jiuzhu.clock'].set(T0)
    yield module_app
    db.session.rollback()


def start(key, data, township='t01'):
    """As POST /instances does: the application must fit the process's start form."""
    forms.validate(forms.load(forms.start_form_name(repository.latest(key))), data, what='申请')
    return runtime.start_instance(key, township, data, 'caseworker1')


def cross(clock, case, timer_id):
    """Move the clock across a deadline: just before it nothing is overdue, just after it is."""
    moment = timers(case, 'waiting')[timer_id].due_at
    fire_at(clock, case, moment - timedelta(seconds=1))
    assert timers(case)[timer_id].state == 'waiting'
    fire_at(clock, case, moment + timedelta(seconds=1))
    assert timers(case)[timer_id].state == 'fired'
    assert case.overdue
