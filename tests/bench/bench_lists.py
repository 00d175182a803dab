"""The lists of the API and the pages at scale: p50/p95 per list, through the real app (Flask test client).

    .venv/bin/python -m tests.bench.gen_cases --url postgresql://…/jiuzhu_bench --create   # 1 M cases
    .venv/bin/python -m tests.bench.gen_audit --url postgresql://…/jiuzhu_bench            # their audit log
    .venv/bin/python -m tests.bench.gen_households --url postgresql://…/jiuzhu_bench       # the register
    .venv/bin/python -m tests.bench.bench_lists --url postgresql://…/jiuzhu_bench [--runs 20]

Signs in as the generator's caseworker of t05 (`cw_t05`) and county supervisor (`sup`), over the
API with a bearer token and on the pages with a session cookie, and times each list's first page
and the page after it (by the `next` cursor where the API hands one out, else page=2). Every
request is a full request: authentication, the queries, serialization or the template. A list
that takes long is measured fewer times (at most --budget seconds each). Not collected by pytest;
without --url it prints nothing (`make bench` runs without a database).
"""
import argparse
import statistics
import sys
import time

from tests.bench.gen_cases import bench_app, sign_in

API = [
    ('caseworker GET /api/v1/tasks?mine=true', 'cw', '/api/v1/tasks?mine=true'),
    ('caseworker GET /api/v1/tasks (group, unclaimed)', 'cw', '/api/v1/tasks?group=true&unassigned=true'),
    ('supervisor GET /api/v1/tasks (by due)', 'sup', '/api/v1/tasks'),
    ('supervisor GET /api/v1/instances?status=completed', 'sup', '/api/v1/instances?status=completed'),
    ('supervisor GET /api/v1/instances?status=running&overdue=true', 'sup',
     '/api/v1/instances?status=running&overdue=true'),
    ('supervisor GET /api/v1/timers', 'sup', '/api/v1/timers'),
    ('supervisor GET /api/v1/timers?state=waiting&township=t05', 'sup', '/api/v1/timers?state=waiting&township=t05'),
    # The audit log (tests/bench/gen_audit.py: 7 rows a case): by a rare action, a person, both (migration 0033).
    ('supervisor GET /api/v1/audit?action=deploy', 'sup', '/api/v1/audit?action=deploy'),
    ('supervisor GET /api/v1/audit?actor=cw_t05', 'sup', '/api/v1/audit?actor=cw_t05'),
    ('supervisor GET /api/v1/audit?actor=ld_t05&action=start', 'sup', '/api/v1/audit?actor=ld_t05&action=start'),
    # The household register (tests/bench/gen_households.py: one per completed case, 600,000).
    ('caseworker GET /api/v1/households', 'cw', '/api/v1/households'),
    ('supervisor GET /api/v1/households?status=suspended', 'sup', '/api/v1/households?status=suspended'),
]
PAGES = [
    ('caseworker page /tasks', 'cw', '/tasks'),
    # The inbox's cases awaiting the verification centre's report, oldest change first (migration 0031).
    ('verifier page /tasks (cases awaiting the report)', 'ver', '/tasks'),
    ('supervisor page /cases?status=completed', 'sup', '/cases?status=completed'),
    ('supervisor page /households', 'sup', '/households'),
    ('supervisor page /supervision?township=t05', 'sup', '/supervision?township=t05'),
    ('supervisor page /supervision', 'sup', '/supervision'),
]


def timed(fn, runs, budget):
    times, started = [], time.perf_counter()
    fn()   # warm: caches, the first plan
    status = None
    for _ in range(runs):
        t = time.perf_counter()
        status = fn()
        times.append((time.perf_counter() - t) * 1000)
        if time.perf_counter() - started > budget:
            break
    return times, status


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(name, times, status, size=None):
    extra = f'  {size / 1024:,.0f} kB' if size else ''
    print(f'{name:<62} {statistics.median(times):>9,.1f} {pct(times, 95):>9,.1f} ms  n={len(times):<3} '
          f'HTTP {status}{extra}', flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--url', help='postgresql://… of a database filled by tests.bench.gen_cases')
    parser.add_argument('--runs', type=int, default=20)
    parser.add_argument('--budget', type=float, default=20.0, help='seconds at most per list')
    parser.add_argument('--only', help='only the lists whose name contains this')
    args = parser.parse_args(argv)
    if not args.url:
        print('bench_lists: needs --url of a database filled by tests.bench.gen_cases; skipped')
        return 0
    app = bench_app(args.url)
    users = {'cw': 'cw_t05', 'sup': 'sup', 'ver': 'ver'}
    tokens, pages = {}, {}
    for key, username in users.items():
        pages[key], tokens[key] = sign_in(app, username)
    api = app.test_client()
    print(f'{"list":<62} {"p50":>9} {"p95":>9}')
    for name, who, url in API:
        if args.only and args.only not in name:
            continue
        headers = {'Authorization': f'Bearer {tokens[who]}'}
        first = api.get(url, headers=headers)
        body = first.json or {}
        times, status = timed(lambda: api.get(url, headers=headers).status_code, args.runs, args.budget)
        report(name, times, status)
        if first.status_code != 200:
            continue
        nxt = body.get('next')
        sep = '&' if '?' in url else '?'
        second = f'{url}{sep}cursor={nxt}' if nxt else f'{url}{sep}page=2'
        times, status = timed(lambda: api.get(second, headers=headers).status_code, args.runs, args.budget)
        report(f'  … next page ({"cursor" if nxt else "page=2"}); total {body.get("total")}'
               f'{"+" if body.get("total_capped") else ""}', times, status)
    for name, who, url in PAGES:
        if args.only and args.only not in name:
            continue
        client = pages[who]
        size = len(client.get(url).get_data())
        times, status = timed(lambda: client.get(url).status_code, args.runs, args.budget)
        report(name, times, status, size)
    return 0


if __name__ == '__main__':
    sys.exit(main())
