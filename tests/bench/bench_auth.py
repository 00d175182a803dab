"""What a signed-in request costs: the session lookup (one read per request, a write per minute).

    .venv/bin/python -m tests.bench.bench_auth [--requests 2000]

Prints the median and 95th percentile CPU time (process time: steady on a busy two-core machine,
unlike wall time) of GET /api/v1/users/me with a bearer token and GET /tasks with a web session,
in process on SQLite, plus the SQL statements one API request issues.
"""
import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event
from werkzeug.security import generate_password_hash

from service import create_app
from service.extensions import db
from service.services import auth, users


def _measure(call, n):
    for _ in range(50):
        assert call().status_code == 200
    times = []
    for _ in range(n):
        start = time.process_time()
        response = call()
        times.append(time.process_time() - start)
        assert response.status_code == 200
    times.sort()
    return statistics.median(times) * 1000, times[int(n * 0.95)] * 1000


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--requests', type=int, default=2000)
    args = parser.parse_args(argv)
    users.hash_password = lambda pw: generate_password_hash(pw, method='pbkdf2:sha256:1000')
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({'TESTING': True, 'DATABASE_URL': f'sqlite:///{Path(tmp) / "bench.sqlite3"}',
                          'SECRET_KEY': 'bench', 'JIUZHU_CLOCK': 'manual'})
        with app.app_context():
            users.add_user('cw1', 'cw1', 'township_caseworker', 't01', 'secret-pass-1', 'bench')
            token, _ = auth.issue_token(auth.find_user('cw1'))
            engine = db.engine
        api = app.test_client()
        headers = {'Authorization': f'Bearer {token}'}
        web = app.test_client()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', web.get('/login').get_data(as_text=True)).group(1)
        web.post('/login', data={'username': 'cw1', 'password': 'secret-pass-1', 'csrf_token': csrf})

        statements = []
        listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
        event.listen(engine, 'before_cursor_execute', listener)
        api.get('/api/v1/users/me', headers=headers)
        event.remove(engine, 'before_cursor_execute', listener)
        print(f'SQL statements for GET /api/v1/users/me: {len(statements)}')
        for name, call in (('GET /api/v1/users/me (bearer)', lambda: api.get('/api/v1/users/me', headers=headers)),
                           ('GET /tasks (web session)', lambda: web.get('/tasks'))):
            median, p95 = _measure(call, args.requests)
            print(f'{name}: CPU median {median:.2f} ms, p95 {p95:.2f} ms ({args.requests} requests)')
        with app.app_context():
            db.engine.dispose()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
