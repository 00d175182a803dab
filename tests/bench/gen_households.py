"""Register the households a generated district has: one per completed case, as the decision registers it.

    .venv/bin/python -m tests.bench.gen_households --url postgresql://…/jiuzhu_bench

tests/bench/gen_cases.py makes a million cases but no household register; a province's register
holds hundreds of thousands of households, and the register's pages (GET /api/v1/households,
/households) are only timed against that (tests/bench/bench_lists.py). Each completed case's
applicant becomes a household of its township: most receiving, some stopped, a few suspended;
its head's name and members encrypted under the generator's keys (the demo keys, as gen_cases),
its ID number as a search hash, its granting case linked and its first amount recorded. Rows go in
with COPY, about 600,000 households in a few minutes.
"""
import argparse
import json
import sys
import time
from datetime import date, timezone

import psycopg

from .gen_cases import make_app, sqlalchemy_url

VILLAGES = ('东村', '西村', '南村', '北村', '新村', '中心社区')
SURNAMES = ('王', '李', '张', '刘', '陈', '杨', '赵', '黄')


def status_of(case_id):
    """Receiving 85 %, stopped 10 %, suspended 5 %."""
    n = case_id % 20
    return 'stopped' if n < 2 else 'suspended' if n == 2 else 'receiving'


def generate(url, keyring):
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        first = conn.execute('SELECT coalesce(max(id), 0) + 1 FROM household').fetchone()[0]
        cases = conn.execute("SELECT id, township, completed_at FROM process_instance WHERE status = 'completed' "
                             'AND id NOT IN (SELECT instance_id FROM household_case) ORDER BY id').fetchall()
        rows = []
        for offset, (case_id, township, completed) in enumerate(cases):
            name = SURNAMES[case_id % len(SURNAMES)] + '秀兰'
            number = f'1101{case_id:013d}X'      # one head per case: the register's (category, head) is unique
            size = 1 + case_id % 4
            rows.append((first + offset, case_id, township, completed.replace(tzinfo=timezone.utc), name, number, size))
        with conn.cursor().copy('COPY household (id, township, village, category, review_type, status, head_name, '
                                'head_id_hash, members, size, amount_fen, started_on, ended_on, next_review_on, '
                                'created_at, updated_at, version) FROM STDIN') as copy:
            for hid, case_id, township, completed, name, number, size in rows:
                status = status_of(case_id)
                members = [{'name': name, 'id_number': number, 'relation': '本人', 'able_to_work': False}]
                started_on = completed.date()
                copy.write_row((hid, township, VILLAGES[case_id % len(VILLAGES)], 'dibao', 'stable', status,
                                keyring.encrypt(name, 'household.head_name'), keyring.id_hash(number),
                                keyring.encrypt(json.dumps(members, ensure_ascii=False, separators=(',', ':')), 'household.members'),
                                size, 0 if status == 'stopped' else 60000 * size, started_on,
                                date(2026, 10, 1) if status == 'stopped' else None,
                                date(started_on.year + 1, started_on.month, 1), completed.replace(tzinfo=None),
                                completed.replace(tzinfo=None), 1))
        # The links check each household by a plan made at their first row: made while the table still
        # had no statistics, that plan scanned the whole register per row (hours). Analyzed first, it
        # takes the primary key.
        conn.commit()
        conn.execute('ANALYZE household')
        with conn.cursor().copy('COPY household_case (household_id, instance_id, role, linked_at) FROM STDIN') as copy:
            for hid, case_id, _, completed, *_ in rows:
                copy.write_row((hid, case_id, 'application', completed.replace(tzinfo=None)))
        with conn.cursor().copy('COPY household_amount (household_id, effective_month, amount_fen, change, '
                                'instance_id, recorded_by, recorded_at) FROM STDIN') as copy:
            for hid, case_id, township, completed, _, _, size in rows:
                copy.write_row((hid, completed.strftime('%Y-%m'), 60000 * size, 'grant', case_id, f'ld_{township}',
                                completed.replace(tzinfo=None)))
        conn.execute("SELECT setval(pg_get_serial_sequence('household', 'id'), (SELECT max(id) FROM household))")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ('household_case', 'household_amount'):     # the register itself was analyzed above
            conn.execute(f'ANALYZE {table}')
    print(f'{len(rows):,} households in {time.perf_counter() - started:,.0f} s')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--url', required=True, help='postgresql://… of the generated database')
    args = parser.parse_args(argv)
    app = make_app(sqlalchemy_url(args.url))
    with app.app_context():
        from service import crypto
        generate(args.url, crypto.active())
    return 0


if __name__ == '__main__':
    sys.exit(main())
