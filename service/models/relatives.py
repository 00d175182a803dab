from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import EncryptedText, UTCDateTime


class CloseRelative(db.Model):
    """近亲属备案: a staff member declared to be a close relative of a (possible) applicant."""

    __tablename__ = 'close_relative'
    __table_args__ = (UniqueConstraint('staff_username', 'id_hash', name='uq_close_relative_staff_id_hash'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_username: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str] = mapped_column(EncryptedText('close_relative.id_number'))
    # HMAC-SHA256 of the normalised ID number: matched against a new case's applicant.
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    relation: Mapped[str] = mapped_column(String(50))
    registered_by: Mapped[str] = mapped_column(String(100))
    registered_at = mapped_column(UTCDateTime)


class CaseExclusion(db.Model):
    """A staff member excluded from one case (回避), decided when the case starts."""

    __tablename__ = 'case_exclusion'
    __table_args__ = (UniqueConstraint('instance_id', 'username'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey('process_instance.id'), index=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    reason: Mapped[str] = mapped_column(String(50))


class CaseMember(db.Model):
    """The keyed hash of the ID number of one person of a case's household: the applicant and every
    member the application lists or the household record holds (services/case_members.py). A staff
    member registered as a close relative of any of them, at the start or later, stays out."""

    __tablename__ = 'case_member'
    __table_args__ = (UniqueConstraint('instance_id', 'id_hash', name='uq_case_member_instance_hash'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey('process_instance.id'), index=True)
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
