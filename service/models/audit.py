from sqlalchemy import JSON, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class AuditEntry(db.Model):
    """Append-only: who did what to which case, when, from where."""

    __tablename__ = 'audit_log'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(50))
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class AuditLogIsAppendOnly(Exception):
    pass


@event.listens_for(AuditEntry, 'before_update')
@event.listens_for(AuditEntry, 'before_delete')
def _refuse_change(mapper, connection, target):
    raise AuditLogIsAppendOnly('the audit log is append-only')
