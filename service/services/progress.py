"""Where a case stands in its diagram: the BPMN elements done, active, overdue and failed (for the case page)."""
from sqlalchemy import select
from SpiffWorkflow.util.task import TaskState

from ..extensions import db
from ..models import Incident, Task, Timer
from ..engine.compaction import completed_elements
from ..engine.tasks import current_data
from .write import load_workflow

_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def diagram_state(instance):
    """{'completed', 'active', 'overdue', 'failed'}: sorted BPMN element ids of the case's own definition version
    ('failed': the step an open incident stopped at);
    'messages': the BPMN messages the case waits for now; 'data': the case's current data
    (one load of the workflow serves the whole case page).

    The caller has checked that the user may read the case.
    """
    workflow = load_workflow(instance)
    completed, active, failed = set(), set(), set()
    for task in workflow.get_tasks():
        bpmn_id = getattr(task.task_spec, 'bpmn_id', None)
        if not bpmn_id:
            continue  # the engine's own helper tasks are not drawn
        if task.state == TaskState.COMPLETED:
            completed.add(bpmn_id)
        elif task.state & _ACTIVE:
            active.add(bpmn_id)
        elif task.state == TaskState.ERROR:
            failed.add(bpmn_id)
    completed |= completed_elements(workflow)   # done before the stored tree was compacted
    overdue = set(db.session.scalars(select(Timer.attached_to).where(
        Timer.instance_id == instance.id, Timer.kind == 'deadline', Timer.state == 'fired',
        Timer.attached_to.is_not(None))))
    overdue |= set(db.session.scalars(select(Task.bpmn_id).where(
        Task.instance_id == instance.id, Task.state == 'ready', Task.overdue.is_(True))))
    if instance.status == 'incident':
        # The engine marks the failed task ERROR; a failure outside a task (a timer expression)
        # is known only by the incident's element.
        element = db.session.scalar(select(Incident.element).where(
            Incident.instance_id == instance.id, Incident.state == 'open').order_by(Incident.id.desc()).limit(1))
        if element:
            failed.add(element)
    else:
        failed = set()   # a retried or terminated case keeps no failure marks
    # An element that ran again (a loop) and is open now is shown as active, not done.
    return {'completed': sorted(completed - active - failed), 'active': sorted(active - failed),
            'overdue': sorted(overdue), 'failed': sorted(failed),
            'messages': instance.waiting_messages if instance.status == 'running' else [],
            'data': current_data(workflow)}
