"""改革成效 (issue 13): legacy vs delegated on real cases, read from the count tables the write path
keeps — median and 90th-percentile working days, share within the statutory limit, steps, overdue."""
import io
import re

import pytest
from openpyxl import load_workbook

from service.services import auth, reform

from .category_helpers import module_app_fixture
from .api_helpers import PASSWORD
from .conftest import T0
from .security_helpers import signed_in
from .test_households import granted_household

FILES = ('delegated/dibao_a.bpmn', 'legacy/dibao.bpmn', 'common/household_review.bpmn')
module_app = module_app_fixture(FILES, 'reform')


@pytest.fixture
def app(module_app):
    from service.extensions import db
    from service.services import users
    module_app.extensions['jiuzhu.clock'].set(T0)
    if auth.find_user('sup') is None:
        users.add_user('sup', '测试sup', 'county_supervisor', None, 'secret-pass-1', 'tester')
        users.add_user('cw1', '测试cw1', 'township_caseworker', 't01', 'secret-pass-1', 'tester')
        db.session.commit()
    yield module_app
    db.session.rollback()


def test_percentile_is_the_nearest_rank():
    assert reform.percentile({}, 0.9) is None
    assert reform.percentile({3: 9, 20: 1}, 0.9) == 3
    assert reform.percentile({3: 8, 20: 2}, 0.9) == 20


def test_the_reform_page_measures_decided_cases_per_township_and_flow(app, clock):
    case, _ = granted_household(clock)          # a delegated dibao case, decided
    web = signed_in(app, 'sup', PASSWORD)
    rows = reform.table(auth.find_user('sup'))
    row = next(r for r in rows if r['flow'] == 'delegated' and r['category'] == 'dibao')
    assert row['cases'] >= 1 and row['decided'] >= 1 and row['median_days'] is not None
    assert row['p90_days'] >= row['median_days'] and 0 <= row['within_limit'] <= 1
    assert row['steps'] >= 4 and row['county_steps'] is not None
    # hand-offs: a step done by another role than the step before it, in the order the steps were
    # completed (the audit log's: several completions share the clock's moment in a test)
    from sqlalchemy import select
    from service.extensions import db
    from service.models import AuditEntry, Task
    roles = list(db.session.scalars(select(Task.role).join(AuditEntry, AuditEntry.task_id == Task.id).where(
        Task.instance_id == case.id, Task.state == 'completed', AuditEntry.action == 'complete')
        .order_by(AuditEntry.id)))
    changes = sum(1 for before, after in zip(roles, roles[1:]) if before != after)
    assert 0 < changes < len(roles) - 1
    assert row['handoffs'] == changes and row['steps'] == len(roles)     # the one delegated 低保 case here
    html = web.get('/reform').get_data(as_text=True)
    assert '改革成效' in html and '<svg' in html and '下放后（镇街审核确认）' in html
    r = web.get('/reform.xlsx')
    sheet = load_workbook(io.BytesIO(r.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == '镇街' and any(v[2] == '下放后（镇街审核确认）' for v in values[1:])
    assert '平均转手次数' in values[0] and '转手次数' in html
    assert signed_in(app, 'cw1', PASSWORD).get('/reform').status_code == 403
    assert case.status == 'completed'


def test_the_reform_figures_read_no_task_rows(app, clock):
    """At a million cases a window over the completed tasks took 30 s a view: the step figures are
    sums kept by the write path (step_count), read in a few rows."""
    granted_household(clock)
    from sqlalchemy import event
    from service.extensions import db
    sent = []
    listen = lambda conn, cursor, statement, *args: sent.append(statement)   # noqa: E731
    event.listen(db.engine, 'before_cursor_execute', listen)
    try:
        rows = reform.table(auth.find_user('sup'))
    finally:
        event.remove(db.engine, 'before_cursor_execute', listen)
    assert any(r['steps'] for r in rows)
    reading_tasks = [s for s in sent if re.search(r'\bFROM task\b|\bJOIN task\b', s)]
    assert not reading_tasks, reading_tasks
