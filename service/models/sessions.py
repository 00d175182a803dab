from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime

SESSION_KINDS = ('web', 'api')


class UserSession(db.Model):
    """One sign-in: a web session cookie or an API bearer token points at one row.

    The row, not the cookie or the token, says whether the sign-in still holds: logging out,
    disabling the account, changing the password, or idling too long end it here, and a copy of
    the cookie or the token is worth nothing from then on. The id is the SHA-256 of the secret
    the client holds, so the table itself hands out no working sessions.
    All times are wall-clock UTC (services/auth.py), never the demo clock.
    """

    __tablename__ = 'user_session'
    __table_args__ = (Index('ix_user_session_user_open', 'user_id', 'ended_at'),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)   # sha256 hex of the client's secret
    user_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'))
    kind: Mapped[str] = mapped_column(String(10))                   # web | api
    created_at = mapped_column(UTCDateTime, nullable=False)
    last_seen_at = mapped_column(UTCDateTime, nullable=False)
    ended_at = mapped_column(UTCDateTime, nullable=True)
    # logout | idle | expired | user_disabled | password_changed
    ended_why: Mapped[str | None] = mapped_column(String(30))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
