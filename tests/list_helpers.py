"""Many cases at once for the list tests: rows in the write path's shape, inserted by one SQL statement each.

The services would take minutes for tens of thousands of cases; these tests are about how the
lists read them, so the rows go in by INSERT … SELECT over a counter (SQLite and PostgreSQL).
"""
from sqlalchemy import text

from service.extensions import db
from service.models import User
from service.services import figures


def staff(username, role, township):
    """A user object for the service calls (not stored: the list services only read its fields)."""
    return User(username=username, display_name=username, role=role, township=township, active=True,
                password_hash='-')


def fill(definition, n, first=1, blob=2000):
    """n cases (ids from `first`, the newest last: one every 3 minutes up to 2026-09-28 09:00 Beijing) over
    t01..t20. The newest 30 % run (every 30th of them overdue; a seventh wait for a verification
    report), the rest completed (a quarter of them late). Three task rows and one deadline timer each
    (12.5 days after the start); acceptance → decision stamped on the completed ones. A case row is
    about as wide as a real one (≈ 450 bytes: the state itself lives in TOAST at any real size)."""
    pg = db.engine.dialect.name == 'postgresql'
    last = first + n - 1

    def at(minutes):
        # minutes after the case's start; the start is 3 minutes per case before the newest
        offset = f'(({minutes}) - ({last} - g) * 3)'
        return (f"(TIMESTAMP '2026-09-28 01:00:00' + {offset} * INTERVAL '1 minute')" if pg
                # as SQLAlchemy stores them in SQLite: with microseconds (the strings are compared)
                else f"(datetime('2026-09-28 01:00:00', ({offset}) || ' minutes') || '.000000')")
    township = "(CASE WHEN g % 20 < 9 THEN 't0' ELSE 't' END || ((g % 20) + 1))"
    running = f'((g - {first}) * 10 >= 7 * {n})'
    overdue = f'({running} AND g % 30 = 0)'
    due = 18000   # 12.5 days
    counter = f'WITH RECURSIVE c(g) AS (SELECT {first} UNION ALL SELECT g + 1 FROM c WHERE g < {last})'
    false = 'false' if pg else '0'
    state = f"'{blob * 'x'}'" if pg else f"'{blob * 'x'}'"
    db.session.execute(text(f"""{counter}
        INSERT INTO process_instance (id, definition_id, process_key, business_key, township, status, overdue,
            overdue_since, review_required, waiting_for, summary, state, started_by, created_at, updated_at,
            completed_at, version, accepted_at, decided_at, decision_days)
        SELECT g, {definition.id}, '{definition.key}', 'L-' || g, {township},
               CASE WHEN {running} THEN 'running' ELSE 'completed' END, {overdue},
               CASE WHEN {overdue} THEN {at(due)} END, {false},
               CASE WHEN {running} AND g % 7 = 0 THEN ',verification_result,' ELSE '' END,
               '{{"applicant_name": "王秀兰", "id_number_masked": "1101**********002X", "note": "{'x' * 300}"}}',
               {state}, 'cw', {at(0)}, {at(600)},
               CASE WHEN {running} THEN NULL ELSE {at(20000)} END, 1,
               {at(60)}, CASE WHEN {running} THEN NULL ELSE {at(20000)} END,
               CASE WHEN {running} THEN NULL ELSE g % 23 END
        FROM c"""))
    roles = ("CASE j WHEN 1 THEN 'township_caseworker' WHEN 2 THEN 'county_verifier' "
             "ELSE 'township_leader' END")
    open_ = f'({running} AND j = 3)'
    db.session.execute(text(f"""{counter}, k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 3)
        INSERT INTO task (id, instance_id, bpmn_id, name, lane, role, township, form, properties, state, assignee,
            priority, created_at, due_at, overdue, completed_at, completed_by, data)
        SELECT 'L-' || g || '-' || j, g, 'step' || j, '步骤', 'lane', {roles}, {township}, NULL, '{{}}',
               CASE WHEN {open_} THEN 'ready' ELSE 'completed' END,
               CASE WHEN {open_} AND g % 2 = 0 THEN 'cw_' || {township} END, 0, {at('j')},
               CASE WHEN g % 5 = 0 THEN NULL ELSE {at(due)} END,
               {overdue} AND {open_}, CASE WHEN {open_} THEN NULL ELSE {at('j * 100')} END,
               CASE WHEN {open_} THEN NULL ELSE 'cw' END, NULL
        FROM c, k"""))
    db.session.execute(text(f"""{counter}
        INSERT INTO timer (instance_id, task_id, bpmn_id, name, kind, township, due_at, estimated, state,
            created_at, attempts)
        SELECT g, 'L-' || g || '-3', 'deadline', '办理时限', 'deadline', {township}, {at(due)}, {false},
               CASE WHEN {overdue} THEN 'fired' WHEN {running} THEN 'waiting'
                    WHEN g % 4 = 0 THEN 'fired' ELSE 'cancelled' END,
               {at(0)}, 0
        FROM c"""))
    # Rows inserted past the ORM: the supervision counts are recounted, as after any bulk load.
    figures.rebuild(db.session)
    db.session.commit()
    if pg:
        with db.engine.connect().execution_options(isolation_level='AUTOCOMMIT') as conn:
            conn.exec_driver_sql('VACUUM ANALYZE process_instance, task, timer, case_exclusion')
