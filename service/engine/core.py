"""The engine's public face for the services: create, load, act on and save workflows."""
from datetime import timedelta, timezone

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from .. import calendar
from .sandbox import make_script_engine
from .serializer import CaseSerializer
from .tasks import ready_user_task
from .timers import engine_clock

SHANGHAI = timezone(timedelta(hours=8))


class NotWaiting(Exception):
    """A message that no task of the case is waiting for."""


class TaskNotReady(Exception):
    pass


class Engine:
    def __init__(self, clock):
        self.clock = clock
        self.serializer = CaseSerializer()
        self.script_engine = make_script_engine(self.functions())
        self._specs = {}

    def functions(self):
        """What diagram expressions may call, beyond plain Python: the calendar and the clock."""
        def now():
            return self.clock.now().astimezone(SHANGHAI).isoformat()
        return {
            'now': now,
            'add_working_days': calendar.add_working_days,
            'add_days': calendar.add_days,
            'add_hours': calendar.add_hours,
        }

    def specs(self, definition_id, spec_json):
        """The restored spec of a definition version; `spec_json` is a callable, asked only on a miss."""
        cached = self._specs.get(definition_id)
        if cached is None:
            cached = self._specs[definition_id] = self.serializer.load_spec(spec_json())
        return cached

    def create(self, definition, data):
        spec, subs = self.specs(definition.id, lambda: definition.spec_json)
        workflow = BpmnWorkflow(spec, subs, script_engine=self.script_engine)
        # The root's data is inherited by the start event and flows on from there.
        workflow.task_tree.data.update(data)
        self.advance(workflow)
        return workflow

    def load(self, instance):
        spec, subs = self.specs(instance.definition_id, lambda: instance.definition.spec_json)
        workflow = self.serializer.load_case(instance.state, spec, subs)
        # The script engine is not part of the serialization.
        workflow.script_engine = self.script_engine
        return workflow

    def dump(self, workflow):
        return self.serializer.dump_case(workflow)

    def advance(self, workflow):
        """Fire due timers, then run every engine step that needs no person."""
        with engine_clock(self.clock):
            workflow.refresh_timers()
            workflow.do_engine_steps()

    def complete(self, workflow, task_id, data):
        task = ready_user_task(workflow, task_id)
        if task is None:
            raise TaskNotReady(task_id)
        task.data.update(data)
        with engine_clock(self.clock):
            task.run()
        self.advance(workflow)
        return task

    def deliver(self, workflow, name, payload):
        event = BpmnEvent(MessageEventDefinition(name), payload=payload)
        with engine_clock(self.clock):
            try:
                workflow.send_event(event)
            except WorkflowException as exc:
                if 'not waiting' in str(exc):
                    raise NotWaiting(name) from None
                raise
        self.advance(workflow)

    def waiting_messages(self, workflow):
        return sorted({ev.name for ev in workflow.waiting_events()
                       if ev.event_type == 'MessageEventDefinition'})
