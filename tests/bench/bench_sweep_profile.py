"""Where one scheduler's time goes while it fires due timers: statements and a cProfile, in-process.

    .venv/bin/python -m tests.bench.bench_sweep_profile [--database-url postgresql://…] [--timers 2000]
        [--fire-batch 50] [--top 30] [--profile-file PATH]

Cases are bulk-loaded as in bench_timers (a real one_timer case copied, due a second ago by the real
clock); one Sweeper drains them in this process. Prints the rate and the CPU per timer (cProfile
roughly doubles both), the statements sent per timer by kind (a multi-row statement counts once),
and the functions with the most cumulative and own time. SQLite in a temporary directory by
default; with --database-url a PostgreSQL schema, dropped at the end.
"""
import argparse
import cProfile
import pstats
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import event

from service.extensions import db
from service.scheduler.sweep import Sweeper

from .bench_timers import Database, make_app, populate


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--database-url', help='PostgreSQL URL (default: SQLite in a temporary directory)')
    parser.add_argument('--timers', type=int, default=2000)
    parser.add_argument('--fire-batch', type=int, default=50, help='JIUZHU_FIRE_BATCH: cases per transaction')
    parser.add_argument('--top', type=int, default=30, help='functions listed per ordering')
    parser.add_argument('--profile-file', help='also write the raw profile here (pstats format)')
    args = parser.parse_args(argv)
    database = Database(args.database_url)
    try:
        app = make_app(database.url, clock='real')
        app.config['JIUZHU_FIRE_BATCH'] = str(args.fire_batch)
        populate(app, [datetime.now(timezone.utc) - timedelta(seconds=1)] * args.timers, 0, None)
        with app.app_context():
            engine = db.engine
        sent = Counter()

        def count(conn, cursor, statement, params, context, executemany):
            sent[' '.join(statement.split())[:100]] += 1
        event.listen(engine, 'before_cursor_execute', count)
        profile = cProfile.Profile()
        wall, cpu = time.perf_counter(), time.process_time()
        profile.enable()
        fired = Sweeper(app).sweep()
        profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        event.remove(engine, 'before_cursor_execute', count)
    finally:
        database.drop()
    print(f'{"PostgreSQL" if args.database_url else "SQLite"}: fired {fired:,} timers in {wall:.1f} s '
          f'({fired / wall:,.0f}/s under cProfile), CPU {cpu / max(1, fired) * 1000:.2f} ms per timer')
    total = sum(sent.values())
    print(f'statements sent: {total:,} ({total / max(1, fired):.2f} per timer)')
    for statement, n in sent.most_common(15):
        print(f'  {n:7,d}  {statement}')
    if args.profile_file:
        profile.dump_stats(args.profile_file)
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats('cumulative').print_stats(args.top)
    stats.sort_stats('tottime').print_stats(args.top)
    return 0


if __name__ == '__main__':
    sys.exit(main())
