"""A case row is updated in place: no index covers what every write changes (migration 0031).

Every completion and every fired timer UPDATEs the case row. PostgreSQL keeps such an UPDATE on the
row's page without a new entry in any index (HOT) only when no indexed column changed and the page
has room; one index on `updated_at` made every write add an entry to all of the table's indexes.
"""
import pytest
from sqlalchemy import event, inspect

from service.extensions import db
from service.models import ProcessInstance

from .api_helpers import people, ready_tasks, start_core  # noqa: F401  (fixtures)

# What a completion or a fired timer writes on the case row (services/sync.save, steps, milestones).
CHANGED_BY_EVERY_WRITE = {'state', 'updated_at', 'version', 'steps_done', 'handoffs', 'county_steps', 'last_role'}


def test_no_index_of_the_case_table_covers_what_every_write_changes(test_app):
    indexes = inspect(db.engine).get_indexes(ProcessInstance.__tablename__)
    covering = {ix['name']: sorted(set(c for c in ix['column_names'] if c) & CHANGED_BY_EVERY_WRITE)
                for ix in indexes}
    assert not {name: cols for name, cols in covering.items() if cols}, covering
    assert 'ix_instance_status_updated' not in covering


def test_a_completion_updates_the_case_row_in_place(people, test_app):
    if db.engine.dialect.name != 'postgresql':
        pytest.skip('heap-only tuples are PostgreSQL’s')
    cw, surveyor = people['cw1'], people['cw1b']
    case = start_core(cw)
    r = cw.post(f"/api/v1/tasks/{ready_tasks(cw, case['id'])['accept']['id']}/complete", json={'data': {'note': '受理'}})
    assert r.status_code == 200, r.json
    # The next step, a minute later, changes what every step changes, nothing the lists find cases by.
    task = ready_tasks(cw, case['id'])['survey']
    test_app.extensions['jiuzhu.clock'].advance(minutes=1)
    seen = []

    # This backend's counts around each UPDATE of a case row (PostgreSQL 15's "xact" counts also hold
    # those of its earlier transactions not yet reported: the difference is the statement's).
    def counts(cursor):
        with cursor.connection.cursor() as own:
            own.execute("SELECT pg_stat_get_xact_tuples_updated('process_instance'::regclass),"
                        " pg_stat_get_xact_tuples_hot_updated('process_instance'::regclass)")
            return own.fetchone()

    def case_update(statement):     # alone, or in a WITH with the task rows' (services/row_writes.py)
        return statement.startswith('UPDATE process_instance') or (
            statement.startswith('WITH') and 'UPDATE process_instance' in statement)

    def before(_conn, cursor, statement, *_args):
        if case_update(statement):
            seen.append(counts(cursor))

    def after(_conn, cursor, statement, *_args):
        if case_update(statement):
            (updated, hot), (updated0, hot0) = counts(cursor), seen.pop()
            seen.append((updated - updated0, hot - hot0))

    event.listen(db.engine, 'before_cursor_execute', before)
    event.listen(db.engine, 'after_cursor_execute', after)
    try:
        r = surveyor.post(f"/api/v1/tasks/{task['id']}/complete", json={'data': {'note': '已核实'}})
    finally:
        event.remove(db.engine, 'before_cursor_execute', before)
        event.remove(db.engine, 'after_cursor_execute', after)
    assert r.status_code == 200, r.json
    assert seen == [(1, 1)], f'(rows updated, of them in place) per UPDATE of the case row: {seen}'
    options = db.session.connection().exec_driver_sql(
        "SELECT reloptions FROM pg_class WHERE oid = 'process_instance'::regclass").scalar()
    assert 'fillfactor=80' in (options or []), options
