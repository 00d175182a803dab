"""Firing the due timers of many cases in one transaction (the scheduler's batches).

A timer fired alone costs a transaction of its own: its own turn on the audit chain's lock and its
own wait for the disk (services/audit.py) — most of a fired timer's time on PostgreSQL. Here the
cases of a batch share one transaction, and so one chain lock, one change of each count row and
one flush to disk, taken at its commit only (services/pending.py), while each keeps
everything the write path promises:

- each case is written under its own version check (services/write.py), inside a SAVEPOINT: a case
  that a person wrote meanwhile (version moved on), or whose firing raised for a reason outside the
  diagram, is rolled back to its savepoint alone — with its audit entries — and the others commit;
- a diagram failure holds its case in an incident inside its savepoint, as in a single write;
- cases are written in id order, so two schedulers' batches lock case rows in the same order.

While the batch's transaction is open its case rows stay locked: a person's write of one of them
waits for the batch's commit and then gets its 409 (the version moved on), as it would have, a
little later. Batches are therefore small (`JIUZHU_FIRE_BATCH` cases, default 50: ~0.1 s).
"""
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..models import ProcessInstance
from . import write

DEFAULT_FIRE_BATCH = 50


def open_cases(instance_ids):
    """Several cases for writing, with their live timers and open tasks, in one query (id order)."""
    found = db.session.scalars(
        select(ProcessInstance).where(ProcessInstance.id.in_(instance_ids))
        .options(joinedload(ProcessInstance.live_timers), joinedload(ProcessInstance.open_tasks))
        .order_by(ProcessInstance.id)
        .execution_options(populate_existing=True)).unique().all()
    return [write.CaseWrite(instance) for instance in found]


def _begin_writing():
    """SQLite: take the write lock now. pysqlite opens a transaction only at the first INSERT or
    UPDATE, so the first SAVEPOINT would open one itself and its RELEASE would commit it."""
    conn = db.session.connection()
    if conn.dialect.name == 'sqlite' and not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql('BEGIN IMMEDIATE')


def fire_due_batch(instance_ids, stopping=None, enough=None):
    """Fire what is due on each of these cases, all in one transaction; returns {instance id: outcome}.

    outcome: None (written, or nothing was due), a Conflict (changed concurrently: nothing of it
    kept) or the exception its firing raised (nothing of it kept). A case not in the result was not
    reached: `stopping()` became true first, or `enough()` did once at least one case was fired
    (the scheduler bounds a batch's time: its claims are renewed between transactions only), or it
    does not exist. Raises only when the transaction as a whole failed (then nothing of it is kept;
    the caller may fire the cases one by one).
    """
    stopping = stopping or (lambda: False)
    enough = enough or (lambda: False)
    outcomes = {}
    try:
        _begin_writing()
        for case in open_cases(instance_ids):
            if stopping() or (outcomes and enough()):
                break
            outcomes[case.instance.id] = _fire_in_savepoint(case)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return outcomes


def _fire_in_savepoint(case):
    # Its audit entries and count deltas are kept with the savepoint (services/pending.py): rolled
    # back with it, or written once for the whole batch at its commit.
    savepoint = db.session.begin_nested()
    try:
        write.fire_open_case(case)
        savepoint.commit()          # flushes: the version check of this case happens here at the latest
        return None
    except StaleDataError:
        outcome = write.concurrent()
    except Exception as exc:      # a Conflict, or whatever went wrong outside the diagram
        outcome = exc
    savepoint.rollback()
    return outcome
