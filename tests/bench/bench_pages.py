"""Every page and API list at scale, for every role: p50/max per page, flagging > 1 s and 5xx.

    .venv/bin/python -m tests.bench.bench_pages --url postgresql://…/jiuzhu_bench [--roles sup,cw_t05]
        [--runs 3] [--budget 6] [--deadline 900] [--only /cases] [--skip /reform]

Per role (sup, ver, admin, cw_t05, ld_t05, va_t05) it signs in through the login form and crawls
the pages from `/` by their links: every navigation page, each filter and second page a page links
to (at most --variants query strings per path), detail pages of a few cases, tasks, households,
incidents (at most --details per route), and the exports (each format once: an export is bounded
by exports.MAX_ROWS, and run once, not repeated). Then, with a bearer token, every GET of the
OpenAPI spec: paths with parameters filled from ids the lists answered. Pages of the app's URL map
the crawl never reached are printed at the end (a role may not see them; that is not a fault).

A page is fetched once to warm (caches, the first plan), then up to --runs times within --budget
seconds; the whole run stops at --deadline seconds. Requests go through the real app (Flask test
client): authentication, queries, templates. Not collected by pytest; without --url it prints nothing.
"""
import argparse
import re
import statistics
import sys
import time
from collections import defaultdict
from urllib.parse import urlsplit

from tests.bench.gen_cases import bench_app, sign_in

ROLES = ('sup', 'ver', 'admin', 'cw_t05', 'ld_t05', 'va_t05')
SLOW_MS = 1000
# Never followed: they change something, end the session, or are static files.
SKIP = ('/static', '/logout', '/vendor', '/clock', '/password', '/login')
EXPORT = re.compile(r'\.(xlsx|csv|pdf|zip|docx)$')


def template_of(path):
    """The route a path belongs to: ids replaced, so detail pages are counted per route."""
    return re.sub(r'/\d+', '/<id>', re.sub(r'/[0-9a-f]{8}-[0-9a-f-]{27,}', '/<uuid>', path))


def endpoint_of(app, path):
    try:
        return app.url_map.bind('localhost').match(path, method='GET')[0]
    except Exception:   # noqa: BLE001 (a redirect or an unknown path: not a page of its own)
        return None


class Clock:
    def __init__(self, seconds):
        self.end = time.perf_counter() + seconds

    def out(self):
        return time.perf_counter() > self.end


class Results:
    def __init__(self):
        self.rows = []

    def add(self, who, url, times, status, size):
        slow = max(times) > SLOW_MS
        flag = '  <<< 5xx' if status >= 500 else '  <<< SLOW' if slow else ''
        self.rows.append((who, url, times, status, flag))
        print(f'{who:7} {status} {statistics.median(times):8.0f} {max(times):8.0f} ms n={len(times):<2} '
              f'{size // 1024:6d} kB  {url}{flag}', flush=True)

    def summary(self):
        bad = [r for r in self.rows if r[4] or max(r[2]) > 500]
        print(f'\n{len(self.rows)} requests timed; over 500 ms or failing: {len(bad)}')
        for who, url, times, status, flag in sorted(bad, key=lambda r: -max(r[2])):
            print(f'{who:7} {status} p50 {statistics.median(times):8.0f} max {max(times):8.0f} ms  {url}{flag}')


def timed(fetch, runs, budget):
    """(times in ms, status, size): the first fetch is the warm one, unless it alone took the budget."""
    t = time.perf_counter()
    status, size = fetch()
    first = (time.perf_counter() - t) * 1000
    if status >= 400 or first > budget * 1000 / 2:
        return [first], status, size
    times, started = [], time.perf_counter()
    for _ in range(runs):
        t = time.perf_counter()
        status, size = fetch()
        times.append((time.perf_counter() - t) * 1000)
        if time.perf_counter() - started > budget:
            break
    return times, status, size


def crawl(web, who, args, results, clock, reached):
    seen, todo = set(), ['/']
    per_template = defaultdict(int)
    while todo and not clock.out():
        url = todo.pop(0)
        if url in seen:
            continue
        seen.add(url)
        path = urlsplit(url).path
        reached.add(endpoint_of(web.application, path))
        export = bool(EXPORT.search(path))
        holder = {}

        def fetch():
            r = web.get(url)
            holder['r'] = r
            return r.status_code, len(r.data)
        if export:   # bounded by exports.MAX_ROWS; once is enough to see its cost
            t = time.perf_counter()
            status, size = fetch()
            times = [(time.perf_counter() - t) * 1000]
        else:
            times, status, size = timed(fetch, args.runs, args.budget)
        results.add(who, url, times, status, size)
        r = holder['r']
        if 300 <= status < 400 and r.location:
            todo.append(urlsplit(r.location)._replace(scheme='', netloc='').geturl())
            continue
        if r.mimetype != 'text/html' or status >= 300:
            continue
        for href in re.findall(r'href="(/[^"#]*)"', r.get_data(as_text=True)):
            href = href.replace('&amp;', '&')
            hpath = urlsplit(href).path
            if hpath.startswith(SKIP) or href in seen or href in todo:
                continue
            if args.skip and any(s in href for s in args.skip):
                continue
            htpl = template_of(hpath)
            limit = args.details if htpl != hpath else args.variants
            key = htpl if htpl != hpath else hpath
            if per_template[key] >= limit:
                continue
            per_template[key] += 1
            todo.append(href)


def fill_path(path, ids):
    """An API path with its parameters filled from ids seen in list answers, or None."""
    missing = []

    def sub(m):
        name = m.group(1)
        value = ids.get(name) or ids.get(name.split('_')[0] + '_id')
        if value is None:
            missing.append(name)
            return m.group(0)
        return str(value)
    filled = re.sub(r'\{(\w+)\}', sub, path)
    return None if missing else filled


# Path parameters the lists do not hand out.
FIXED = {'list_name': 'tasks'}


def query_variants(operation, limit):
    """One query string per filter of a GET: each value of an enum, a boolean true, township t05, page 3."""
    out = []
    for param in operation.get('parameters', []):
        if param.get('in') != 'query':
            continue
        name, schema = param['name'], param.get('schema', {})
        if schema.get('enum'):
            out += [f'{name}={value}' for value in schema['enum']]
        elif schema.get('type') == 'boolean':
            out.append(f'{name}=true')
        elif name == 'township':
            out.append('township=t05')
        elif name == 'page':
            out.append('page=3')
    return out[:limit]


def harvest(path, body, ids):
    """Ids for the detail paths from a list's answer: the first item's id, named after the list."""
    items = body.get('items') if isinstance(body, dict) else body if isinstance(body, list) else None
    if not items or not isinstance(items[0], dict):
        return
    first = items[0]
    last = path.rstrip('/').split('/')[-1].replace('-', '_')
    if 'id' in first:
        ids.setdefault(last.rstrip('s') + '_id', first['id'])
        if last == 'process_definitions':
            ids.setdefault('definition_id', first['id'])
        if last == 'spot_checks':
            ids.setdefault('draw_id', first['id'])
    for key in ('instance_id', 'household_id', 'draw_id'):
        if first.get(key):
            ids.setdefault(key, first[key])


def api_round(app, token, who, args, results, clock):
    api = app.test_client()
    headers = {'Authorization': f'Bearer {token}'}
    spec = api.get('/api/v1/openapi.json').json
    paths = sorted(p for p, ops in spec['paths'].items() if 'get' in ops)
    ids = dict(FIXED)

    def timed_get(url):
        holder = {}

        def fetch():
            r = api.get(url, headers=headers)
            holder['r'] = r
            return r.status_code, len(r.data)
        times, status, size = timed(fetch, args.runs, args.budget)
        results.add(who, url, times, status, size)
        return holder['r'].get_json(silent=True)
    # Lists first (their answers hand out the ids the detail paths need), then the detail paths.
    for path in sorted(paths, key=lambda p: ('{' in p, p)):
        if clock.out():
            return
        if args.only and not any(o in path for o in args.only):
            continue
        full = path if path.startswith('/api/v1') else '/api/v1' + path
        url = fill_path(full, ids)
        if url is None:
            print(f'{who:7} ---      (no id for {path})', flush=True)
            continue
        body = timed_get(url)
        harvest(path, body, ids)
        if '{' in path:
            continue
        if isinstance(body, dict) and body.get('next') and not clock.out():
            timed_get(f'{url}?cursor={body["next"]}')
        for query in query_variants(spec['paths'][path]['get'], args.variants * 3):
            if clock.out():
                return
            body = timed_get(f'{url}?{query}')
            if isinstance(body, dict) and body.get('next') and 'page=' not in query and not clock.out():
                timed_get(f'{url}?{query}&cursor={body["next"]}')


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--url', help='postgresql://… of a database filled by tests.bench.gen_cases')
    parser.add_argument('--roles', default=','.join(ROLES))
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--budget', type=float, default=6.0, help='seconds at most per page')
    parser.add_argument('--deadline', type=float, default=1800.0, help='seconds at most for the whole run')
    parser.add_argument('--variants', type=int, default=4, help='query strings followed per path')
    parser.add_argument('--details', type=int, default=3, help='detail pages followed per route')
    parser.add_argument('--only', action='append', help='API paths containing this (repeatable)')
    parser.add_argument('--skip', action='append', default=[], help='never follow links containing this')
    parser.add_argument('--no-pages', action='store_true')
    parser.add_argument('--no-api', action='store_true')
    args = parser.parse_args(argv)
    if not args.url:
        print('bench_pages: needs --url of a database filled by tests.bench.gen_cases; skipped')
        return 0
    app = bench_app(args.url)
    results, clock, reached = Results(), Clock(args.deadline), set()
    print(f'{"role":7} {"HTTP"} {"p50":>8} {"max":>8}')
    for who in args.roles.split(','):
        web, token = sign_in(app, who)
        if not args.no_pages:
            crawl(web, who, args, results, clock, reached)
        if not args.no_api:
            api_round(app, token, who, args, results, clock)
    if not args.no_pages:
        routes = {r.endpoint: r.rule for r in app.url_map.iter_rules()
                  if 'GET' in r.methods and not r.rule.startswith(('/api/', '/static', '/vendor'))}
        missed = sorted(rule for endpoint, rule in routes.items() if endpoint not in reached)
        print(f'\npage routes never reached by any role\'s links ({len(missed)}): ' + ', '.join(missed))
    results.summary()
    if clock.out():
        print(f'stopped at the deadline ({args.deadline:.0f} s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
