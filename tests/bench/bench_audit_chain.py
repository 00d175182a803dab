"""What the audit log's hash chain costs per write, and how fast `verify` walks it.

    .venv/bin/python -m tests.bench.bench_audit_chain [--writes 1000] [--processes 4] [--rows 20000]

On SQLite, and on PostgreSQL too when JIUZHU_TEST_DATABASE_URL is set (in a throwaway schema).
Per backend:
- one writer: a transaction with one audited entry (`audit.record` + commit, chained) against the
  same transaction inserting one row into an unchained copy of the table (id from a sequence);
- the chain's lock hold time (lock taken → commit done): the chain allows at most 1/hold commits/s;
- N worker processes writing at once (as gunicorn's workers do): chained vs unchained;
- `verify`: rows per second over a log of --rows rows.
"""
import argparse
import os
import statistics
import sys
import tempfile
import multiprocessing
import time
import uuid

from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.orm import Session

from service import create_app
from service.config import database_uri
from service.extensions import db
from service.models import AuditEntry
from service.services import audit
from service.services.context import now

PLAIN = 'audit_plain'


def _config(url):
    return {'DATABASE_URL': url, 'SECRET_KEY': 'bench', 'JIUZHU_CLOCK': 'manual',
            'JIUZHU_CLOCK_START': '2026-09-28T09:00:00+08:00'}


def _make_plain_table():
    # The same columns, an ordinary auto-increment id, no chain, no triggers.
    dialect = db.engine.dialect.name
    ident = 'SERIAL PRIMARY KEY' if dialect == 'postgresql' else 'INTEGER PRIMARY KEY AUTOINCREMENT'
    db.session.execute(text(f'CREATE TABLE {PLAIN} (id {ident}, at TIMESTAMP, actor VARCHAR(100), '
                            'action VARCHAR(50), instance_id INTEGER, task_id VARCHAR(36), detail TEXT, '
                            'remote_addr VARCHAR(64))'))
    db.session.commit()


def _chained_write(i):
    audit.record('bench', 'read_case', instance_id=i, via='bench')
    db.session.commit()


def _plain_write(i):
    db.session.execute(text(f"INSERT INTO {PLAIN} (at, actor, action, instance_id, detail) "
                            "VALUES (:at, 'bench', 'read_case', :i, '{\"via\": \"bench\"}')"),
                       {'at': now().replace(tzinfo=None), 'i': i})
    db.session.commit()


def _timed(fn, n):
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return times


class HoldTimer:
    """Lock taken → commit finished, per chained commit (wraps the chain's lock step).

    PostgreSQL takes the lock inside its append call (models/audit_append.py): there the hold is
    timed from the call, so it includes any wait for the lock — with one writer, none.
    `flush_under_lock`: the design this replaced, for comparison — the chained transaction commits
    synchronously, so the lock is held while the WAL is flushed.
    """

    def __init__(self, flush_under_lock=False):
        self.holds = []
        self._originals = (audit._lock_chain, audit._append_pg)
        self.flush_under_lock = flush_under_lock

    def __enter__(self):
        lock_chain, append_pg = self._originals

        def timed_lock(conn):
            result = lock_chain(conn)
            db.session.info['bench.locked'] = time.perf_counter()
            return result

        def timed_append(session, conn, entries):
            session.info['bench.locked'] = time.perf_counter()
            append_pg(session, conn, entries)
            if self.flush_under_lock and session.info.pop(audit._DURABLE, None) is not None:
                conn.exec_driver_sql('SET LOCAL synchronous_commit TO on')
        audit._lock_chain, audit._append_pg = timed_lock, timed_append
        # First among the after_commit hooks: the hold ends with COMMIT, before the wait for the WAL.
        event.listen(Session, 'after_commit', self._after_commit, insert=True)
        return self

    def _after_commit(self, session):
        started = session.info.pop('bench.locked', None)
        if started is not None:
            self.holds.append(time.perf_counter() - started)

    def __exit__(self, *exc):
        audit._lock_chain, audit._append_pg = self._originals
        event.remove(Session, 'after_commit', self._after_commit)


def _child(url, kind, per_process, barrier, results):
    # A worker process of its own, as gunicorn's are: its own engine, its own interpreter lock.
    app = create_app(_config(url))
    fn = _plain_write if kind == 'plain' else _chained_write
    with app.app_context(), HoldTimer(flush_under_lock=kind == 'flush_under_lock') as hold:
        _timed(fn, 5)
        hold.holds.clear()
        barrier.wait()
        _timed(fn, per_process)
        results.put(hold.holds)
        db.session.remove()
        db.engine.dispose()


def _parallel(url, kind, processes, per_process):
    """Commits per second of `processes` worker processes writing at once; lock hold times."""
    ctx = multiprocessing.get_context('fork')
    barrier, results = ctx.Barrier(processes + 1), ctx.Queue()
    children = [ctx.Process(target=_child, args=(url, kind, per_process, barrier, results)) for _ in range(processes)]
    for child in children:
        child.start()
    barrier.wait()
    t0 = time.perf_counter()
    holds = [h for _ in children for h in results.get(timeout=600)]
    elapsed = time.perf_counter() - t0
    for child in children:
        child.join()
    assert all(child.exitcode == 0 for child in children)
    return processes * per_process / elapsed, holds


def _fill(rows):
    """Bulk rows for the verify walk, chained the way the hook chains them."""
    from service.models.audit import hash_of
    last = db.session.execute(text('SELECT id, row_hash FROM audit_log ORDER BY id DESC LIMIT 1')).first()
    last_id, last_hash = (last.id, last.row_hash) if last else (0, '0' * 64)
    batch = []
    for n in range(rows):
        entry = AuditEntry(at=now(), actor=f'user{n % 50}', action='read_case', instance_id=n, task_id=None,
                           detail={'via': 'bench', 'n': n}, remote_addr='192.0.2.1')
        last_id += 1
        entry.id, entry.prev_hash = last_id, last_hash
        entry.row_hash = last_hash = hash_of(entry)
        batch.append({c: getattr(entry, c) for c in ('id', 'at', 'actor', 'action', 'instance_id', 'task_id',
                                                      'detail', 'remote_addr', 'prev_hash', 'row_hash')})
        if len(batch) == 5000:
            db.session.execute(insert(AuditEntry.__table__), batch)
            batch = []
    if batch:
        db.session.execute(insert(AuditEntry.__table__), batch)
    db.session.commit()


def _ms(values):
    return f'median {statistics.median(values) * 1000:6.2f} ms  p90 {statistics.quantiles(values, n=10)[-1] * 1000:6.2f} ms'


def run_backend(label, url, args):
    app = create_app(_config(url))
    with app.app_context():
        _make_plain_table()
        _timed(_chained_write, 50), _timed(_plain_write, 50)          # warm up both
        with HoldTimer() as hold:
            chained = _timed(_chained_write, args.writes)
        with HoldTimer(flush_under_lock=True) as hold_sync:
            chained_sync = _timed(_chained_write, args.writes)
        plain = _timed(_plain_write, args.writes)
        print(f'[{label}] one writer, {args.writes} commits each')
        print(f'  chained audit entry + commit   {_ms(chained)}')
        print(f'  unchained row + commit         {_ms(plain)}')
        if url.startswith('postgresql'):
            print(f'  (chained, WAL flush under lock {_ms(chained_sync)}; lock held {_ms(hold_sync.holds)})')
        print(f'  chain cost per write           {(statistics.median(chained) - statistics.median(plain)) * 1000:6.2f} ms')
        print(f'  chain lock held (lock→commit)  {_ms(hold.holds)}  → at most '
              f'{1 / statistics.median(hold.holds):,.0f} chained commits/s')
        db.session.remove()
    per = max(args.writes // args.processes, 50)
    rate_chained, holds = _parallel(url, 'chained', args.processes, per)
    rate_plain, _ = _parallel(url, 'plain', args.processes, per)
    print(f'  {args.processes} processes at once: chained {rate_chained:,.0f} commits/s, unchained {rate_plain:,.0f} '
          f'commits/s; lock held {_ms(holds)}')
    if url.startswith('postgresql'):
        rate_sync, holds_sync = _parallel(url, 'flush_under_lock', args.processes, per)
        print(f'  (WAL flush under lock: {rate_sync:,.0f} commits/s; lock held {_ms(holds_sync)})')
    with app.app_context():
        _fill(args.rows)
        t0 = time.perf_counter()
        result = audit.verify()
        elapsed = time.perf_counter() - t0
        assert result.intact, result.problem
        print(f'  verify: {result.count:,} rows in {elapsed:.2f} s = {result.count / elapsed:,.0f} rows/s')
        db.session.remove()
        db.engine.dispose()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--writes', type=int, default=1000)
    parser.add_argument('--processes', type=int, default=4)
    parser.add_argument('--rows', type=int, default=20000)
    args = parser.parse_args(argv)
    print(f'cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}')
    with tempfile.TemporaryDirectory() as tmp:
        run_backend('SQLite', f'sqlite:///{tmp}/bench.sqlite3', args)
    pg = os.environ.get('JIUZHU_TEST_DATABASE_URL')
    if pg:
        schema = 'bench_' + uuid.uuid4().hex[:8]
        admin = create_engine(database_uri(pg, '.'), isolation_level='AUTOCOMMIT')
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA {schema}'))
        try:
            sep = '&' if '?' in pg else '?'
            run_backend('PostgreSQL', f'{pg}{sep}options=-csearch_path%3D{schema}', args)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA {schema} CASCADE'))
            admin.dispose()
    return 0


if __name__ == '__main__':
    sys.exit(main())
