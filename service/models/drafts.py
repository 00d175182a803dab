from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class DesignerDraft(db.Model):
    """A designer's unsaved-to-production edit of one bundle, saved from the browser modeler.

    One row per designer and bundle path (the path of the diagram opened, e.g.
    `delegated/dibao_a.bpmn`); `files` holds every diagram and decision table edited with it, as the
    bundle the preview and the deploy take. Kept in the database, not under instance/: every web
    worker sees it, and a backup keeps it with the rest.
    """

    __tablename__ = 'designer_draft'
    __table_args__ = (UniqueConstraint('username', 'path', name='uq_designer_draft_user_path'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(300))
    base_definition_id: Mapped[int | None] = mapped_column(Integer, nullable=True)   # the version opened
    files: Mapped[dict] = mapped_column(JSON)                                        # path -> text
    updated_at = mapped_column(UTCDateTime)
