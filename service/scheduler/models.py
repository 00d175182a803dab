from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models.types import UTCDateTime


class CalendarStart(db.Model):
    """One row per case the calendar started (e.g. roster-t01-2026-11).

    The primary key is what makes the monthly start idempotent across scheduler processes: the row
    is inserted in the same transaction as the case, so of two schedulers starting the same month
    one commits and the other hits the key and starts nothing.
    """

    __tablename__ = 'calendar_start'

    business_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100))
    township: Mapped[str] = mapped_column(String(50))
    period: Mapped[str] = mapped_column(String(20))
    created_at = mapped_column(UTCDateTime)
