from datetime import date

from sqlalchemy import JSON, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class Entrustment(db.Model):
    """One term of a 委托书: the county entrusts a township with one category's review and confirmation.

    Seed 002 asks for 授权事项、权限范围、责任边界、委托期限 in writing, renewed every year; seed 004
    moves a township through preparation → transition → full delegation on set dates. Each phase of
    a township's category is one row with its own term, so the row in force on a day decides which
    flow a new case of that township and category starts on.
    """

    __tablename__ = 'entrustment'
    __table_args__ = (Index('ix_entrustment_in_force', 'township', 'category', 'valid_from'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    township: Mapped[str] = mapped_column(String(50))
    category: Mapped[str] = mapped_column(String(50))
    # preparation (the county still confirms: legacy flow) | transition (delegated flow, county guidance) | full
    phase: Mapped[str] = mapped_column(String(20))
    # The diagram variant the township works on in transition and full delegation (e.g. delegated_a).
    variant: Mapped[str | None] = mapped_column(String(50))
    matters: Mapped[str] = mapped_column(Text, default='')          # 授权事项
    scope_text: Mapped[str] = mapped_column(Text, default='')       # 权限范围, as the letter words it
    scope: Mapped[dict] = mapped_column(JSON, default=dict)         # the same limits as data the diagrams read
    responsibility: Mapped[str] = mapped_column(Text, default='')   # 责任边界
    letter_no: Mapped[str] = mapped_column(String(100), default='')  # 委托书文号
    signed_by: Mapped[str] = mapped_column(String(100), default='')  # who signed for the county bureau
    signed_on: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)             # inclusive; none: until revoked
    created_by: Mapped[str] = mapped_column(String(100))
    created_at = mapped_column(UTCDateTime)
    revoked_at = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {'version_id_col': version}
