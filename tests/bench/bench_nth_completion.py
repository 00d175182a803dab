"""The N-th completion of one case vs its 5th: does a looping case get slower as it goes on?

    .venv/bin/python -m tests.bench.bench_nth_completion [--rounds 200] [--database-url postgresql://…]

tests/processes/review_loop.bpmn: a review sent back round after round (each round with its own
deadline) beside a parallel check. One case is sent back `--rounds` times through the write path
(services.tasks.complete_task, an empty session each time, as a request); prints the median time
of completions 3–7 and of the last five, their ratio (target ≤ 1.3: engine/compaction.py keeps
the stored state flat) and the stored state's size at both points. SQLite in a temporary directory
by default.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from service import create_app
from service.extensions import db
from service.models import ProcessInstance, Task
from service.services import repository, runtime, tasks

PROCESSES = Path(__file__).resolve().parents[2] / 'tests' / 'processes'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--rounds', type=int, default=200)
    parser.add_argument('--database-url', help='a PostgreSQL URL (an empty database or schema); default SQLite')
    args = parser.parse_args(argv)
    url = args.database_url or f'sqlite:///{tempfile.mkdtemp()}/bench.sqlite3'
    app = create_app({'DATABASE_URL': url, 'SECRET_KEY': 'bench', 'JIUZHU_CLOCK': 'manual',
                      'JIUZHU_CLOCK_START': '2026-09-28T09:00:00+08:00', 'JIUZHU_FORMS_DIR': str(PROCESSES / 'forms')})
    times, sizes = {}, {}
    with app.app_context():
        repository.deploy({'review_loop.bpmn': (PROCESSES / 'review_loop.bpmn').read_bytes()}, 'bench')
        case_id = runtime.start_instance('review_loop', 't01', {'rounds': 0, 'approved': False}, 'bench').id
        db.session.remove()
        for n in range(1, args.rounds + 1):
            task_id = db.session.scalars(select(Task.id).where(
                Task.instance_id == case_id, Task.state == 'ready', Task.bpmn_id == 'review')).one()
            db.session.remove()
            started = time.perf_counter()
            tasks.complete_task(task_id, {'note': f'第{n}轮退回', 'approved': False}, 'bench')
            times[n] = time.perf_counter() - started
            db.session.remove()
            if n in (5, args.rounds):
                sizes[n] = len(db.session.get(ProcessInstance, case_id).state)
                db.session.remove()
    early = statistics.median(times[n] for n in range(3, 8))
    late = statistics.median(times[n] for n in range(args.rounds - 4, args.rounds + 1))
    print(f'one case sent back {args.rounds} times ({"PostgreSQL" if args.database_url else "SQLite"})')
    print(f'   completions 3-7: median {early * 1000:.2f} ms; last five: median {late * 1000:.2f} ms; '
          f'ratio {late / early:.2f} (target ≤ 1.3)')
    print(f'   stored state: {sizes[5]:,} characters after 5, {sizes[args.rounds]:,} after {args.rounds}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
