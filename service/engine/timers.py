"""The engine's view of time: SpiffWorkflow's timers read our clock, and waiting timers are listed.

SpiffWorkflow compares timers with `datetime.now(timezone.utc)` inside its timer module and has no
clock parameter, so that module's `datetime` is replaced by a subclass whose now() asks the clock
bound for the current engine call (a context variable: threads and apps with different clocks
don't see each other's time).
"""
import contextlib
import contextvars
from dataclasses import dataclass
from uuid import UUID
from datetime import datetime, timezone

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from .steps import walk

_current_clock = contextvars.ContextVar('jiuzhu_engine_clock', default=None)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        clock = _current_clock.get()
        if clock is None:
            return datetime.now(tz)
        moment = clock.now()
        return moment.astimezone(tz) if tz else moment.astimezone().replace(tzinfo=None)


spiff_timer.datetime = _ClockedDatetime


@contextlib.contextmanager
def engine_clock(clock):
    token = _current_clock.set(clock)
    try:
        yield
    finally:
        _current_clock.reset(token)


@dataclass(frozen=True)
class WaitingTimer:
    task_id: str          # the waiting event's task UUID
    bpmn_id: str
    name: str
    kind: str             # 'deadline' (non-interrupting boundary) | 'wait' | 'start'
    scope_task_id: str | None   # boundary events: the activity they are attached to
    attached_to: str | None     # ... and its BPMN id
    due: datetime         # aware UTC


def _boundary_owner(task):
    """The activity a boundary event task is attached to, or None for other events."""
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return None
    for sibling in parent.children:
        # Not CatchingEvent: a receive task is one, and it is the activity the timer guards.
        if not isinstance(sibling.task_spec, BoundaryEvent):
            return sibling
    return None


def _due(task):
    value = task.task_spec.event_definition.details(task).value
    if value is None:
        return None
    if isinstance(value, dict):
        # An exhausted cycle: it completes on the next refresh.
        return _ClockedDatetime.now(timezone.utc)
    return TimerEventDefinition.get_datetime(value).astimezone(timezone.utc)


def waiting_timers(workflow, tasks=None):
    """The waiting timer events; `tasks` (already walked by the caller) saves a walk of the tree."""
    found = []
    for task in (walk(workflow, TaskState.WAITING) if tasks is None else tasks):
        spec = task.task_spec
        if task.state != TaskState.WAITING or not isinstance(spec, CatchingEvent) \
                or not isinstance(spec.event_definition, TimerEventDefinition):
            continue
        due = _due(task)
        if due is None:
            continue
        owner = _boundary_owner(task)
        if owner is not None:
            kind = 'wait' if spec.cancel_activity else 'deadline'
        elif isinstance(spec, StartEvent):
            kind = 'start'
        else:
            kind = 'wait'
        found.append(WaitingTimer(
            task_id=str(task.id), bpmn_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id, kind=kind,
            scope_task_id=str(owner.id) if owner is not None else None,
            attached_to=owner.task_spec.bpmn_id if owner is not None else None, due=due))
    return found


def timer_fired(workflow, task_id):
    """Whether the timer event task ran (as opposed to being cancelled with its activity)."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except TaskNotFoundException:
        return False
    return task.state == TaskState.COMPLETED


def waiting_timer_task(workflow, bpmn_id):
    """The WAITING timer event task with this BPMN id, or None (not reached yet, fired or cancelled)."""
    for task in walk(workflow, TaskState.WAITING):
        spec = task.task_spec
        if (spec.bpmn_id == bpmn_id and isinstance(spec, CatchingEvent)
                and isinstance(spec.event_definition, TimerEventDefinition)):
            return task
    return None


def reschedule_timer(task, due_iso):
    """Give a waiting date or duration timer a new due time.

    SpiffWorkflow evaluates a timer's expression once, when the event is first reached, and keeps
    the result in internal_data['event_value']; later data changes never move it. A deadline
    extension (DOMAIN.md §3.3) therefore rewrites that stored value. Cycles keep a dict there and
    are refused.
    """
    value = task.task_spec.event_definition.details(task).value
    if not isinstance(value, str) or task._get_internal_data('event_fired', False):
        raise ValueError(f'timer {task.task_spec.bpmn_id} cannot be rescheduled')
    TimerEventDefinition.get_datetime(due_iso)   # refuse what the engine could not read later
    task._set_internal_data(event_value=due_iso)
    return TimerEventDefinition.get_datetime(value)
