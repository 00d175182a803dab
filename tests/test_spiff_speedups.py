"""engine/spiff_speedups.py against the SpiffWorkflow methods it replaces (kept in ORIGINALS).

A real dibao_a case (a subprocess, a parallel join, boundary timers, scripts and gateways) is
stepped both ways from the same stored state: the trees left must be the same, and the waiting
and unfinished walks list what the library's iterator lists at every state the case reaches.
"""
import contextlib
import logging
from datetime import timedelta
from uuid import UUID

import pytest
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState
from SpiffWorkflow.workflow import Workflow

from service.engine import spiff_speedups
from service.engine.spiff_speedups import library_methods
from service.engine.steps import iterate
from service.services.context import engine

from .flow_helpers import SURVEY, deployed_app, do, fire_at, ready, surveyed_dibao_a, timers
from .test_engine_steps import MASKS, shape


@pytest.fixture
def app(make_app):
    yield from deployed_app(make_app, ('delegated/dibao_a.bpmn',))


def case_at_decision():
    return surveyed_dibao_a()


def test_they_are_installed():
    from SpiffWorkflow import task as spiff_task
    assert spiff_task.uuid4 is spiff_speedups.new_task_id
    assert Task._set_state is spiff_speedups._set_state
    assert Workflow.update_waiting_tasks is spiff_speedups.update_waiting_tasks
    assert Workflow.is_completed is spiff_speedups.is_completed
    assert TaskState.get_name.__func__ is spiff_speedups.get_name


def test_new_task_ids_are_random_version_4_uuids(app):
    import uuid
    from service.engine.tree_state import TaskId
    from tests.test_flow_dibao_a import decision
    ids = [spiff_speedups.new_task_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids) and len({i.int >> 64 for i in ids}) == len(ids)
    for uid in ids[:200]:
        plain = uuid.UUID(str(uid))
        assert type(uid) is TaskId and uid.version == 4 and uid.variant == uuid.RFC_4122
        assert plain == uid and hash(plain) == hash(uid) and plain.is_safe == uid.is_safe
    # The tasks SpiffWorkflow makes while a case runs get them.
    case = case_at_decision()
    workflow = engine().load(case)
    before = set(workflow.tasks)
    with engine().one_write():
        engine().complete(workflow, next(iter(ready(case).values())).id, decision(True))
    made = [uid for uid in workflow.tasks if uid not in before]
    assert made and all(type(uid) is TaskId for uid in made)


def test_state_names_are_the_librarys():
    original = spiff_speedups.ORIGINALS['TaskState.get_name']
    for state in range(0, 2 * TaskState.ANY_MASK + 2):
        assert TaskState.get_name(state) == original(TaskState, state)
        assert TaskState.get_name(state) == original(TaskState, state)      # the cached answer too


def overdue_case_to_its_end(clock):
    """tests/test_flow_dibao_a's overdue case: its deadline fires (non-interrupting) while work goes on."""
    from tests.test_flow_dibao_a import REJECTION, accept, decision, start
    from .flow_helpers import decline_move, due
    case = start()
    accept(case)
    deadline = due(timers(case, 'waiting')['deadline'])
    fire_at(clock, case, deadline - timedelta(seconds=1))
    fire_at(clock, case, deadline + timedelta(seconds=1))
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    do(case, 'township_confirmation', decision(False), actor='leader1')
    do(case, 'issue_rejection_notice', REJECTION)
    decline_move(case, 'marginal_dibao')
    assert case.status == 'completed' and case.overdue


def test_a_case_runs_to_its_end_as_with_the_library_methods(app, clock):
    """Every state stored on the way (each completion, message and timer firing) is the same tree."""
    seen = {'ours': [], 'theirs': []}
    start = clock.now()
    try:
        for name in ('theirs', 'ours'):
            clock.set(start.isoformat())
            engine().trace = lambda workflow: seen[name].append((shape(workflow), workflow.is_completed()))
            with library_methods() if name == 'theirs' else contextlib.nullcontext():
                overdue_case_to_its_end(clock)
    finally:
        engine().trace = None
    assert len(seen['ours']) >= 10 and seen['ours'][-1][1]
    assert seen['ours'] == seen['theirs']


def test_the_waiting_and_unfinished_walks_list_what_the_iterator_lists(app, clock):
    from tests.test_flow_dibao_a import decision
    checked = []

    def same(workflow):
        for wf in (workflow, *workflow.subprocesses.values()):
            for mask in MASKS:
                assert (list(iterate(wf, mask, into_subprocesses=False))
                        == list(TaskIterator(wf.task_tree, state=mask))), TaskState.get_name(mask)
        checked.append(len(workflow.subprocesses))
    engine().trace = same
    try:
        case = case_at_decision()
        do(case, next(iter(ready(case))), decision(True), actor='leader1')
        for timer in sorted(timers(case, 'waiting').values(), key=lambda t: t.due_at):
            fire_at(clock, case, timer.due_at + timedelta(seconds=1))
    finally:
        engine().trace = None
    assert len(checked) >= 7 and max(checked) > 0


def test_state_changes_log_as_the_library_logs_when_info_is_printed(app, caplog):
    case = case_at_decision()
    logger = logging.getLogger('spiff.task')
    saved = logger.level

    def change(workflow):
        task = workflow.get_task_from_id(UUID(next(iter(ready(case).values())).id))
        before = task.last_state_change
        task._set_state(TaskState.COMPLETED)
        assert task.state == TaskState.COMPLETED and task.last_state_change > before
        task._set_state(TaskState.COMPLETED)     # the same state: only a DEBUG line
        return [(r.levelname, r.getMessage(), r.task_spec, r.state, r.parent) for r in caplog.records]

    try:
        logger.setLevel(logging.WARNING)          # the service: nothing of theirs printed, nothing built
        assert change(engine().load(case)) == []
        logger.setLevel(logging.DEBUG)
        ours = change(engine().load(case))
        caplog.clear()
        with library_methods():
            theirs = change(engine().load(case))
        assert ours == theirs and [level for level, *_ in ours] == ['INFO', 'DEBUG']
    finally:
        logger.setLevel(saved)
