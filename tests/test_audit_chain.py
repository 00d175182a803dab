"""The hash-chained audit log: every row chained, and what an owner changes behind the guards is found.

The "owner" here is whoever can switch the guards off: on PostgreSQL the table's owner
(ALTER TABLE … DISABLE TRIGGER), on SQLite anyone with the file (DROP TRIGGER).
"""
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from service.cli import main
from service.extensions import db
from service.models import AuditEntry, AuditLogIsAppendOnly
from service.models.audit import GENESIS, entry_hash, hash_of
from service.services import audit, runtime, tasks

from .api_helpers import people  # noqa: F401  (fixture)
from .test_core import ready


def _rows():
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def _some_history():
    """Case writes and audited reads: a dozen rows after the deploy entries."""
    for name in ('张三', '李四', '王五'):
        case = runtime.start_instance('core_case', 't01', {'applicant': {'name': name}}, 'alice')
        tasks.complete_task(ready(case.id)['accept'].id, {'note': '材料齐全'}, 'alice')
        audit.record('bob', 'read_case', instance_id=case.id)
        db.session.commit()
    return len(_rows())


def _as_owner(*statements, params=None):
    """Run raw SQL with the append-only guards switched off, as the table's owner can."""
    conn = db.session.connection()
    if conn.dialect.name == 'postgresql':
        conn.exec_driver_sql('ALTER TABLE audit_log DISABLE TRIGGER USER')
    else:
        for trigger in ('audit_log_no_update', 'audit_log_no_delete', 'audit_log_no_replace'):
            conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS {trigger}')
    for sql in statements:
        conn.execute(text(sql), params or {})
    if conn.dialect.name == 'postgresql':
        conn.exec_driver_sql('ALTER TABLE audit_log ENABLE TRIGGER USER')
    db.session.commit()
    db.session.expire_all()


def _verify_cli(database_url, monkeypatch, *args):
    monkeypatch.setenv('DATABASE_URL', database_url)
    monkeypatch.setenv('SECRET_KEY', 'cli-test')
    return CliRunner().invoke(main, ['audit', 'verify', *args])


def test_every_entry_is_chained_to_the_one_before(test_app):
    count = _some_history()
    rows = _rows()
    assert [r.id for r in rows] == list(range(1, count + 1))
    assert rows[0].prev_hash == GENESIS
    for before, row in zip(rows, rows[1:]):
        assert row.prev_hash == before.row_hash
    assert all(r.row_hash == hash_of(r) for r in rows)
    result = audit.verify()
    assert result.intact and result.count == count
    assert (result.last_id, result.last_hash) == (rows[-1].id, rows[-1].row_hash)


def test_the_hash_covers_every_field_and_the_link(test_app):
    _some_history()
    row = _rows()[5]
    fields = dict(at=row.at, actor=row.actor, action=row.action, instance_id=row.instance_id, task_id=row.task_id,
                  detail=row.detail, remote_addr=row.remote_addr)
    assert entry_hash(row.prev_hash, **fields) == row.row_hash
    assert entry_hash(GENESIS, **fields) != row.row_hash
    for name, other in (('actor', 'mallory'), ('action', 'x'), ('instance_id', 99), ('task_id', 'x'),
                        ('detail', {'note': 'x'}), ('remote_addr', '10.0.0.1'), ('at', row.at.replace(microsecond=1))):
        assert entry_hash(row.prev_hash, **dict(fields, **{name: other})) != row.row_hash, name


def test_entries_of_a_rolled_back_or_abandoned_transaction_leave_no_trace(test_app):
    before = len(_rows())
    audit.record('alice', 'read_case', instance_id=1)
    db.session.rollback()
    audit.record('alice', 'read_case', instance_id=2)
    db.session.close()
    db.session.commit()      # a new transaction: the closed one's entry does not come back
    audit.record('alice', 'read_case', instance_id=3, values=(1, 2))
    db.session.commit()
    rows = _rows()
    assert [r.instance_id for r in rows[before:]] == [3]
    assert rows[-1].detail == {'values': [1, 2]}   # stored as JSON gives it back, so the hash holds
    assert audit.verify().intact


def test_a_row_added_by_hand_is_refused(test_app):
    db.session.add(AuditEntry(id=1000, at=None, actor='x', action='x', detail={}, prev_hash=GENESIS, row_hash='0' * 64))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_the_database_refuses_replace_and_upsert_over_a_row(test_app):
    _some_history()
    row = _rows()[0]
    dialect = db.session.connection().dialect.name
    if dialect == 'sqlite':
        attempts = ['REPLACE INTO audit_log (id, actor, action, detail, prev_hash, row_hash) '
                    "VALUES (1, 'mallory', 'x', '{}', :h, :h)",
                    'INSERT OR REPLACE INTO audit_log (id, actor, action, detail, prev_hash, row_hash) '
                    "VALUES (1, 'mallory', 'x', '{}', :h, :h)"]
    else:
        attempts = ['INSERT INTO audit_log (id, actor, action, detail, prev_hash, row_hash) '
                    "VALUES (1, 'mallory', 'x', '{}', :h, :h) ON CONFLICT (id) DO UPDATE SET actor = 'mallory'",
                    'TRUNCATE audit_log']
    attempts += ["UPDATE audit_log SET actor = 'mallory' WHERE id = 1", 'DELETE FROM audit_log WHERE id = 1']
    for sql in attempts:
        with pytest.raises(Exception) as err:
            db.session.execute(text(sql), {'h': GENESIS})
        db.session.rollback()
        assert 'append-only' in str(err.value), sql
    db.session.expire_all()
    assert _rows()[0].actor == row.actor
    assert audit.verify().intact


def test_a_changed_row_is_reported_at_that_row(test_app, database_url, monkeypatch):
    count = _some_history()
    _as_owner("UPDATE audit_log SET actor = 'mallory' WHERE id = 7")
    result = audit.verify()
    assert (result.problem.kind, result.problem.id, result.count) == ('changed', 7, 6)
    cli = _verify_cli(database_url, monkeypatch)
    assert cli.exit_code == 1, cli.output
    assert 'changed at row 7' in cli.output and '第 7 条记录内容被改动' in cli.output
    assert count > 7


def test_a_deleted_middle_row_is_reported_missing(test_app, database_url, monkeypatch):
    _some_history()
    _as_owner('DELETE FROM audit_log WHERE id IN (8, 9)')
    result = audit.verify()
    assert (result.problem.kind, result.problem.id) == ('missing', 8)
    assert '第 8–9 条记录缺失' in result.problem.message
    cli = _verify_cli(database_url, monkeypatch)
    assert cli.exit_code == 1 and 'missing at row 8' in cli.output, cli.output


def test_swapped_rows_are_reported_reordered(test_app, database_url, monkeypatch):
    _some_history()
    _as_owner('UPDATE audit_log SET id = -1 WHERE id = 5', 'UPDATE audit_log SET id = 5 WHERE id = 9',
              'UPDATE audit_log SET id = 9 WHERE id = -1')
    result = audit.verify()
    assert (result.problem.kind, result.problem.id) == ('reordered', 5)
    assert '原本接在第 8 条之后' in result.problem.message
    cli = _verify_cli(database_url, monkeypatch)
    assert cli.exit_code == 1 and 'reordered at row 5' in cli.output, cli.output


def test_deleting_a_row_and_renumbering_the_rest_breaks_the_link(test_app):
    count = _some_history()
    _as_owner('DELETE FROM audit_log WHERE id = 4', 'UPDATE audit_log SET id = id - 1 WHERE id > 4')
    result = audit.verify()
    assert (result.problem.kind, result.problem.id) == ('unlinked', 4)
    assert count - 1 == len(_rows())


def test_a_row_rewritten_with_its_hash_recomputed_breaks_the_next_link(test_app):
    _some_history()
    row = _rows()[5]
    forged = entry_hash(row.prev_hash, row.at, 'mallory', row.action, row.instance_id, row.task_id, row.detail,
                        row.remote_addr)
    _as_owner("UPDATE audit_log SET actor = 'mallory', row_hash = :h WHERE id = 6", params={'h': forged})
    result = audit.verify()
    assert (result.problem.kind, result.problem.id) == ('unlinked', 7)


def test_a_cut_off_tail_or_a_recomputed_chain_is_caught_by_an_anchor(test_app, database_url, monkeypatch):
    count = _some_history()
    first = audit.verify()
    anchor = f'{first.last_id}:{first.last_hash}'
    cli = _verify_cli(database_url, monkeypatch, '--anchor', anchor)
    assert cli.exit_code == 0, cli.output
    assert f'{count} 条记录' in cli.output and f'最后一条 (last row): {anchor}' in cli.output
    assert f'核对点 (anchor) {count}: 一致' in cli.output

    _as_owner(f'DELETE FROM audit_log WHERE id >= {count - 1}')
    assert audit.verify().intact                 # the chain alone cannot tell a shorter log
    result = audit.verify([(first.last_id, first.last_hash)])
    assert (result.problem.kind, result.problem.id) == ('missing', count - 1)
    cli = _verify_cli(database_url, monkeypatch, '--anchor', anchor)
    assert cli.exit_code == 1 and f'missing at row {count - 1}' in cli.output, cli.output

    # The whole chain recomputed from a changed row on: intact by itself, the anchor disagrees.
    prev = GENESIS
    for row in _rows():
        actor = 'mallory' if row.id == 3 else row.actor
        new = entry_hash(prev, row.at, actor, row.action, row.instance_id, row.task_id, row.detail, row.remote_addr)
        _as_owner('UPDATE audit_log SET actor = :a, prev_hash = :p, row_hash = :h WHERE id = :i',
                  params={'a': actor, 'p': prev, 'h': new, 'i': row.id})
        prev = new
    middle = _rows()[count // 2]
    assert audit.verify().intact
    assert audit.verify([(3, first.last_hash)]).problem.kind == 'changed'
    assert audit.verify([(middle.id, middle.row_hash)]).intact


def test_anchor_must_be_id_colon_hash(test_app, database_url, monkeypatch):
    cli = _verify_cli(database_url, monkeypatch, '--anchor', '12:abc')
    assert cli.exit_code == 2 and '应为 编号:哈希' in cli.output


def test_an_empty_log_is_intact(app, database_url, monkeypatch):
    cli = _verify_cli(database_url, monkeypatch)
    assert cli.exit_code == 0 and '0 条记录' in cli.output, cli.output


def test_verify_over_the_api_is_for_admins(people):
    _some_history()
    r = people['adm'].get('/api/v1/audit/verify')
    assert r.status_code == 200, r.json
    assert r.json['intact'] is True and r.json['problem'] is None and r.json['count'] == r.json['last_id'] > 10
    anchor = f"{r.json['last_id']}:{r.json['last_hash']}"
    assert people['adm'].get(f'/api/v1/audit/verify?anchor={anchor}').json['checked_anchors'] == [r.json['last_id']]
    for name in ('sup', 'cw1', 'ld1', 'ver', 'des', 'va1'):
        assert people[name].get('/api/v1/audit/verify').status_code == 403, name
    assert people.anonymous.get('/api/v1/audit/verify').status_code == 401
    bad = people['adm'].get('/api/v1/audit/verify?anchor=1:xyz')
    assert bad.status_code == 422 and '应为 编号:哈希' in str(bad.json['details'])
    # The list shows each row's hash, so an anchor can be noted from it too.
    assert people['sup'].get('/api/v1/audit?per_page=1').json['items'][0]['row_hash']

    _as_owner('UPDATE audit_log SET detail = :d WHERE id = 3', params={'d': '{"note": "x"}'})
    r = people['adm'].get('/api/v1/audit/verify')
    assert r.json['intact'] is False and r.json['count'] == 2
    assert r.json['problem']['kind'] == 'changed' and r.json['problem']['id'] == 3


def test_entries_of_a_savepoint_commit_with_the_outer_transaction_only(test_app):
    if db.engine.dialect.name == 'sqlite':
        pytest.skip("pysqlite: a SAVEPOINT before any write starts SQLite's transaction, its RELEASE commits")
    _some_history()
    count = len(_rows())
    with db.session.begin_nested():
        audit.record('alice', 'read_case', instance_id=1)
    db.session.rollback()                      # the outer transaction: the savepoint's entry goes too
    assert len(_rows()) == count
    with db.session.begin_nested():
        audit.record('alice', 'read_case', instance_id=2)
    db.session.commit()
    assert [r.instance_id for r in _rows()[count:]] == [2]
    assert audit.verify().intact


def test_a_chained_commit_is_on_disk_when_commit_returns(test_app):
    """PostgreSQL: the chained transaction commits without waiting for the WAL flush (the chain's
    lock is released at once); commit() returns only after the flush all the same."""
    if db.engine.dialect.name != 'postgresql':
        pytest.skip('SQLite commits in WAL mode with synchronous=NORMAL (extensions.tune_sqlite)')
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    seen = {}

    def after_chain(session):                  # runs after the chain's hook: the entry is inserted
        if 'lsn' not in seen:
            seen['lsn'] = session.connection().exec_driver_sql('SELECT pg_current_wal_insert_lsn()').scalar()
    event.listen(Session, 'before_commit', after_chain)
    try:
        audit.record('alice', 'read_case', instance_id=1)
        db.session.commit()
    finally:
        event.remove(Session, 'before_commit', after_chain)
    assert db.session.execute(text('SELECT pg_current_wal_flush_lsn() >= CAST(:lsn AS pg_lsn)'),
                              {'lsn': seen['lsn']}).scalar()
    assert db.session.execute(text('SHOW synchronous_commit')).scalar() == 'on'   # only that commit was early


def test_since_walks_only_the_rows_after_a_checked_one(test_app, database_url, monkeypatch):
    _some_history()
    first = audit.verify()
    audit.record('bob', 'read_case', instance_id=1)
    audit.record('bob', 'read_case', instance_id=2)
    db.session.commit()
    since = f'{first.last_id}:{first.last_hash}'
    cli = _verify_cli(database_url, monkeypatch, '--since', since)
    assert cli.exit_code == 0, cli.output
    assert f'第 {first.last_id} 条之后 (after row {first.last_id}) 2 条记录' in cli.output

    _as_owner(f'UPDATE audit_log SET actor = \'mallory\' WHERE id = {first.last_id + 2}')
    result = audit.verify(since=(first.last_id, first.last_hash))
    assert (result.problem.kind, result.problem.id, result.count) == ('changed', first.last_id + 2, 1)
    # A row before the starting point is not walked: that is what the full walk is for.
    _as_owner("UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
    assert audit.verify(since=(first.last_id, first.last_hash)).problem.id == first.last_id + 2
    assert audit.verify().problem.id == 2
    # The starting row itself must still be what was noted.
    assert audit.verify(since=(2, first.last_hash)).problem.kind == 'changed'
    assert audit.verify(since=(9999, first.last_hash)).problem.kind == 'missing'


def test_since_over_the_api(people):
    first = people['adm'].get('/api/v1/audit/verify').json
    audit.record('bob', 'read_case', instance_id=1)
    db.session.commit()
    r = people['adm'].get(f"/api/v1/audit/verify?since={first['last_id']}:{first['last_hash']}")
    assert r.status_code == 200 and r.json['intact'] and r.json['count'] == 1, r.json
    assert r.json['checked_anchors'] == [first['last_id']]
    assert people['adm'].get('/api/v1/audit/verify?since=12').status_code == 422


def test_verify_over_the_api_walks_a_bounded_stretch_and_says_where_to_go_on(people, monkeypatch):
    """A request checks at most VERIFY_ROWS_PER_REQUEST rows (7 M rows took 8 minutes, past any
    request's time limit): it says whether it reached the end and the `since` to continue from, and an
    anchor beyond its stretch is checked by the request that reaches it, not called missing."""
    total = _some_history()
    monkeypatch.setattr(audit, 'VERIFY_ROWS_PER_REQUEST', 5)
    far = _rows()[-2]
    anchor = f'{far.id}:{far.row_hash}'
    r = people['adm'].get(f'/api/v1/audit/verify?anchor={anchor}')
    assert r.status_code == 200, r.json
    assert r.json['intact'] is True and r.json['complete'] is False and r.json['count'] == 5
    assert r.json['problem'] is None and r.json['checked_anchors'] == []
    assert r.json['next_since'] == f"5:{r.json['last_hash']}"
    seen, checked, calls, starts = 5, [], 1, set()
    while not r.json['complete']:
        starts.add(int(r.json['next_since'].split(':')[0]))
        r = people['adm'].get(f"/api/v1/audit/verify?anchor={anchor}&since={r.json['next_since']}")
        assert r.status_code == 200 and r.json['intact'] is True, r.json
        seen, checked, calls = seen + r.json['count'], checked + r.json['checked_anchors'], calls + 1
    # The log grows while it is walked (every request reads and may record): at least what was there.
    # Each `since` row is checked again (it must still carry its hash), the anchor once, where reached.
    assert seen >= total and calls >= total // 5 and far.id in checked
    assert [i for i in checked if i not in starts or i == far.id] == [far.id]
    assert r.json.get('next_since') is None

    # A changed row past the first stretch is found by the request that reaches it.
    _as_owner('UPDATE audit_log SET detail = :d WHERE id = 8', params={'d': '{"note": "x"}'})
    first = people['adm'].get('/api/v1/audit/verify').json
    assert first['intact'] is True and first['complete'] is False
    second = people['adm'].get(f"/api/v1/audit/verify?since={first['next_since']}").json
    assert second['intact'] is False and second['problem']['kind'] == 'changed' and second['problem']['id'] == 8
    assert second['complete'] is True and second.get('next_since') is None


def test_the_command_line_walks_the_whole_log(test_app, database_url, monkeypatch):
    total = _some_history()
    monkeypatch.setattr(audit, 'VERIFY_ROWS_PER_REQUEST', 5)
    cli = _verify_cli(database_url, monkeypatch)
    assert cli.exit_code == 0 and f'{total} 条记录' in cli.output, cli.output
