from sqlalchemy import DDL, JSON, Boolean, ForeignKey, Index, Integer, String, desc, event, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import EncryptedJSON, UTCDateTime


class Task(db.Model):
    """A user task of a case: ready ones form the task lists, finished ones the accountability record."""

    __tablename__ = 'task'
    # The task lists (services/cases.list_tasks) read in the list order — due date (none last),
    # priority, age — under each filter the API and pages offer, so a page is an index range.
    _ORDER = ('due_at', desc('priority'), 'created_at', 'id')
    __table_args__ = (
        Index('ix_task_state_township', 'state', 'township'),
        Index('ix_task_list', 'state', *_ORDER),
        Index('ix_task_list_township', 'township', 'state', *_ORDER),
        Index('ix_task_list_assignee', 'assignee', 'state', *_ORDER),
        # A caseworker's own tasks within their township (the scope adds the township): without it the
        # planner guesses few rows for assignee AND township, bitmap-scans them all and sorts.
        Index('ix_task_list_township_assignee', 'township', 'assignee', 'state', *_ORDER),
        Index('ix_task_list_role', 'role', 'state', *_ORDER),
        Index('ix_task_list_township_role', 'township', 'role', 'state', *_ORDER),
        # The inbox's 退回: the few open tasks at a step their case had already done.
        Index('ix_task_returned', 'returned', 'state', 'township', 'created_at'),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task UUID
    instance_id: Mapped[int] = mapped_column(ForeignKey('process_instance.id'), index=True)
    # Declared so one flush writes the case's version-checked UPDATE before these rows:
    # a concurrent writer then fails on the version, not on a duplicate task id.
    instance = relationship('ProcessInstance', lazy='raise', viewonly=False)
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(50))
    township: Mapped[str] = mapped_column(String(50))
    form: Mapped[str | None] = mapped_column(String(200))
    ui_form: Mapped[str | None] = mapped_column(String(200))
    properties: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default='ready')  # ready | suspended (case held) | completed | cancelled
    assignee: Mapped[str | None] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    created_at = mapped_column(UTCDateTime)
    due_at = mapped_column(UTCDateTime, index=True)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    # Made at a step the case had completed before (补正后重新审查, 复查后重新审核): the case came back.
    # Set by the INSERT itself (services/sync.py); rows made before migration 0027 have it when open.
    returned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    completed_at = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict | None] = mapped_column(EncryptedJSON('task.data'))   # the completed form, encrypted


# An assignee works in one township and holds only open tasks: PostgreSQL's planner, multiplying the
# three filters as if independent, guesses a handful of rows for "my ready tasks in my township",
# sorts them all instead of walking the list index, and counts every one (tests/bench/bench_lists.py).
# The functional dependencies between the columns correct the guess (migration 0025 makes the same).
TASK_STATISTICS = 'CREATE STATISTICS IF NOT EXISTS st_task_people (dependencies) ON township, assignee, state FROM task'
event.listen(Task.__table__, 'after_create', DDL(TASK_STATISTICS).execute_if(dialect='postgresql'))
