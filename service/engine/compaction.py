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

from .tree_state import id_text, id_texts

COMPACTED_KEY = 'compacted'
FINISHED = TaskState.COMPLETED | TaskState.CANCELLED


def _pinned(workflow, finished):
    """Finished tasks kept anyway: the root, the last task, the newest completed one of each user task."""
    pinned = {workflow.task_tree}
    if workflow.last_task is not None:
        pinned.add(workflow.last_task)
    newest = {}
    for task in finished:
        if task._state == TaskState.COMPLETED and isinstance(task.task_spec, UserTask):
            best = newest.get(task.task_spec.name)
            if best is None or task.last_state_change >= best.last_state_change:
                newest[task.task_spec.name] = task
    pinned.update(newest.values())
    return pinned


def kept_tasks(workflow):
    """The top-level tasks the stored tree keeps (see the module's docstring), and parent_of(task).

    Sets of task objects, not of ids: a task hashes by identity in C, a UUID by a Python method,
    and each parent is looked up by its id once.
    """
    tasks = workflow.tasks
    parents = {}

    def parent_of(task):
        found = parents.get(task, parents)
        if found is parents:
            found = parents[task] = tasks[task._parent] if task._parent is not None else None
        return found

    live, finished = [], []
    for task in tasks.values():
        (finished if task._state & FINISHED else live).append(task)
    anchors = set(live) | _pinned(workflow, finished)
    keep = set(anchors)
    keep.update(parent for parent in map(parent_of, live) if parent is not None)
    # Every ancestor of an anchor is needed; those with two or more needed children are kept.
    needed_children = {}
    for task in anchors:
        child, parent = task, parent_of(task)
        while parent is not None:
            seen = needed_children.get(parent)
            if seen is not None:
                seen.add(child)
                break
            needed_children[parent] = {child}
            child, parent = parent, parent_of(parent)
    keep.update(parent for parent, children in needed_children.items() if len(children) > 1)
    return keep, parent_of


def compact(dct, workflow):
    """Drop the finished history from the serialized top-level tree `dct` of `workflow` (in place)."""
    if workflow.task_tree is None:
        return dct
    keep, parent_of = kept_tasks(workflow)
    tasks = workflow.tasks
    done = set(getattr(workflow, 'compacted_done', ()))   # dropped by earlier writes
    if len(keep) == len(tasks):
        if done:
            dct[COMPACTED_KEY] = sorted(done)
        return dct
    texts = id_texts(workflow)
    stored = dct['tasks']
    for task_id, task in tasks.items():
        if task in keep:
            continue
        if task._state == TaskState.COMPLETED and getattr(task.task_spec, 'bpmn_id', None):
            done.add(task.task_spec.bpmn_id)
        stored.pop(id_text(task_id, texts), None)
    kept_children = {}
    root = workflow.task_tree
    for task_id, task in tasks.items():          # creation order: a parent comes before its children
        if task not in keep or task is root:
            continue
        parent = own = parent_of(task)
        while parent not in keep:
            parent = parent_of(parent)
        text = id_text(task_id, texts)
        kept_children.setdefault(parent, []).append(text)
        if parent is not own:
            entry = stored[text]
            entry['parent'] = id_text(parent.id, texts)
            # Data is stored as a delta against the parent: against the new one now.
            entry['delta'] = {'updates': DeepMerge.get_updated_keys(parent.data, task.data),
                              'deletions': DeepMerge.get_deleted_keys(parent.data, task.data)}
    for task in keep:
        stored[id_text(task.id, texts)]['children'] = kept_children.get(task, [])
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

