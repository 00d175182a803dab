"""The phase report (services/entrustments.py phase_report) says what a GROUP BY over the cases says.

Cases across months (Beijing time, edges of a month included), townships and definition versions,
moved to another version or township, ended and deleted: the report, whole and filtered, equals
the cases grouped by township, definition and month as the report grouped them at first.
"""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Interval, MetaData, func, insert, literal, select

from service.extensions import db
from service.migrations import runner
from service.models import ProcessDefinition, ProcessInstance, User
from service.models.figures import StartCount
from service.services import entrustments, figures, repository, runtime

from .conftest import TEST_PROCESSES
from .migration_helpers import connect, load_rows, url_of

UTC = timezone.utc


def _grouped(township=None, since=None):
    """The report computed as it was at first: every case row grouped, then the flows joined."""
    if db.engine.dialect.name == 'sqlite':
        month = func.strftime('%Y-%m', ProcessInstance.created_at, '+8 hours')
    else:
        month = func.to_char(ProcessInstance.created_at + literal(timedelta(hours=8), Interval()), 'YYYY-MM')
    stmt = select(ProcessInstance.township, ProcessInstance.definition_id, month, func.count()) \
        .group_by(ProcessInstance.township, ProcessInstance.definition_id, month)
    if township:
        stmt = stmt.where(ProcessInstance.township == township)
    if since:
        stmt = stmt.where(ProcessInstance.created_at >= datetime(since.year, since.month, 1, tzinfo=timezone(
            timedelta(hours=8))))
    flows = {d.id: (d.category, d.variant) for d in db.session.scalars(select(ProcessDefinition))
             if d.variant}
    counts = {}
    for code, definition_id, label, n in db.session.execute(stmt):
        if definition_id in flows:
            key = (code, label, *flows[definition_id])
            counts[key] = counts.get(key, 0) + n
    return [{'township': t, 'category': c, 'variant': v, 'month': m, 'cases': n}
            for (t, m, c, v), n in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3]))]


def _versions():
    """core_case v1 and v2 on delegated_a, v3 on delegated_b; deadline_case has no variant (not reported)."""
    source = (TEST_PROCESSES / 'core_case.bpmn').read_bytes()
    renamed = source.replace('name="受理"'.encode(), 'name="受理登记"'.encode())
    repository.deploy({'core_case.bpmn': renamed}, 'designer')
    repository.deploy({'core_case.bpmn': renamed.replace(b'value="delegated_a"', b'value="delegated_b"')}, 'designer')
    rows = db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == 'core_case')
                              .order_by(ProcessDefinition.version)).all()
    assert [(d.version, d.variant) for d in rows] == [(1, 'delegated_a'), (2, 'delegated_a'), (3, 'delegated_b')]
    other = repository.latest('deadline_case')
    assert not other.variant
    return [d.id for d in rows], other.id


def _case(definition_id, township, created_at, key):
    case = ProcessInstance(definition_id=definition_id, process_key=key, township=township, state='{}',
                           started_by='tester', created_at=created_at, updated_at=created_at)
    db.session.add(case)
    return case


def _leader():
    leader = User(username='boss', password_hash='x', display_name='周局长', role='county_supervisor',
                  township='county')
    db.session.add(leader)
    db.session.commit()
    return leader


def _report_equals_the_group_by(leader):
    for township, since in ((None, None), ('t01', None), ('t02', None), ('t09', None), (None, date(2026, 9, 1)),
                            (None, date(2026, 9, 30)), ('t01', date(2026, 10, 20)), (None, date(2030, 1, 1))):
        assert entrustments.phase_report(leader, township=township, since=since) == _grouped(township, since), \
            (township, since)


@pytest.mark.usefixtures('test_app')
def test_the_report_follows_cases_across_months_townships_and_versions():
    (v1, v2, v3), plain = _versions()
    leader = _leader()
    moments = [datetime(2026, 8, 31, 15, 59, 59, tzinfo=UTC),       # 08-31 23:59:59 in Beijing: August
               datetime(2026, 8, 31, 16, 0, tzinfo=UTC),            # 09-01 00:00 in Beijing: September
               datetime(2026, 9, 15, 2, 0, tzinfo=UTC),
               datetime(2026, 10, 31, 20, 0, tzinfo=UTC),           # 11-01 04:00 in Beijing: November
               datetime(2026, 12, 31, 16, 30, tzinfo=UTC)]          # 2027-01-01 in Beijing
    cases = []
    for i, moment in enumerate(moments * 3):
        definition_id = (v1, v2, v3, plain)[i % 4]
        cases.append(_case(definition_id, ('t01', 't02', 't03')[i % 3], moment,
                           'deadline_case' if definition_id == plain else 'core_case'))
    db.session.commit()
    started = runtime.start_instance('core_case', 't01', {'applicant': {'name': '张三'}}, 'tester')   # v3, by the clock
    report = entrustments.phase_report(leader)
    assert {(r['township'], r['month'], r['variant'], r['cases']) for r in report if r['month'] == '2026-08'} == {
        ('t01', '2026-08', 'delegated_a', 1), ('t03', '2026-08', 'delegated_a', 1), ('t02', '2026-08', 'delegated_b', 1)}
    assert ('t01', '2026-09', 'delegated_b') in {(r['township'], r['month'], r['variant']) for r in report}
    _report_equals_the_group_by(leader)

    # A case moved to another version (services/incidents.py retry on the latest), and to another
    # flow; a case given to another township; cases ended; a case deleted.
    moved = db.session.get(ProcessInstance, cases[0].id)
    moved.definition_id = v2
    db.session.get(ProcessInstance, cases[4].id).definition_id = v3
    db.session.get(ProcessInstance, cases[5].id).township = 't02'
    db.session.get(ProcessInstance, cases[6].id).status = 'completed'
    db.session.get(ProcessInstance, started.id).status = 'terminated'
    db.session.commit()
    _report_equals_the_group_by(leader)
    both = db.session.get(ProcessInstance, cases[8].id)
    both.township, both.definition_id = 't03', v1
    db.session.delete(db.session.get(ProcessInstance, cases[9].id))
    db.session.commit()
    _report_equals_the_group_by(leader)


@pytest.mark.usefixtures('test_app')
def test_a_rolled_back_move_leaves_the_report_as_it_was():
    (v1, v2, v3), _ = _versions()
    leader = _leader()
    case = _case(v1, 't01', datetime(2026, 9, 2, tzinfo=UTC), 'core_case')
    db.session.commit()
    before = entrustments.phase_report(leader)
    db.session.get(ProcessInstance, case.id).definition_id = v3
    db.session.flush()
    db.session.rollback()
    assert entrustments.phase_report(leader) == before == _grouped()


def test_upgrade_from_0028_counts_the_cases_there(database_url, make_app):
    runner.upgrade(url_of(database_url), runner.BASELINE)
    load_rows(database_url)
    # More cases: copies of MIG-A at the edges of a Beijing month, in other townships, one without a
    # start time; made before the other counts' revisions, which count them too.
    engine, connection = connect(database_url)
    with connection.begin():
        metadata = MetaData()
        metadata.reflect(connection, only=['process_instance'])
        table = metadata.tables['process_instance']
        model = dict(connection.execute(select(table).where(table.c.business_key == 'MIG-A')).one()._mapping)
        del model['id']
        copies = [('t02', datetime(2026, 8, 31, 15, 59, 59)), ('t02', datetime(2026, 8, 31, 16, 0)),
                  ('t03', datetime(2026, 8, 31, 16, 0)), ('t03', None)]
        connection.execute(insert(table), [dict(model, business_key=f'MIG-X{i}', township=township, created_at=moment)
                                           for i, (township, moment) in enumerate(copies)])
        definition_id = model['definition_id']
    connection.close()
    engine.dispose()
    runner.upgrade(url_of(database_url), '0028')

    runner.upgrade(url_of(database_url))
    app = make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'))
    with app.app_context():
        rows = {(r.township, r.month): r.n for r in db.session.scalars(
            select(StartCount).where(StartCount.definition_id == definition_id))}
        assert {k: v for k, v in rows.items() if k[0] != 't01'} == {
            ('t02', '2026-08'): 1, ('t02', '2026-09'): 1, ('t03', '2026-09'): 1, ('t03', ''): 1}
        assert figures.differences(db.session) == []
        # The write path goes on from the counts the upgrade made.
        runtime.start_instance('core_case', 't03', {'applicant': {'name': '孙七'}}, 'cw1')
        assert figures.differences(db.session) == []
