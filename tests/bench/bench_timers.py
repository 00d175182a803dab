"""Timer sweep at scale: find and fire 10,000 due timers among 100,000 waiting, scheduler memory with
100,000 vs 1,000 waiting timers, and the delay between due time and firing in a running scheduler.

    .venv/bin/python -m tests.bench.bench_timers [--database-url postgresql://…] [--waiting 100000] [--due 10000]

Cheap cases: one real case of tests/processes/one_timer.bpmn is started through the services and
its serialized state is copied, with its own due time written into the waiting timer event, into
bulk-inserted case rows for the timers that will fire. Cases whose timers stay waiting get a
placeholder state, since the sweep only ever reads their timer row. SQLite in a temporary
directory by default; with --database-url each scenario gets its own PostgreSQL schema.
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, insert, select, text

from service import create_app
from service.extensions import db
from service.models import ProcessInstance, Timer
from service.scheduler.sweep import Sweeper, _due_condition
from service.services import repository, runtime

from ..conftest import PRODUCTION_KEYS

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / 'tests' / 'processes'
T0 = datetime(2026, 9, 28, 1, 0, tzinfo=timezone.utc)       # 09:00 in Shanghai
CHUNK = 5000


# -- databases ----------------------------------------------------------------------------------

class Database:
    """A fresh database for one scenario: a SQLite file, or a schema of the given PostgreSQL."""

    def __init__(self, pg_url=None):
        self.pg_url = pg_url
        self.schema = None
        if pg_url:
            from sqlalchemy import create_engine, text
            from service.config import database_uri
            self.schema = 'bench_' + uuid.uuid4().hex[:10]
            self._admin = create_engine(database_uri(pg_url, '.'), isolation_level='AUTOCOMMIT')
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA {self.schema}'))
            sep = '&' if '?' in pg_url else '?'
            self.url = f'{pg_url}{sep}options=-csearch_path%3D{self.schema}'
        else:
            self._dir = tempfile.TemporaryDirectory(prefix='jiuzhu-bench-')
            self.url = f'sqlite:///{self._dir.name}/bench.sqlite3'

    def drop(self):
        if self.schema:
            from sqlalchemy import text
            with self._admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA {self.schema} CASCADE'))
            self._admin.dispose()
        else:
            self._dir.cleanup()


def make_app(url, clock='manual', start=T0):
    return create_app({'DATABASE_URL': url, 'SECRET_KEY': 'bench', 'JIUZHU_CLOCK': clock,
                       'JIUZHU_CLOCK_START': start.isoformat() if clock == 'manual' else None,
                       'JIUZHU_HOLIDAYS': None, 'JIUZHU_FORMS_DIR': str(PROCESSES / 'forms'), **PRODUCTION_KEYS})


def populate(app, due_times, waiting, waiting_due):
    """Cases whose timers fire at `due_times` (real state), plus `waiting` cases due at `waiting_due`."""
    with app.app_context():
        repository.deploy({'one_timer.bpmn': (PROCESSES / 'one_timer.bpmn').read_bytes()}, 'bench')
        template = runtime.start_instance('one_timer', 't01', {}, 'bench')
        row = db.session.scalars(select(Timer).where(Timer.instance_id == template.id)).one()
        state, task_id, old_value = template.state, row.task_id, json.loads(template.state)['tasks'][row.task_id][
            'internal_data']['event_value']
        base = dict(definition_id=template.definition_id, process_key='one_timer', township='t01', status='running',
                    overdue=False, review_required=False, summary={}, started_by='bench', created_at=T0,
                    updated_at=T0, version=1)
        # The template case itself would fire too: it is not part of the figures.
        db.session.delete(row)
        db.session.commit()
        next_id = db.session.scalar(select(func.max(ProcessInstance.id))) + 1
        specs = [(due, True) for due in due_times] + [(waiting_due, False)] * waiting
        for lo in range(0, len(specs), CHUNK):
            cases, timers = [], []
            for offset, (due, real) in enumerate(specs[lo:lo + CHUNK]):
                case_id = next_id + lo + offset
                value = due.astimezone(timezone(timedelta(hours=8))).isoformat()
                cases.append(dict(base, id=case_id, state=state.replace(old_value, value) if real else '{}'))
                timers.append(dict(instance_id=case_id, task_id=task_id, bpmn_id='wait', name='等待一小时', kind='wait',
                                   township='t01', due_at=due, estimated=False, state='waiting', created_at=T0))
            db.session.execute(insert(ProcessInstance), cases)
            db.session.execute(insert(Timer), timers)
            db.session.commit()
        if db.engine.dialect.name == 'postgresql':
            # Explicit ids leave the sequence behind; the next case started normally would collide.
            db.session.execute(text("SELECT setval(pg_get_serial_sequence('process_instance', 'id'), "
                                    "(SELECT max(id) FROM process_instance))"))
            db.session.commit()
        # Rows inserted past the ORM's unit of work: the supervision counts are recounted, as after any bulk load.
        from service.services import figures
        figures.rebuild(db.session)
        db.session.commit()
        db.session.remove()


# -- 1. find and fire -------------------------------------------------------------------------------

class TimedSweeper(Sweeper):
    claim_seconds = 0.0
    first_claim = None

    def claim(self, now):
        started = time.perf_counter()
        try:
            return super().claim(now)
        finally:
            took = time.perf_counter() - started
            self.claim_seconds += took
            if self.first_claim is None:
                self.first_claim = took


def fire_scenario(pg_url, waiting, due):
    database = Database(pg_url)
    try:
        app = make_app(database.url)
        started = time.perf_counter()
        populate(app, [T0 + timedelta(hours=1)] * due, waiting - due, T0 + timedelta(days=30))
        built = time.perf_counter() - started
        app.extensions['jiuzhu.clock'].set(T0 + timedelta(hours=2))
        with app.app_context():
            now = app.extensions['jiuzhu.clock'].now()
            started = time.perf_counter()
            found = db.session.scalar(select(func.count()).select_from(Timer).where(
                *_due_condition(now, datetime.now(timezone.utc))))
            count_query = time.perf_counter() - started
            db.session.remove()
        sweeper = TimedSweeper(app)
        started = time.perf_counter()
        fired = sweeper.sweep()
        total = time.perf_counter() - started
        with app.app_context():
            left = db.session.scalar(select(func.count()).select_from(Timer).where(Timer.state == 'waiting'))
            db.session.remove()
        assert found == due and fired == due and left == waiting - due, (found, fired, left)
        return dict(built=built, count_query=count_query, first_claim=sweeper.first_claim,
                    claim_total=sweeper.claim_seconds, total=total, fired=fired)
    finally:
        database.drop()


# -- 2. memory ---------------------------------------------------------------------------------------

def _status_kb(field):
    # /proc, not getrusage: ru_maxrss survives exec, so a child would report its parent's peak.
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory_child(url, sweeps):
    """Run in a fresh interpreter: a scheduler process sweeping `sweeps` times; prints JSON."""
    app = make_app(url, start=T0 + timedelta(hours=2))
    sweeper = Sweeper(app)
    sweeper.next_wakeup()           # connections, statement caches: not what is measured
    rss_before = _status_kb('VmRSS')
    tracemalloc.start()
    fired = 0
    for _ in range(sweeps):
        fired += sweeper.sweep()
        sweeper.next_wakeup()
        app.extensions['jiuzhu.clock'].advance(seconds=1)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps(dict(fired=fired, peak=peak, current=current, rss_before=rss_before,
                          rss_after=_status_kb('VmRSS'), maxrss=_status_kb('VmHWM'))))


def memory_scenario(pg_url, waiting, due):
    database = Database(pg_url)
    try:
        populate(make_app(database.url), [T0 + timedelta(hours=1)] * due, waiting, T0 + timedelta(days=30))
        out = subprocess.run([sys.executable, '-m', 'tests.bench.bench_timers', '--memory-child', database.url],
                             cwd=ROOT, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        database.drop()


def _rank(ordered, q):
    """Nearest-rank percentile: a delay that really happened, never an interpolation."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# -- 3. delay ------------------------------------------------------------------------------------------

def delay_scenario(pg_url, timers, spread, waiting):
    from apscheduler.schedulers.background import BackgroundScheduler
    from service.scheduler.runner import TimerScheduler
    database = Database(pg_url)
    try:
        app = make_app(database.url, clock='real')
        populate(app, [], waiting, datetime.now(timezone.utc) + timedelta(days=30))
        # The timers that will fire are added last and fall due from 2 s on, so none is late before
        # the scheduler runs.
        lead = 2.0
        first = datetime.now(timezone.utc) + timedelta(seconds=lead)
        dues = [first + timedelta(seconds=spread * i / timers) for i in range(timers)]
        populate(app, dues, 0, None)
        if datetime.now(timezone.utc) > first:
            print('warning: the build took longer than the lead time; early timers are late', file=sys.stderr)
        scheduler = BackgroundScheduler()
        sweeping = TimerScheduler(app, scheduler, interval=30).install()
        scheduler.start()
        deadline = time.monotonic() + lead + spread + 10
        while time.monotonic() < deadline:
            with app.app_context():
                left = db.session.scalar(select(func.count()).select_from(Timer).where(
                    Timer.state == 'waiting', Timer.due_at < first + timedelta(days=1)))
                db.session.remove()
            if not left:
                break
            time.sleep(0.5)          # a benchmark watching a real scheduler, not a test
        sweeping.stop()         # never scheduler.shutdown(wait=True) directly: it can deadlock a sweep
        with app.app_context():
            rows = db.session.execute(select(Timer.due_at, Timer.fired_at).where(Timer.state == 'fired')).all()
            db.session.remove()
        delays = sorted((fired - due).total_seconds() * 1000 for due, fired in rows)
        return dict(fired=len(delays), expected=timers, p50=_rank(delays, 0.50), p99=_rank(delays, 0.99),
                    max=delays[-1])
    finally:
        database.drop()


# -- report --------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--database-url', help='PostgreSQL URL (default: SQLite in a temporary directory)')
    parser.add_argument('--waiting', type=int, default=100_000)
    parser.add_argument('--due', type=int, default=10_000)
    parser.add_argument('--delay-timers', type=int, default=500)
    parser.add_argument('--delay-spread', type=float, default=10.0, help='seconds over which they fall due')
    parser.add_argument('--only', default='fire,memory,delay', help='comma-separated scenarios to run')
    parser.add_argument('--memory-child', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, sweeps=5)
        return
    import logging
    logging.basicConfig(level=logging.WARNING)
    backend = 'PostgreSQL' if args.database_url else 'SQLite'
    print(f'jiuzhu timer benchmark — {backend}, {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}')

    only = set(args.only.split(','))
    if 'fire' in only:
        report_fire(args)
    if 'memory' in only:
        report_memory(args)
    if 'delay' in only:
        report_delay(args)


def report_fire(args):
    f = fire_scenario(args.database_url, args.waiting, args.due)
    print(f'\n1. {args.waiting:,} waiting timer rows, {args.due:,} of them due (build {f["built"]:.1f} s)')
    print(f'   {"count the due rows (one indexed query)":<44}{f["count_query"] * 1000:>10.1f} ms')
    print(f'   {"first claim batch (100 rows)":<44}{f["first_claim"] * 1000:>10.1f} ms')
    print(f'   {"all claims (find + mark)":<44}{f["claim_total"]:>10.2f} s')
    print(f'   {"sweep: find and fire all due":<44}{f["total"]:>10.2f} s   '
          f'{f["fired"] / f["total"]:,.0f} timers/s, {f["total"] / f["fired"] * 1000:.2f} ms each')


def report_memory(args):
    print(f'\n2. scheduler process memory, sweeping 1,000 due timers (5 sweeps, fresh interpreter)')
    print(f'   {"waiting rows":>14}{"tracemalloc peak":>20}{"RSS before":>14}{"RSS after":>14}{"peak RSS":>12}')
    for waiting in (1_000, args.waiting):
        m = memory_scenario(args.database_url, waiting, 1_000)
        assert m['fired'] == 1_000, m
        print(f'   {waiting:>14,}{m["peak"] / 1e6:>17.2f} MB{m["rss_before"] / 1024:>11.1f} MB'
              f'{m["rss_after"] / 1024:>11.1f} MB{m["maxrss"] / 1024:>9.1f} MB')


def report_delay(args):
    d = delay_scenario(args.database_url, args.delay_timers, args.delay_spread, args.waiting)
    print(f'\n3. running scheduler (real clock, 30 s interval, pulled forward to the next due time), '
          f'{args.delay_timers} timers due over {args.delay_spread:.0f} s among {args.waiting:,} waiting')
    print(f'   fired {d["fired"]}/{d["expected"]}; delay due → fired: p50 {d["p50"]:.0f} ms, '
          f'p99 {d["p99"]:.0f} ms, max {d["max"]:.0f} ms')


if __name__ == '__main__':
    main()
