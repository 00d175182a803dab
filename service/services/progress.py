"""Where a case stands in its diagram: the BPMN elements done, active and overdue (for the case page)."""
from sqlalchemy import select
from SpiffWorkflow.util.task import TaskState

from ..extensions import db
from ..models import Task, Timer
from ..engine.tasks import current_data
from .context import engine

_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def diagram_state(instance):
    """{'completed', 'active', 'overdue'}: sorted BPMN element ids of the case's own definition version;
    'messages': the BPMN messages the case waits for now; 'data': the case's current data
    (one load of the workflow serves the whole case page).

    The caller has checked that the user may read the case.
    """
    workflow = engine().load(instance)
    completed, active = set(), set()
    for task in workflow.get_tasks():
        bpmn_id = getattr(task.task_spec, 'bpmn_id', None)
        if not bpmn_id:
            continue  # the engine's own helper tasks are not drawn
        if task.state == TaskState.COMPLETED:
            completed.add(bpmn_id)
        elif task.state & _ACTIVE:
            active.add(bpmn_id)
    overdue = set(db.session.scalars(select(Timer.attached_to).where(
        Timer.instance_id == instance.id, Timer.kind == 'deadline', Timer.state == 'fired',
        Timer.attached_to.is_not(None))))
    overdue |= set(db.session.scalars(select(Task.bpmn_id).where(
        Task.instance_id == instance.id, Task.state == 'ready', Task.overdue.is_(True))))
    # An element that ran again (a loop) and is open now is shown as active, not done.
    return {'completed': sorted(completed - active), 'active': sorted(active), 'overdue': sorted(overdue),
            'messages': instance.waiting_messages if instance.status == 'running' else [],
            'data': current_data(workflow)}
