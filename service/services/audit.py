from flask import has_request_context, request

from ..extensions import db
from ..models import AuditEntry
from .context import now


def record(actor, action, instance_id=None, task_id=None, **detail):
    """Append one audit entry to the current transaction (it commits, or vanishes, with the change)."""
    entry = AuditEntry(at=now(), actor=actor, action=action, instance_id=instance_id, task_id=task_id,
                       detail=detail, remote_addr=request.remote_addr if has_request_context() else None)
    db.session.add(entry)
    return entry
