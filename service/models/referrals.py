"""A move to the next category (一次申请、分类审核认定): the household failed the category it applied for
and consented to apply for the next one. The refusing case records the referral in its own write
(an outbox row); the scheduler starts the new case in a transaction of its own and links it here.
"""
from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import EncryptedJSON, UTCDateTime

# pending: recorded, the new case not started yet; started: target_instance_id is the new case;
# failed: could not be started (error says why), a caseworker starts it by hand or retries.
REFERRAL_STATUSES = ('pending', 'started', 'failed')


class CaseReferral(db.Model):
    __tablename__ = 'case_referral'
    __table_args__ = (Index('ix_case_referral_status', 'status', 'id'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_instance_id: Mapped[int] = mapped_column(ForeignKey('process_instance.id'), index=True)
    target_instance_id: Mapped[int | None] = mapped_column(ForeignKey('process_instance.id'), index=True)
    township: Mapped[str] = mapped_column(String(50))
    category: Mapped[str] = mapped_column(String(50))          # the category the new case applies for
    # The new case's application, as the refusing diagram built it: personal data, encrypted.
    data: Mapped[dict] = mapped_column(EncryptedJSON('case_referral.data'))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default='pending')
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at = mapped_column(UTCDateTime)
    started_at = mapped_column(UTCDateTime)
