"""What a case passed through: recorded from the engine each time the case is stored.

The engine calls the recorder with the whole task tree before it is compacted (engine/core.py
`Engine.trace`), so nothing a write completed is missed, also in loops whose rounds the stored
state drops. A completed task is one element passed; a completed exclusive or inclusive gateway
passed the flows to its children (the engine keeps only the chosen ones); a completed boundary
event fired.
"""
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.util.task import TaskState

_SPLIT = '.BoundaryEventSplit'


def _element(spec):
    """The BPMN id a task spec stands for (an activity's boundary wrapper stands for the activity)."""
    if spec.bpmn_id:
        return spec.bpmn_id
    name = spec.name or ''
    return name[:-len(_SPLIT)] if name.endswith(_SPLIT) else None


def _file(task):
    return getattr(task.workflow.spec, 'file', None)


class Recorder:
    def __init__(self):
        self.passed = {}        # task id -> (time, element id, name, file)
        self.flows = set()      # (file, gateway id, target element id)
        self.boundaries = set()  # (file, boundary event id)
        self.end_events = set()  # element ids of end events reached

    def __call__(self, workflow):
        for flow in [workflow, *workflow.subprocesses.values()]:
            for task in flow.tasks.values():
                if task.state != TaskState.COMPLETED or task.id in self.passed:
                    continue
                spec = task.task_spec
                element = _element(spec)
                if element is None or spec.name.endswith(_SPLIT):
                    continue
                file = _file(task)
                self.passed[task.id] = (task.last_state_change, element, spec.bpmn_name or element, file)
                if isinstance(spec, (ExclusiveGateway, InclusiveGateway)):
                    for child in task.children:
                        target = _element(child.task_spec)
                        if target and not child.state & TaskState.PREDICTED_MASK:
                            self.flows.add((file, element, target))
                elif isinstance(spec, BoundaryEvent):
                    self.boundaries.add((file, element))
                elif isinstance(spec, EndEvent):
                    self.end_events.add(element)

    def path(self):
        """[(element id, name)] in the order they were passed."""
        return [(element, name) for _, element, name, _ in sorted(self.passed.values(), key=lambda v: v[0])]
