from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class DeployPreview(db.Model):
    """An upload a designer has previewed: only what was previewed can be deployed (web and API).

    The files are kept so the page's deploy button sends only the token; `base_id` is the newest
    definition id when the preview was made, so a deploy by someone else in between makes it stale.
    """

    __tablename__ = 'deploy_preview'

    id: Mapped[str] = mapped_column(String(64), primary_key=True)     # the token, random
    actor: Mapped[str] = mapped_column(String(100))
    created_at = mapped_column(UTCDateTime, index=True)
    upload_sha256: Mapped[str] = mapped_column(String(64))
    base_id: Mapped[int] = mapped_column(Integer)
    files: Mapped[dict] = mapped_column(JSON)                          # path -> text, as uploaded
