"""The engine's public face for the services: create, load, act on and save workflows."""
import logging
from datetime import timedelta, timezone

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as BaseMessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from .. import calendar
from .failures import CaseTooLarge, StepLimitExceeded
from .sandbox import make_script_engine, write_budget
from .serializer import CaseSerializer
from .spiff_speedups import install as install_speedups
from .steps import do_engine_steps
from .tasks import ready_user_task
from .timers import engine_clock

SHANGHAI = timezone(timedelta(hours=8))
install_speedups()


def pass_through(specs):
    """Let the engine run plain `bpmn:task`s (and their pre/post scripts) by itself.

    BPMN's abstract task has no behaviour; SpiffWorkflow marks it manual, so a case would wait
    on it for a person no one offers it to. `manual` is restored from the spec's JSON on every
    load, so it is set here, where each definition's spec is restored once.
    """
    spec, subs = specs
    for process_spec in (spec, *subs.values()):
        for task_spec in process_spec.task_specs.values():
            if isinstance(task_spec, NoneTask):
                task_spec.manual = False


def quiet_spiff_logging():
    """Spare SpiffWorkflow the extras of log lines nobody prints.

    Its loggers build the extras of an INFO line at every state change, and while a logger's own
    level is below INFO (NOTSET, by default) they add the task data and, when a case ends, a walk
    of all its tasks, before the logger is even asked whether INFO is wanted. Where INFO would not
    be printed anyway (the service, the scheduler), their level is set to WARNING, which prints
    the same and skips that work; with INFO on (`jiuzhu -v`) or a level set for them, they are
    left alone.
    """
    for name in ('spiff.task', 'spiff.workflow'):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET and not logger.isEnabledFor(logging.INFO):
            logger.setLevel(logging.WARNING)


class NotWaiting(Exception):
    """A message that no task of the case is waiting for."""


class TaskNotReady(Exception):
    pass


# Bounds on one write, whatever the diagram does (configurable: JIUZHU_MAX_ENGINE_STEPS, JIUZHU_MAX_CASE_BYTES).
DEFAULT_MAX_STEPS = 1000          # tasks the engine completes by itself in one change
DEFAULT_MAX_CASE_BYTES = 4 << 20  # a case's serialized state (today's cases: 7-220 KB)


class Engine:
    def __init__(self, clock, max_steps=DEFAULT_MAX_STEPS, max_case_bytes=DEFAULT_MAX_CASE_BYTES, limits=None,
                 write_seconds=10.0):
        self.clock = clock
        quiet_spiff_logging()
        self.serializer = CaseSerializer()
        self.script_engine = make_script_engine(self.functions(), limits=limits)
        self.write_seconds = write_seconds
        self.max_steps = max_steps
        self.max_case_bytes = max_case_bytes
        self._specs = {}
        self._rules = {}
        # Called with each workflow about to be stored (before compaction drops finished tasks):
        # the scenario runner (service/scenarios) records the path of a case through it. None in service.
        self.trace = None

    def functions(self):
        """What diagram expressions may call, beyond plain Python: the calendar, ages and the clock."""
        def now():
            return self.clock.now().astimezone(SHANGHAI).isoformat()
        return {
            'now': now,
            'add_working_days': calendar.add_working_days,
            'add_days': calendar.add_days,
            'add_hours': calendar.add_hours,
            'age_on': calendar.age_on,
            'last_day_of_months': calendar.last_day_of_months,
        }

    def specs(self, definition_id, spec_json):
        """The restored spec of a definition version; `spec_json` is a callable, asked only on a miss."""
        cached = self._specs.get(definition_id)
        if cached is None:
            cached = self._specs[definition_id] = self.serializer.load_spec(spec_json())
            pass_through(cached)
        return cached

    def rules(self, definition):
        """The rules `definition`'s diagram declares (engine/rules.py: message senders and payload forms,
        extension forms of time limits), read once per definition version."""
        cached = self._rules.get(definition.id)
        if cached is None:
            from . import rules
            cached = self._rules[definition.id] = rules.read(definition.source)
        return cached

    def new(self, definition, data):
        """A workflow of `definition` that has not run a step yet."""
        spec, subs = self.specs(definition.id, lambda: definition.spec_json)
        workflow = BpmnWorkflow(spec, subs, script_engine=self.script_engine)
        # The root's data is inherited by the start event and flows on from there.
        workflow.task_tree.data.update(data)
        return workflow

    def load(self, instance):
        spec, subs = self.specs(instance.definition_id, lambda: instance.definition.spec_json)
        workflow = self.serializer.load_case(instance.state, spec, subs)
        # The script engine is not part of the serialization.
        workflow.script_engine = self.script_engine
        return workflow

    def dump(self, workflow):
        """The case's state; refused when it would pass the size bound (a diagram filling it up)."""
        if self.trace is not None:
            self.trace(workflow)
        text = self.serializer.dump_case(workflow)
        if len(text) > self.max_case_bytes:   # characters; a bound, not an exact byte count
            raise CaseTooLarge(len(text), self.max_case_bytes)
        return text

    def one_write(self):
        """Bound all diagram code of one change to a case together (each evaluation has its own bound too)."""
        return write_budget(self.write_seconds)

    def advance(self, workflow):
        """Fire due timers, then run every engine step that needs no person, at most `max_steps`."""
        steps = 0

        def count(task):
            nonlocal steps
            steps += 1
            if steps > self.max_steps:
                raise StepLimitExceeded(task, self.max_steps)
        with engine_clock(self.clock):
            workflow.refresh_timers()
            do_engine_steps(workflow, did_complete_task=count)

    def retry(self, workflow, data=None):
        """Re-arm the tasks that failed, correct their data, then step on: an incident's retry.

        A failed task goes back to FUTURE and is updated as if reached again (it re-inherits its
        parent's data, so the correction is applied after): a script or gateway runs again, a user
        task is offered again, an event re-evaluates its definition (a timer its expression).
        """
        with engine_clock(self.clock):
            for task in workflow.get_tasks(state=TaskState.ERROR):
                task._set_state(TaskState.FUTURE)
                task.task_spec._update(task)
                if data:
                    task.data.update(data)
        self.advance(workflow)

    def migrate(self, workflow, definition):
        """Move a loaded case onto `definition` (another version of its process); see migrate.py."""
        from .migrate import migrate
        spec, subs = self.specs(definition.id, lambda: definition.spec_json)
        migrate(self.serializer.registry, workflow, spec, subs)

    def terminate(self, workflow):
        """End the case where it stands: every open task and waiting event is cancelled."""
        workflow.cancel()

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
        # The API addresses a message to one case by its id, so it carries that case's correlation
        # keys: a catch with correlation properties (SpiffArena's) would otherwise refuse it.
        event = BpmnEvent(MessageEventDefinition(name), payload=payload, correlations=dict(workflow.correlations))
        with engine_clock(self.clock):
            try:
                workflow.send_event(event)
            except WorkflowException as exc:
                if 'not waiting' in str(exc):
                    raise NotWaiting(name) from None
                raise
        self.advance(workflow)

    def waiting_messages(self, workflow):
        # Read the waiting tasks' definitions, not waiting_events(): an event-based gateway waits
        # on one MultipleEventDefinition whose details name none of its messages.
        names = set()
        for task in workflow.event_manager.tasks.values():
            definition = task.task_spec.event_definition
            for one in getattr(definition, 'event_definitions', None) or [definition]:
                if isinstance(one, BaseMessageEventDefinition):
                    names.add(one.name)
        return sorted(names)
