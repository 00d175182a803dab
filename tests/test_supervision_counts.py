"""The supervision counts (services/figures.py) stay equal to a recount of the cases.

Every test's teardown compares them (tests/conftest.py); these tests go through the edges: a
stale write, an exclusion, a rebuild, and a database of the previous revision upgraded.
"""
import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from service.extensions import db
from service.models import CaseCount, CaseExclusion, ProcessInstance, User
from service.services import figures, supervision

pytestmark = pytest.mark.usefixtures('test_app')


def _start(n=1, township='t01'):
    from service.services import runtime
    cases = [runtime.start_instance('core_case', township, {'applicant': {'name': '张三'}}, 'tester')
             for _ in range(n)]
    db.session.commit()
    return cases


def test_starting_ending_and_overdue_move_the_counts():
    cases = _start(3)
    assert figures.differences(db.session) == []
    first = db.session.get(ProcessInstance, cases[0].id)
    first.overdue = True
    second = db.session.get(ProcessInstance, cases[1].id)
    second.status, second.decision_days = 'completed', 4
    db.session.commit()
    assert figures.differences(db.session) == []
    rows = {(r.status, r.overdue): r.n for r in db.session.scalars(select(CaseCount).where(CaseCount.n != 0))}
    assert rows == {('running', True): 1, ('running', False): 1, ('completed', False): 1}


def test_a_change_first_flushed_by_the_commit_is_counted():
    # The commit flushes after its before_commit listeners have run: the counts must flush first.
    case, = _start()
    row = db.session.get(ProcessInstance, case.id)
    row.status = 'completed'
    db.session.commit()
    assert figures.differences(db.session) == []
    db.session.add(ProcessInstance(definition_id=row.definition_id, process_key=row.process_key, township='t02',
                                   state='{}', started_by='tester', created_at=row.created_at))
    db.session.commit()
    assert figures.differences(db.session) == []


def test_a_stale_write_takes_its_counts_back():
    case, = _start()
    db.session.execute(ProcessInstance.__table__.update().where(ProcessInstance.id == case.id)
                       .values(version=ProcessInstance.version + 1))
    db.session.commit()
    db.session.expire_all()
    row = db.session.get(ProcessInstance, case.id)
    db.session.execute(ProcessInstance.__table__.update().where(ProcessInstance.id == case.id)
                       .values(version=ProcessInstance.version + 1))
    row.status = 'terminated'
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()
    assert figures.differences(db.session) == []


def test_the_township_table_leaves_out_a_users_excluded_cases():
    cases = _start(2)
    db.session.get(ProcessInstance, cases[0].id).decision_days = 3
    db.session.get(ProcessInstance, cases[1].id).decision_days = 7
    leader = User(username='boss', password_hash='x', display_name='周局长', role='county_supervisor', township='county')
    db.session.add(leader)
    db.session.commit()
    table = {r['township']: r for r in supervision.township_table(leader)}
    assert (table['t01']['total'], table['t01']['decided'], table['t01']['median_days']) == (2, 2, 5)
    db.session.add(CaseExclusion(instance_id=cases[1].id, username='boss', reason='近亲属'))
    db.session.commit()
    table = {r['township']: r for r in supervision.township_table(leader)}
    assert (table['t01']['total'], table['t01']['decided'], table['t01']['median_days']) == (1, 1, 3)


def test_rebuild_repairs_drift():
    _start(2)
    db.session.execute(CaseCount.__table__.update().values(n=CaseCount.n + 5))
    db.session.commit()
    assert figures.differences(db.session)
    figures.rebuild(db.session)
    db.session.commit()
    assert figures.differences(db.session) == []


@pytest.mark.parametrize('values, median', [({}, None), ({4: 1}, 4), ({1: 1, 9: 1}, 5), ({2: 2, 3: 1}, 2),
                                             ({1: 1, 2: 0, 5: 2, 7: 1}, 5), ({3: -1, 6: 1}, 6)])
def test_weighted_median(values, median):
    assert figures.weighted_median(values) == median


def test_recount_command_finds_and_repairs_drift(test_app, monkeypatch):
    from click.testing import CliRunner
    from service.cli import main
    _start(1)
    db.session.execute(CaseCount.__table__.update().values(n=CaseCount.n + 2))
    db.session.commit()
    monkeypatch.setenv('DATABASE_URL', test_app.config['SQLALCHEMY_DATABASE_URI'])
    runner = CliRunner()
    result = runner.invoke(main, ['recount'])
    assert result.exit_code == 1, result.output
    result = runner.invoke(main, ['recount', '--repair'])
    assert result.exit_code == 0 and '已按案件重算' in result.output, result.output
    assert runner.invoke(main, ['recount']).exit_code == 0
