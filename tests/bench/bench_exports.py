"""The list exports at scale: where an export's time goes, reading the rows or writing the file.

    .venv/bin/python -m tests.bench.bench_exports --url postgresql://…/jiuzhu_bench [--runs 2]
        [--only cases.xlsx]

Each export is fetched through the real app (Flask test client, signed in through the login form)
as the role that would take it; the file writer (export.xlsx_bytes / csv_bytes) is timed inside the
request, so "rows" is everything else: the scoped batches of the list, building the rows, the audit
entry. Not collected by pytest; without --url it prints nothing.
"""
import argparse
import statistics
import sys
import time

from tests.bench.gen_cases import bench_app, sign_in

# (who, path): the exports bench_pages found slow at a million cases, and their csv twins.
EXPORTS = [
    ('cw_t05', '/cases/export.xlsx'), ('cw_t05', '/cases/export.csv'),
    ('cw_t05', '/tasks/export.xlsx'), ('cw_t05', '/tasks/export.csv'),
    ('cw_t05', '/tasks/export.xlsx?assigned=all'),
    ('sup', '/tasks/export.xlsx?assigned=all&township=t05'),
    ('sup', '/supervision/overdue.xlsx'), ('sup', '/supervision/overdue.csv'),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--url')
    parser.add_argument('--runs', type=int, default=2)
    parser.add_argument('--only', action='append', help='run only the exports whose path contains this')
    args = parser.parse_args(argv)
    if not args.url:
        return 0
    from service.web import export
    app = bench_app(args.url)
    spent = {}

    def timing(writer):
        def timed(*a, **k):
            t = time.perf_counter()
            body = writer(*a, **k)
            spent['write'] = time.perf_counter() - t
            spent['rows'] = len(a[2] if writer is original['xlsx'] else a[1])
            return body
        return timed
    original = {'xlsx': export.xlsx_bytes, 'csv': export.csv_bytes}
    export.xlsx_bytes, export.csv_bytes = timing(original['xlsx']), timing(original['csv'])
    clients = {}
    print(f'{"who":7} {"rows":>6} {"total":>8} {"reading":>8} {"writing":>8}  (ms, median of {args.runs})  path')
    try:
        for who, path in EXPORTS:
            if args.only and not any(o in path for o in args.only):
                continue
            if who not in clients:
                clients[who] = sign_in(app, who)[0]
            totals, writes = [], []
            for _ in range(args.runs):
                t = time.perf_counter()
                r = clients[who].get(path)
                totals.append(time.perf_counter() - t)
                writes.append(spent.get('write', 0))
                assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
            total, write = statistics.median(totals) * 1000, statistics.median(writes) * 1000
            print(f'{who:7} {spent.get("rows", 0):6d} {total:8.0f} {total - write:8.0f} {write:8.0f}  '
                  f'{len(r.data) // 1024:6d} kB  {path}', flush=True)
    finally:
        export.xlsx_bytes, export.csv_bytes = original['xlsx'], original['csv']
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
