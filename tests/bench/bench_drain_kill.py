"""Drain due timers while scheduler processes are killed: real `jiuzhu scheduler` processes, two at a
time, one of them killed with SIGKILL at random every ~0.4 s and started again.

    .venv/bin/python -m tests.bench.bench_drain_kill [--database-url postgresql://…] [--timers 2000] [--kills 50]

Prints the time until every due timer fired, how many were lost (still waiting at the end) or
doubled (fired twice: seen in the audit log's `timers_fired` details and in the case versions),
and how the surviving schedulers stopped on SIGTERM. `--kills 0` gives the undisturbed baseline.
Cases are bulk-loaded as in bench_timers (a real one_timer case copied, due a minute ago by the
real clock). SQLite in a temporary directory by default; with --database-url a PostgreSQL schema.
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

from service.extensions import db
from service.models import AuditEntry, ProcessInstance, Timer

from ..conftest import PRODUCTION_KEYS
from .bench_timers import PROCESSES, ROOT, Database, make_app, populate

JIUZHU = Path(sys.executable).with_name('jiuzhu')


class Schedulers:
    """`slots` scheduler processes; any one of them can be killed and started again."""

    def __init__(self, url, slots, logdir, extra_env, verbose=False):
        self.env = dict(os.environ, DATABASE_URL=url, JIUZHU_CLOCK='real', SECRET_KEY='bench', **PRODUCTION_KEYS,
                        JIUZHU_HOLIDAYS='', JIUZHU_FORMS_DIR=str(PROCESSES / 'forms'),
                        JIUZHU_EMBEDDED_SCHEDULER='0', **extra_env)
        self.logdir = logdir
        self.command = [str(JIUZHU)] + (['-v'] if verbose else []) + ['scheduler']
        self.started = 0
        self.procs = [self._spawn() for _ in range(slots)]

    def _spawn(self):
        self.started += 1
        log = open(Path(self.logdir) / f'scheduler-{self.started}.log', 'wb')
        return subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT)

    def kill_one(self, rng, working):
        """SIGKILL one process that holds claims (pids in `working`) and start another; False if none does."""
        slots = [i for i, p in enumerate(self.procs) if p.pid in working]
        if not slots:
            return False
        slot = rng.choice(slots)
        victim = self.procs[slot]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        self.procs[slot] = self._spawn()
        return True

    def stop(self, timeout):
        """SIGTERM to each survivor; returns (exit codes, seconds until the last one exited)."""
        started = time.monotonic()
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        codes = []
        for p in self.procs:
            try:
                codes.append(p.wait(max(0.1, timeout - (time.monotonic() - started))))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                codes.append('hung')
        return codes, time.monotonic() - started


def waiting_count(app):
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Timer).where(Timer.state == 'waiting'))
        db.session.remove()
        return n


def working_pids(app):
    """Processes holding live claims on waiting rows (owners are `host:pid:random`)."""
    with app.app_context():
        owners = db.session.scalars(select(Timer.claimed_by).distinct().where(
            Timer.state == 'waiting', Timer.claimed_until > datetime.now(timezone.utc))).all()
        db.session.remove()
    return {int(owner.rsplit(':', 2)[1]) for owner in owners if owner}


def outcome(app, timers):
    """(lost, doubled, schedulers that fired something) from the timer rows, the audit log, the cases."""
    with app.app_context():
        states = dict(db.session.execute(select(Timer.state, func.count()).group_by(Timer.state)).all())
        fired_items = Counter()
        for instance_id, detail in db.session.execute(select(AuditEntry.instance_id, AuditEntry.detail).where(
                AuditEntry.action == 'timers_fired')):
            for item in detail.get('timers_fired', []):
                fired_items[(instance_id, item)] += 1
        # Bulk-loaded cases start at version 1; firing their one timer is their one write.
        rewritten = db.session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.version > 2))
        owners = db.session.scalar(select(func.count(func.distinct(Timer.claimed_by))).where(Timer.state == 'fired'))
        db.session.remove()
    lost = timers - states.get('fired', 0)
    doubled = sum(n - 1 for n in fired_items.values() if n > 1)
    return dict(lost=lost, doubled=doubled, rewritten=rewritten, audited=len(fired_items), owners=owners,
                states=states)


def run(args):
    database = Database(args.database_url)
    rng = random.Random(args.seed)
    extra_env = {}
    if args.claim_seconds is not None:
        extra_env['JIUZHU_CLAIM_SECONDS'] = str(args.claim_seconds)
    if args.batch is not None:
        extra_env['JIUZHU_SWEEP_BATCH'] = str(args.batch)
    try:
        app = make_app(database.url)
        due = datetime.now(timezone.utc) - timedelta(minutes=1)
        populate(app, [due] * args.timers, 0, None)
        assert waiting_count(app) == args.timers
        with tempfile.TemporaryDirectory(prefix='jiuzhu-drain-') as logdir:
            if args.keep_logs:
                logdir = args.keep_logs
                os.makedirs(logdir, exist_ok=True)
            started = time.monotonic()
            schedulers = Schedulers(database.url, 2, logdir, extra_env, verbose=bool(args.keep_logs))
            kills, drained, last_kill = 0, None, None
            # Kill while there is work left, at most --kills times and for at most --kill-seconds. Only a
            # process holding claims is a victim: one still starting up (~3 s) would strand nothing.
            while kills < args.kills and time.monotonic() - started < args.kill_seconds:
                time.sleep(args.every * rng.uniform(0.5, 1.5))      # a benchmark driving processes
                if not waiting_count(app):
                    break
                if schedulers.kill_one(rng, working_pids(app)):
                    kills += 1
                    last_kill = time.monotonic() - started
            killing = time.monotonic() - started
            left_after_kills = waiting_count(app)
            while time.monotonic() - started < args.max_seconds:
                if not waiting_count(app):
                    drained = time.monotonic() - started
                    break
                time.sleep(0.1)
            codes, stop_seconds = schedulers.stop(args.stop_timeout)
            tracebacks = sum(p.read_text(errors='replace').count('Traceback') for p in Path(logdir).glob('*.log'))
            spawned = schedulers.started
        result = outcome(app, args.timers)
        return dict(result, kills=kills, killing=killing, drained=drained, last_kill=last_kill,
                    left_after_kills=left_after_kills, codes=codes, stop_seconds=stop_seconds,
                    tracebacks=tracebacks, spawned=spawned)
    finally:
        database.drop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--database-url', help='PostgreSQL URL (default: SQLite in a temporary directory)')
    parser.add_argument('--timers', type=int, default=2000)
    parser.add_argument('--kills', type=int, default=50)
    parser.add_argument('--every', type=float, default=0.4, help='mean seconds between kills')
    parser.add_argument('--kill-seconds', type=float, default=180.0, help='stop killing after this long')
    parser.add_argument('--max-seconds', type=float, default=900.0, help='give up draining after this long')
    parser.add_argument('--stop-timeout', type=float, default=30.0, help='seconds a SIGTERM may take')
    parser.add_argument('--claim-seconds', type=float, help='JIUZHU_CLAIM_SECONDS for the schedulers')
    parser.add_argument('--batch', type=int, help='JIUZHU_SWEEP_BATCH for the schedulers')
    parser.add_argument('--keep-logs', metavar='DIR', help='keep the schedulers\' logs (at INFO) in DIR')
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args(argv)
    import logging
    logging.basicConfig(level=logging.WARNING)
    backend = 'PostgreSQL' if args.database_url else 'SQLite'
    print(f'jiuzhu drain under kill -9 — {backend}, {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}')
    r = run(args)
    drained = f'{r["drained"]:.1f} s' if r['drained'] is not None else f'not drained in {args.max_seconds:.0f} s'
    rate = f'{args.timers / r["drained"]:,.0f}' if r['drained'] else '-'
    print(f'   timers {args.timers:,}; kills {r["kills"]} (SIGKILL over {r["killing"]:.1f} s, '
          f'{r["spawned"]} scheduler processes started, {r["owners"]} of them fired timers)')
    print(f'   time to drain {drained}; fired per second {rate}')
    if r['last_kill'] is not None and r['drained'] is not None:
        print(f'   last kill at {r["last_kill"]:.1f} s with {r["left_after_kills"]:,} timers left; drained '
              f'{r["drained"] - r["last_kill"]:.1f} s after it')
    print(f'   lost {r["lost"]} (timer rows by state: {r["states"]}); doubled {r["doubled"]} '
          f'(audit: {r["audited"]} timers fired, {r["rewritten"]} cases written more than once)')
    print(f'   SIGTERM to the last two: exit codes {r["codes"]} after {r["stop_seconds"]:.1f} s; '
          f'tracebacks in scheduler logs: {r["tracebacks"]}')


if __name__ == '__main__':
    main()
