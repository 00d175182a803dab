"""Writing and checking the hash-chained audit log (models/audit.py, docs/audit.md).

`record` keeps a transaction's entries aside; when the transaction commits, they are numbered and
chained after the last row under the chain's lock, inserted, and committed with the change. The
lock is taken after everything else of the transaction is flushed, so its holder never waits for
a row lock: it only reads the last row, inserts and commits (no deadlock, a short hold). On
PostgreSQL that commit does not wait for the disk; commit() waits for it once the lock is free (the
append, the COMMIT and that wait in one round trip when the transaction has written: docs/audit.md).
"""
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import timezone

from flask import has_request_context, request
from sqlalchemy import bindparam, event, insert, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import AuditEntry
from ..models.audit import GENESIS, HASHED, entry_parts, hash_of
from .context import now
from . import pending, statements
from .masking import mask_data

_AUDIT = 'audit'
_DURABLE = 'jiuzhu.audit.durable'
_COUNTS = 'jiuzhu.audit.counts'
# pg_advisory_xact_lock key of the chain: a fixed 63-bit number derived from its name.
CHAIN_LOCK = int.from_bytes(hashlib.sha256(b'jiuzhu.audit_log.chain').digest()[:8], 'big') >> 1


@dataclass
class _Entry:
    """An audit entry waiting for its transaction's commit: a plain record, not an ORM object — one is
    made for each change (50 in a batch of timers), and the instrumented AuditEntry's construction cost
    more than the rest of `record`. The chain numbers and hashes it, and inserts it as a table row."""
    at: object
    actor: str
    action: str
    instance_id: int | None
    task_id: str | None
    detail: dict
    remote_addr: str | None
    id: int | None = None
    prev_hash: str | None = None
    row_hash: str | None = None


def record(actor, action, instance_id=None, task_id=None, **detail):
    """Append one audit entry to the current transaction (it commits, or vanishes, with the change)."""
    # Through JSON and back: what is hashed now is exactly what the JSON column gives back later.
    # Masked first: the log is append-only and kept for years, a number in a note stays in it.
    detail = mask_data(json.loads(json.dumps(detail, allow_nan=False)))
    entry = _Entry(now(), actor, action, instance_id, task_id, detail,
                   request.remote_addr if has_request_context() else None)
    session = db.session()
    if not session.in_transaction():
        # Bind the entry to a transaction, so a close without commit drops it (services/pending.py).
        session.begin()
    # Kept with the innermost SAVEPOINT: rolled back with it, chained at the outermost commit.
    pending.add(session, _AUDIT, entry)


@event.listens_for(Session, 'after_transaction_end')
def _drop_uncommitted(session, transaction):
    if transaction.parent is None:
        session.info.pop(_DURABLE, None)
        session.info.pop(_COUNTS, None)


def carry_counts(session, tables):
    """PostgreSQL: the commit's count deltas (services/figures.py; {table name: rows in key order})
    go with the chain's append, in the same call, which adds them before it takes the chain's lock
    (models/audit_append.py): one round trip fewer per commit. False when this commit appends no
    entry, or on SQLite: the caller writes them itself."""
    if session.connection().dialect.name != 'postgresql' or not pending.waiting(session, _AUDIT):
        return False
    session.info[_COUNTS] = tables
    return True


@event.listens_for(Session, 'before_commit')
def _chain_pending(session):
    if session.in_nested_transaction():
        # A SAVEPOINT released: its entries wait for the transaction's commit, so a batch of cases
        # (services/firing.py) takes the chain's lock once, at its end, not from its first case on.
        return
    entries = pending.take(session, _AUDIT)
    if not entries:
        return
    # Everything else first: its row locks are taken before the chain's lock, never while holding it.
    session.flush()
    conn = session.connection()
    if conn.dialect.name == 'postgresql':
        _append_pg(session, conn, entries)
        return
    last_id, last_hash = _lock_chain(conn)
    rows = []
    for entry in entries:
        last_id += 1
        entry.id, entry.prev_hash = last_id, last_hash
        entry.row_hash = last_hash = hash_of(entry)
        rows.append({c: getattr(entry, c) for c in _INSERTED})
    # Not the unit of work: less time under the lock.
    statements.execute_rows(conn, 'audit append', lambda: _INSERT, rows)


_INSERTED = ('id', 'at', 'actor', 'action', 'instance_id', 'task_id', 'detail', 'remote_addr', 'prev_hash', 'row_hash')
# Built once: the statements run under the chain's lock.
_INSERT = insert(AuditEntry.__table__).values({name: bindparam(name) for name in _INSERTED})
_LAST = select(AuditEntry.id, AuditEntry.row_hash).order_by(AuditEntry.id.desc()).limit(1)
# psycopg's own parameter style: the same text goes to the server through SQLAlchemy or in a pipeline.
_PG_APPEND = 'SELECT jiuzhu_audit_append(%(key)s, %(sync)s, CAST(%(entries)s AS json), CAST(%(counts)s AS json))'
_FLUSHED = "SELECT pg_logical_emit_message(true, 'jiuzhu.audit', 'flush')"


def _append_pg(session, conn, entries):
    """Lock, read the last row, number, hash and insert in one call (models/audit_append.py).

    The next writer needs this commit visible, not yet on disk: the transaction commits without
    waiting for the WAL flush (the lock is released at once) and waits for it after the commit
    instead, where concurrent commits share one flush. (Only ever the outermost commit: a
    SAVEPOINT's entries wait for it, _chain_pending.)"""
    payload = []
    for entry in entries:
        head, tail = entry_parts(*(getattr(entry, name) for name in HASHED))
        payload.append({'head': head, 'tail': tail, 'at': _naive_utc(entry.at), 'actor': entry.actor,
                        'action': entry.action, 'instance_id': entry.instance_id, 'task_id': entry.task_id,
                        'detail': json.dumps(entry.detail, ensure_ascii=False, allow_nan=False),
                        'remote_addr': entry.remote_addr})
    counts = session.info.pop(_COUNTS, None)
    params = {'key': CHAIN_LOCK, 'sync': 'off', 'entries': json.dumps(payload, ensure_ascii=False, allow_nan=False),
              'counts': json.dumps(counts, ensure_ascii=False) if counts else None}
    raw = conn.connection.dbapi_connection
    if raw.pgconn.transaction_status == _IN_TRANSACTION and _chain_is_last(session):
        # One round trip for the append, the commit and the wait for the disk (psycopg's pipeline
        # mode): the statements run in this order, the chain's lock is free once the COMMIT has run,
        # and the one-statement transaction after it commits synchronously at the pipeline's end —
        # the WAL flushed past the chained commit. SQLAlchemy's commit then finds nothing open.
        with raw.cursor() as cursor:
            with raw.pipeline():
                cursor.execute(_PG_APPEND, params)
                cursor.execute('COMMIT')
                cursor.execute(_FLUSHED)
            session.info[FLUSHED_TO] = cursor.fetchone()[0]
        return
    # Nothing written before the entries (a read that is audited): SQLAlchemy begins and commits.
    conn.exec_driver_sql(_PG_APPEND, params)
    session.info[_DURABLE] = raw


_IN_TRANSACTION = 2     # libpq's PQTRANS_INTRANS: idle in a transaction block
# Where the WAL was flushed to when the last pipelined commit returned (the message's position).
FLUSHED_TO = 'jiuzhu.audit.flushed_to'


def _chain_is_last(session):
    """Whether the chain's append is the last thing this commit does before SQLAlchemy's own COMMIT:
    a before_commit listener added after it would write into a transaction already committed."""
    listeners = list(session.dispatch.before_commit)
    return bool(listeners) and listeners[-1] is _chain_pending


def _naive_utc(at):
    # The column's own form (models/types.UTCDateTime): naive UTC, microseconds kept.
    return at.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=' ', timespec='microseconds')


def _lock_chain(conn):
    """SQLite: take the write lock if this transaction has none yet; return the last row's (id, hash)."""
    if not conn.connection.dbapi_connection.in_transaction:
        # Nothing written yet, so no write lock held: without it another connection could read the
        # same last row. (With a write already done, the transaction holds SQLite's one write lock.)
        conn.exec_driver_sql('BEGIN IMMEDIATE')
    rows = statements.execute(conn, statements.prepared(conn, 'audit last', lambda: _LAST, ()), {}).rows
    return (rows[0][0], rows[0][1]) if rows else (0, GENESIS)


@event.listens_for(Session, 'after_commit')
def _wait_for_wal(session):
    """Return from commit only once the chained commit is on disk, as a synchronous commit would.

    A one-statement transaction that writes WAL and takes a transaction id commits synchronously:
    PostgreSQL flushes the WAL up to its commit record, which comes after the chained transaction's.
    (A transaction id alone is not enough: a commit that wrote no WAL is not flushed.) The
    message is a no-op record that logical decoding, if any, may ignore.
    """
    dbapi = session.info.pop(_DURABLE, None)
    if dbapi is None:
        return      # nothing chained, or the pipeline waited already (_append_pg)
    dbapi.autocommit = True
    try:
        with dbapi.cursor() as cursor:
            cursor.execute(_FLUSHED)
    finally:
        dbapi.autocommit = False


# ------------------------------------------------------------------ verification

@dataclass
class Problem:
    kind: str          # changed | missing | reordered | unlinked
    id: int            # the first row where the chain breaks
    message: str


@dataclass
class Verification:
    count: int = 0
    last_id: int = 0
    last_hash: str = GENESIS
    problem: Problem | None = None
    checked_anchors: list = field(default_factory=list)
    complete: bool = True       # False: stopped at `limit` rows with more after them

    @property
    def next_since(self):
        """Where a verify stopped short goes on from: `since` for the next one."""
        return None if self.complete or self.problem else f'{self.last_id}:{self.last_hash}'

    @property
    def intact(self):
        return self.problem is None


_COLUMNS = [AuditEntry.id, AuditEntry.prev_hash, AuditEntry.row_hash, AuditEntry.at, AuditEntry.actor,
            AuditEntry.action, AuditEntry.instance_id, AuditEntry.task_id, AuditEntry.detail, AuditEntry.remote_addr]


def _rows(batch, after=0):
    """The rows after id `after` in id order, `batch` at a time (keyset pages: constant memory)."""
    while True:
        rows = db.session.execute(select(*_COLUMNS).where(AuditEntry.id > after)
                                  .order_by(AuditEntry.id).limit(batch)).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


def _row_chained_to(row_hash):
    """The id of the row whose hash is `row_hash` (only asked once the chain broke)."""
    return db.session.scalar(select(AuditEntry.id).where(AuditEntry.row_hash == row_hash).limit(1))


def _check_row(row, expected_id, prev_hash):
    if row.id != expected_id:
        missing = str(expected_id) if row.id == expected_id + 1 else f'{expected_id}–{row.id - 1}'
        return Problem('missing', expected_id, f'第 {missing} 条记录缺失（已被删除） (row {missing} missing)')
    if row.row_hash is None or row.row_hash != hash_of(row):
        return Problem('changed', row.id, f'第 {row.id} 条记录内容被改动，与其哈希不符 (row {row.id} changed)')
    if row.prev_hash != prev_hash:
        before = _row_chained_to(row.prev_hash)
        if before is None:
            # It follows a hash no row carries now: rows before it were removed and the rest
            # renumbered, or the row before it was rewritten with a recomputed hash.
            return Problem('unlinked', row.id, f'第 {row.id} 条接不上前一条：其前的记录被删除后重新编号，'
                                               f'或前一条被整条改写 (row {row.id} does not follow row {row.id - 1})')
        return Problem('reordered', row.id, f'第 {row.id} 条记录位置被调换：它原本接在第 {before} 条之后 '
                                            f'(row {row.id} reordered: it was chained after row {before})')
    return None


def parse_anchor(value):
    """'ID:HASH' (as `verify` prints the last row) → (id, hash), or None when it is not that."""
    m = re.fullmatch(r'(\d{1,10}):([0-9a-f]{64})', value.strip().lower())
    return (int(m.group(1)), m.group(2)) if m else None


# One request checks at most this many rows (≈ 15,000 a second on two cores: 7 M rows took 8 minutes,
# far past a worker's time limit); it answers with where the next one goes on from. The command line
# walks the whole log.
VERIFY_ROWS_PER_REQUEST = 100_000


def verify_for(user, anchors=(), since=None):
    """`verify` as a signed-in user asks for it (administrators), one stretch of the log at a time."""
    from .access import check_audit_verify  # not at the top: access → users → audit
    check_audit_verify(user)
    return verify(anchors, since, limit=VERIFY_ROWS_PER_REQUEST)


def _start_at(result, since):
    """Continue from a row checked earlier: it must still carry the hash noted for it."""
    since_id, since_hash = since
    found = db.session.scalar(select(AuditEntry.row_hash).where(AuditEntry.id == since_id))
    if found is None:
        result.problem = Problem('missing', since_id, f'记下的第 {since_id} 条不在了 (row {since_id} missing)')
    elif found != since_hash:
        result.problem = Problem('changed', since_id, f'第 {since_id} 条记录与记下的哈希不符 '
                                                      f'(row {since_id} does not match its anchor)')
    else:
        result.last_id, result.last_hash = since_id, since_hash
        result.checked_anchors.append(since_id)


def verify(anchors=(), since=None, batch=2000, limit=None):
    """Walk the chain in id order; the first break, or the count and the last (id, hash).

    `anchors`: (id, hash) pairs noted down earlier (e.g. a daily `verify`'s last row). The chain
    alone cannot show a rewrite of everything after some row, or a cut-off tail; an anchor can.
    `since`: one such pair to start from — only the rows after it are walked (a daily check of
    the day's rows); the rows before it are taken as checked before.
    `limit`: stop after that many rows when more follow (`complete` False; anchors past them unchecked).
    """
    result = Verification()
    if since is not None:
        _start_at(result, since)
        if result.problem is not None:
            return result
    wanted = dict(anchors)
    for row in _rows(batch if limit is None else min(batch, limit + 1), result.last_id):
        if limit is not None and result.count >= limit:
            result.complete = False
            return result
        problem = _check_row(row, result.last_id + 1, result.last_hash)
        if problem is None and row.id in wanted and wanted[row.id] != row.row_hash:
            problem = Problem('changed', row.id, f'第 {row.id} 条记录与记下的哈希不符：其后的链被重算 '
                                                 f'(row {row.id} does not match its anchor)')
        if problem is not None:
            result.problem = problem
            return result
        if row.id in wanted:
            result.checked_anchors.append(row.id)
        result.count, result.last_id, result.last_hash = result.count + 1, row.id, row.row_hash
    beyond = sorted(i for i in wanted if i > result.last_id)
    if beyond:
        result.problem = Problem('missing', result.last_id + 1,
                                 f'记下的第 {beyond[0]} 条不在了：第 {result.last_id + 1} 条起的记录缺失 '
                                 f'(rows from {result.last_id + 1} missing, anchor {beyond[0]} gone)')
    return result
