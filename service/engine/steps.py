"""Walking the task tree and running the engine steps, as SpiffWorkflow does, with less work per task.

`BpmnWorkflow.do_engine_steps` lists the READY tasks with `get_tasks(state=READY)` again after every
round of runs, in every active subprocess and then the whole case: a fired timer walked its
tree five times, a completion more. SpiffWorkflow's iterator spends most of that walk on
itself: a filter object per walk, a method call per task and per check, the pending list copied
at every branch, a parent lookup by UUID (a Python-level hash) at every leaf.

`walk` lists exactly what `workflow.get_tasks(state=mask)` lists (`iterate`: lazily, as its iterator), in the
same order, with the same depth bound (the iterator's own depth bookkeeping is kept, so even its quirks across
subprocesses stay), and `do_engine_steps` is SpiffWorkflow 3.2's loop with `walk` in it
(bpmn/workflow.py: do_engine_steps, _do_engine_steps). Tests: tests/test_engine_steps.py
compares both with the library on real cases.
"""
from SpiffWorkflow.util.task import TaskState

MAX_DEPTH = 1000    # TaskIterator's default max_depth
_READY = TaskState.READY
_FUTURE = TaskState.FUTURE
_FINISHED = TaskState.FINISHED_MASK


def _min_state(mask):
    """TaskIterator: below which state a task's children are not visited."""
    if mask & TaskState.PREDICTED_MASK:
        return TaskState.MAYBE
    if mask & TaskState.DEFINITE_MASK:
        return TaskState.FUTURE
    return TaskState.COMPLETED


def iterate(workflow, mask, into_subprocesses=True):
    """The tasks of `workflow.get_tasks_iterator(state=mask)`, lazily (BpmnTaskIterator, depth first, into
    subprocesses); `into_subprocesses=False`: a plain TaskIterator from the workflow's root.

    Lazy as the iterator: a task's state and children are read when it is reached, so an update of
    the task just returned (update_waiting_tasks) changes what comes after it as it would there.
    """
    min_state = _min_state(mask)
    top = workflow.top_workflow if into_subprocesses else None
    subprocesses = top.subprocesses if top is not None else None
    # The iterator's depth only matters where it can reach its bound: it grows by one per task
    # whose children are visited, so in a tree of fewer tasks than the bound (every case so far)
    # it never does, and its bookkeeping at each leaf (a walk up the parents) is skipped.
    size = len(top.tasks) + sum(len(sp.tasks) for sp in subprocesses.values()) if top is not None \
        else len(workflow.tasks)
    bounded = size >= MAX_DEPTH
    pending = [workflow.task_tree]     # a stack: its last item is the iterator's task_list[0]
    depth = 0
    while pending:
        task = pending.pop()
        state = task._state
        subprocess = subprocesses.get(task.id) if subprocesses else None
        if ((task._children or subprocess is not None) and (state >= min_state or subprocess is not None)
                and depth < MAX_DEPTH and task.task_spec.name is not None):
            tasks = task.workflow.tasks
            pending.extend([tasks.get(child) for child in reversed(task._children)])
            # (SpiffWorkflow compares a state with FINISHED_MASK here, which no single state reaches.)
            if subprocess is not None and not (state >= _FINISHED and mask <= _FINISHED):
                pending.append(subprocess.task_tree)
            depth += 1
            if depth > size and not bounded:
                raise ValueError('the task tree lists a task twice')    # a tree never does (see above)
        elif pending and bounded:
            # TaskIterator._handle_leaf_depth: back up to the next task's parent.
            ancestor = pending[-1]
            ancestor = ancestor.workflow.tasks.get(ancestor._parent)
            current = task.workflow.tasks.get(task._parent)
            while current is not None and current is not ancestor:
                current = current.workflow.tasks.get(current._parent)
                depth -= 1
        if state & mask and task.last_state_change >= 0:
            yield task


def walk(workflow, mask):
    """`workflow.get_tasks(state=mask)`: the list of `iterate`."""
    return list(iterate(workflow, mask))


def do_engine_steps(workflow, did_complete_task=None):
    """BpmnWorkflow.do_engine_steps(did_complete_task=...), its READY lists made by `walk`."""

    def update_workflow(wf):
        count = 0
        for task in walk(wf, _READY):
            if not task.task_spec.manual:
                task.run()
                count += 1
                if did_complete_task is not None:
                    did_complete_task(task)
        return count

    def one_round():
        active = workflow.get_active_subprocesses()
        for subprocess in sorted(active, key=lambda v: v.depth, reverse=True):
            count = None
            while count is None or count > 0:
                count = update_workflow(subprocess)
            if subprocess.parent_task_id is not None:
                task = workflow.get_task_from_id(subprocess.parent_task_id)
                task.task_spec._update(task)
        count = update_workflow(workflow)
        return count > 0 or len(workflow.get_active_subprocesses()) > len(active)

    while one_round():
        pass
    workflow.refresh_timers()
