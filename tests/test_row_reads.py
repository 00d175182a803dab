"""A case read for writing by one statement sent to the driver (services/row_reads.py) is what the ORM's
joined loading of the same rows gives: the same values, the same relationships, persistent and
unchanged in the session. A session already holding one of the rows has the ORM read them again.
Driver errors of such statements come as SQLAlchemy's exceptions (services/statements.py).
"""
import pytest
from sqlalchemy import bindparam, event, inspect, select
from sqlalchemy.exc import IntegrityError

from service.extensions import db
from service.models import ProcessInstance, Task, TaskDraft
from service.models.relatives import CaseExclusion
from service.services import cases, row_reads, statements, write
from service.services.auth import find_user

from .security_helpers import web_app  # noqa: F401  (fixture)
from .test_web_lists import accept, start


def values(obj):
    return {p.key: getattr(obj, p.key) for p in type(obj).__mapper__.column_attrs
            if not p.deferred or p.key == 'has_drafts'}


def everything(read):
    """A read case as plain values: the case row, its timer rows and task rows by id, the reader's exclusion."""
    instance, excluded = read
    return (values(instance), {t.id: values(t) for t in instance.live_timers},
            {t.id: values(t) for t in instance.open_tasks}, excluded)


def fresh_session():
    db.session.remove()
    return db.session()


@pytest.fixture
def case(web_app):
    """A dibao_a case accepted and waiting for its home survey (its deadline timer running), the
    survey claimed and a draft saved for it (the task's has_drafts)."""
    instance_id = start('t01', '周九', 21)
    accept(instance_id)
    user = find_user('t01_jingban')
    task = next(t for t in cases.ready_tasks(instance_id) if t.bpmn_id == 'home_survey')
    cases.claim(user, task.id)
    db.session.add(TaskDraft(task_id=task.id, username='t01_jingban', values={'acceptance': {'result': 'complete'}}))
    db.session.commit()
    return instance_id, task.id


def test_the_statement_reads_what_the_orm_loads(case):
    instance_id, task_id = case
    for ask in ({'instance_id': instance_id}, {'task_id': task_id}, {'task_id': task_id, 'reader': 't01_jingban'}):
        session = fresh_session()
        fast = row_reads.read_case(session, ask.get('instance_id'), ask.get('task_id'), ask.get('reader'))
        assert fast is not None and fast[0] is not None
        assert not session.dirty and not session.new
        for obj in (fast[0], *fast[0].live_timers, *fast[0].open_tasks):
            state = inspect(obj)
            assert state.persistent and not state.modified and not state.expired_attributes, obj
        by_statement = everything(fast)
        session = fresh_session()
        by_orm = everything(write._orm_read(ask.get('instance_id'), ask.get('task_id'), ask.get('reader')))
        if 'reader' not in ask:
            by_orm = (*by_orm[:3], None)
        assert by_statement == by_orm
        assert by_statement[1], 'the case has live timers'
        assert [t['has_drafts'] for t in by_statement[2].values()] == [True]
        assert by_statement[0]['state'].startswith('{')          # decrypted
        assert by_statement[3] in (None, False)


def test_an_excluded_reader_is_told(case):
    instance_id, task_id = case
    db.session.add(CaseExclusion(instance_id=instance_id, username='t01_jingban', reason='近亲属'))
    db.session.commit()
    session = fresh_session()
    assert row_reads.read_case(session, None, task_id, 't01_jingban')[1] is True
    assert row_reads.read_case(fresh_session(), None, task_id, 't01_shenhe')[1] is False


def test_no_such_case_or_task(case):
    assert row_reads.read_case(fresh_session(), 999999) == (None, None)
    assert row_reads.read_case(fresh_session(), None, '00000000-0000-0000-0000-000000000000') == (None, None)


def test_rows_the_session_holds_are_read_again_by_the_orm(case, monkeypatch):
    """The ORM's query overwrites what the session holds (populate_existing); the statement's objects
    could not join them. So a held case, or a held task row, sends the read to the ORM."""
    instance_id, task_id = case
    orm_reads, real = [], write._orm_read
    monkeypatch.setattr(write, '_orm_read', lambda *a: orm_reads.append(a) or real(*a))

    session = fresh_session()
    held = session.get(ProcessInstance, instance_id)
    assert row_reads.read_case(session, instance_id) is None
    opened = write.open_case(instance_id)
    assert opened.instance is held and len(orm_reads) == 1

    session = fresh_session()
    row = session.get(Task, task_id)
    row.priority = 7          # not flushed: the ORM's query would load the row again over it
    session.expire(row, ['priority'])
    opened = write.open_case(None, task_id=task_id)
    assert len(orm_reads) == 2 and opened.rows.task(task_id) is row

    fresh_session()
    write.open_case(None, task_id=task_id)
    assert len(orm_reads) == 2, 'nothing held: the statement reads the case'


def test_what_the_session_holds_changed_is_written_before_the_read(case):
    """As the ORM's query autoflushes: a change not yet flushed counts for what the statement reads
    (here an exclusion added in the same transaction)."""
    instance_id, task_id = case
    session = fresh_session()
    session.add(CaseExclusion(instance_id=instance_id, username='t01_jingban', reason='近亲属'))
    assert row_reads.read_case(session, None, task_id, 't01_jingban')[1] is True
    session.rollback()


def test_a_driver_error_is_sqlalchemys_and_the_statement_is_seen_by_listeners(case):
    instance_id, task_id = case
    session = fresh_session()
    seen = []

    def sent(_conn, _cursor, statement, *_args):
        seen.append(statement)
    table = Task.__table__
    connection = session.connection()
    # The task row copied onto itself: its primary key taken.
    stmt = statements.prepared(connection, ('test', 'copy a task row'),
                               lambda: table.insert().from_select(
                                   [c.key for c in table.columns],
                                   select(*table.columns).where(table.c.id == bindparam('task_id'))),
                               ['task_id'])
    event.listen(db.engine, 'before_cursor_execute', sent)
    try:
        with pytest.raises(IntegrityError):
            statements.execute(connection, stmt, {'task_id': task_id})
    finally:
        event.remove(db.engine, 'before_cursor_execute', sent)
    session.rollback()
    assert seen == [stmt.sql]
    assert db.session.scalar(select(Task.state).where(Task.id == task_id)) == 'ready'
    assert db.session.get(ProcessInstance, instance_id).status == 'running'


def test_a_prepared_statement_binds_as_sqlalchemy_does(case):
    """Names the statement lacks are ignored; a parameter it requires must be given (refused when
    prepared, not sent as NULL); rows can be named by the columns' keys, as SQLAlchemy's rows are."""
    _, task_id = case
    connection = fresh_session().connection()
    stmt = select(Task.id, Task.bpmn_id, Task.created_at).where(Task.id == bindparam('task_id'))
    with pytest.raises(ValueError, match='task_id'):
        statements.Prepared(stmt, connection.dialect, [])
    prepared = statements.Prepared(stmt, connection.dialect, ['task_id', 'not_in_it'])
    (row,) = statements.execute(connection, prepared, {'task_id': task_id, 'not_in_it': 1}, named=True).rows
    assert (row.id, row.bpmn_id) == (task_id, 'home_survey') and row.created_at.tzinfo is not None
    assert row == tuple(db.session.execute(stmt, {'task_id': task_id}).one())


def test_the_kept_cursor_serves_after_an_error_and_not_past_its_connection(case):
    """A statement's cursor is kept with its connection (services/statements._cursor): a failed
    statement leaves it usable, an UPDATE without RETURNING gives no rows but its count, and a
    connection replaced under the pool's record (a disconnect) gets a cursor of its own."""
    instance_id, task_id = case
    session = fresh_session()
    connection = session.connection()
    table = Task.__table__
    copy = statements.prepared(connection, ('test', 'copy a task row'),
                               lambda: table.insert().from_select(
                                   [c.key for c in table.columns],
                                   select(*table.columns).where(table.c.id == bindparam('task_id'))),
                               ['task_id'])
    read = statements.Prepared(select(Task.state).where(Task.id == bindparam('task_id')), connection.dialect,
                               ['task_id'])
    touch = statements.Prepared(table.update().where(table.c.id == bindparam('task_id')).values(priority=3),
                                connection.dialect, ['task_id'])
    with pytest.raises(IntegrityError):
        statements.execute(connection, copy, {'task_id': task_id})
    session.rollback()
    connection = session.connection()
    kept = statements._cursor(connection.connection)
    assert statements.execute(connection, read, {'task_id': task_id}).rows == [('ready',)]
    assert statements._cursor(connection.connection) is kept
    result = statements.execute(connection, touch, {'task_id': task_id})
    assert (result.rows, result.rowcount) == ([], 1)
    session.rollback()

    record = session.connection().connection._connection_record
    session.connection().invalidate()    # as after a lost connection: the pool's record opens a new one
    session.rollback()
    session.close()
    session = fresh_session()
    connection = session.connection()
    assert connection.connection._connection_record is record
    assert statements._cursor(connection.connection) is not kept
    assert statements.execute(connection, read, {'task_id': task_id}).rows == [('ready',)]
    session.rollback()
    assert db.session.get(ProcessInstance, instance_id).status == 'running'
