"""The engine adapter alone: CPU per call of load, step, dump and the walks of the task tree.

    .venv/bin/python -m tests.bench.bench_engine [--repeat 300]

Two real cases, made through the services on a throw-away SQLite database: a dibao_a case waiting
for the decision (a subprocess behind it, boundary timers open) and a one_timer case whose timer is
due. Each operation is timed by the thread's CPU clock around that call only (its input is made
untimed), repeated, and the lower decile is printed in µs (steadier than the median when the machine is busy). No database is touched while timing.

  load      engine.load: the stored state into a workflow (spec cached)
  dump      engine.dump: serialize without the spec, compacted
  walks     what sync.save reads of a workflow: waiting messages, open tasks, waiting timers, ready tasks
  advance   engine.advance (dibao: nothing due; one_timer: the timer fires and the case ends)
  complete  engine.complete of dibao's decision task (and the engine steps after it)
"""
import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from service import create_app
from service.engine.tasks import open_tasks, ready_user_tasks
from service.engine.timers import waiting_timers
from service.extensions import db
from service.services import repository, runtime
from service.services.context import engine

ROOT = Path(__file__).resolve().parents[2]


def cpu(fn):
    """(result, CPU µs of fn())."""
    started = time.thread_time_ns()
    result = fn()
    return result, (time.thread_time_ns() - started) / 1000


def walks(eng, workflow):
    eng.waiting_messages(workflow)
    walked = open_tasks(workflow)
    waiting_timers(workflow, walked)
    ready_user_tasks(workflow, walked)


def dibao_case():
    from tests.flow_helpers import APPLICATION, COMPLETE, NOTICE, SURVEY, do, pre_verify, ready
    case = runtime.start_instance('dibao_a', 't01', APPLICATION, 'caseworker1')
    pre_verify(case)
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    (decision_row,) = ready(case).values()
    return case, decision_row


def measure(eng, instance, repeat, *, advance=True, complete=None):
    """Median CPU µs per operation on `instance` (its stored state loaded afresh for each)."""
    times = {'load': [], 'dump': [], 'walks': [], 'advance': [], 'complete': []}
    for _ in range(repeat):
        workflow, took = cpu(lambda: eng.load(instance))
        times['load'].append(took)
        times['walks'].append(cpu(lambda: walks(eng, workflow))[1])
        times['dump'].append(cpu(lambda: eng.dump(workflow))[1])
        if advance:
            times['advance'].append(cpu(lambda: eng.advance(workflow))[1])
        if complete is not None:
            fresh = eng.load(instance)
            task_id, data = complete
            times['complete'].append(cpu(lambda: eng.complete(fresh, task_id, data))[1])
    # The lower decile: on a busy machine (others' benchmarks) the median wanders, the fast end much less.
    return {k: statistics.quantiles(v, n=10)[0] for k, v in times.items() if v}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--repeat', type=int, default=300)
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix='jiuzhu-bench-engine-')
    app = create_app({'DATABASE_URL': f'sqlite:///{tmp}/bench.sqlite3', 'SECRET_KEY': 'bench',
                      'JIUZHU_CLOCK': 'manual', 'JIUZHU_CLOCK_START': '2026-09-28T09:00:00+08:00'})
    clock = app.extensions['jiuzhu.clock']
    with app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({'delegated/dibao_a.bpmn': tree['delegated/dibao_a.bpmn']}, 'bench')
        repository.deploy({'one_timer.bpmn': (ROOT / 'tests' / 'processes' / 'one_timer.bpmn').read_bytes()},
                          'bench')
        eng = engine()
        case, decision_row = dibao_case()
        from tests.test_flow_dibao_a import decision
        timer_case = runtime.start_instance('one_timer', 't01', {}, 'bench')
        clock.set((clock.now() + timedelta(hours=2)).isoformat())
        rows = []
        with eng.one_write():
            dibao = measure(eng, case, args.repeat, complete=(decision_row.id, decision(True)))
            one_timer = measure(eng, timer_case, args.repeat)
        workflow = eng.load(case)
        rows.append(('dibao_a, decision ready', dibao, len(case.state), len(workflow.tasks)))
        rows.append(('one_timer, timer due', one_timer, len(timer_case.state), len(eng.load(timer_case).tasks)))
        db.session.remove()
    print(f'CPU per call, lower decile of {args.repeat} (µs); load average {open("/proc/loadavg").read().split()[0]}')
    print(f'{"case":28s} {"state B":>8s} {"tasks":>5s} {"load":>7s} {"walks":>7s} {"dump":>7s} '
          f'{"advance":>8s} {"complete":>8s}')
    for name, t, size, n in rows:
        print(f'{name:28s} {size:8,d} {n:5d} {t["load"]:7.0f} {t["walks"]:7.0f} {t["dump"]:7.0f} '
              f'{t.get("advance", 0):8.0f} {t.get("complete", 0):8.0f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
