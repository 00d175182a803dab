"""SpiffWorkflow 3.2 methods that every state change or task completion calls, replaced by exact equivalents.

Each does what the library's method does (tests/test_spiff_speedups.py compares them with the
originals, kept in ORIGINALS, on real cases), without the part that costs and changes nothing:

- `Task._set_state` built the extras of an INFO log line (a dict, the parent looked up by its UUID,
  the state's name from a dict rebuilt at every call) before the logger was even asked whether
  INFO is wanted; at 2-10 state changes per task that was a tenth of a completion. Here the
  logger is asked first; when it would print (`jiuzhu -v`, a level set for 'spiff.task') the
  library's own method runs, so the log lines are the same.
- `TaskState.get_name` rebuilt its table of names at each call; the answer for a state is cached.
- A new task's id (`uuid4()` in SpiffWorkflow's task module) is made as a TaskId (tree_state.py:
  the same random version-4 UUID, its hash kept), without UUID's general constructor.
- `Workflow.update_waiting_tasks` (after every task completed) and `Workflow.is_completed` walked
  the whole tree with the generic TaskIterator (a filter object, a method call per task and per
  check, the pending list copied at each branch); here the walk of engine/steps.py does it,
  lazily as the iterator did (an update may change tasks the walk has not reached yet), and
  not at all when no task of the workflow is waiting.

Installed once, process-wide, when the engine is imported (as engine/timers.py does with the
timer module's clock): SpiffWorkflow used directly in the same process gets the same methods.
"""
import contextlib
import logging
import time
from operator import attrgetter

from SpiffWorkflow import task as spiff_task
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from SpiffWorkflow.workflow import Workflow

from .steps import iterate
from .tree_state import new_task_id

ORIGINALS = {
    'task.uuid4': spiff_task.uuid4,
    'Task._set_state': Task._set_state,
    'TaskState.get_name': TaskState.get_name.__func__,
    'Workflow.update_waiting_tasks': Workflow.update_waiting_tasks,
    'Workflow.is_completed': Workflow.is_completed,
}
_log = spiff_task.logger
_INFO = logging.INFO
_library_set_state = ORIGINALS['Task._set_state']
_library_get_name = ORIGINALS['TaskState.get_name']
_names = {}
_WAITING = TaskState.WAITING
_state_of = attrgetter('_state')


def _set_state(self, value):
    if _log.isEnabledFor(_INFO):
        return _library_set_state(self, value)
    # What the library does when neither its INFO nor its DEBUG line would be printed.
    if value != self._state:
        self.last_state_change = time.time()
        self._state = value


def get_name(cls, state):
    if cls is not TaskState:
        return _library_get_name(cls, state)
    name = _names.get(state)
    if name is None:
        name = _names[state] = _library_get_name(cls, state)
    return name


def update_waiting_tasks(self):
    # Most completions leave nothing waiting in the workflow: then the walk (which would list
    # nothing, and so change nothing) is skipped after a scan of the states in C.
    if _WAITING not in map(_state_of, self.tasks.values()):
        return
    for task in iterate(self, _WAITING, into_subprocesses=False):
        task.task_spec._update(task)


def is_completed(self):
    if not self.completed:
        if next(iterate(self, TaskState.NOT_FINISHED_MASK, into_subprocesses=False), None) is None:
            self.completed = True
    return self.completed


# What install() puts in place of the library's own: (owner, attribute, replacement).
_REPLACED = (
    (spiff_task, 'uuid4', new_task_id),
    (Task, '_set_state', _set_state),
    (TaskState, 'get_name', classmethod(get_name)),
    (Workflow, 'update_waiting_tasks', update_waiting_tasks),
    (Workflow, 'is_completed', is_completed),
)
# The library's attributes as imported, before install (a classmethod stays one).
_LIBRARY = tuple((owner, name, vars(owner)[name]) for owner, name, _ in _REPLACED)


def _put(places):
    for owner, name, value in places:
        setattr(owner, name, value)


def install():
    _put(_REPLACED)


@contextlib.contextmanager
def library_methods():
    """SpiffWorkflow's own methods for the duration, process-wide (tests compare with them; the write
    path benchmark times raw SpiffWorkflow with them)."""
    saved = tuple((owner, name, vars(owner)[name]) for owner, name, _ in _REPLACED)
    _put(_LIBRARY)
    try:
        yield
    finally:
        _put(saved)
