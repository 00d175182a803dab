"""engine/steps.py against SpiffWorkflow: the same tasks listed in the same order, the same engine steps.

Every state a real dibao_a case reaches on its way (start, a message, user tasks, a subprocess,
boundary timers firing) is checked: `walk` lists what `get_tasks(state=...)` lists, for each state
mask, and stepping with our loop leaves the tree SpiffWorkflow's own loop leaves.
"""
from datetime import timedelta
from itertools import combinations

import pytest
from SpiffWorkflow.util.task import TaskState

from service.engine.steps import do_engine_steps, walk
from service.engine.timers import engine_clock
from service.services.context import engine

from .flow_helpers import (APPLICATION, COMPLETE, NOTICE, SURVEY, deployed_app, do, fire_at, pre_verify, ready,
                           timers)

STATES = (TaskState.MAYBE, TaskState.LIKELY, TaskState.FUTURE, TaskState.WAITING, TaskState.READY,
          TaskState.STARTED, TaskState.COMPLETED, TaskState.ERROR, TaskState.CANCELLED)
MASKS = sorted({a | b for a, b in combinations(STATES, 2)} | set(STATES)
               | {TaskState.NOT_FINISHED_MASK, TaskState.FINISHED_MASK, TaskState.ANY_MASK})


@pytest.fixture
def app(make_app):
    yield from deployed_app(make_app, ('delegated/dibao_a.bpmn',))


def same_walks(workflow):
    """walk == get_tasks for every mask, from the top and from each subprocess."""
    for wf in (workflow, *workflow.subprocesses.values()):
        for mask in MASKS:
            assert walk(wf, mask) == wf.get_tasks(state=mask), (wf, TaskState.get_name(mask))
    return True


def shape(workflow):
    """The tree without its random ids and clock times: tasks by position, specs by name."""
    tasks = [t for wf in (workflow, *workflow.subprocesses.values()) for t in wf.tasks.values()]
    where = {t.id: n for n, t in enumerate(tasks)}
    return ([(t.task_spec.name, t.state, t.triggered, where.get(t._parent), [where[c] for c in t._children],
              t.data, sorted(t.internal_data)) for t in tasks],
            [where[k] for k in workflow.subprocesses], [where[k] for k in workflow.event_manager.tasks],
            where.get(workflow.last_task.id if workflow.last_task else None), workflow.completed)


def test_every_state_of_a_case_walks_as_spiffworkflow_walks(app, clock):
    """(And compacts as the id-based compaction did: the subprocess dropped once finished.)"""
    from tests.test_compaction import same_compaction
    checked = []
    engine().trace = lambda workflow: checked.append(same_walks(workflow) and same_compaction(workflow))
    try:
        from service.services import runtime
        from tests.test_flow_dibao_a import decision
        case = runtime.start_instance('dibao_a', 't01', APPLICATION, 'caseworker1')
        pre_verify(case)
        do(case, 'check_materials', COMPLETE)
        do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
        do(case, 'home_survey', SURVEY, actor='surveyor1')
        do(case, next(iter(ready(case))), decision(True), actor='leader1')
        for row in sorted(timers(case, 'waiting').values(), key=lambda t: t.due_at):
            fire_at(clock, case, row.due_at + timedelta(seconds=1))
    finally:
        engine().trace = None
    assert len(checked) >= 7 and max(checked) > 0


def test_our_steps_leave_the_tree_spiffworkflows_steps_leave(app, clock):
    from service.services import runtime
    from tests.test_flow_dibao_a import decision
    case = runtime.start_instance('dibao_a', 't01', APPLICATION, 'caseworker1')
    pre_verify(case)
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    (row,) = ready(case).values()
    eng = engine()

    def complete_with(steps):
        workflow = eng.load(case)
        task = workflow.get_task_from_id(__import__('uuid').UUID(row.id))
        task.data.update(decision(True))
        ran = []
        with eng.one_write(), engine_clock(clock):
            task.run()
            workflow.refresh_timers()
            steps(workflow, ran.append)
        return workflow, [t.task_spec.name for t in ran]

    theirs, their_runs = complete_with(lambda wf, count: wf.do_engine_steps(did_complete_task=count))
    ours, our_runs = complete_with(do_engine_steps)
    assert our_runs == their_runs and len(our_runs) > 3
    assert shape(ours) == shape(theirs)

    # Then past every timer it now waits for: each fires the same way.
    clock.advance(timedelta(days=400))
    with eng.one_write(), engine_clock(clock):
        for workflow, steps in ((theirs, lambda wf, count: wf.do_engine_steps(did_complete_task=count)),
                                (ours, do_engine_steps)):
            workflow.refresh_timers()
            steps(workflow, None)
    assert shape(ours) == shape(theirs)


def test_the_depth_bound_cuts_where_spiffworkflows_cuts(app):
    """Chains deeper than the iterator's max_depth (a runaway loop's tree), under a task of the case
    and under a task of its subprocess: the same tasks beyond the bound are left out."""
    from SpiffWorkflow.task import Task
    from service.services import runtime
    case = runtime.start_instance('dibao_a', 't01', APPLICATION, 'caseworker1')
    pre_verify(case)
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    workflow = engine().load(case)
    (subprocess,) = workflow.subprocesses.values()
    for wf, length in ((subprocess, 700), (workflow, 1100)):
        tip = next(t for t in wf.tasks.values() if not t._children)
        for n in range(length):
            tip = Task(wf, tip.task_spec, parent=tip, state=TaskState.READY if n % 3 else TaskState.WAITING)
    assert len(workflow.get_tasks(state=TaskState.ANY_MASK)) < len(workflow.tasks) + len(subprocess.tasks)
    for mask in (TaskState.READY, TaskState.WAITING, TaskState.READY | TaskState.WAITING,
                 TaskState.NOT_FINISHED_MASK, TaskState.ANY_MASK):
        for wf in (workflow, subprocess):
            assert walk(wf, mask) == wf.get_tasks(state=mask)


def test_spiff_logs_are_quieted_only_where_info_is_not_printed():
    import logging
    from service.engine.core import quiet_spiff_logging
    loggers = [logging.getLogger(name) for name in ('spiff.task', 'spiff.workflow')] + [logging.getLogger()]
    saved = [logger.level for logger in loggers]

    def levels(spiff, root):
        for logger in loggers[:2]:
            logger.setLevel(spiff)
        loggers[2].setLevel(root)     # setLevel clears the loggers' cached answers
    try:
        levels(logging.NOTSET, logging.INFO)        # jiuzhu -v: SpiffWorkflow's INFO lines still print
        quiet_spiff_logging()
        assert [logger.level for logger in loggers[:2]] == [logging.NOTSET] * 2
        levels(logging.NOTSET, logging.WARNING)     # the service: nothing of theirs below WARNING prints
        quiet_spiff_logging()
        assert [logger.level for logger in loggers[:2]] == [logging.WARNING] * 2
    finally:
        for logger, level in zip(loggers, saved):
            logger.setLevel(level)


def test_a_tree_listing_a_task_twice_is_refused_not_walked_forever(app):
    """Below the depth bound the walk keeps no depth (steps.iterate); a task listed as its own
    descendant, which no tree SpiffWorkflow makes holds, is refused instead of walked round and round."""
    from service.services import runtime
    case = runtime.start_instance('dibao_a', 't01', APPLICATION, 'caseworker1')
    workflow = engine().load(case)
    assert len(workflow.tasks) < 1000 and walk(workflow, TaskState.ANY_MASK)
    leaf = next(t for t in workflow.tasks.values() if not t._children)
    leaf._children.append(workflow.task_tree.id)
    with pytest.raises(ValueError):
        walk(workflow, TaskState.ANY_MASK)
