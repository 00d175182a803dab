from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import EncryptedText, UTCDateTime
from .waiting import waiting_index, waits_for


class ProcessInstance(db.Model):
    """A case. `state` is SpiffWorkflow's serialization without the process spec."""

    __tablename__ = 'process_instance'
    # The case lists read newest first under each filter they offer; the supervision figures are
    # counted from one index (index-only), never by reading the cases themselves.
    __table_args__ = (
        Index('ix_instance_list', 'created_at', 'id'),
        Index('ix_instance_list_status', 'status', 'created_at', 'id'),
        Index('ix_instance_list_township', 'township', 'created_at', 'id'),
        Index('ix_instance_list_township_status', 'township', 'status', 'created_at', 'id'),
        Index('ix_instance_figures', 'township', 'status', 'overdue', 'definition_id', 'decision_days', 'id'),
        Index('ix_instance_overdue', 'status', 'overdue', 'overdue_since', 'id'),
        Index('ix_instance_list_overdue', 'status', 'overdue', 'created_at', 'id'),
        # Cases flagged for the county's visit (1 % at scale): read newest first without walking the rest.
        Index('ix_instance_list_review', 'review_required', 'created_at', 'id'),
        # The inbox's cases awaiting an answer, longest waiting first (a partial index of the waiting
        # cases alone misleads the planner: it takes "waiting" and "in the index" for independent).
        Index('ix_instance_awaiting', 'status', 'waiting_since', 'id'),
        # Every write changes the row (state, updated_at, steps, version): no index may cover those
        # columns, and each page keeps room, so PostgreSQL updates the row in place (HOT, no index
        # entry per write; migration 0031, tests/test_case_row_updates.py).
        {'postgresql_with': {'fillfactor': 80}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # active_history on the columns the supervision counts follow (services/figures.py): a flush
    # must know the value a change replaces even when the attribute was not loaded before.
    definition_id: Mapped[int] = mapped_column(ForeignKey('process_definition.id'), index=True,
                                               active_history=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    business_key: Mapped[str | None] = mapped_column(String(100), index=True)
    township: Mapped[str] = mapped_column(String(50), active_history=True)
    # running | incident (a step failed: held until someone acts) | suspended | completed | terminated
    status: Mapped[str] = mapped_column(String(20), default='running', active_history=True)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, index=True, active_history=True)
    overdue_since = mapped_column(UTCDateTime)
    review_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # The BPMN messages the case waits for now, as ",name,name,": who must answer it, findable by query.
    waiting_for: Mapped[str] = mapped_column(String(300), default='')
    # Since when it waits for them (services/sync.py: set when `waiting_for` changes): the order of
    # the inbox's cases awaiting an answer, indexed apart from `updated_at`, which every write changes.
    waiting_since = mapped_column(UTCDateTime)
    # Names and masked numbers only (runtime._summary), shown in lists: not encrypted.
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    # SpiffWorkflow's serialization holds every form's data: encrypted whole (service/crypto.py).
    state: Mapped[str] = mapped_column(EncryptedText('process_instance.state'))
    # HMAC-SHA256 of the applicant's normalised ID number (crypto.Keyring.id_hash): exact search.
    id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # HMAC-SHA256 of the applicant's full name (crypto.Keyring.name_hash): exact search by name.
    name_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    error: Mapped[str | None] = mapped_column(Text)   # the open incident's message, for lists
    terminated_at = mapped_column(UTCDateTime)
    started_by: Mapped[str] = mapped_column(String(100))
    # The old value is loaded before a change: the phase report's count (start_count) moves from it.
    created_at = mapped_column(UTCDateTime, active_history=True)
    updated_at = mapped_column(UTCDateTime)
    completed_at = mapped_column(UTCDateTime)
    # Milestones stamped when a task the diagram marks `milestone=acceptance|decision` is completed
    # (services/milestones.py): the supervision figures read these, not the cases' workflows.
    accepted_at = mapped_column(UTCDateTime)
    decided_at = mapped_column(UTCDateTime)
    decision_days: Mapped[int | None] = mapped_column(Integer, active_history=True)   # working days acceptance → decision
    # The case's steps so far (services/steps.py), kept on the row so the reform figures are sums the
    # write path keeps (step_count), not a window over every completed task of the district.
    steps_done: Mapped[int] = mapped_column(Integer, default=0, server_default='0', nullable=False, active_history=True)
    handoffs: Mapped[int] = mapped_column(Integer, default=0, server_default='0', nullable=False, active_history=True)
    county_steps: Mapped[int] = mapped_column(Integer, default=0, server_default='0', nullable=False,
                                              active_history=True)
    last_role: Mapped[str | None] = mapped_column(String(50))   # the last step's role; '' when it had none
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    definition = relationship('ProcessDefinition', lazy='select')

    @classmethod
    def waits_for(cls, names):
        """The condition: the case waits for one of these messages now (models/waiting.py)."""
        return waits_for(cls.waiting_for, names)

    @property
    def waiting_messages(self):
        return [name for name in (self.waiting_for or '').split(',') if name]
    # What the write path reads with the case in one query (see services/write.py, CaseRows).
    live_timers = relationship(
        'Timer', primaryjoin="and_(Timer.instance_id == ProcessInstance.id, Timer.state != 'cancelled')",
        viewonly=True, lazy='raise')
    open_tasks = relationship(
        'Task', primaryjoin="and_(Task.instance_id == ProcessInstance.id, Task.state.in_(('ready', 'suspended')))",
        viewonly=True, lazy='raise')

    # Optimistic locking: a concurrent writer's UPDATE matches no row and raises StaleDataError.
    __mapper_args__ = {'version_id_col': version}


# The inbox finds the cases waiting for a message by this index (PostgreSQL; models/waiting.py).
waiting_index(ProcessInstance.__table__.c.waiting_for)
