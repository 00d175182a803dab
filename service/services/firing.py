"""Firing the due timers of many cases in one transaction (the scheduler's batches).

A timer fired alone costs a transaction of its own: its own turn on the audit chain's lock and its
own wait for the disk (services/audit.py) — most of a fired timer's time on PostgreSQL. Here the
cases of a batch share one transaction, and so one chain lock, one change of each count row and
one flush to disk, taken at its commit only (services/pending.py), while each keeps
everything the write path promises:

- the batch's case rows are locked first, in id order (PostgreSQL: SELECT … FOR UPDATE; SQLite:
  its one write lock), and only then read: two schedulers lock shared cases in the same order, and
  a case a person wrote meanwhile is read as that write left it, not as an older snapshot;
- the cases are fired one after the other and flushed together at the end (the rows of one table
  go out as one multi-row statement), each case row still under its own version check;
- a diagram failure holds its case in an incident, as in a single write;
- anything else going wrong — a case raising outside the diagram, a version check failing at the
  flush — rolls the batch back and fires it again with each case in a SAVEPOINT of its own: the
  failing case is rolled back alone (with its audit entries and count deltas) and the others commit.

While the batch's transaction is open its case rows stay locked: a person's write of one of them
waits for the batch's commit and then gets its 409 (the version moved on), as it would have, a
little later. Batches are therefore small (`JIUZHU_FIRE_BATCH` cases, default 50: ~0.1 s).
"""
import logging

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..models import ProcessInstance
from . import row_writes, write
from .sync import DEFER_FLUSH

log = logging.getLogger('jiuzhu.scheduler')

DEFAULT_FIRE_BATCH = 50


def open_cases(instance_ids):
    """Several cases for writing, with their live timers and open tasks, in one query (id order)."""
    found = db.session.scalars(
        select(ProcessInstance).where(ProcessInstance.id.in_(instance_ids))
        .options(joinedload(ProcessInstance.live_timers), joinedload(ProcessInstance.open_tasks))
        .order_by(ProcessInstance.id)
        .execution_options(populate_existing=True)).unique().all()
    return [write.CaseWrite(instance) for instance in found]


def _begin_writing(instance_ids):
    """Lock the cases' rows for this transaction, in id order, before reading them.

    PostgreSQL: a lock of its own, then a separate read — a row read FOR UPDATE after waiting for
    another writer comes back new, but the timer and task rows joined to it would come from the
    statement's older snapshot. SQLite: take the write lock now (pysqlite opens a transaction only at
    the first INSERT or UPDATE, so a first SAVEPOINT would open one itself and its RELEASE commit it).
    """
    conn = db.session.connection()
    if conn.dialect.name == 'sqlite':
        if not conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql('BEGIN IMMEDIATE')
    else:
        db.session.execute(select(ProcessInstance.id).where(ProcessInstance.id.in_(instance_ids))
                           .order_by(ProcessInstance.id).with_for_update())


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
    try:
        outcomes = _fire_together(instance_ids, stopping, enough)
    except Exception as exc:
        db.session.rollback()
        log.info('a batch of %d case(s) failed together (%s: %s); firing each in a savepoint',
                 len(instance_ids), type(exc).__name__, exc)
        outcomes = None
    except BaseException:
        db.session.rollback()
        raise
    try:
        if outcomes is None:
            outcomes = _fire_isolated(instance_ids, stopping, enough)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return outcomes


def _fire_together(instance_ids, stopping, enough):
    """Every case fired, then one flush; raises whatever one case raised (nothing committed)."""
    outcomes = {}
    _begin_writing(instance_ids)
    session = db.session()
    session.info[DEFER_FLUSH] = True
    try:
        for case in open_cases(instance_ids):
            if stopping() or (outcomes and enough()):
                break
            write.fire_open_case(case)
            outcomes[case.instance.id] = None
    finally:
        session.info.pop(DEFER_FLUSH, None)
    # The version checks of all the cases happen here: their rows go out together, one statement per
    # table and shape (a case row the batch read but did not change is not written).
    row_writes.flush(session)
    return outcomes


def _fire_isolated(instance_ids, stopping, enough):
    """Each case in a SAVEPOINT of its own: one that fails is rolled back alone."""
    outcomes = {}
    _begin_writing(instance_ids)
    for case in open_cases(instance_ids):
        if stopping() or (outcomes and enough()):
            break
        outcomes[case.instance.id] = _fire_in_savepoint(case)
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
