from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class Incident(db.Model):
    """A case that cannot go on by itself (Camunda's word): a step raised, or a bound was hit.

    While an incident is open the case's status is 'incident', its open tasks and waiting timers
    are held ('suspended'), and nothing retries it until a county supervisor or an admin acts:
    retry (after a redeploy or a data correction), or terminate.
    """

    __tablename__ = 'incident'
    __table_args__ = (Index('ix_incident_state_created', 'state', 'created_at'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey('process_instance.id'), index=True)
    township: Mapped[str] = mapped_column(String(50), index=True)
    kind: Mapped[str] = mapped_column(String(30))          # process_error | step_limit | case_too_large | timer_failed
    element: Mapped[str | None] = mapped_column(String(100))       # BPMN id of the failing element
    element_name: Mapped[str | None] = mapped_column(String(200))
    line: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(50))        # the action that ran into it: complete, message, timers…
    actor: Mapped[str | None] = mapped_column(String(100))  # who triggered it (system:timer for the scheduler)
    definition_id: Mapped[int] = mapped_column(Integer)     # the version the case ran on when it failed
    state: Mapped[str] = mapped_column(String(20), default='open')   # open | resolved
    created_at = mapped_column(UTCDateTime)
    resolved_at = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(String(20))   # retried | terminated
    note: Mapped[str | None] = mapped_column(Text)
