"""One transaction, one version check: concurrent writers on one case, with due timers and reassignment.

Each writer runs in its own app (as two gunicorn workers would) on the same database; both read
the case at the same version before either writes (a barrier right after the write path opens
the case), so exactly one may win, and the case must be left whole: every ready user task of the
workflow has a ready task row and no more.
"""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.errors import Conflict, Forbidden
from service.extensions import db
from service.models import AuditEntry, Task
from service.services import repository, runtime, tasks, write

from .conftest import TEST_PROCESSES
from .test_core import ready, start, timers


def assert_whole(case_id):
    """The task rows mirror the workflow: no ready task without a row, no row without a ready task."""
    instance, workflow = write._load(case_id)
    from service.engine.tasks import ready_user_tasks
    in_workflow = {t.task_id for t in ready_user_tasks(workflow)}
    rows = set(db.session.scalars(select(Task.id).where(Task.instance_id == case_id, Task.state == 'ready')))
    assert in_workflow == rows
    return instance


def _race(make_app, monkeypatch, case_id, actions, at):
    """Run each action in its own app and thread; both open the case before either writes."""
    opened = threading.Barrier(len(actions), timeout=10)
    real_open = write.open_case

    def open_then_wait(instance_id, task_id=None, reader=None):
        case = real_open(instance_id, task_id, reader)
        try:
            opened.wait()
        except threading.BrokenBarrierError:
            pass
        return case
    monkeypatch.setattr(write, 'open_case', open_then_wait)
    outcomes = {}

    # The apps are built here, one after the other: CPython 3.11's ast.parse (werkzeug compiles each
    # URL rule with it) is not safe in two threads at once ("AST constructor recursion depth mismatch").
    apps = {name: make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'), JIUZHU_CLOCK_START=at.isoformat())
            for name in actions}

    def run(name, action):
        app = apps[name]
        with app.app_context():
            try:
                action()
                outcomes[name] = 'ok'
            except (Conflict, Forbidden) as exc:
                outcomes[name] = exc.code
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(name, action)) for name, action in actions.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    monkeypatch.setattr(write, 'open_case', real_open)
    return outcomes


@pytest.fixture
def setup(make_app):
    app = make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'))
    with app.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        yield app


def test_two_writers_on_a_case_whose_timer_is_due(setup, make_app, monkeypatch, clock):
    """The survey's non-interrupting deadline is due; one writer completes the survey, the other
    claims it. Before: each committed the fired timer on its own and then both saved — the case
    was left with a ready task in the workflow and no task row."""
    case = start()
    tasks.complete_task(ready(case.id)['accept'].id, {'note': '齐全'}, 'alice')
    runtime.deliver_message(case.id, 'verification_result', {'eligible': True}, 'verifier')
    survey = ready(case.id)['survey'].id
    clock.advance(timedelta(days=20))     # the 3-working-day deadline has passed; no scheduler ran
    version = case.version
    db.session.remove()

    outcomes = _race(make_app, monkeypatch, case.id, {
        'complete': lambda: tasks.complete_task(survey, {'note': '已入户'}, 'bob'),
        'claim': lambda: tasks.claim(survey, 'carol'),
    }, clock.now())
    assert sorted(outcomes.values()) == ['concurrent_update', 'ok'], outcomes
    case = assert_whole(case.id)
    # The winner's write fired the deadline and acted in one transaction (two row versions).
    assert case.version == version + 2
    assert timers(case.id)['deadline'].state == 'fired'
    fired = db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == case.id,
                                                        AuditEntry.action == 'timers_fired')).all()
    assert len(fired) == 1
    if outcomes['complete'] == 'ok':
        assert db.session.get(Task, survey).state == 'completed'
    else:
        assert db.session.get(Task, survey).assignee == 'carol'


def test_two_writers_completing_with_a_due_timer(setup, make_app, monkeypatch, clock):
    case = start()
    tasks.complete_task(ready(case.id)['accept'].id, {'note': '齐全'}, 'alice')
    runtime.deliver_message(case.id, 'verification_result', {'eligible': True}, 'verifier')
    survey = ready(case.id)['survey'].id
    clock.advance(timedelta(days=20))
    db.session.remove()
    outcomes = _race(make_app, monkeypatch, case.id, {
        name: (lambda name=name: tasks.complete_task(survey, {'note': name}, name)) for name in ('bob', 'dan')},
        clock.now())
    assert sorted(outcomes.values()) == ['concurrent_update', 'ok'], outcomes
    assert_whole(case.id)
    assert db.session.get(Task, survey).completed_by in ('bob', 'dan')


def test_reassignment_and_completion_exactly_one_wins(setup, make_app, monkeypatch, clock):
    """A holds the task; the leader reassigns it to B while A completes it. Before: both answered 200
    and the audit log named the wrong previous assignee."""
    case_id = start().id
    accept = ready(case_id)['accept'].id
    tasks.claim(accept, 'alice')
    db.session.remove()

    def complete_as_alice():
        def only_the_holder(row):
            if row.assignee not in (None, 'alice'):
                raise Forbidden('claimed by someone else', code='claimed_by_other')
        tasks.complete_task(accept, {'note': '齐全'}, 'alice', check=only_the_holder)

    outcomes = _race(make_app, monkeypatch, case_id, {
        'complete': complete_as_alice,
        'assign': lambda: tasks.assign(accept, 'bob', 'leader'),
    }, clock.now())
    assert sorted(outcomes.values()) == ['concurrent_update', 'ok'], outcomes
    assert_whole(case_id)
    row = db.session.get(Task, accept)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.task_id == accept)
                                 .order_by(AuditEntry.id)).all()
    if outcomes['assign'] == 'ok':
        assert (row.state, row.assignee) == ('ready', 'bob')
        assert entries[-1].action == 'assign' and entries[-1].detail['previous'] == 'alice'
    else:
        assert (row.state, row.completed_by) == ('completed', 'alice')
        assert [e.action for e in entries] == ['claim', 'complete']


def test_a_refused_request_still_records_the_deadline(test_app, clock):
    """The request is refused (the interrupting timer cancelled its task) in the same transaction
    as the firing; the firing is then written on its own, so the deadline is not lost."""
    case = start()
    from .test_core import through_survey
    through_survey(case)
    confirm = ready(case.id)['confirm'].id
    clock.advance(timedelta(days=31))
    with pytest.raises(Conflict):
        tasks.complete_task(confirm, {'approved': True}, 'carol')
    db.session.expire_all()
    assert timers(case.id)['response_timeout'].state == 'fired'
    assert_whole(case.id)
