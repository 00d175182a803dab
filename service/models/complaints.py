"""Reports and complaints (举报投诉, the 12349 hotline) about a household or a case.

A complaint is an entry point of county supervision (DOMAIN.md §8): recording one starts its
handling case (processes/common/complaint_review.bpmn: verification, the answer to the reporter
under a deadline) and, when it names a household, a review of that household. The row keeps what
the case must not carry: the reporter's contact (encrypted, shown masked) and the feedback given,
written by the case's service task (`complaint_feedback`) in the case's own transaction.
"""
from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import EncryptedText, UTCDateTime

# open: being verified or answered; answered: the reporter got the feedback; closed: verified,
# nobody to answer (anonymous report).
COMPLAINT_STATUSES = ('open', 'answered', 'closed')


class Complaint(db.Model):
    __tablename__ = 'complaint'
    __table_args__ = (Index('ix_complaint_township_status', 'township', 'status', 'id'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    township: Mapped[str] = mapped_column(String(50))
    # hotline_12349 | letter | visit | online | referral | other
    source: Mapped[str] = mapped_column(String(20))
    reporter_name: Mapped[str | None] = mapped_column(EncryptedText('complaint.reporter_name'), nullable=True)
    reporter_contact: Mapped[str | None] = mapped_column(EncryptedText('complaint.reporter_contact'), nullable=True)
    content: Mapped[str] = mapped_column(EncryptedText('complaint.content'))
    household_id: Mapped[int | None] = mapped_column(ForeignKey('household.id'), nullable=True, index=True)
    subject_instance_id: Mapped[int | None] = mapped_column(ForeignKey('process_instance.id'), nullable=True)
    # the handling case (verification and feedback) and the household's review it opened, if any
    instance_id: Mapped[int | None] = mapped_column(ForeignKey('process_instance.id'), nullable=True)
    review_instance_id: Mapped[int | None] = mapped_column(ForeignKey('process_instance.id'), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default='open')
    substantiated: Mapped[str | None] = mapped_column(String(20), nullable=True)
    feedback: Mapped[str | None] = mapped_column(EncryptedText('complaint.feedback'), nullable=True)
    answered_at = mapped_column(UTCDateTime, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at = mapped_column(UTCDateTime)
