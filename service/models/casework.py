"""What people add around a case's procedure: drafts of task forms, comments, attachments.

None of these is part of the case's workflow state: they are written outside the write path
(services/write.py), never hold up a change of the case, and carry the case's township so
they are scoped like the case itself (services/access.py).
"""
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, exists, false
from sqlalchemy.orm import Mapped, column_property, mapped_column

from ..extensions import db
from .tasks import Task
from .types import EncryptedJSON, EncryptedText, UTCDateTime


class TaskDraft(db.Model):
    """A half-filled form, per person: of a task (`task_id`), or of a new application not yet started
    (`process_key`, the start form of that process; `task_id` empty). What was typed, as typed,
    encrypted like the completed form. Only its author reads it back; completing the task or
    starting the case drops it."""

    __tablename__ = 'task_draft'
    __table_args__ = (UniqueConstraint('task_id', 'username', name='uq_task_draft_task_user'),
                      # NULLs are distinct in both databases: one start draft per person and process.
                      UniqueConstraint('username', 'process_key', name='uq_task_draft_user_process'))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str | None] = mapped_column(ForeignKey('task.id'), index=True)
    process_key: Mapped[str | None] = mapped_column(String(100))
    username: Mapped[str] = mapped_column(String(100))
    values: Mapped[dict] = mapped_column(EncryptedJSON('task_draft.values'))
    saved_at = mapped_column(UTCDateTime)


# Whether anyone keeps a draft of the task: read only by the write path, with the case's open tasks
# (services/write.py), so a completion sends its DELETE of drafts only when there are some. Deferred
# and raising elsewhere: no other read pays for it, and none reads it by accident.
Task.has_drafts = column_property(exists().where(TaskDraft.task_id == Task.id), deferred=True, raiseload=True)


class CaseComment(db.Model):
    """A note on a case by a member of staff (办理意见、沟通记录): free text, so encrypted at rest."""

    __tablename__ = 'case_comment'
    __table_args__ = (Index('ix_case_comment_instance', 'instance_id', 'id'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey('process_instance.id'))
    author: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(EncryptedText('case_comment.body'))
    created_at = mapped_column(UTCDateTime)


class Attachment(db.Model):
    """A file or photo of a case. The bytes live in the file store (services/filestore.py) under
    `storage_key`; the row keeps what proves them: size, type found by content, SHA-256.

    `instance_id` is empty for a file uploaded with a new application until the case exists
    (then it is linked); such a file is visible to its uploader only.
    """

    __tablename__ = 'attachment'
    __table_args__ = (Index('ix_attachment_instance', 'instance_id', 'id'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey('process_instance.id'))
    township: Mapped[str] = mapped_column(String(50))
    task_id: Mapped[str | None] = mapped_column(String(36))      # the task whose form carried it
    field: Mapped[str | None] = mapped_column(String(200))       # the form field's path, if on a form
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    has_thumbnail: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    uploaded_by: Mapped[str] = mapped_column(String(100))
    created_at = mapped_column(UTCDateTime)
