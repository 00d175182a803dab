"""A database of the baseline era, with cases in it, upgraded to the head: its cases go on.

The rows are tests/fixtures/migrations/baseline_0001_rows.json (written by the code of revision
0001, see make_baseline_rows.py), inserted by SQL into a database at revision 0001. Every revision
added later runs over them here, on SQLite and PostgreSQL, before the cases are driven on through
the services and the API of the code at head.
"""
from sqlalchemy import select, text

from service.extensions import db
from service.migrations import runner
from service.models import AuditEntry, ProcessInstance, Task, Timer
from service.scheduler.sweep import sweep_due
from service.services import audit, runtime, tasks

from .conftest import TEST_PROCESSES
from .migration_helpers import count_rows, load_rows, state, url_of


def ready(case_id):
    return {t.bpmn_id: t for t in db.session.scalars(
        select(Task).where(Task.instance_id == case_id, Task.state == 'ready'))}


def case(business_key):
    return db.session.scalars(select(ProcessInstance).where(ProcessInstance.business_key == business_key)).one()


def test_cases_of_the_baseline_go_on_after_the_upgrade(database_url, make_app):
    runner.upgrade(url_of(database_url), runner.BASELINE)
    snapshot = load_rows(database_url)
    before = {name: len(rows) for name, rows in snapshot['tables'].items()}

    result = runner.upgrade(url_of(database_url))
    assert result.before.current == runner.BASELINE and result.after.ready
    assert count_rows(database_url, before) == before           # no row lost on the way

    app = make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'))
    assert app.extensions['jiuzhu.schema'].ready
    clock = app.extensions['jiuzhu.clock']
    with app.app_context():
        a, b, c = case('MIG-A'), case('MIG-B'), case('MIG-C')
        assert (a.status, b.status, c.status) == ('running', 'running', 'completed')
        # The step counters of the reform figures (0026) were counted from the completed task rows.
        assert (a.steps_done, b.steps_done, c.steps_done) == (1, 0, 3)
        assert (a.last_role, b.last_role) == ('township_caseworker', None) and c.county_steps == 0
        assert a.waiting_messages == ['verification_result']
        assert ready(b.id)['accept'].assignee == 'cw1'

        # B: the claimed acceptance is completed by its claimant.
        tasks.complete_task(ready(b.id)['accept'].id, {'note': '材料齐全'}, 'cw1')
        assert set(ready(b.id)) == {'survey'}
        assert (case('MIG-B').steps_done, case('MIG-B').last_role) == (1, 'township_caseworker')

        # A: its old deadline timer fires when the clock passes it; the verification result still arrives.
        deadline = db.session.scalars(select(Timer).where(Timer.instance_id == a.id,
                                                          Timer.bpmn_id == 'deadline')).one()
        assert deadline.state == 'waiting'
        clock.set('2026-10-09T09:00:00+08:00')
        assert sweep_due(app) >= 1
        db.session.expire_all()
        assert case('MIG-A').overdue
        runtime.deliver_message(a.id, 'verification_result', {'eligible': True, 'report_no': 'H-1'}, 'ver')
        tasks.complete_task(ready(a.id)['survey'].id, {'note': '已入户'}, 'cw1')
        tasks.complete_task(ready(a.id)['confirm'].id, {'approved': True}, 'ld1')
        assert case('MIG-A').status == 'completed'

        # A new case on the version deployed before the upgrade.
        new = runtime.start_instance('core_case', 't01', {'applicant': {'name': '孙七'}}, 'cw1')
        assert new.definition_id == a.definition_id and set(ready(new.id)) == {'accept'}
        assert new.id > c.id

        # The audit log kept its old rows and is still append-only below the ORM.
        old_audit = before['audit_log']
        assert db.session.scalar(select(db.func.count()).select_from(AuditEntry)) > old_audit
        with db.engine.connect() as connection:
            try:
                connection.execute(text('UPDATE audit_log SET actor = :x'), {'x': 'mallory'})
            except Exception as exc:                        # the trigger's error, whatever the driver calls it
                assert 'append-only' in str(exc)
            else:
                raise AssertionError('audit_log accepted an UPDATE')
        ids = (a.id, b.id, c.id, new.id)
        # The chain went on from the old rows: on PostgreSQL through the append function of 0030.
        checked = audit.verify()
        assert checked.intact and checked.count > old_audit, checked.problem

    # The API answers for the old people, old cases and the new one.
    client = app.test_client()
    token = client.post('/api/v1/auth/token', json={'username': 'cw1', 'password': snapshot['password']}).json['token']
    auth = {'Authorization': f'Bearer {token}'}
    for instance_id in ids:
        r = client.get(f'/api/v1/instances/{instance_id}', headers=auth)
        assert r.status_code == 200, r.json
    r = client.get('/api/v1/tasks?per_page=100', headers=auth)
    assert r.status_code == 200 and r.json['total'] >= 2
    assert state(database_url).ready
