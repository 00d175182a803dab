"""What the schema costs a fresh database and a start: `create_all` (before migrations) against the
real `upgrade head`, and the readiness check create_app runs on a database that is current.

    .venv/bin/python -m tests.bench.bench_migrations [--database-url postgresql://…] [--rounds 20]

tests/conftest.py makes its test databases with create_all + stamp head rather than the real upgrade:
these figures are why (docs/migrations.md, "Tests").
"""
import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from service.config import database_uri
from service.migrations import readiness, runner


def _sqlite_urls(rounds):
    folder = Path(tempfile.mkdtemp(prefix='jiuzhu-bench-mig-'))
    return [f'sqlite:///{folder / f"db{i}.sqlite3"}' for i in range(rounds)], None


def _pg_urls(base, rounds):
    admin = create_engine(database_uri(base, '.'), isolation_level='AUTOCOMMIT')
    schemas = [f'b_{uuid.uuid4().hex[:12]}' for _ in range(rounds)]
    with admin.connect() as conn:
        for schema in schemas:
            conn.execute(text(f'CREATE SCHEMA {schema}'))
    sep = '&' if '?' in base else '?'
    urls = [database_uri(f'{base}{sep}options=-csearch_path%3D{schema}', '.') for schema in schemas]

    def drop():
        with admin.connect() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA {schema} CASCADE'))
        admin.dispose()
    return urls, drop


def _create_all(url):
    engine = create_engine(url, poolclass=NullPool)
    runner.target_metadata().create_all(engine)
    engine.dispose()


def _create_all_stamped(url):
    from tests.conftest import schema_at_head
    schema_at_head(url)


def _timed(fn, urls):
    """Wall and CPU milliseconds per database (CPU: what a busy machine does not blur)."""
    times = []
    for url in urls:
        start, cpu = time.perf_counter(), time.process_time()
        fn(url)
        times.append(((time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000))
    return times


def _check(url):
    engine = create_engine(url, poolclass=NullPool)
    assert readiness.check(engine).ready
    engine.dispose()


def _report(label, times):
    wall, cpu = [t for t, _ in times], [c for _, c in times]
    print(f'  {label:<36} wall median {statistics.median(wall):6.1f} ms (min {min(wall):6.1f}), '
          f'CPU median {statistics.median(cpu):5.1f} ms')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--database-url', help='PostgreSQL base URL (a schema per round)')
    parser.add_argument('--rounds', type=int, default=20)
    args = parser.parse_args(argv)
    readiness.head()          # the revision files are read once per process, not per app
    for name in ('sqlite', 'postgres') if args.database_url else ('sqlite',):
        make = (lambda n: _pg_urls(args.database_url, n)) if name == 'postgres' else _sqlite_urls
        print(f'{name}, {args.rounds} fresh databases each:')
        for label, fn in (('create_all (before migrations)', _create_all),
                          ('create_all + stamp (tests/conftest)', _create_all_stamped),
                          ('upgrade head (empty database)', lambda url: runner.upgrade(url))):
            urls, drop = make(args.rounds)
            _report(label, _timed(fn, urls))
            if label.startswith('upgrade'):
                _report('readiness check (current database)', _timed(_check, urls))
            if drop:
                drop()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
