"""Removing what nobody will come back for (`jiuzhu files sweep`, and the scheduler's nightly job):

- uploads never linked to a case: a photo sent with a new application that was never submitted
  (attachments with no case, older than JIUZHU_UPLOAD_HOURS, default 48). A file a person keeps in
  their draft of a new application (暂存) stays as long as that draft does;
- drafts of tasks that are finished or cancelled: completing a task drops its drafts in the same
  write, but a task cancelled by a deadline or a message leaves them behind (drafts of held,
  `suspended`, tasks stay: the case may resume).

Ages are measured on the app's clock (services/context.now), so tests move it instead of waiting.
Each sweep that removes anything is one audit entry with what went (ids, never contents).
"""
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from ..extensions import db
from ..models import Attachment, Task, TaskDraft
from . import audit, filestore
from .context import now

UPLOAD_HOURS = 48
BATCH = 500


@dataclass
class Sweep:
    uploads: list = field(default_factory=list)      # attachment ids removed
    drafts: int = 0                                  # task drafts removed
    kept_in_drafts: int = 0                          # old uploads kept because a start draft names them


def upload_hours():
    return int(current_app.config.get('JIUZHU_UPLOAD_HOURS') or UPLOAD_HOURS)


def _held_by_start_drafts():
    """{(uploader, attachment id)} named in someone's draft of a new application (values are encrypted:
    read them here, there are few start drafts — one per person and process)."""
    held = set()
    for draft in db.session.scalars(select(TaskDraft).where(TaskDraft.task_id.is_(None))):
        for value in (draft.values or {}).values():
            if isinstance(value, str) and value.strip().isdigit():
                held.add((draft.username, int(value)))
    return held


def _abandoned_uploads(hours, result):
    cutoff = now() - timedelta(hours=hours)
    held = _held_by_start_drafts()
    gone, last = [], 0
    store = filestore.store()
    while True:
        rows = db.session.scalars(select(Attachment).where(
            Attachment.instance_id.is_(None), Attachment.created_at < cutoff, Attachment.id > last)
            .order_by(Attachment.id).limit(BATCH)).all()
        if not rows:
            return gone
        for row in rows:
            last = row.id
            if (row.uploaded_by, row.id) in held:
                result.kept_in_drafts += 1
                continue
            # The row goes only if it is still unlinked: an application submitted this very moment keeps it.
            if db.session.execute(delete(Attachment).where(
                    Attachment.id == row.id, Attachment.instance_id.is_(None))).rowcount == 1:
                db.session.commit()
                # Files after the row: a crash in between leaves an orphan file, never a row without its file.
                store.delete(row.storage_key)
                store.delete(row.storage_key + '.thumb')
                gone.append(row.id)


def _finished_task_drafts():
    done = select(Task.id).where(Task.state.in_(('completed', 'cancelled')))
    removed = db.session.execute(delete(TaskDraft).where(TaskDraft.task_id.in_(done))).rowcount
    db.session.commit()
    return removed


def sweep(actor='system:cleanup', hours=None):
    """Remove abandoned uploads and drafts of finished tasks; returns a Sweep (audited when anything went)."""
    result = Sweep()
    result.uploads = _abandoned_uploads(upload_hours() if hours is None else hours, result)
    result.drafts = _finished_task_drafts()
    if result.uploads or result.drafts:
        audit.record(actor, 'files_swept', attachments=result.uploads, task_drafts=result.drafts,
                     hours=upload_hours() if hours is None else hours)
        db.session.commit()
    return result
