"""Drain many due timers with two real `jiuzhu scheduler` processes: rate, lateness, none lost or doubled.

    .venv/bin/python -m tests.bench.bench_drain --database-url postgresql://… [--timers 100000]
        [--fire-batch 50] [--batch 200] [--schedulers 2]

Every timer is due when the schedulers start (cases bulk-loaded as in bench_timers: a real
one_timer case copied). Prints the time to drain, timers fired per second (from the start of the
processes, and between the first and the last firing), how late they fired (fired_at − the moment
the schedulers were started: p50, p99, max), and lost/doubled from the timer rows, the audit log's
`timers_fired` entries and the case versions. `--fire-batch 1` fires each case in its own
transaction (the way before batches). SQLite in a temporary directory by default.
"""
import argparse
import math
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from service.extensions import db
from service.models import Timer

from .bench_drain_kill import Schedulers, outcome, waiting_count
from .bench_timers import Database, make_app, populate


def _rank(ordered, q):
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _cpu_seconds(pid):
    """User + system CPU of a process so far (/proc, Linux), or None once it is gone."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    except OSError:
        return None


def run(args):
    database = Database(args.database_url)
    extra_env = {'JIUZHU_FIRE_BATCH': str(args.fire_batch), 'JIUZHU_SWEEP_BATCH': str(args.batch)}
    try:
        app = make_app(database.url)
        built = time.monotonic()
        populate(app, [datetime.now(timezone.utc) - timedelta(seconds=1)] * args.timers, 0, None)
        built = time.monotonic() - built
        assert waiting_count(app) == args.timers
        with tempfile.TemporaryDirectory(prefix='jiuzhu-drain-') as logdir:
            started_wall = datetime.now(timezone.utc)
            started = time.monotonic()
            schedulers = Schedulers(database.url, args.schedulers, logdir, extra_env)
            drained = None
            cpu = {}
            while time.monotonic() - started < args.max_seconds:
                for p in schedulers.procs:
                    seconds = _cpu_seconds(p.pid)
                    if seconds is not None:
                        cpu[p.pid] = seconds
                if not waiting_count(app):
                    drained = time.monotonic() - started
                    break
                time.sleep(0.2)      # a benchmark watching processes, not a test
            codes, _ = schedulers.stop(30)
        result = outcome(app, args.timers)
        with app.app_context():
            fired_at = sorted(db.session.scalars(select(Timer.fired_at).where(Timer.state == 'fired')))
            db.session.remove()
        late = [(f - started_wall).total_seconds() for f in fired_at]
        span = (fired_at[-1] - fired_at[0]).total_seconds() if len(fired_at) > 1 else None
        return dict(result, drained=drained, built=built, late=late, span=span, codes=codes,
                    cpu=sum(cpu.values()))
    finally:
        database.drop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--database-url', help='PostgreSQL URL (default: SQLite in a temporary directory)')
    parser.add_argument('--timers', type=int, default=100_000)
    parser.add_argument('--schedulers', type=int, default=2)
    parser.add_argument('--fire-batch', type=int, default=50, help='JIUZHU_FIRE_BATCH: cases per transaction')
    parser.add_argument('--batch', type=int, default=200, help='JIUZHU_SWEEP_BATCH: rows claimed at a time')
    parser.add_argument('--max-seconds', type=float, default=900.0, help='give up draining after this long')
    args = parser.parse_args(argv)
    import logging
    logging.basicConfig(level=logging.WARNING)
    backend = 'PostgreSQL' if args.database_url else 'SQLite'
    print(f'jiuzhu timer drain — {backend}, {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}; '
          f'{args.schedulers} scheduler processes, {args.fire_batch} case(s) per transaction, '
          f'claims of {args.batch}')
    r = run(args)
    print(f'   {args.timers:,} timers due at once (bulk load {r["built"]:.0f} s)')
    if r['drained'] is None:
        print(f'   NOT drained in {args.max_seconds:.0f} s')
    else:
        steady = f'{len(r["late"]) / r["span"]:,.0f}/s between the first and the last firing' if r['span'] else ''
        print(f'   drained in {r["drained"]:.1f} s from starting the processes: {args.timers / r["drained"]:,.0f}/s; '
              f'{steady}')
    if r['late']:
        late = r['late']
        print(f'   fired after the schedulers started: p50 {_rank(late, .5):.1f} s, p99 {_rank(late, .99):.1f} s, '
              f'max {late[-1]:.1f} s')
    print(f'   lost {r["lost"]} (timer rows by state: {r["states"]}); doubled {r["doubled"]} '
          f'(audit: {r["audited"]:,} timers fired, {r["rewritten"]} cases written more than once)')
    print(f'   scheduler CPU {r["cpu"]:.1f} s ({r["cpu"] / max(1, args.timers) * 1000:.2f} ms per timer); '
          f'exit codes on SIGTERM {r["codes"]}')
    return 0 if r['drained'] is not None and not r['lost'] and not r['doubled'] else 1


if __name__ == '__main__':
    sys.exit(main())
