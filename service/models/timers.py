from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime


class Timer(db.Model):
    """A waiting timer event of a case, with its due time: the scheduler sweeps these rows."""

    __tablename__ = 'timer'
    # The sweep reads (state, due_at); the timer lists read by due time under their filters.
    __table_args__ = (
        Index('ix_timer_state_due', 'state', 'due_at'),
        Index('ix_timer_list', 'due_at', 'id'),
        Index('ix_timer_list_township', 'township', 'due_at', 'id'),
        Index('ix_timer_list_township_state', 'township', 'state', 'due_at', 'id'),
        # Fired deadlines (the county's overdue list): fired wait timers outnumber them twenty to one.
        Index('ix_timer_list_kind_state', 'kind', 'state', 'due_at', 'id'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey('process_instance.id'), index=True)
    # Declared so one flush writes the case's version-checked UPDATE before these rows:
    # a concurrent writer then fails on the version, not on a duplicate task id.
    instance = relationship('ProcessInstance', lazy='raise', viewonly=False)
    task_id: Mapped[str] = mapped_column(String(36))  # the waiting event's SpiffWorkflow task UUID
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # deadline | wait
    attached_to: Mapped[str | None] = mapped_column(String(100))  # BPMN id of the activity it guards
    scope_task_id: Mapped[str | None] = mapped_column(String(36))  # ... and that activity's task UUID
    township: Mapped[str] = mapped_column(String(50))
    due_at = mapped_column(UTCDateTime)
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default='waiting')  # waiting | suspended (case held) | fired | cancelled
    created_at = mapped_column(UTCDateTime)
    fired_at = mapped_column(UTCDateTime)
    # Unexpected failures while firing (not the diagram's: those hold the case at once): after a
    # few attempts with growing pauses the case is held in an incident instead of retried forever.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default='0', nullable=False)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until = mapped_column(UTCDateTime)
