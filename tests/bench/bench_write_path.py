"""Write path vs raw SpiffWorkflow: completing one task of the same case, on SQLite.

    .venv/bin/python -m tests.bench.bench_write_path [--cases 30]

Write path = services.tasks.complete_task: load the case row, re-attach the cached spec, fire due
timers, run the task, engine steps, serialize without the spec, sync task/timer rows, audit, commit.
Raw = SpiffWorkflow's own round trip of the same workflow state: deserialize_json (spec embedded)
→ run → do_engine_steps → serialize_json, no database, with SpiffWorkflow's own methods (those the
engine replaces process-wide, engine/spiff_speedups.py, are put back for it). Target (issue 14): CPU ratio ≤ 1.0.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from sqlalchemy import select

from service import create_app
from service.engine.spiff_speedups import library_methods
from service.extensions import db
from service.models import Task
from service.services import auth, repository, runtime, tasks, users
from service.services.context import engine

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / 'tests' / 'processes'


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cases', type=int, default=30)
    parser.add_argument('--database-url', help='a PostgreSQL URL (an empty database or schema); default SQLite')
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp()
    url = args.database_url or f'sqlite:///{tmp}/bench.sqlite3'
    app = create_app({'DATABASE_URL': url, 'SECRET_KEY': 'bench',
                      'JIUZHU_CLOCK': 'manual', 'JIUZHU_CLOCK_START': '2026-09-28T09:00:00+08:00',
                      'JIUZHU_FORMS_DIR': str(PROCESSES / 'forms')})
    raw = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    write_times, raw_times, raw_sizes, http_times = [], [], [], []
    write_cpu, raw_cpu = [], []   # this process's CPU (not the database server's): steadier on a busy machine
    data = {'note': '已核实', 'approved': True}   # the form of bench_ten's tasks (note.schema.json)
    with app.app_context():
        repository.deploy({'bench_ten.bpmn': (PROCESSES / 'bench_ten.bpmn').read_bytes()}, 'bench')
        eng = engine()
        case_ids = [runtime.start_instance('bench_ten', 't01', {'applicant': {'name': '测试'}}, 'bench').id
                    for _ in range(args.cases)]
        # The same completions over HTTP (Flask's test client: routing, token, access rules, form
        # validation, the write, the JSON answer; no gunicorn) on cases of their own.
        user = users.add_user('bench_cw', '经办人', 'township_caseworker', 't01', 'bench-pass-1234!', 'bench')
        headers = {'Authorization': f'Bearer {auth.issue_token(user)[0]}'}
        http_ids = [runtime.start_instance('bench_ten', 't01', {'applicant': {'name': '测试'}}, 'bench').id
                    for _ in range(args.cases)]
        client = app.test_client()
        db.session.remove()
        for step in range(10):
            for case_id in http_ids:
                row = db.session.scalars(select(Task).where(Task.instance_id == case_id, Task.state == 'ready')
                                         .order_by(Task.bpmn_id)).first()
                task_id = row.id
                db.session.remove()      # a request starts with an empty session
                t0 = time.perf_counter()
                r = client.post(f'/api/v1/tasks/{task_id}/complete', json={'data': data}, headers=headers)
                http_times.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.json
            for case_id in case_ids:
                row = db.session.scalars(select(Task).where(Task.instance_id == case_id, Task.state == 'ready')
                                         .order_by(Task.bpmn_id)).first()
                instance = runtime.get_instance(case_id)
                # The same state in SpiffWorkflow's own format (spec embedded), prepared untimed.
                full = raw.serialize_json(eng.load(instance))
                db.session.expire_all()

                with library_methods():     # SpiffWorkflow as shipped (engine/spiff_speedups.py replaces some)
                    t0, c0 = time.perf_counter(), time.process_time()
                    wf = raw.deserialize_json(full)
                    wf.script_engine = eng.script_engine
                    task = wf.get_task_from_id(UUID(row.id))
                    task.data.update(data)
                    task.run()
                    wf.refresh_timers()
                    wf.do_engine_steps()
                    out = raw.serialize_json(wf)
                    raw_times.append(time.perf_counter() - t0)
                    raw_cpu.append(time.process_time() - c0)

                task_id = row.id
                db.session.remove()      # as a request: an empty session, the case read afresh
                t0, c0 = time.perf_counter(), time.process_time()
                tasks.complete_task(task_id, data, 'bench')
                write_times.append(time.perf_counter() - t0)
                write_cpu.append(time.process_time() - c0)
                if step == 9:
                    raw_sizes.append(len(out.encode()))
        finals = [runtime.get_instance(i) for i in case_ids]
        assert all(i.status == 'completed' for i in finals), 'bench cases did not finish'
        stored = statistics.median(len(i.state.encode()) for i in finals)
        spec_size = len(finals[0].definition.spec_json.encode())

    w, r, h = statistics.median(write_times), statistics.median(raw_times), statistics.median(http_times)
    print(f'cases: {args.cases}, task completions timed: {len(write_times)} each '
          f'({"PostgreSQL" if args.database_url else "SQLite"}, one process)')
    print(f'{"write path (load+step+save+rows+audit+commit)":52s} median {w * 1000:7.2f} ms  '
          f'p90 {statistics.quantiles(write_times, n=10)[-1] * 1000:7.2f} ms')
    print(f'{"raw SpiffWorkflow (deserialize+step+serialize)":52s} median {r * 1000:7.2f} ms  '
          f'p90 {statistics.quantiles(raw_times, n=10)[-1] * 1000:7.2f} ms')
    print(f'{"HTTP completion (test client, same process)":52s} median {h * 1000:7.2f} ms  '
          f'p90 {statistics.quantiles(http_times, n=10)[-1] * 1000:7.2f} ms')
    # The target is this benchmark's default run (SQLite, in process). On PostgreSQL the
    # write's wall time also holds the server's work and round trips, which raw SpiffWorkflow has
    # none of: there the CPU of this process (below) is what compares.
    where = 'target ≤ 1.0' if not args.database_url else 'wall, with the server\'s round trips; compare CPU below'
    print(f'ratio write/raw: {w / r:.2f}  ({where}); HTTP/write: {h / w:.2f}  (target ≤ 1.5)')
    wc, rc = statistics.median(write_cpu), statistics.median(raw_cpu)
    print(f'CPU of this process, median: write path {wc * 1000:.2f} ms, raw SpiffWorkflow {rc * 1000:.2f} ms, '
          f'ratio {wc / rc:.2f} (target ≤ 1.0); load average {open("/proc/loadavg").read().split()[0]}')
    print(f'stored case state after 10 tasks: {stored:,.0f} B (raw SpiffWorkflow JSON with spec: '
          f'{statistics.median(raw_sizes):,.0f} B); definition stored once: {spec_size:,} B')
    return 0


if __name__ == '__main__':
    sys.exit(main())
