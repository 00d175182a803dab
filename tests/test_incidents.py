"""Incidents: a step that raises holds the case where an operator sees it and acts; nothing retries by itself.

fragile_case (tests/processes) fails on purpose: `prepare` at start without a divisor, `compute`
after acceptance when the factor is 0 or missing, `escalate` when the 2-hour deadline interrupts
acceptance and there is no factor.
"""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.errors import Conflict, Forbidden, Invalid
from service.extensions import db
from service.models import AuditEntry, Incident, ProcessInstance, Task, Timer
from service.scheduler.sweep import sweep_due
from service.services import incidents, repository, runtime, tasks
from service.services.auth import find_user

from .api_helpers import people  # noqa: F401  (fixture)
from .conftest import TEST_PROCESSES


def start(data=None):
    return runtime.start_instance('fragile_case', 't01', {'divisor': 4} if data is None else data, 'cw1')


def rows(instance_id, model, state=None):
    q = select(model).where(model.instance_id == instance_id)
    if state:
        q = q.where(model.state == state)
    return db.session.scalars(q).all()


def ready_id(instance_id, bpmn_id):
    return next(r.id for r in rows(instance_id, Task, 'ready') if r.bpmn_id == bpmn_id)


def open_incident(instance_id):
    return incidents.open_incident(instance_id)


def test_an_error_at_start_is_a_clear_422_and_creates_nothing(test_app):
    before = db.session.scalar(select(func.count()).select_from(ProcessInstance))
    with pytest.raises(Invalid) as err:
        start({})    # no divisor: NameError in the script task `prepare`
    assert err.value.code == 'process_error'
    assert err.value.details['element'] == 'prepare'
    assert 'divisor' in err.value.details['error']
    with pytest.raises(Invalid) as err:
        start({'divisor': 0})
    assert 'ZeroDivisionError' in err.value.details['error']
    assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == before


def test_a_failing_step_after_a_task_holds_the_case_in_an_incident(test_app):
    case = start()
    accept = ready_id(case.id, 'accept')
    tasks.complete_task(accept, {'note': '齐全', 'factor': 0}, 'cw1')
    db.session.expire_all()
    case = db.session.get(ProcessInstance, case.id)
    assert case.status == 'incident' and 'ZeroDivisionError' in case.error
    # The caseworker's work is kept: the task is done, recorded with its data.
    done = db.session.get(Task, accept)
    assert (done.state, done.completed_by, done.data['factor']) == ('completed', 'cw1', 0)
    incident = open_incident(case.id)
    assert (incident.element, incident.element_name, incident.line, incident.trigger, incident.actor) == \
        ('compute', '核算金额', 2, 'complete', 'cw1')
    assert incident.kind == 'process_error'
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == case.id))]
    assert actions[-2:] == ['complete', 'incident']


def test_a_timer_that_fails_is_held_once_and_other_cases_fire(test_app, clock):
    broken = start()
    healthy = runtime.start_instance('one_timer', 't01', {}, 'cw1')
    clock.advance(timedelta(hours=3))
    assert sweep_due(test_app) == 2           # both fired; the step after the broken one's failed
    db.session.expire_all()
    broken = db.session.get(ProcessInstance, broken.id)
    assert broken.status == 'incident'
    incident = open_incident(broken.id)
    assert (incident.element, incident.trigger, incident.actor) == ('escalate', 'timers', 'system:timer')
    assert [t.state for t in rows(broken.id, Timer)] == ['fired']
    assert [t.state for t in rows(broken.id, Task)] == ['cancelled']    # interrupted by the deadline
    assert db.session.get(ProcessInstance, healthy.id).status == 'completed'
    # No retry loop: later sweeps leave it alone, and there is one incident, not one per sweep.
    clock.advance(timedelta(hours=1))
    assert sweep_due(test_app) == 0
    assert len(rows(broken.id, Incident)) == 1


def test_a_held_case_refuses_work_until_an_operator_acts(test_app, people):
    case = start()
    tasks.complete_task(ready_id(case.id, 'accept'), {'note': '齐全', 'factor': 0}, 'cw1')
    with pytest.raises(Conflict) as err:
        runtime.deliver_message(case.id, 'anything', {}, 'cw1')
    assert err.value.code == 'case_incident'
    assert rows(case.id, Task, 'ready') == []        # nothing offered in anyone's list


def test_retry_with_corrected_data_goes_on(test_app, people):
    sup = find_user('sup')
    case = start()
    tasks.complete_task(ready_id(case.id, 'accept'), {'note': '齐全', 'factor': 0}, 'cw1')
    incidents.retry(sup, case.id, data={'factor': 2}, note='补录系数')
    db.session.expire_all()
    case = db.session.get(ProcessInstance, case.id)
    assert (case.status, case.error) == ('running', None)
    assert [r.bpmn_id for r in rows(case.id, Task, 'ready')] == ['review']
    resolved = db.session.scalars(select(Incident).where(Incident.instance_id == case.id)).one()
    assert (resolved.state, resolved.resolution, resolved.resolved_by) == ('resolved', 'retried', 'sup')
    assert runtime.case_data(case.id)['result'] == 12     # 100 // 4 // 2


def test_retry_that_fails_again_opens_a_new_incident(test_app, people):
    sup = find_user('sup')
    case = start()
    tasks.complete_task(ready_id(case.id, 'accept'), {'note': '齐全', 'factor': 0}, 'cw1')
    incidents.retry(sup, case.id)
    db.session.expire_all()
    assert db.session.get(ProcessInstance, case.id).status == 'incident'
    states = sorted(i.state for i in rows(case.id, Incident))
    assert states == ['open', 'resolved']


def test_redeploy_the_fix_and_retry_on_the_new_version(test_app, people, tmp_path):
    sup = find_user('sup')
    case = start()
    tasks.complete_task(ready_id(case.id, 'accept'), {'note': '齐全', 'factor': 0}, 'cw1')
    old_definition = db.session.get(ProcessInstance, case.id).definition_id
    source = (TEST_PROCESSES / 'fragile_case.bpmn').read_text()
    fixed = source.replace('result = base // factor', 'result = base // max(factor, 1)')
    repository.deploy({'fragile_case.bpmn': fixed.encode()}, 'designer')
    incidents.retry(sup, case.id, latest_version=True)
    db.session.expire_all()
    case = db.session.get(ProcessInstance, case.id)
    assert case.status == 'running' and case.definition_id != old_definition
    assert [r.bpmn_id for r in rows(case.id, Task, 'ready')] == ['review']
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == case.id,
                                                        AuditEntry.action == 'retry')).one()
    assert entry.detail['migrated']['old'] == old_definition


def test_retry_of_a_failed_timer_with_data(test_app, people, clock):
    sup = find_user('sup')
    case = start()
    clock.advance(timedelta(hours=3))
    sweep_due(test_app)
    incidents.retry(sup, case.id, data={'factor': 5})
    db.session.expire_all()
    case = db.session.get(ProcessInstance, case.id)
    assert case.status == 'completed'            # escalated and ended on the timeout path
    assert [t.state for t in rows(case.id, Timer)] == ['fired']


def test_suspend_holds_timers_and_resume_fires_what_fell_due(test_app, people, clock):
    sup = find_user('sup')
    case = runtime.start_instance('one_timer', 't01', {}, 'cw1')
    incidents.suspend(sup, case.id, '待核实户籍')
    clock.advance(timedelta(hours=2))
    assert sweep_due(test_app) == 0
    assert db.session.get(ProcessInstance, case.id).status == 'suspended'
    incidents.resume(sup, case.id)
    db.session.expire_all()
    assert db.session.get(ProcessInstance, case.id).status == 'completed'
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == case.id))]
    assert 'suspend' in actions and 'resume' in actions


def test_terminate_with_a_reason_ends_everything(test_app, people):
    sup = find_user('sup')
    case = start()
    tasks.complete_task(ready_id(case.id, 'accept'), {'note': '齐全', 'factor': 0}, 'cw1')
    with pytest.raises(Invalid):
        incidents.terminate(sup, case.id, '  ')
    incidents.terminate(sup, case.id, '申请人撤回申请')
    db.session.expire_all()
    case = db.session.get(ProcessInstance, case.id)
    assert case.status == 'terminated' and case.terminated_at is not None
    assert all(t.state in ('completed', 'cancelled') for t in rows(case.id, Task))
    assert all(t.state in ('fired', 'cancelled') for t in rows(case.id, Timer))
    assert open_incident(case.id) is None
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == case.id,
                                                        AuditEntry.action == 'terminate')).one()
    assert entry.detail['reason'] == '申请人撤回申请'
    with pytest.raises(Conflict):
        incidents.terminate(sup, case.id, '再次终止')


@pytest.mark.parametrize('name', ['cw1', 'ld1', 'ver', 'des', 'va1'])
def test_only_supervisors_and_admins_operate(test_app, people, name):
    user = find_user(name)
    case = start()
    tasks.complete_task(ready_id(case.id, 'accept'), {'note': '齐全', 'factor': 0}, 'cw1')
    for action in (lambda: incidents.retry(user, case.id), lambda: incidents.terminate(user, case.id, '理由'),
                   lambda: incidents.suspend(user, case.id, '理由'), lambda: incidents.resume(user, case.id),
                   lambda: incidents.list_incidents(user)):
        with pytest.raises(Forbidden):
            action()
    assert db.session.get(ProcessInstance, case.id).status == 'incident'


def test_step_bound_holds_a_runaway_loop(make_app):
    """A loop of script tasks that needs no person stops at the bound, as an incident on the loop."""
    app = make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'), JIUZHU_MAX_ENGINE_STEPS=50)
    with app.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        case = runtime.start_instance('runaway_loop', 't01', {'laps': 0}, 'cw1')
        tasks.complete_task(ready_id(case.id, 'go'), {'note': '开始'}, 'cw1')
        db.session.expire_all()
        assert db.session.get(ProcessInstance, case.id).status == 'incident'
        incident = open_incident(case.id)
        assert incident.kind == 'step_limit' and incident.element in ('spin', 'again')


def test_a_case_too_large_is_refused_and_nothing_changes(make_app):
    app = make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'), JIUZHU_MAX_CASE_BYTES=20_000)
    with app.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        case = start()
        version = case.version
        accept = ready_id(case.id, 'accept')
        with pytest.raises(Invalid) as err:
            tasks.complete_task(accept, {'note': '长' * 30_000, 'factor': 1}, 'cw1')
        assert err.value.code == 'case_too_large'
        db.session.expire_all()
        assert db.session.get(ProcessInstance, case.id).version == version
        assert db.session.get(Task, accept).state == 'ready'
