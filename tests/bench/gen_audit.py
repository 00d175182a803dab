"""Append the audit log a million cases leave behind to a generated database: chained, as the write path chains it.

    .venv/bin/python -m tests.bench.gen_audit --url postgresql://…/jiuzhu_bench [--per-case 7]

tests/bench/gen_cases.py makes the cases, their tasks and timers, but the log only of its one real
template case; a district's log holds every step and every reading of every case, several million
rows, and `GET /api/v1/audit` (tests/bench/bench_lists.py) is only measured against that. Per case,
oldest case first: its start, its steps and readings by its township's caseworker and leader (one in
ten by the scheduler's firing), from the case's own start on; now and then a login or a deployment.
Each row carries the hash of the one before it, as services/audit.py computes it, continuing the
chain already there: `jiuzhu audit verify` passes on the result. Rows go in with COPY, the indexes
of audit_log stay (the log is appended to, as in service). Roughly a minute per million rows.
"""
import argparse
import sys
import time
from datetime import timedelta, timezone

import psycopg

from service.models.audit import GENESIS, entry_hash

COLUMNS = ('id', 'at', 'actor', 'action', 'instance_id', 'task_id', 'detail', 'remote_addr', 'prev_hash', 'row_hash')
STEPS = ('check_materials', 'issue_acceptance_notice', 'home_survey', 'township_review', 'decision')


def entries_of(case_id, township, created, per_case):
    """(at, actor, action, instance_id, detail) of one case, in time order."""
    caseworker, leader = f'cw_{township}', f'ld_{township}'
    yield created, caseworker, 'start', case_id, {'process': 'dibao_a'}
    for n in range(1, per_case):
        at = created + timedelta(hours=7 * n)
        if n % 10 == 0:
            yield at, 'scheduler', 'timers_fired', case_id, {'kind': 'deadline'}
        elif n % 3 == 0:
            yield at, leader if n % 2 else caseworker, 'read_case', case_id, {}
        else:
            step = STEPS[n % len(STEPS)]
            yield at, leader if step in ('township_review', 'decision') else caseworker, 'complete', case_id, \
                {'task': step}
        if (case_id + n) % 997 == 0:
            yield at, caseworker, 'login', None, {'kind': 'web'}
        if (case_id + n) % 250_000 == 0:
            yield at, 'admin', 'deploy', None, {'files': 3}


def append(url, per_case, batch=200_000):
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        last_id, last_hash = conn.execute(
            'SELECT id, row_hash FROM audit_log ORDER BY id DESC LIMIT 1').fetchone() or (0, GENESIS)
        cases = conn.execute('SELECT id, township, created_at FROM process_instance ORDER BY id').fetchall()
        written = 0
        with conn.cursor().copy(f'COPY audit_log ({", ".join(COLUMNS)}) FROM STDIN') as copy:
            for case_id, township, created in cases:
                created = created.replace(tzinfo=timezone.utc)
                for at, actor, action, instance_id, detail in entries_of(case_id, township, created, per_case):
                    row_hash = entry_hash(last_hash, at, actor, action, instance_id, None, detail, '127.0.0.1')
                    last_id += 1
                    copy.write_row((last_id, at.replace(tzinfo=None), actor, action, instance_id, None,
                                    psycopg.types.json.Json(detail), '127.0.0.1', last_hash, row_hash))
                    last_hash = row_hash
                    written += 1
                    if written % batch == 0:
                        print(f'  {written:,} rows ({written / (time.perf_counter() - started):,.0f}/s)', flush=True)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute('ANALYZE audit_log')
    print(f'{written:,} audit rows in {time.perf_counter() - started:,.0f} s; the last {last_id}:{last_hash}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--url', required=True, help='postgresql://… of the generated database')
    parser.add_argument('--per-case', type=int, default=7, help='entries per case (its start, steps and readings)')
    args = parser.parse_args(argv)
    append(args.url, args.per_case)
    return 0


if __name__ == '__main__':
    sys.exit(main())
