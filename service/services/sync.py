"""Mirroring a case's workflow into its rows: task rows, timer rows, the case row and the audit entry.

`save` writes them into the current transaction; the caller (services/write.py) commits.
"""
from .. import calendar
from ..extensions import db
from ..models import Task, Timer
from ..engine.tasks import open_tasks, ready_user_tasks
from ..engine.timers import timer_fired, waiting_timers
from . import audit, milestones, row_writes, steps
from .context import engine, now


class CaseRows:
    """The live timer rows and open task rows of one case, read with it."""

    def __init__(self, timers=(), open_tasks=()):
        self.timers = list(timers)
        self.open_tasks = list(open_tasks)

    @classmethod
    def of(cls, instance):
        return cls(instance.live_timers, instance.open_tasks)

    def anything_due(self, moment):
        # Strictly before: SpiffWorkflow fires a timer only once its time is past.
        return any(t.state == 'waiting' and t.due_at < moment for t in self.timers)

    def task(self, task_id):
        """The open task row with this id, as read with the case (under its version)."""
        return next((row for row in self.open_tasks if row.id == task_id), None)

    def hold(self):
        """A held case (incident, suspended) offers no task and fires no timer until released."""
        for row in self.open_tasks:
            if row.state == 'ready':
                row.state = 'suspended'
        for row in self.timers:
            if row.state == 'waiting':
                row.state = 'suspended'

    def release(self):
        for row in self.open_tasks:
            if row.state == 'suspended':
                row.state = 'ready'
        for row in self.timers:
            if row.state == 'suspended':
                row.state = 'waiting'


def _sync_timers(instance, workflow, moment, rows, walked):
    """Mirror the workflow's waiting timers into timer rows; return the rows that fired now."""
    current = {t.task_id: t for t in waiting_timers(workflow, walked)}
    fired = []
    for row in rows.timers:
        if row.state not in ('waiting', 'suspended'):
            continue
        waiting = current.pop(row.task_id, None)
        if waiting is not None:
            if waiting.due != row.due_at:  # a cycle moved on, or a deadline was extended
                row.due_at = waiting.due
                row.estimated = calendar.is_estimated(moment, waiting.due)
            continue
        if timer_fired(workflow, row.task_id):
            row.state, row.fired_at = 'fired', moment
            fired.append(row)
        else:
            row.state = 'cancelled'
    for t in current.values():
        row = Timer(
            instance_id=instance.id, task_id=t.task_id, bpmn_id=t.bpmn_id, name=t.name, kind=t.kind,
            attached_to=t.attached_to, scope_task_id=t.scope_task_id, township=instance.township,
            due_at=t.due, estimated=calendar.is_estimated(moment, t.due), state='waiting', created_at=moment)
        db.session.add(row)
        rows.timers.append(row)
    if any(row.kind == 'deadline' for row in fired) and not instance.overdue:
        instance.overdue, instance.overdue_since = True, moment
    return fired


def _sync_tasks(instance, workflow, moment, lanes, rows, walked, completed=None):
    """Mirror the ready user tasks into task rows; finished ones stay as the accountability record."""
    ready = {t.task_id: t for t in ready_user_tasks(workflow, walked)}
    still_open = []
    for row in rows.open_tasks:   # ready, or suspended while the case is held
        if row.id in ready:
            still_open.append((row, ready.pop(row.id)))
        elif completed and row.id == completed[0]:
            row.state, row.completed_at, row.completed_by, row.data = 'completed', moment, completed[1], completed[2]
            milestones.record(instance, row, moment)
            steps.record(instance, row)
        else:
            # Interrupted by a timer or a message, or its subprocess ended.
            row.state, row.completed_at = 'cancelled', moment
    for t in ready.values():
        row = Task(id=t.task_id, instance_id=instance.id, bpmn_id=t.bpmn_id, name=t.name, lane=t.lane,
                   role=lanes.get(t.lane), township=instance.township, form=t.form, ui_form=t.ui_form,
                   properties=t.properties, state='ready', created_at=moment,
                   returned=row_writes.DONE_BEFORE)
        db.session.add(row)
        still_open.append((row, t))
    rows.open_tasks = [row for row, _ in still_open]
    guards = [tm for tm in rows.timers if tm.state != 'cancelled' and tm.scope_task_id is not None]
    for row, t in still_open:
        guarding = [tm for tm in guards if tm.scope_task_id in t.scope_task_ids]
        row.due_at = min((tm.due_at for tm in guarding), default=None)
        row.overdue = any(tm.kind == 'deadline' and tm.state == 'fired' for tm in guarding)


DEFER_FLUSH = 'jiuzhu.defer_flush'


def save(instance, workflow, actor, action, rows, task_id=None, completed=None, state=None, **detail):
    """Write the case and everything derived from it into the current transaction.

    `state`: the workflow's serialization when the caller already made it (and checked its size).
    Written at once (services/row_writes.py), unless the session defers it (services/firing.py: a
    batch of cases is written together, so rows of one table go out as one multi-row statement).
    """
    moment = now()
    eng = engine()
    with db.session.no_autoflush:
        instance.state = state if state is not None else eng.dump(workflow)
        instance.updated_at = moment
        if workflow.is_completed() and instance.status == 'running':
            instance.status, instance.completed_at = 'completed', moment
        waiting = eng.waiting_messages(workflow)
        waiting_for = f",{','.join(waiting)}," if waiting else ''
        if waiting_for != (instance.waiting_for or ''):
            instance.waiting_for, instance.waiting_since = waiting_for, moment if waiting else None
        walked = open_tasks(workflow)
        fired = _sync_timers(instance, workflow, moment, rows, walked)
        _sync_tasks(instance, workflow, moment, eng.lanes, rows, walked, completed)
        if fired:
            detail['timers_fired'] = [f'{row.bpmn_id}@{row.due_at.isoformat()}' for row in fired]
        audit.record(actor, action, instance_id=instance.id, task_id=task_id, **detail)
    if not db.session.info.get(DEFER_FLUSH):
        row_writes.flush(db.session())
    return fired
