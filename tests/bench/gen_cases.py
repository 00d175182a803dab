"""Bulk-load N cases in the shape the write path makes, with PostgreSQL COPY (minutes, not hours).

    createdb jiuzhu_bench   # or let --create do it
    .venv/bin/python -m tests.bench.gen_cases --url postgresql://jiuzhu:…@127.0.0.1:5432/jiuzhu_bench \
        [--cases 1000000] [--create]

How the shape is found: the real processes are deployed and one real dibao_a case is driven
through the services (tests/flow_helpers) to three points — just started, waiting for the
decision, completed. At each point its state blob, task rows and timer rows are copied as
templates. Every generated case is one of these templates, on dibao_a's definition (its state fits
no other process), with its own ids, township (t01..t20), times, assignees and status:

    running 30 % (of which a third early, two thirds waiting for the decision; 15 % of these overdue),
    completed 60 %, terminated 8 %, incident 1 %, suspended 1 %.

Users: per township a caseworker, a leader, a village assistant and a surveyor (cw_t05, ...), plus
county supervisor `sup`, verifier `ver` and admin `admin`, all with password BENCH_PASSWORD.
The templates go in with COPY (psycopg); the N cases are then made from them inside PostgreSQL
(INSERT … SELECT over generate_series, 100,000 cases per transaction), so no case row crosses the
wire. Indexes of the three big tables are dropped while loading and rebuilt after, then VACUUM ANALYZE.
"""
import argparse
import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
TOWNSHIPS = [f't{n:02d}' for n in range(1, 21)]
BENCH_PASSWORD = 'bench-password-2026'
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
BIG_TABLES = ('process_instance', 'task', 'timer')
STAFF = (('cw', 'township_caseworker'), ('ld', 'township_leader'), ('va', 'village_assistant'),
         ('sv', 'township_caseworker'))


def sqlalchemy_url(url):
    return url.replace('postgresql://', 'postgresql+psycopg://', 1) if url.startswith('postgresql://') else url


def bench_keys():
    """The generated database holds personal data under the public demo keys (the generator runs on the
    manual clock, which is demo mode); a benchmark on the real clock names the same keys explicitly."""
    import base64
    from service import crypto
    encode = lambda key: base64.b64encode(key).decode()   # noqa: E731
    return {'JIUZHU_DATA_KEYS': f'{crypto.DEMO_ID}:{encode(crypto._DEMO_DATA_KEY)}',
            'JIUZHU_SEARCH_KEY': encode(crypto._DEMO_SEARCH_KEY)}


def bench_app(url):
    """The app on a generated database, on the real clock (the benchmarks that read it)."""
    from service import create_app
    return create_app({'DATABASE_URL': sqlalchemy_url(url), 'SECRET_KEY': 'bench', 'JIUZHU_CLOCK': 'real',
                       **bench_keys()})


def sign_in(app, username):
    """(a client signed in on the pages through the login form, a bearer token for the API)."""
    import re
    web = app.test_client()
    html = web.get('/login', follow_redirects=True).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    r = web.post('/login', data={'username': username, 'password': BENCH_PASSWORD, 'csrf_token': csrf})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    token = app.test_client().post('/api/v1/auth/token', json={'username': username, 'password': BENCH_PASSWORD})
    assert token.status_code == 200, token.get_data(as_text=True)[:500]
    return web, token.json['token']


def make_app(url):
    from service import create_app
    return create_app({'DATABASE_URL': url, 'SECRET_KEY': 'bench', 'JIUZHU_CLOCK': 'manual',
                       'JIUZHU_CLOCK_START': '2026-09-28T09:00:00+08:00'})


# ------------------------------------------------------------------ templates from a real case

def _rows(model, instance_id):
    from service.extensions import db
    table = model.__table__
    out = []
    for row in db.session.execute(select(table).where(table.c.instance_id == instance_id).order_by(table.c.id)):
        out.append(dict(row._mapping))
    return out


def capture_templates():
    """Drive one dibao_a case through the real services; its rows at three points, as templates."""
    from service.extensions import db
    from service.models import ProcessInstance, Task, Timer
    from service.services import runtime
    from tests.flow_helpers import APPLICATION, COMPLETE, NOTICE, SURVEY, do, pre_verify
    from tests.test_flow_dibao_a import decision

    def snap(case):
        db.session.expire_all()
        inst = dict(db.session.execute(select(ProcessInstance.__table__).where(
            ProcessInstance.id == case.id)).one()._mapping)
        return {'instance': inst, 'tasks': _rows(Task, case.id), 'timers': _rows(Timer, case.id)}

    case = runtime.start_instance('dibao_a', 't01', APPLICATION, 'cw_t01')
    early = snap(case)
    # seed 001: verification on the applicant's authorization comes before the acceptance check
    pre_verify(case, actor='cw_t01')
    do(case, 'check_materials', COMPLETE, actor='cw_t01')
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE}, actor='cw_t01')
    do(case, 'home_survey', SURVEY, actor='sv_t01')
    waiting = snap(case)
    from tests.flow_helpers import ready
    do(case, next(iter(ready(case))), decision(True), actor='ld_t01')
    clock = db.get_app().extensions['jiuzhu.clock'] if hasattr(db, 'get_app') else None
    del clock
    return {'early': early, 'waiting': waiting, 'case': case}


def finish(case):
    """Run the captured case to its end (publicity timer, approval notice) for the completed template."""
    from flask import current_app
    from service.extensions import db
    from service.models import Timer
    from service.services import runtime
    from tests.flow_helpers import do, ready
    from tests.test_flow_dibao_a import APPROVAL
    clock = current_app.extensions['jiuzhu.clock']
    for _ in range(10):
        open_ = ready(case)
        if case.status != 'running':
            break
        if open_:
            bpmn_id = next(iter(open_))
            do(case, bpmn_id, APPROVAL if 'approval' in bpmn_id else {}, actor='ld_t01')
            continue
        waiting = db.session.scalars(select(Timer).where(Timer.instance_id == case.id,
                                                         Timer.state == 'waiting').order_by(Timer.due_at)).first()
        if waiting is None:
            break
        clock.set((waiting.due_at + timedelta(seconds=1)).isoformat())
        runtime.fire_due_timers(case.id)
        db.session.refresh(case)


# ------------------------------------------------------------------ generation (server-side)

# Status mix: (upper bound of a uniform draw, status). Running cases are early or waiting for the decision.
STATUS_SQL = """CASE WHEN r1 < 0.30 THEN 'running' WHEN r1 < 0.90 THEN 'completed' WHEN r1 < 0.98 THEN 'terminated'
                     WHEN r1 < 0.99 THEN 'incident' ELSE 'suspended' END"""

PLAN_SQL = """
CREATE TEMP TABLE plan AS
SELECT g AS id, status,
       CASE WHEN status = 'completed' THEN 'done' WHEN r2 < 1.0 / 3 THEN 'early' ELSE 'waiting' END AS stage,
       township, defs[1 + floor(r3 * cardinality(defs))::int] AS def_id,
       CASE WHEN status = 'running' THEN now() - r4 * interval '40 days'
            ELSE now() - interval '20 days' - r4 * interval '710 days' END AS created,
       r5, r6, r7
FROM (SELECT g, """ + STATUS_SQL + """ AS status, r2, r3, r4, r5, r6, r7,
             't' || lpad((1 + floor(r8 * 20))::int::text, 2, '0') AS township, %(defs)s::int[] AS defs
      FROM (SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5, random() r6, random() r7,
                   random() r8 FROM generate_series(%(first)s::int, %(last)s::int) g) raw) drawn
"""


def _columns(conn, table):
    return [r[0] for r in conn.execute(
        'SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position',
        (table,))]


def _insert(conn, table, overrides, source):
    """INSERT INTO table SELECT: the template's column unless overridden by an expression."""
    cols = [c for c in _columns(conn, table) if not (table == 'timer' and c == 'id')]
    exprs = [overrides.get(c, f't.{c}') for c in cols]
    conn.execute(f'INSERT INTO {table} ({", ".join(cols)}) SELECT {", ".join(exprs)} {source}')


def load_templates(conn, templates):
    """The captured rows into temporary tables shaped like the real ones, plus their stage name (COPY)."""
    for table, key in (('process_instance', 'instance'), ('task', 'tasks'), ('timer', 'timers')):
        conn.execute(f'CREATE TEMP TABLE tpl_{table} (LIKE {table})')
        conn.execute(f'ALTER TABLE tpl_{table} ADD COLUMN stage text')
        cols = _columns(conn, f'tpl_{table}')
        rows = []
        for stage, tpl in templates.items():
            for row in (tpl[key] if key != 'instance' else [tpl[key]]):
                rows.append(dict(row, stage=stage))
        with conn.cursor().copy(f'COPY tpl_{table} ({", ".join(cols)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_value(row.get(c)) for c in cols])


def _shifted(col):
    return f'(t.{col} + (p.created - ti.created_at))'


def generate(conn, definitions, first, last):
    conn.execute('DROP TABLE IF EXISTS plan')
    conn.execute(PLAN_SQL, {'defs': [d for d, _ in definitions], 'first': first, 'last': last})
    keys = dict(definitions)
    key_case = 'CASE p.def_id ' + ' '.join(f"WHEN {d} THEN '{k}'" for d, k in keys.items()) + ' END'
    shift = '(p.created - t.created_at)'
    open_state = ("CASE p.status WHEN 'running' THEN 'ready' WHEN 'incident' THEN 'suspended' "
                  "WHEN 'suspended' THEN 'suspended' ELSE 'cancelled' END")
    overdue = "(p.status = 'running' AND p.stage = 'waiting' AND p.r5 < 0.15)"
    _insert(conn, 'process_instance', {
        'id': 'p.id', 'definition_id': 'p.def_id', 'process_key': key_case, 'business_key': "'B-' || p.id",
        'township': 'p.township', 'status': 'p.status', 'overdue': overdue,
        'overdue_since': f"CASE WHEN {overdue} THEN p.created + interval '28 days' END",
        'review_required': 'p.r6 < 0.01',
        'waiting_for': "CASE WHEN p.status = 'running' THEN t.waiting_for ELSE '' END",
        'summary': """json_build_object('applicant_name', (ARRAY['王','李','张','刘','陈','杨'])[1 + floor(p.r7 * 6)::int]
                      || '秀兰', 'id_number_masked', '1101**********002X')""",
        'error': "CASE WHEN p.status = 'incident' THEN '脚本出错 (bench)' END",
        'started_by': "'cw_' || p.township", 'created_at': 'p.created', 'updated_at': f'(t.updated_at + {shift})',
        'completed_at': f"CASE WHEN p.status = 'completed' THEN t.updated_at + {shift} END",
        'terminated_at': f"CASE WHEN p.status = 'terminated' THEN t.updated_at + {shift} END",
        'accepted_at': f'(t.accepted_at + {shift})', 'decided_at': f'(t.decided_at + {shift})',
        'decision_days': 't.decision_days + floor(p.r6 * 8)::int',
    }, 'FROM plan p JOIN tpl_process_instance t ON t.stage = p.stage')
    is_open = "t.state IN ('ready', 'suspended')"
    _insert(conn, 'task', {
        'id': 'gen_random_uuid()::text', 'instance_id': 'p.id', 'township': 'p.township',
        'state': f'CASE WHEN {is_open} THEN {open_state} ELSE t.state END',
        'created_at': _shifted('created_at'), 'due_at': _shifted('due_at'),
        'completed_at': f"CASE WHEN {is_open} AND p.status IN ('completed', 'terminated') "
                        f"THEN p.created + interval '10 days' ELSE {_shifted('completed_at')} END",
        'completed_by': "CASE WHEN t.completed_by IS NOT NULL THEN split_part(t.completed_by, '_', 1) || '_' || p.township END",
        'assignee': f"""CASE WHEN {is_open} AND p.r7 < 0.6 AND t.role IN ('township_caseworker', 'township_leader',
                        'village_assistant') THEN CASE t.role WHEN 'township_caseworker' THEN 'cw' WHEN 'township_leader'
                        THEN 'ld' ELSE 'va' END || '_' || p.township END""",
        'overdue': f'CASE WHEN {is_open} THEN {overdue} ELSE t.overdue END',
    }, 'FROM plan p JOIN tpl_task t ON t.stage = p.stage JOIN tpl_process_instance ti ON ti.stage = p.stage')
    waiting = "t.state IN ('waiting', 'suspended')"
    fired_now = f"({waiting} AND p.status = 'running' AND {overdue} AND t.kind = 'deadline')"
    _insert(conn, 'timer', {
        'instance_id': 'p.id', 'township': 'p.township',
        'state': f"""CASE WHEN {fired_now} THEN 'fired' WHEN {waiting} THEN CASE p.status WHEN 'running' THEN 'waiting'
                     WHEN 'incident' THEN 'suspended' WHEN 'suspended' THEN 'suspended' ELSE 'cancelled' END
                     ELSE t.state END""",
        'created_at': _shifted('created_at'), 'due_at': _shifted('due_at'),
        'fired_at': f"CASE WHEN {fired_now} THEN p.created + interval '28 days' ELSE {_shifted('fired_at')} END",
        'claimed_until': 'NULL', 'claimed_by': 'NULL',
    }, 'FROM plan p JOIN tpl_timer t ON t.stage = p.stage JOIN tpl_process_instance ti ON ti.stage = p.stage')


def _value(v):
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).replace(tzinfo=None)
    return v


def bulk_load(url, templates, definitions, n, batch=100_000):
    with psycopg.connect(url, autocommit=False) as conn:
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)", (list(BIG_TABLES),)).fetchall()
        # Foreign keys check every row by a trigger: dropped while loading, added back (one join) after.
        foreign = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)", (list(BIG_TABLES),)).fetchall()
        for table, name, _ in foreign:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.commit()
        load_templates(conn, templates)
        first = conn.execute('SELECT coalesce(max(id), 0) FROM process_instance').fetchone()[0] + 1
        started, done = time.perf_counter(), 0
        while done < n:
            chunk = min(batch, n - done)
            generate(conn, definitions, first + done, first + done + chunk - 1)
            conn.commit()
            done += chunk
            print(f'  {done:,} cases ({done / (time.perf_counter() - started):,.0f}/s)', flush=True)
        conn.execute("SELECT setval(pg_get_serial_sequence('process_instance', 'id'), "
                     "(SELECT max(id) FROM process_instance))")
        conn.commit()
        print(f'rebuilding {len(indexes)} indexes', flush=True)
        for _, definition in indexes:
            conn.execute(definition)
            conn.commit()
        for table, name, definition in foreign:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            conn.commit()
    # The counts the write path keeps (services/figures.py), recounted once for the load by
    # figures.rebuild itself: every count table (step_count, start_count too) as the app counts it.
    app = make_app(sqlalchemy_url(url))
    with app.app_context():
        from service.extensions import db
        from service.services import figures
        started = time.perf_counter()
        figures.rebuild(db.session)
        db.session.commit()
        print(f'counts rebuilt in {time.perf_counter() - started:,.1f} s', flush=True)
        db.session.remove()
        db.engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute('VACUUM ANALYZE')


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--url', required=True, help='postgresql://… of the benchmark database')
    parser.add_argument('--cases', type=int, default=1_000_000)
    parser.add_argument('--create', action='store_true', help='create the database first (the role may CREATEDB)')
    args = parser.parse_args(argv)
    if args.create:
        admin = args.url.rsplit('/', 1)[0] + '/postgres'
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{args.url.rsplit("/", 1)[1]}"')
    started = time.perf_counter()
    app = make_app(sqlalchemy_url(args.url))
    with app.app_context():
        from service.extensions import db
        from service.models import ProcessDefinition
        from service.services import repository, users
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy(tree, 'bench')
        existing = set(db.session.scalars(select(users.User.username)))
        wanted = [(f'{p}_{t}', role, t) for t in TOWNSHIPS for p, role in STAFF]
        wanted += [('sup', 'county_supervisor', 'county'), ('ver', 'county_verifier', 'county'),
                   ('admin', 'admin', 'county')]
        for username, role, township in wanted:
            if username not in existing:
                users.add_user(username, username, role, township, BENCH_PASSWORD, 'bench', policy=False)
        db.session.commit()
        captured = capture_templates()
        finish(captured['case'])
        from service.models import ProcessInstance, Task, Timer
        db.session.expire_all()
        done = {'instance': dict(db.session.execute(select(ProcessInstance.__table__).where(
            ProcessInstance.id == captured['case'].id)).one()._mapping),
            'tasks': _rows(Task, captured['case'].id), 'timers': _rows(Timer, captured['case'].id)}
        templates = {'early': captured['early'], 'waiting': captured['waiting'], 'done': done}
        for name, tpl in templates.items():
            print(f"template {name}: status {tpl['instance']['status']}, {len(tpl['tasks'])} tasks, "
                  f"{len(tpl['timers'])} timers, state {len(tpl['instance']['state']):,} bytes", flush=True)
        # Every case is a copy of the dibao_a case's rows and state, so it goes on dibao_a's definition:
        # a state paired with another process's definition cannot be loaded (its task pages answered 409).
        definitions = [(d.id, d.key) for d in db.session.scalars(select(ProcessDefinition))
                       if d.key == captured['case'].process_key]
        db.session.remove()
    bulk_load(args.url, templates, definitions, args.cases)
    with psycopg.connect(args.url) as conn:
        size = conn.execute('SELECT pg_size_pretty(pg_database_size(current_database()))').fetchone()[0]
        # A few close-relative exclusions, so the lists' exclusion check meets real rows.
        conn.execute("INSERT INTO case_exclusion (instance_id, username, reason) "
                     "SELECT id, 'cw_' || township, 'declared' FROM process_instance WHERE id % 5000 = 0 "
                     "ON CONFLICT DO NOTHING")
        conn.commit()
    print(f'{args.cases:,} cases in {time.perf_counter() - started:,.0f} s; database {size}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
