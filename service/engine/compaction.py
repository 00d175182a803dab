"""Compacting a case's stored task tree: finished history out, what the case still needs kept.

SpiffWorkflow keeps every task it ever made: a case that loops (a review sent back again and
again) stores each round, and every load, step and save walks all of them, so its 200th change
costs many times its 5th. The history a person reads lives in the task rows and the audit log,
not in the tree. So when a case is stored, the serialized tree (not the workflow in memory, which
the same write still reads) keeps only:

- every task not finished yet (ready, waiting, predicted, in error) and the parent of each (a
  task inherits its data from its parent; a boundary event's activity is found by its parent);
- the newest completed task of each user task (notices print the data their task saw), the
  workflow's last task, and the root (it holds the case's start data);
- every task where two kept branches meet (parallel or boundary branches still open).

A finished task in between is spliced out: its kept child hangs from its nearest kept ancestor,
and its data is stored as a delta against that ancestor, so nothing of the data is lost. The
BPMN ids of completed tasks that were dropped are kept in the state (`compacted`) for the
case page's diagram. Subprocesses of dropped tasks go with them. A state stored before this
existed is simply a tree nothing was dropped from: it loads as before.
"""
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

COMPACTED_KEY = 'compacted'
FINISHED = TaskState.COMPLETED | TaskState.CANCELLED


def _pinned(workflow):
    """Finished tasks kept anyway: the root, the last task, the newest completed one of each user task."""
    pinned = {workflow.task_tree.id}
    if workflow.last_task is not None:
        pinned.add(workflow.last_task.id)
    newest = {}
    for task in workflow.tasks.values():
        if task.state == TaskState.COMPLETED and isinstance(task.task_spec, UserTask):
            best = newest.get(task.task_spec.name)
            if best is None or task.last_state_change >= best.last_state_change:
                newest[task.task_spec.name] = task
    pinned.update(t.id for t in newest.values())
    return pinned


def kept_tasks(workflow):
    """The ids of the top-level tasks the stored tree keeps (see the module's docstring)."""
    tasks = workflow.tasks
    live = {i for i, t in tasks.items() if not t.state & FINISHED}
    anchors = live | _pinned(workflow)
    keep = set(anchors)
    keep.update(tasks[i]._parent for i in live if tasks[i]._parent is not None)
    # Every ancestor of an anchor is needed; those with two or more needed children are kept.
    needed_children = {}
    for i in anchors:
        child, parent = i, tasks[i]._parent
        while parent is not None:
            seen = needed_children.setdefault(parent, set())
            first_visit = not seen
            seen.add(child)
            if not first_visit:
                break
            child, parent = parent, tasks[parent]._parent
    keep.update(p for p, children in needed_children.items() if len(children) > 1)
    return keep


def compact(dct, workflow):
    """Drop the finished history from the serialized top-level tree `dct` of `workflow` (in place)."""
    if workflow.task_tree is None:
        return dct
    keep = kept_tasks(workflow)
    tasks = workflow.tasks
    done = set(getattr(workflow, 'compacted_done', ()))   # dropped by earlier writes
    if len(keep) == len(tasks):
        if done:
            dct[COMPACTED_KEY] = sorted(done)
        return dct
    stored = dct['tasks']
    for task_id, task in tasks.items():
        if task_id in keep:
            continue
        if task.state == TaskState.COMPLETED and getattr(task.task_spec, 'bpmn_id', None):
            done.add(task.task_spec.bpmn_id)
        stored.pop(str(task_id), None)
    kept_children = {}
    for task_id in tasks:          # creation order: a parent comes before its children
        if task_id not in keep or task_id == workflow.task_tree.id:
            continue
        task = tasks[task_id]
        parent = task._parent
        while parent not in keep:
            parent = tasks[parent]._parent
        kept_children.setdefault(parent, []).append(str(task_id))
        entry = stored[str(task_id)]
        if parent != task._parent:
            entry['parent'] = str(parent)
            # Data is stored as a delta against the parent: against the new one now.
            entry['delta'] = {'updates': DeepMerge.get_updated_keys(tasks[parent].data, task.data),
                              'deletions': DeepMerge.get_deleted_keys(tasks[parent].data, task.data)}
    for task_id in keep:
        stored[str(task_id)]['children'] = kept_children.get(task_id, [])
    _drop_orphan_subprocesses(dct, stored)
    dct[COMPACTED_KEY] = sorted(done)
    return dct


def _drop_orphan_subprocesses(dct, stored):
    """Subprocesses whose task was dropped (top-level, or of a dropped subprocess) go too."""
    subprocesses = dct.get('subprocesses') or {}
    present = set(stored)
    changed = True
    while changed:
        changed = False
        for key, sub in list(subprocesses.items()):
            if sub.get('parent_task_id') not in present and key not in present:
                del subprocesses[key]
                changed = True
        present = set(stored) | {tid for sub in subprocesses.values() for tid in sub.get('tasks', {})}


def restore_marks(dct, workflow):
    """After loading: the BPMN ids of completed tasks that compaction dropped (for the case page)."""
    workflow.compacted_done = set(dct.pop(COMPACTED_KEY, None) or ())
    return workflow


def completed_elements(workflow):
    """BPMN ids of completed elements whose tasks are no longer in the tree."""
    return set(getattr(workflow, 'compacted_done', ()))

