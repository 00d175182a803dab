"""Households (救助家庭) after the decision: who receives what since when, and every case they had.

A household row is the register a township keeps (一户一档's index): its status, the amount in
force and the next periodic review. The amount's history is dated by month in `household_amount`
(append-only by use), so any month's entitlement is recomputed from it, never from the row.
Names and ID numbers are personal data: encrypted at rest; the head's ID number is found by its
keyed hash (crypto.Keyring.id_hash), as cases are.
"""
from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import EncryptedJSON, EncryptedText, UTCDateTime

# applying: a case is deciding on it; receiving: paid monthly; suspended: payment held (review
# pending or reported change); stopped: no longer receives (reasons written).
HOUSEHOLD_STATUSES = ('applying', 'receiving', 'suspended', 'stopped')


class Household(db.Model):
    __tablename__ = 'household'
    # One household per head and category: a second dibao application of the same family is the
    # same household again (its cases are linked), a 特困 recognition of that person is another.
    __table_args__ = (
        UniqueConstraint('category', 'head_id_hash', name='uq_household_category_head'),
        Index('ix_household_township_status', 'township', 'status', 'id'),
        # The register's order (services/households/register.py): a township's households, or the
        # county's, read along it a page at a time instead of sorted whole (migration 0034).
        Index('ix_household_list', 'township', 'id'),
        Index('ix_household_review_due', 'status', 'next_review_on', 'id'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    township: Mapped[str] = mapped_column(String(50))
    village: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(50))
    # How often it is reviewed (processes/review_intervals.json): stable | irregular
    review_type: Mapped[str] = mapped_column(String(20), default='stable')
    status: Mapped[str] = mapped_column(String(20), default='applying')
    head_name: Mapped[str] = mapped_column(EncryptedText('household.head_name'))
    head_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    # [{name, id_number, relation, able_to_work}]: encrypted whole.
    members: Mapped[list] = mapped_column(EncryptedJSON('household.members'))
    size: Mapped[int] = mapped_column(Integer, default=1)
    amount_fen: Mapped[int] = mapped_column(Integer, default=0)    # the monthly amount in force, in fen
    started_on = mapped_column(Date)
    ended_on = mapped_column(Date)
    next_review_on = mapped_column(Date)
    # 渐退期: the last month still paid while income has risen above the line (at most 6 months).
    phase_out_until: Mapped[str | None] = mapped_column(String(7))
    end_reason: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime)
    updated_at = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {'version_id_col': version}


class HouseholdAmount(db.Model):
    """A dated change of the monthly amount: from `effective_month` on, `amount_fen` (0: stopped)."""

    __tablename__ = 'household_amount'
    __table_args__ = (Index('ix_household_amount_month', 'household_id', 'effective_month', 'id'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey('household.id'))
    effective_month: Mapped[str] = mapped_column(String(7))          # YYYY-MM
    amount_fen: Mapped[int] = mapped_column(Integer)
    # grant | raise | lower | continue | phase_out | stop | suspend | resume
    change: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey('process_instance.id'))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at = mapped_column(UTCDateTime)


class HouseholdCase(db.Model):
    """Every case a household ever had: its applications, reviews, checks."""

    __tablename__ = 'household_case'
    __table_args__ = (UniqueConstraint('instance_id', name='uq_household_case_instance'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey('household.id'), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey('process_instance.id'))
    role: Mapped[str] = mapped_column(String(20))     # application | review | spot_check
    linked_at = mapped_column(UTCDateTime)


class SpotCheckDraw(db.Model):
    """The county's random spot check of a year's new households (抽查复核, seed 002: 30 %).

    Auditable and re-drawable by anyone: the seed, the share and the population (household ids
    per township) are recorded with the sample; services/households/spot_checks.py says how a
    sample follows from them (HMAC-SHA256 order, no random generator state).
    """

    __tablename__ = 'spot_check_draw'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    percent: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(64))
    population: Mapped[dict] = mapped_column(JSON)      # {township: [household id, ...]}
    sample: Mapped[dict] = mapped_column(JSON)          # {township: [household id, ...]}
    drawn_by: Mapped[str] = mapped_column(String(100))
    drawn_at = mapped_column(UTCDateTime)
