"""The write path, durability, concurrency and versioning, on the small core_case process."""
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.errors import Conflict, NotFound
from service.extensions import db
from service.models import AuditEntry, ProcessDefinition, ProcessInstance, Task, Timer
from service.services import repository, runtime, tasks
from service.services.context import engine
from service.services.write import write_case

from .conftest import TEST_PROCESSES


def ready(instance_id):
    return {t.bpmn_id: t for t in db.session.scalars(
        select(Task).where(Task.instance_id == instance_id, Task.state == 'ready'))}


def timers(instance_id, state=None):
    q = select(Timer).where(Timer.instance_id == instance_id)
    if state:
        q = q.where(Timer.state == state)
    return {t.bpmn_id: t for t in db.session.scalars(q)}


def start(township='t01'):
    return runtime.start_instance('core_case', township, {'applicant': {'name': '张三'}}, 'alice')


def through_survey(case):
    tasks.complete_task(ready(case.id)['accept'].id, {'note': '材料齐全'}, 'alice')
    runtime.deliver_message(case.id, 'verification_result', {'eligible': True}, 'verifier')
    tasks.complete_task(ready(case.id)['survey'].id, {'note': '已入户'}, 'bob')


def test_happy_path_records_tasks_timers_and_audit(test_app):
    case = start()
    assert set(ready(case.id)) == {'accept'}
    accept = ready(case.id)['accept']
    assert (accept.name, accept.lane, accept.role, accept.township) == ('受理', '镇街经办人', 'township_caseworker', 't01')
    assert accept.form == 'note.schema.json'

    tasks.complete_task(accept.id, {'note': '材料齐全'}, 'alice')
    assert set(ready(case.id)) == {'survey'}
    deadline = timers(case.id)['deadline']
    # Accepted Monday 09-28: 09-29, 09-30, then the National Day holidays, then 10-08 is the 3rd.
    assert deadline.due_at.isoformat() == '2026-10-08T16:00:00+00:00'  # 24:00 of 10-08 in Shanghai
    assert (deadline.kind, deadline.attached_to, deadline.state) == ('deadline', 'survey', 'waiting')
    assert ready(case.id)['survey'].due_at == deadline.due_at

    runtime.deliver_message(case.id, 'verification_result', {'eligible': True, 'report_no': 'H-1'}, 'verifier')
    # The payload sits on the waiting branch: the case's current data shows it before anyone completes a task.
    assert runtime.case_data(case.id)['verification']['report_no'] == 'H-1'
    tasks.complete_task(ready(case.id)['survey'].id, {'note': '已入户'}, 'bob')
    assert timers(case.id)['deadline'].state == 'cancelled'
    assert set(ready(case.id)) == {'confirm'}
    assert timers(case.id)['response_timeout'].kind == 'wait'

    tasks.complete_task(ready(case.id)['confirm'].id, {'approved': True}, 'carol')
    db.session.refresh(case)
    assert case.status == 'completed' and not case.overdue
    done = db.session.scalars(select(Task).where(Task.instance_id == case.id).order_by(Task.created_at)).all()
    assert [(t.bpmn_id, t.state, t.completed_by) for t in done] == [
        ('accept', 'completed', 'alice'), ('survey', 'completed', 'bob'), ('confirm', 'completed', 'carol')]
    assert runtime.case_data(case.id)['verification'] == {'eligible': True, 'report_no': 'H-1'}
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == case.id)
                                                     .order_by(AuditEntry.id))]
    assert actions == ['start', 'complete', 'message', 'complete', 'complete']


def test_case_row_holds_no_spec_and_definition_is_stored_once(test_app):
    case = start()
    state = json.loads(case.state)
    assert 'spec' not in state and 'subprocess_specs' not in state
    assert db.session.scalar(select(db.func.count()).select_from(ProcessDefinition)
                             .where(ProcessDefinition.key == 'core_case')) == 1


def test_case_survives_a_new_app_on_the_same_database(make_app):
    first = make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'))
    with first.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        case_id = start().id
        tasks.complete_task(ready(case_id)['accept'].id, {'note': 'ok'}, 'alice')
        db.session.remove()
    del first
    second = make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'))
    with second.app_context():
        assert set(ready(case_id)) == {'survey'}
        runtime.deliver_message(case_id, 'verification_result', {'eligible': True}, 'verifier')
        tasks.complete_task(ready(case_id)['survey'].id, {}, 'bob')
        tasks.complete_task(ready(case_id)['confirm'].id, {'approved': False}, 'carol')
        assert runtime.get_instance(case_id).status == 'completed'


def test_completing_a_task_twice_is_a_conflict(test_app):
    case = start()
    accept = ready(case.id)['accept']
    tasks.complete_task(accept.id, {'note': 'ok'}, 'alice')
    with pytest.raises(Conflict) as err:
        tasks.complete_task(accept.id, {'note': 'again'}, 'alice')
    assert err.value.code == 'task_not_ready'


def test_two_concurrent_writers_one_wins_one_conflicts(make_app):
    """Two app processes complete the same task at the same moment: exactly one succeeds."""
    setup = make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'))
    with setup.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        case_id = start().id
        task_id = ready(case_id)['accept'].id
        db.session.remove()
    # Each writer has its own app, built here: building apps in two threads at once can fail inside
    # Python 3.11's ast module (werkzeug compiles its URL rules with ast.parse; "AST constructor
    # recursion depth mismatch"), which once turned CI red.
    apps = {name: make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms')) for name in ('w1', 'w2')}
    # A bound against a hang, not a speed check.
    both_loaded = threading.Barrier(2, timeout=120)
    outcomes = []

    def writer(name):
        with apps[name].app_context():
            def act(workflow):
                engine().complete(workflow, task_id, {'note': name})
                both_loaded.wait()   # both hold the same loaded version before either saves
            try:
                write_case(case_id, name, 'complete', act, task_id=task_id, data={'note': name})
                outcomes.append('ok')
            except Conflict as exc:
                outcomes.append(exc.code)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ('w1', 'w2')]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert sorted(outcomes) == ['concurrent_update', 'ok']
    with setup.app_context():
        case = runtime.get_instance(case_id)
        assert case.version == 2  # the start, then exactly one completion
        done = db.session.get(Task, task_id)
        assert done.state == 'completed' and done.completed_by in ('w1', 'w2')


def test_running_cases_stay_on_their_version(test_app, tmp_path):
    old_case = start()
    changed = (TEST_PROCESSES / 'core_case.bpmn').read_bytes().replace('name="受理"'.encode(), 'name="受理登记"'.encode())
    results = repository.deploy({'core_case.bpmn': changed}, 'designer')
    assert [(d.key, d.version, new) for d, new in results] == [('core_case', 2, True)]
    again = repository.deploy({'core_case.bpmn': changed}, 'designer')
    assert [(d.version, new) for d, new in again] == [(2, False)]

    new_case = start()
    assert old_case.definition.version == 1 and new_case.definition.version == 2
    assert ready(new_case.id)['accept'].name == '受理登记'
    tasks.complete_task(ready(old_case.id)['accept'].id, {}, 'alice')
    tasks.complete_task(ready(new_case.id)['accept'].id, {}, 'alice')
    # The old case's survey still comes from version 1, loaded from the definition row.
    assert ready(old_case.id)['survey'].name == '入户调查'
    assert runtime.get_instance(old_case.id).definition_id != runtime.get_instance(new_case.id).definition_id


def test_deadline_fires_when_clock_moves_and_marks_overdue(test_app, clock):
    case = start()
    tasks.complete_task(ready(case.id)['accept'].id, {}, 'alice')
    clock.set('2026-10-08T23:59:59+08:00')
    runtime.fire_due_timers(case.id)
    assert timers(case.id)['deadline'].state == 'waiting'
    clock.advance(timedelta(seconds=2))  # past 24:00 of 10-08
    runtime.fire_due_timers(case.id)
    fired = timers(case.id)['deadline']
    assert fired.state == 'fired'
    db.session.refresh(case)
    assert case.overdue
    survey = ready(case.id)['survey']
    assert survey.overdue  # non-interrupting: the task stays, overdue
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'timers_fired')).one()
    assert entry.actor == 'system:timer' and entry.detail['timers_fired'][0].startswith('deadline@')


def test_completing_after_an_interrupting_deadline_is_refused(test_app, clock):
    case = start()
    through_survey(case)
    confirm = ready(case.id)['confirm']
    clock.advance(timedelta(days=31))   # no scheduler ran: the request itself must see the deadline
    with pytest.raises(Conflict) as err:
        tasks.complete_task(confirm.id, {'approved': True}, 'carol')
    assert err.value.code == 'task_not_ready'
    db.session.refresh(case)
    assert case.status == 'completed'           # ended by the timeout path
    assert db.session.get(Task, confirm.id).state == 'cancelled'
    assert timers(case.id)['response_timeout'].state == 'fired'


def test_message_nobody_waits_for_is_a_conflict_and_changes_nothing(test_app):
    case = start()
    version = case.version
    with pytest.raises(Conflict) as err:
        runtime.deliver_message(case.id, 'verification_result', {'eligible': True}, 'verifier')
    assert err.value.code == 'not_waiting'
    db.session.refresh(case)
    assert case.version == version


def test_unknown_case_and_process(test_app):
    with pytest.raises(NotFound):
        runtime.deliver_message(99999, 'objection', {}, 'x')
    with pytest.raises(NotFound):
        runtime.start_instance('no_such_process', 't01', {}, 'x')


def test_claim_is_exclusive(test_app):
    case = start()
    accept = ready(case.id)['accept']
    tasks.claim(accept.id, 'alice')
    with pytest.raises(Conflict):
        tasks.claim(accept.id, 'bob')
    tasks.unclaim(accept.id, 'alice')
    assert tasks.claim(accept.id, 'bob').assignee == 'bob'


def test_a_property_only_change_is_a_new_version(test_app):
    source = (TEST_PROCESSES / 'core_case.bpmn').read_bytes()
    changed = source.replace(b'name="variant" value="delegated_a"', b'name="variant" value="delegated_b"')
    assert changed != source
    [(definition, new)] = repository.deploy({'core_case.bpmn': changed}, 'designer')
    assert new and definition.version == 2 and definition.variant == 'delegated_b'
