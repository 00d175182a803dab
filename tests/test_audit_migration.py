"""Migration 0003 chains the audit rows a database already has: `verify` passes on an upgraded database.

The rows before it came from a sequence, with gaps where a transaction rolled back; they keep
their order and get ids 1, 2, 3…
"""
from datetime import datetime

import pytest
from sqlalchemy import text

from service.extensions import db
from service.migrations import runner
from service.services import audit

from .migration_helpers import connect, load_rows, url_of

# Rows as the code before the chain wrote them: ids with gaps, Chinese text, nested detail, no time.
OLD_ROWS = [
    (17, datetime(2026, 10, 8, 1, 2, 3, 456789), 'cw1', 'read_case', 1, None, '{"via": "notice", "kind": "受理通知书"}'),
    (18, datetime(2026, 10, 8, 1, 2, 4), 'ld1', 'complete', 2, 'b0e4-task', '{"data": {"approved": true, "amount": 320.5}}'),
    (23, None, 'system:timer', 'timers_fired', 3, None, '{"timers_fired": ["deadline@2026-10-09"]}'),
    (40, datetime(2026, 10, 9, 0, 0), '王经办', 'login_failed', None, None, '{}'),
]


def _insert_old_rows(database_url):
    engine, connection = connect(database_url)
    try:
        with connection.begin():
            for row in OLD_ROWS:
                connection.execute(text('INSERT INTO audit_log (id, at, actor, action, instance_id, task_id, detail, '
                                        "remote_addr) VALUES (:i, :at, :actor, :action, :case, :task, :detail, "
                                        "'192.0.2.9')"),
                                   dict(zip(('i', 'at', 'actor', 'action', 'case', 'task', 'detail'), row)))
    finally:
        connection.close()
        engine.dispose()


def test_the_rows_of_an_upgraded_database_are_chained_in_their_order(database_url, make_app):
    runner.upgrade(url_of(database_url), runner.BASELINE)
    baseline = load_rows(database_url)['tables']['audit_log']        # ids 1-15, as the baseline wrote them
    runner.upgrade(url_of(database_url), '0002')
    _insert_old_rows(database_url)
    runner.upgrade(url_of(database_url))

    app = make_app()
    with app.app_context():
        result = audit.verify()
        assert result.intact, result.problem
        assert result.count == result.last_id == len(baseline) + len(OLD_ROWS)
        order = db.session.execute(text('SELECT actor, action FROM audit_log ORDER BY id')).all()
        assert [tuple(r) for r in order] == [(r['actor'], r['action']) for r in baseline] + \
            [(r[2], r[3]) for r in OLD_ROWS]

        # The application chains on from there; the guards are the ones create_all makes.
        audit.record('adm', 'read_case', instance_id=1)
        db.session.commit()
        assert audit.verify().count == len(baseline) + len(OLD_ROWS) + 1
        dialect = db.engine.dialect.name
        refused = ['UPDATE audit_log SET actor = \'x\' WHERE id = 1', 'DELETE FROM audit_log WHERE id = 1',
                   'TRUNCATE audit_log' if dialect == 'postgresql' else
                   "REPLACE INTO audit_log (id, actor, action, detail) VALUES (1, 'x', 'x', '{}')"]
        for sql in refused:
            with pytest.raises(Exception) as err:
                db.session.execute(text(sql))
            db.session.rollback()
            assert 'append-only' in str(err.value), sql
        if dialect == 'postgresql':   # ids come from the chain, not from a sequence any more
            assert db.session.execute(text("SELECT pg_get_serial_sequence('audit_log', 'id')")).scalar() is None
        db.session.remove()


def test_downgrade_and_upgrade_again(database_url, make_app):
    runner.upgrade(url_of(database_url), '0002')
    _insert_old_rows(database_url)
    runner.upgrade(url_of(database_url))
    runner.downgrade(url_of(database_url), '0002')
    engine, connection = connect(database_url)
    try:
        columns = set(connection.execute(text('SELECT * FROM audit_log')).keys())
        assert 'row_hash' not in columns and 'prev_hash' not in columns
        connection.rollback()
    finally:
        connection.close()
        engine.dispose()
    runner.upgrade(url_of(database_url))
    app = make_app()
    with app.app_context():
        result = audit.verify()
        assert result.intact and result.count == len(OLD_ROWS)
        db.session.remove()
