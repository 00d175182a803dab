"""Load: N caseworkers completing tasks of many cases over HTTP against gunicorn + PostgreSQL + a scheduler.

    .venv/bin/python -m tests.bench.bench_load --database-url postgresql://… [--clients 12]
        [--cases 600] [--seconds 60] [--workers 4] [--http tcp|unix] [--gunicorn-args '--worker-class gthread --threads 2']

As deployed (deploy/: nginx to gunicorn and the app to a local PostgreSQL on Unix sockets):
`--http unix` and a URL `postgresql://…@/<database>?host=/var/run/postgresql`.

Everything runs on this machine, on loopback: gunicorn (deploy/gunicorn.conf.py, `--workers`
workers) and one `jiuzhu scheduler` process on a fresh PostgreSQL schema, and `--clients`
threads, each a caseworker with their own token and HTTP connection. A caseworker works
through their own share of the cases (tests/processes/bench_ten.bpmn, ten tasks each): list the
case's ready tasks, complete the first one with form data, next case. Bounded by `--seconds`.

Prints completions per second, the completion's latency (p50/p95/p99), errors by status, and
the CPU used meanwhile by gunicorn (master and workers), the scheduler, the PostgreSQL
backends serving this database (/proc; pg_stat_activity gives their pids) and this client itself
(the load generator shares the cores: its CPU per completion says what it takes from the server),
how busy the whole machine was and how much of that was other processes, and the load average. `--gunicorn-args` is passed to gunicorn as GUNICORN_CMD_ARGS,
over deploy/gunicorn.conf.py (sync workers there: the caseworkers' kept-alive connections are closed
after each answer and opened again by http.client, as nginx opens one per request).
With --database-url unset, SQLite in a temporary directory (one writer at a time: not what this is for).
"""
import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from service.extensions import db
from service.services import auth, repository, runtime, users

from ..conftest import PRODUCTION_KEYS
from .bench_timers import PROCESSES, ROOT, Database, make_app

BIN = Path(sys.executable).parent
FORM = {'note': '已核实', 'approved': True}
BODY = json.dumps({'data': FORM}).encode()    # the same body every time: encoded once


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def process_stat(pid):
    """The fields of /proc/<pid>/stat after the command's name (state, parent, …, user and system
    CPU at 11 and 12), or None once the process is gone."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()
    except OSError:
        return None


def cpu_seconds(pid):
    """User + system CPU of a process so far, 0 once it is gone."""
    fields = process_stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK') if fields else 0.0


def alive(pid):
    fields = process_stat(pid)
    return fields is not None and fields[0] != 'Z'


def machine_busy():
    """CPU seconds all cores have spent busy so far, and of them stolen by the hypervisor (/proc/stat:
    everything but idle and iowait; steal is the time a vCPU wanted to run and the host ran another)."""
    with open('/proc/stat') as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    tick = os.sysconf('SC_CLK_TCK')
    return (sum(fields[:8]) - fields[3] - fields[4]) / tick, fields[7] / tick


_SPEED_SAMPLE = {'tasks': {f'{i:08x}-0000-4000-8000-{i:012x}': {
    'id': f'{i:08x}', 'parent': f'{i - 1:08x}', 'children': [f'{i + 1:08x}'], 'state': 64, 'task_spec': f'u{i % 10}',
    'data': {'applicant': {'name': '申请人', 'members': [{'relation': '配偶', 'income': 1234.5}] * 3}, 'note': '已核实'},
    'internal_data': {}, 'last_state_change': 1764000000.0 + i} for i in range(40)}}


def machine_speed(trials=5, rounds=40):
    """CPU milliseconds this machine takes for a fixed piece of Python work shaped like a completion's
    own (JSON text to dicts and back, dicts and strings walked), the best of `trials`. The same code's
    CPU per completion moves with it: this 2-core VM shares its host, and the same build has taken
    from 7.4 to 14 ms of app CPU per completion on different hours of one day. It runs in this
    interpreter, gunicorn's too: between interpreters it compares their speed, not the host's."""
    best = float('inf')
    for _ in range(trials):
        c0 = time.process_time()
        for _ in range(rounds):
            tree = json.loads(json.dumps(_SPEED_SAMPLE, ensure_ascii=False))
            sum(len(t['task_spec']) + len(str(t['data'])) for t in tree['tasks'].values())
        best = min(best, time.process_time() - c0)
    return best * 1000


def children(pid):
    return [int(entry.name) for entry in Path('/proc').iterdir()
            if entry.name.isdigit() and (process_stat(entry.name) or [None, None])[1] == str(pid)]


def prepare(app, clients, cases):
    """Deploy bench_ten, add the caseworkers (tokens) and start the cases; returns (tokens, case ids)."""
    with app.app_context():
        repository.deploy({'bench_ten.bpmn': (PROCESSES / 'bench_ten.bpmn').read_bytes()}, 'bench')
        tokens = []
        for i in range(clients):
            user = users.add_user(f'cw{i:03d}', f'经办人{i}', 'township_caseworker', 't01', 'bench-pass-1234!',
                                  'bench')
            tokens.append(auth.issue_token(user)[0])
        ids = [runtime.start_instance('bench_ten', 't01', {'applicant': {'name': f'申请人{i}'}}, 'bench').id
               for i in range(cases)]
        db.session.commit()
        # A deployment's tables have statistics (autovacuum analyzes them as they grow); these were
        # made a moment ago, and without any the planner took the township's ordered list index for
        # a case's own tasks, reading every ready task of the township (0.33 ms a list, not 0.04).
        for table in db.metadata.sorted_tables:
            db.session.execute(text(f'ANALYZE "{table.name}"'))
        db.session.commit()
        db.session.remove()
    return tokens, ids


def start_processes(url, address, workers, logdir, gunicorn_args=''):
    env = dict(os.environ, GUNICORN_CMD_ARGS=gunicorn_args, DATABASE_URL=url, SECRET_KEY='bench-load', JIUZHU_CLOCK='real', JIUZHU_HOLIDAYS='',
               JIUZHU_FORMS_DIR=str(PROCESSES / 'forms'), JIUZHU_EMBEDDED_SCHEDULER='0',
               JIUZHU_BIND=f'unix:{address}' if isinstance(address, str) else f'127.0.0.1:{address}', JIUZHU_WORKERS=str(workers),
               **PRODUCTION_KEYS)   # the real clock is not demo mode: the keys the cases were written with
    web = subprocess.Popen([str(BIN / 'gunicorn'), '-c', str(ROOT / 'deploy' / 'gunicorn.conf.py'),
                            'service:create_app()'], cwd=ROOT, env=env,
                           stdout=open(Path(logdir) / 'web.log', 'wb'), stderr=subprocess.STDOUT)
    scheduler = subprocess.Popen([str(BIN / 'jiuzhu'), 'scheduler'], cwd=ROOT, env=env,
                                 stdout=open(Path(logdir) / 'scheduler.log', 'wb'), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    seen = None
    while time.monotonic() < deadline:
        try:
            conn = Connection(address)
            status, body = conn.request(b'GET', '/healthz', b'')
            conn.close()
            seen = (status, body[:300])
            if status == 200:
                return web, scheduler
        except (OSError, ValueError) as exc:
            seen = repr(exc)
        time.sleep(0.2)      # waiting for a server to come up, not a test
    web.terminate()
    scheduler.terminate()
    tail = (Path(logdir) / 'web.log').read_text(errors='replace')[-3000:]
    raise SystemExit(f'gunicorn did not answer at {address} (last: {seen}):\n{tail}')


class Connection:
    """A minimal HTTP/1.1 client on one loopback socket. The generator shares the server's two cores,
    so it should take as little as it can: http.client parses every answer's headers with the email
    package, which was most of the generator's CPU. The requests are all alike; an answer is read by
    its Content-Length (the API always sends one), and a closed connection is opened again."""

    def __init__(self, address):
        self.address, self.sock, self.buffer = address, None, b''

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b''

    def request(self, method, path, headers, body=b''):
        if self.sock is None:
            if isinstance(self.address, str):       # gunicorn's Unix socket (--http unix)
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.settimeout(30)
                self.sock.connect(self.address)
            else:
                self.sock = socket.create_connection(('127.0.0.1', self.address), timeout=30)
        self.sock.sendall(b'%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Length: %d\r\n\r\n%s'
                          % (method, path.encode(), headers, len(body), body))
        while b'\r\n\r\n' not in self.buffer:
            self._receive()
        head, _, rest = self.buffer.partition(b'\r\n\r\n')
        lowered = head.lower()
        found = lowered.find(b'\r\ncontent-length:')
        length = int(lowered[found + 17:lowered.find(b'\r\n', found + 2)]) if found >= 0 else 0
        self.buffer = rest
        while len(self.buffer) < length:
            self._receive()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if b'\r\nconnection: close' in lowered:
            self.close()
        return int(head[9:12]), body

    def _receive(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError('the server closed the connection')
        self.buffer += chunk


class Caseworker(threading.Thread):
    def __init__(self, address, token, case_ids, until):
        super().__init__(daemon=True)
        self.address, self.token, self.cases, self.until = address, token, list(case_ids), until
        self.latencies, self.errors, self.completed = [], Counter(), 0
        self.headers = f'Authorization: Bearer {token}\r\n'.encode()
        self.json_headers = self.headers + b'Content-Type: application/json\r\n'
        self.conn = Connection(address)

    def call(self, method, path, body=None):
        headers = self.headers if body is None else self.json_headers
        try:
            return self.conn.request(method, path, headers, body or b'')
        except (OSError, ValueError) as exc:
            self.conn.close()
            return type(exc).__name__, b''

    def complete_one(self, case_id):
        """List the case's ready tasks, complete the first one."""
        status, body = self.call(b'GET', f'/api/v1/tasks?instance_id={case_id}&per_page=5')
        if status != 200:
            self.errors[f'list {status}'] += 1
            return
        items = json.loads(body)['items']
        if not items:
            self.cases.remove(case_id)      # this case is done
            return
        started = time.perf_counter()
        status, _ = self.call(b'POST', f"/api/v1/tasks/{items[0]['id']}/complete", BODY)
        if status == 200:
            self.latencies.append(time.perf_counter() - started)
            self.completed += 1
        else:
            self.errors[f'complete {status}'] += 1

    def run(self):
        turn = 0
        while self.cases and time.monotonic() < self.until:
            case_id = self.cases[turn % len(self.cases)]
            turn += 1
            self.complete_one(case_id)
        self.conn.close()


def backend_pids(app):
    with app.app_context():
        pids = db.session.scalars(text('SELECT pid FROM pg_stat_activity WHERE datname = current_database() '
                                       'AND pid <> pg_backend_pid()')).all()
        db.session.remove()
    return pids


def rank(ordered, q):
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float('nan')


def run(args):
    database = Database(args.database_url)
    try:
        app = make_app(database.url, clock='real')
        tokens, ids = prepare(app, args.clients, args.cases)
        with tempfile.TemporaryDirectory(prefix='jiuzhu-load-') as logdir:
            address = str(Path(logdir) / 'web.sock') if args.http == 'unix' else free_port()
            web, scheduler = start_processes(database.url, address, args.workers, logdir, args.gunicorn_args)
            try:
                return measure(args, app, database, address, logdir, web, scheduler, tokens, ids)
            finally:
                # Inside the directory: gunicorn's master unlinks its socket there as it stops; with the
                # file gone first it fails, leaves without stopping its workers, and they held their
                # database connections into the next run.
                stop_processes(web, scheduler)
    finally:
        database.drop()


def stop_processes(web, scheduler):
    """Stop gunicorn (master and workers) and the scheduler, and wait until every one is gone."""
    pids = [web.pid] + children(web.pid)
    for proc in (web, scheduler):
        if proc.poll() is None:
            proc.terminate()
    for proc in (web, scheduler):
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 30
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)      # waiting for processes to exit, not a test
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def measure(args, app, database, address, logdir, web, scheduler, tokens, ids):
    """The run against started processes: a warm-up, the caseworkers for `args.seconds`, the figures."""
    # Warm up every worker outside the measured window: its caches (the process spec, forms,
    # statements) and the modules a completion imports on first use. Cases of their own, each
    # on a new connection so that the workers take turns (a kept-alive one stays with one).
    warm_ids, ids = ids[:args.workers * 3], ids[args.workers * 3:]
    for case_id in warm_ids:
        warm = Caseworker(address, tokens[0], [case_id], time.monotonic() + 30)
        warm.complete_one(case_id)
        warm.conn.close()
    web_pids = [web.pid] + children(web.pid)
    db_pids = backend_pids(app) if database.schema else []
    cpu_before = {p: cpu_seconds(p) for p in web_pids + [scheduler.pid] + db_pids}
    client_before = time.process_time()     # this process: the caseworkers' threads
    busy_before, steal_before = machine_busy()
    until = time.monotonic() + args.seconds
    share = [ids[i::args.clients] for i in range(args.clients)]
    workers = [Caseworker(address, tokens[i], share[i], until) for i in range(args.clients)]
    started = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join(args.seconds + 60)
    elapsed = time.monotonic() - started
    cpu_client = time.process_time() - client_before
    busy, steal = machine_busy()
    busy, steal = busy - busy_before, steal - steal_before
    db_pids = sorted(set(db_pids) | set(backend_pids(app) if database.schema else []))
    cpu = {p: cpu_seconds(p) - cpu_before.get(p, 0.0) for p in set(web_pids + [scheduler.pid] + db_pids)}
    web_log = (Path(logdir) / 'web.log').read_text(errors='replace')
    latencies = sorted(x for w in workers for x in w.latencies)
    errors = sum((w.errors for w in workers), Counter())
    return dict(elapsed=elapsed, completed=len(latencies), latencies=latencies, errors=errors,
                cpu_web=sum(cpu[p] for p in web_pids), cpu_scheduler=cpu[scheduler.pid],
                cpu_db=sum(cpu[p] for p in db_pids), cpu_client=cpu_client, busy=busy, steal=steal,
                tracebacks=web_log.count('Traceback'))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--database-url', help='PostgreSQL URL (default: SQLite in a temporary directory)')
    parser.add_argument('--clients', type=int, default=12, help='caseworkers (threads)')
    parser.add_argument('--cases', type=int, default=600, help='cases of ten tasks each')
    parser.add_argument('--seconds', type=float, default=60.0, help='how long the caseworkers work')
    parser.add_argument('--workers', type=int, default=4, help='gunicorn workers')
    parser.add_argument('--http', choices=['tcp', 'unix'], default='tcp',
                        help="how the caseworkers reach gunicorn: loopback TCP, or a Unix socket (as nginx does in "
                             "deploy/nginx.conf)")
    parser.add_argument('--gunicorn-args', default='', help="more gunicorn options (GUNICORN_CMD_ARGS), e.g. '--worker-class gthread --threads 2'")
    args = parser.parse_args(argv)
    backend = 'PostgreSQL' if args.database_url else 'SQLite'
    # The interpreter matters as much as the code: the same code on this machine took about 10 % less
    # app CPU per completion under Debian's /usr/bin/python3 than under a pyenv build (deploy/python.md).
    print(f'jiuzhu load — {backend}, {os.cpu_count()} CPU(s), Python {sys.version.split()[0]} '
          f'({os.path.realpath(sys.executable)}, gunicorn and the client alike): '
          f'{args.clients} caseworkers, {args.cases} cases, gunicorn {args.workers} workers + 1 scheduler, '
          f'{args.seconds:.0f} s, HTTP over {"a Unix socket" if args.http == "unix" else "loopback TCP"}'
          + (f', gunicorn {args.gunicorn_args}' if args.gunicorn_args else ''))
    load_before = os.getloadavg()
    speed_before = machine_speed()
    r = run(args)
    speed_after = machine_speed()
    lat = [x * 1000 for x in r['latencies']]
    rate = r['completed'] / r['elapsed']
    print(f'   completions {r["completed"]:,} in {r["elapsed"]:.1f} s: {rate:,.1f}/s '
          f'(each after a list of the case\'s ready tasks)')
    print(f'   completion latency p50 {rank(lat, .5):.1f} ms, p95 {rank(lat, .95):.1f} ms, p99 {rank(lat, .99):.1f} ms')
    print(f'   errors {sum(r["errors"].values())} {dict(r["errors"]) or ""}; tracebacks in the web log {r["tracebacks"]}')
    per = 1000 / max(1, r['completed'])
    print(f'   CPU: app (gunicorn) {r["cpu_web"]:.1f} s = {r["cpu_web"] * per:.1f} ms per completion; '
          f'PostgreSQL backends {r["cpu_db"]:.1f} s = {r["cpu_db"] * per:.1f} ms; scheduler {r["cpu_scheduler"]:.1f} s; '
          f'this client {r["cpu_client"]:.1f} s = {r["cpu_client"] * per:.1f} ms')
    ours = r['cpu_web'] + r['cpu_db'] + r['cpu_scheduler'] + r['cpu_client']
    print(f'   the machine: {r["busy"]:.1f} s of {os.cpu_count() * r["elapsed"]:.1f} s CPU busy, '
          f'{max(0.0, r["busy"] - ours):.1f} s of it by other processes (the figures compare only at a like share), '
          f'{r["steal"]:.1f} s stolen by the host; '
          'load average (1, 5, 15 min) before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}'.format(
              *load_before, *os.getloadavg()))
    print(f'   the machine\'s speed (tests.bench.bench_load.machine_speed, lower is faster): {speed_before:.1f} ms of CPU '
          f'before, {speed_after:.1f} ms after; compare runs only at like speeds')
    return 0 if not r['errors'] else 1


if __name__ == '__main__':
    sys.exit(main())
