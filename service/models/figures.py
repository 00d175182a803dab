"""Running counts behind the county's supervision and reform figures, kept by the write path.

At province scale a GROUP BY over every case costs seconds per page view; these small tables
hold the same numbers, changed by the flush that changes a case (services/figures.py), so they are
exact in every committed state and cost a few hundred rows to read.
"""
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class CaseCount(db.Model):
    """How many cases a township has on one definition version, by status and overdue flag."""

    __tablename__ = 'case_count'

    township: Mapped[str] = mapped_column(String(50), primary_key=True)
    definition_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    overdue: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class DecisionDayCount(db.Model):
    """How many decided cases took `days` working days from acceptance to decision (medians)."""

    __tablename__ = 'decision_day_count'

    township: Mapped[str] = mapped_column(String(50), primary_key=True)
    definition_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class StepCount(db.Model):
    """The reform page's step figures of a township on one definition version: `kind` is `steps`
    (completed tasks), `handoffs` (a step done by another role than the step before it),
    `county_steps` (done by a county role) or `cases` (cases with at least one step): the sums of
    the case rows' own counters (ProcessInstance.steps_done, …), kept as those change."""

    __tablename__ = 'step_count'

    township: Mapped[str] = mapped_column(String(50), primary_key=True)
    definition_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class StartCount(db.Model):
    """How many cases a township started on one definition version in one month, Beijing time
    (`month` 'YYYY-MM'; '' for a case without a start time): the phase report, whatever the status."""

    __tablename__ = 'start_count'

    township: Mapped[str] = mapped_column(String(50), primary_key=True)
    definition_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
