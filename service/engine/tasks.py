"""What the service needs to know about a workflow's ready user tasks."""
from dataclasses import dataclass, field
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.util.task import TaskState

from .steps import walk


# What a person is offered: user tasks (a form) and manual tasks (done outside the system, no form:
# the page offers "办理完毕"). Plain bpmn:task runs straight through (Engine.specs), never offered.
HUMAN_TASKS = (UserTask, ManualTask)


@dataclass
class ReadyTask:
    task_id: str
    bpmn_id: str
    name: str
    lane: str | None
    properties: dict = field(default_factory=dict)
    scope_task_ids: tuple = ()   # itself and each enclosing subprocess task, nearest first

    @property
    def form(self):
        return self.properties.get('formJsonSchemaFilename')

    @property
    def ui_form(self):
        return self.properties.get('formUiSchemaFilename')


def _scope_chain(task):
    chain = [str(task.id)]
    workflow = task.workflow
    while workflow.parent_task_id is not None:
        parent_task = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        chain.append(str(parent_task.id))
        workflow = parent_task.workflow
    return tuple(chain)


def describe(task):
    spec = task.task_spec
    return ReadyTask(
        task_id=str(task.id), bpmn_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id,
        lane=spec.lane, properties=dict(spec.extensions.get('properties', {})),
        scope_task_ids=_scope_chain(task))


def ready_user_tasks(workflow, tasks=None):
    """The ready user and manual tasks; `tasks` (already walked by the caller) saves a walk of the tree."""
    if tasks is None:
        tasks = [t for t in walk(workflow, TaskState.READY) if t.task_spec.manual == True]  # noqa: E712 (get_tasks' filter)
    return [describe(t) for t in tasks if t.state == TaskState.READY and isinstance(t.task_spec, HUMAN_TASKS)]


def open_tasks(workflow):
    """Every READY or WAITING task, in one walk of the tree (feed it to the two functions above)."""
    return walk(workflow, TaskState.READY | TaskState.WAITING)


def ready_user_task(workflow, task_id):
    """The spiff task for a ready user or manual task id, or None when it is not (or no longer) ready."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except Exception:  # unknown or malformed id: to the caller it is simply not ready
        return None
    if task.state != TaskState.READY or not isinstance(task.task_spec, HUMAN_TASKS):
        return None
    return task


def current_data(workflow):
    """What the case knows now: the data of its open tasks, newest last (so newest wins).

    The last completed task is not enough: message payloads and script results after it live on
    the tasks that are waiting or ready now, and parallel branches each hold their own part.
    """
    # A READY task has inherited its branch's data; a WAITING one (a join, an event) not yet,
    # so its parent, the branch's last completed step, holds it.
    tips = {id(t): t for t in (task if task.state == TaskState.READY or task.parent is None else task.parent
                               for task in open_tasks(workflow))}.values()
    if not tips:
        return dict(workflow.last_task.data) if workflow.last_task is not None else dict(workflow.data)
    merged = {}
    for task in sorted(tips, key=lambda t: t.last_state_change):
        merged.update(task.data)
    return merged
