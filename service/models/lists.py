"""Per-user list state of the pages: saved filter sets and the inbox's read marks."""
from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime

SAVED_LISTS = ('tasks', 'cases')


class SavedFilter(db.Model):
    """A named set of list filters (the query string of /tasks or /cases) kept for one person."""

    __tablename__ = 'saved_filter'
    __table_args__ = (UniqueConstraint('username', 'list_name', 'name', name='uq_saved_filter_user_list_name'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), nullable=False)
    list_name: Mapped[str] = mapped_column(String(20), nullable=False)    # tasks | cases
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    query: Mapped[str] = mapped_column(Text, nullable=False)              # filters only, never a search text
    created_at = mapped_column(UTCDateTime, nullable=False)


class InboxRead(db.Model):
    """An inbox item a person marked read. The items themselves are computed from the task rows
    (services/inbox.py); only the fact "seen" needs storing, so nothing can fall out of step."""

    __tablename__ = 'inbox_read'

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    item: Mapped[str] = mapped_column(String(80), primary_key=True)       # kind:task id
    read_at = mapped_column(UTCDateTime, nullable=False)
