"""The HTTP layer around a completion, in one process: what a list and a completion cost outside the write.

    .venv/bin/python -m tests.bench.bench_request [--database-url postgresql://…] [--cases 60]
        [--profile list|complete] [--top 40]

The request pair of tests/bench/bench_load.py — `GET /api/v1/tasks?instance_id=<case>&per_page=5`,
then `POST /api/v1/tasks/<id>/complete` with the form data — through Flask's test client against
an app built as gunicorn builds it (real clock, production keys), on a fresh schema of the given
PostgreSQL (or SQLite). Each request starts with an empty session, as under gunicorn. Prints the
median and p90 time of each request, the CPU it took in this process (the database's is apart:
that is what 2 cores share under load), its statements and pool checkouts, and the write path's own
share of a completion (services/write.write_case, timed around the call); `--profile` runs cProfile
over the chosen request and prints the functions by own time and by cumulative time.
"""
import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time

from sqlalchemy import event

from service.extensions import db
from service.heap import freeze_startup_heap
from service.services import auth, repository, runtime, users

from .bench_timers import PROCESSES, Database, make_app

FORM = {'note': '已核实', 'approved': True}     # bench_ten's form (tests/processes/forms/note.schema.json)


class Counter:
    def __init__(self, engine):
        self.statements = self.checkouts = 0
        event.listen(engine, 'before_cursor_execute', self._statement)
        event.listen(engine.pool, 'checkout', self._checkout)

    def _statement(self, *args):
        self.statements += 1

    def _checkout(self, *args):
        self.checkouts += 1

    def take(self):
        out = (self.statements, self.checkouts)
        self.statements = self.checkouts = 0
        return out


class Parts:
    """CPU spent in named parts of a request (functions wrapped where the request looks them up)."""

    def __init__(self):
        self.kind, self.cpu, self.wall, self._undo, self._inside = None, {}, {}, [], set()

    def wrap(self, name, owner, attr):
        original = getattr(owner, attr)

        def wrapper(*args, **kwargs):
            if self.kind is None or name in self._inside:      # not measured, or nested (Nested dumps)
                return original(*args, **kwargs)
            self._inside.add(name)
            c0, t0 = time.process_time(), time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self._inside.discard(name)
                key = (self.kind, name)
                self.cpu[key] = self.cpu.get(key, 0.0) + time.process_time() - c0
                self.wall[key] = self.wall.get(key, 0.0) + time.perf_counter() - t0
        setattr(owner, attr, wrapper)
        self._undo.append((owner, attr, original))

    def undo(self):
        for owner, attr, original in reversed(self._undo):
            setattr(owner, attr, original)


def wrap_parts(parts):
    import marshmallow
    import webargs.core
    from service.services import auth as auth_service, cases, forms, tasks as task_service
    parts.wrap('auth: bearer token, session row', auth_service, 'user_from_bearer')
    parts.wrap('query arguments, body (webargs)', webargs.core.Parser, 'parse')
    parts.wrap('task list query (services.cases.list_tasks)', cases, 'list_tasks')
    parts.wrap('task row + exclusion + version (cases._task)', cases, '_task')
    parts.wrap('form: load, carry, validate', forms, 'task_form')
    parts.wrap('form: load, carry, validate', forms, 'carry_case_values')
    parts.wrap('form: load, carry, validate', forms, 'validate')
    parts.wrap('write path (write.write_case)', task_service, 'write_case')
    parts.wrap('answer: marshmallow dump', marshmallow.Schema, 'dump')
    parts.wrap('session end (rollback, pool return)', db.session, 'remove')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--database-url', help='PostgreSQL URL (a fresh schema is made and dropped); default SQLite')
    parser.add_argument('--cases', type=int, default=60, help='cases of ten tasks each (one completion per case per round)')
    parser.add_argument('--rounds', type=int, default=8, help='list+complete rounds over every case (≤ 10)')
    parser.add_argument('--profile', choices=['list', 'complete'], help='cProfile this request')
    parser.add_argument('--top', type=int, default=35)
    parser.add_argument('--profile-out', help='also write the profile here (pstats format)')
    args = parser.parse_args(argv)
    database = Database(args.database_url)
    try:
        app = make_app(database.url, clock='real')
        with app.app_context():
            repository.deploy({'bench_ten.bpmn': (PROCESSES / 'bench_ten.bpmn').read_bytes()}, 'bench')
            user = users.add_user('bench_cw', '经办人', 'township_caseworker', 't01', 'bench-pass-1234!', 'bench')
            headers = {'Authorization': f'Bearer {auth.issue_token(user)[0]}'}
            ids = [runtime.start_instance('bench_ten', 't01', {'applicant': {'name': f'申请人{i}'}}, 'bench').id
                   for i in range(args.cases)]
            db.session.remove()
            counter = Counter(db.engine)
        freeze_startup_heap()      # as a gunicorn worker does once it has built its app (deploy/gunicorn.conf.py)
        client = app.test_client()
        parts = Parts()
        wrap_parts(parts)
        # CPU time, not wall time: waiting for the database is not what the two cores run out of.
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        times = {'list': [], 'complete': []}
        cpu = {'list': [], 'complete': []}
        counts = {'list': set(), 'complete': set()}
        try:
            for rnd in range(min(args.rounds, 10)):
                for case_id in ids:
                    for kind in ('list', 'complete'):
                        if kind == 'list':
                            call = lambda: client.get(f'/api/v1/tasks?instance_id={case_id}&per_page=5',  # noqa: E731
                                                      headers=headers)
                        else:
                            call = lambda: client.post(f'/api/v1/tasks/{task_id}/complete',  # noqa: E731
                                                       json={'data': FORM}, headers=headers)
                        counter.take()
                        measured = rnd > 0        # the first round warms the caches (spec, forms, statements)
                        if profiler and measured and kind == args.profile:
                            profiler.enable()
                        parts.kind = kind if measured else None
                        c0, t0 = time.process_time(), time.perf_counter()
                        r = call()
                        spent, used = time.perf_counter() - t0, time.process_time() - c0
                        parts.kind = None
                        if profiler:
                            profiler.disable()
                        assert r.status_code == 200, (kind, r.status_code, r.json)
                        if measured:
                            times[kind].append(spent)
                            cpu[kind].append(used)
                            counts[kind].add(counter.take())
                        if kind == 'list':
                            task_id = r.json['items'][0]['id']
        finally:
            parts.undo()
    finally:
        database.drop()

    backend = 'PostgreSQL' if args.database_url else 'SQLite'
    print(f'HTTP layer, one process (Flask test client), {backend}: {args.cases} cases, '
          f'{len(times["list"])} lists and completions timed')
    for kind in ('list', 'complete'):
        values = times[kind]
        shapes = ', '.join(f'{s} statements / {c} checkout(s)' for s, c in sorted(counts[kind]))
        print(f'   {kind:9s} median {statistics.median(values) * 1000:6.2f} ms  '
              f'p90 {statistics.quantiles(values, n=10)[-1] * 1000:6.2f} ms  '
              f'CPU of this process: mean {statistics.mean(cpu[kind]) * 1000:6.2f} ms   {shapes}')
    n = len(times['list'])
    print('   CPU per request by part (mean ms; the rest: Flask, werkzeug, the test client, JSON):')
    for kind in ('list', 'complete'):
        total = statistics.mean(cpu[kind]) * 1000
        found = sorted(((v * 1000 / n, name) for (k, name), v in parts.cpu.items() if k == kind), reverse=True)
        shown = ', '.join(f'{name} {v:.2f}' for v, name in found if v >= 0.005)
        print(f'     {kind}: {total:.2f} = {shown}, rest {total - sum(v for v, _ in found):.2f}')
    wc = parts.cpu.get(('complete', 'write path (write.write_case)'), 0.0) * 1000 / n
    outside = statistics.mean(cpu['list']) * 1000 + statistics.mean(cpu['complete']) * 1000 - wc
    print(f'   list + completion outside the write path: {outside:.2f} ms CPU (the write path: {wc:.2f} ms)')
    if profiler and args.profile_out:
        profiler.dump_stats(args.profile_out)
    if profiler:
        for key in ('tottime', 'cumulative'):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(args.top)
            print(out.getvalue())
    return 0


if __name__ == '__main__':
    sys.exit(main())
