"""The audit log: append-only, and every row chained to the one before it by a SHA-256 hash.

`row_hash` = sha256 over a canonical encoding of the row's fields and `prev_hash` (the hash of
the row with the next lower id). Ids are contiguous: they are handed out under the chain's lock
(services/audit.py), so a deleted row leaves a gap, a changed row no longer matches its hash,
and a row moved to another place no longer follows the hash it was chained to (docs/audit.md).
"""
import hashlib
import json
from datetime import timezone

from sqlalchemy import JSON, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime

# The hash the first row is chained to.
GENESIS = '0' * 64
# Names the encoding below: a later change of it can chain on from rows hashed with this one.
SCHEME = 'jiuzhu-audit/1'


class AuditEntry(db.Model):
    """Append-only: who did what to which case, when, from where."""

    __tablename__ = 'audit_log'
    # The log's list (GET /api/v1/audit) filters by who, by what or by case, newest first: each index
    # leads with a filter and ends with the order (migration 0033). `action` first: a rare action is
    # read along its own rows (and an action of one person in order), a common one along the primary
    # key. Nothing reads the log by time: no index on `at`.
    __table_args__ = (Index('ix_audit_actor', 'actor', 'id'), Index('ix_audit_action', 'action', 'actor', 'id'),
                      Index('ix_audit_instance', 'instance_id', 'id'))

    # Assigned by the chain (last id + 1), never by a sequence: a gap means a row was removed.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    instance_id: Mapped[int | None] = mapped_column(Integer)
    task_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    # Nullable only so that migration 0003 could add them to a table with rows (SQLite adds no
    # NOT NULL column without a default); every row has both, and `verify` calls a row without a
    # hash changed.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


# The fields a row's hash covers, in this order. The id is not among them: the chain itself
# fixes the order (prev_hash), and the contiguous ids show removals.
HASHED = ('at', 'actor', 'action', 'instance_id', 'task_id', 'detail', 'remote_addr')


def _at_text(at):
    # Stored as naive UTC with microseconds on both databases; aware UTC when read back.
    return None if at is None else at.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def entry_parts(at, actor, action, instance_id, task_id, detail, remote_addr):
    """The canonical encoding of a row's hash, as the text before and after its prev_hash: the chain's
    append on PostgreSQL joins them around the previous row's hash there (models/audit_append.py)."""
    # prev_hash is 64 hex digits, written as it is inside its quotes: head + prev_hash + tail is
    # exactly the encoding of the whole list.
    rest = json.dumps([_at_text(at), actor, action, instance_id, task_id, detail, remote_addr],
                      sort_keys=True, ensure_ascii=False, separators=(',', ':'), allow_nan=False)
    return _HEAD, '",' + rest[1:]


_HEAD = json.dumps([SCHEME], ensure_ascii=False, separators=(',', ':'))[:-1] + ',"'


def entry_hash(prev_hash, at, actor, action, instance_id, task_id, detail, remote_addr):
    """The row's hash: canonical JSON (sorted keys, no spaces, UTF-8) of the scheme, prev_hash and fields."""
    head, tail = entry_parts(at, actor, action, instance_id, task_id, detail, remote_addr)
    return hashlib.sha256((head + prev_hash + tail).encode()).hexdigest()


def hash_of(row, prev_hash=None):
    """The hash a row (an AuditEntry or a result row with the same names) should carry."""
    return entry_hash(row.prev_hash if prev_hash is None else prev_hash,
                      *(getattr(row, name) for name in HASHED))


class AuditLogIsAppendOnly(Exception):
    pass


@event.listens_for(AuditEntry, 'before_update')
@event.listens_for(AuditEntry, 'before_delete')
def _refuse_change(mapper, connection, target):
    raise AuditLogIsAppendOnly('the audit log is append-only')


@event.listens_for(AuditEntry, 'before_insert')
def _refuse_unchained(mapper, connection, target):
    # Only the chain (services/audit.py) inserts: a row added to the session by hand would break it.
    if target.row_hash is None or target.row_hash != hash_of(target):
        raise AuditLogIsAppendOnly('audit entries are written through services.audit.record, chained')
