from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class ProcessDefinition(db.Model):
    """One deployed version of one process; the spec is stored here once, never in the cases."""

    __tablename__ = 'process_definition'
    # (key, sha256) is not unique: deploying an older version's content again is a rollback, a new version.
    __table_args__ = (UniqueConstraint('key', 'version'), Index('ix_process_definition_key_sha256', 'key', 'sha256'))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(50))
    variant: Mapped[str | None] = mapped_column(String(50))
    file: Mapped[str] = mapped_column(String(300))
    # Large and rarely needed: loaded on access only (the engine caches restored specs by id).
    source: Mapped[str] = mapped_column(Text, deferred=True)
    dependencies: Mapped[dict] = mapped_column(JSON, default=dict, deferred=True)  # file name -> source text
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    # The form files (name -> JSON text) as deployed with this version: running cases keep their
    # forms when forms/ changes. NULL: deployed before forms were kept and not found at the upgrade.
    forms: Mapped[dict | None] = mapped_column(JSON, nullable=True, deferred=True)
    deployed_at = mapped_column(UTCDateTime)
    deployed_by: Mapped[str] = mapped_column(String(100))

    @property
    def label(self):
        return f'{self.key} v{self.version}'
