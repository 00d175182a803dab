"""A write's case, task and timer rows go out by statements built once (services/row_writes.py), and
what they write is what the ORM's flush writes; the session holds them as after a flush.

The same case is worked twice: once by the write path as it is, once with a listener on the task
and timer mappers, which sends every write through the ORM's flush instead. Both leave the same rows.
"""
from sqlalchemy import event, inspect, select

from service.extensions import db
from service.models import ProcessInstance, Task, Timer
from service.services import cases, row_writes, runtime, users
from service.services.auth import find_user

from .security_helpers import web_app  # noqa: F401  (fixture)
from .test_web_lists import NOTICE, accept, do, start

SKIP = {'id', 'instance_id', 'scope_task_id', 'task_id', 'state_of_case'}


def work(name, seq):
    """A dibao_a case that comes back to an earlier step (its second check is `returned`), then is
    accepted: task rows completed, cancelled and new, timer rows made and cancelled."""
    case = start('t01', name, seq)
    do(case, 'check_materials', {'acceptance': {'result': 'incomplete', 'missing_items': ['收入证明'],
                                                'checked_on': '2026-09-28'}}, 't01_jingban')
    do(case, 'notify_missing', {'missing_materials_notice': NOTICE}, 't01_jingban')
    cases.send_message(find_user('t01_jingban'), case, 'supplement_received',
                       {'items': ['收入证明'], 'received_on': '2026-09-29'})
    accept(case)
    return case


def rows_of(case):
    """Every row of the case as plain values, in the order they were made (ids and task UUIDs aside:
    those differ from case to case)."""
    db.session.expire_all()

    def plain(obj):
        return {c.key: getattr(obj, c.key) for c in type(obj).__table__.columns if c.key not in SKIP}
    instance = db.session.get(ProcessInstance, case)
    tasks = db.session.scalars(select(Task).where(Task.instance_id == case).order_by(Task.created_at, Task.bpmn_id))
    timers = db.session.scalars(select(Timer).where(Timer.instance_id == case).order_by(Timer.id))
    kept = plain(instance)
    for volatile in ('state', 'business_key', 'id_hash', 'summary', 'search_terms'):   # the applicant's
        kept.pop(volatile, None)
    return kept, [plain(t) for t in tasks], [plain(t) for t in timers]


def test_the_rows_written_are_those_the_orm_would_write(web_app):
    by_statements = rows_of(work('赵六', 1))

    def nothing(*_args):
        pass
    for kind in (Task, Timer):
        event.listen(kind, 'before_insert', nothing)
    try:
        by_orm = rows_of(work('赵六', 2))
    finally:
        for kind in (Task, Timer):
            event.remove(kind, 'before_insert', nothing)
    assert by_statements[0] == by_orm[0]
    assert by_statements[1] == by_orm[1]
    assert by_statements[2] == by_orm[2]
    checks = [t for t in by_statements[1] if t['bpmn_id'] == 'check_materials']
    assert [t['returned'] for t in checks] == [False, True]       # worked out by the INSERT itself
    assert all(t['data'] for t in by_statements[1] if t['state'] == 'completed')   # decrypted again


def test_a_completion_leaves_the_orm_nothing_to_flush(web_app):
    case = start('t01', '钱七', 3)
    user = find_user('t01_jingban')
    task = next(t for t in cases.ready_tasks(case) if t.bpmn_id == 'check_materials')
    cases.claim(user, task.id)
    flushes, statements = [], []

    def flushed(*_args):
        flushes.append(1)

    def sent(_conn, _cursor, statement, *_args):
        statements.append(statement)
    event.listen(db.session(), 'before_flush', flushed)
    event.listen(db.engine, 'before_cursor_execute', sent)
    try:
        cases.complete(user, task.id, {'acceptance': {'result': 'complete', 'checked_on': '2026-09-28'}})
    finally:
        event.remove(db.session(), 'before_flush', flushed)
        event.remove(db.engine, 'before_cursor_execute', sent)
    assert flushes == [], 'the ORM flushed rows the write path writes itself'
    writes = [s for s in statements if s.startswith(('UPDATE process_instance', 'UPDATE task', 'INSERT INTO task',
                                                      'UPDATE timer', 'INSERT INTO timer', 'WITH'))]
    if db.engine.dialect.name == 'postgresql':
        # One statement: the case row, the completed task row and the new one, each in its WITH.
        assert len(writes) == 1 and writes[0].startswith('WITH'), writes
        assert [w in writes[0] for w in ('UPDATE process_instance', 'UPDATE task', 'INSERT INTO task')] == [True] * 3
    else:
        assert [s.split(' SET ')[0].split(' (')[0] for s in writes] == [
            'UPDATE process_instance', 'UPDATE task', 'INSERT INTO task']
    session = db.session()
    assert not session.new and not session.dirty
    new = next(t for t in cases.ready_tasks(case) if t.bpmn_id == 'issue_acceptance_notice')
    assert inspect(new).persistent and new.returned is False


def test_a_write_rolled_back_leaves_no_row_behind(web_app):
    """Rows written by the statements are the transaction's: a rollback drops the new ones from the
    session and reads the changed ones again, as after a flush."""
    case = start('t01', '孙八', 4)
    user = find_user('t01_jingban')
    task = next(t for t in cases.ready_tasks(case) if t.bpmn_id == 'check_materials')
    cases.claim(user, task.id)
    db.session.commit()
    instance = db.session.get(ProcessInstance, case)
    row = db.session.get(Task, task.id)
    version = instance.version
    row.state, instance.status = 'completed', 'completed'
    added = Task(id='00000000-0000-0000-0000-00000000abcd', instance_id=case, bpmn_id='check_materials',
                 name='检查', township='t01', state='ready', returned=row_writes.DONE_BEFORE)
    db.session.add(added)
    row_writes.flush(db.session())
    # The step's earlier row was completed by this same write, before the new row's INSERT.
    assert instance.version == version + 1 and inspect(added).persistent and added.returned is True
    db.session.rollback()
    assert inspect(added).transient or inspect(added).detached
    assert db.session.get(Task, task.id).state == 'ready'
    assert db.session.get(ProcessInstance, case).version == version
    assert db.session.get(Task, added.id) is None


def test_a_completion_that_opens_two_steps_is_one_statement(test_app):
    """bench_ten's u2 leads into a parallel fork: its completion makes two task rows of one shape.
    On PostgreSQL each row goes into the case's one statement, in a WITH of its own under the case
    row's version check, not in an executemany sent after it (SQLAlchemy's, a third of a completion's
    CPU, for one completion in seven of tests/bench/bench_load.py)."""
    with test_app.app_context():
        users.add_user('cw_fork', '经办人', 'township_caseworker', 't01', 'fork-pass-1234!', 'tester')
        case = runtime.start_instance('bench_ten', 't01', {'applicant': {'name': '申请人'}}, 'tester').id
        db.session.commit()
        for step in ('u1', 'u2'):
            task = next(t for t in cases.ready_tasks(case) if t.bpmn_id == step)
            statements, sizes = [], {}

            def sent(_conn, _cursor, statement, parameters, *_args):
                statements.append(statement)
                sizes[statement] = len(parameters)
            user = find_user('cw_fork')
            event.listen(db.engine, 'before_cursor_execute', sent)
            try:
                cases.complete(user, task.id, {'note': '已核实', 'approved': True})
            finally:
                event.remove(db.engine, 'before_cursor_execute', sent)
            db.session.remove()
        new = cases.ready_tasks(case)
        assert sorted(t.bpmn_id for t in new) == ['u3', 'u4']
        assert all(t.returned is False and t.township == 't01' for t in new)
        writes = [s for s in statements if s.startswith(('UPDATE process_instance', 'UPDATE task', 'INSERT INTO task',
                                                          'UPDATE timer', 'INSERT INTO timer', 'WITH'))]
        if db.engine.dialect.name == 'postgresql':
            assert len(writes) == 1 and writes[0].startswith('WITH'), writes
            assert writes[0].count('INSERT INTO task') == 2, writes[0]
            # psycopg keeps its parse of the statement's placeholders (extensions._cache_long_statements),
            # not only of statements within its own limits (50 parameters, 4,096 bytes).
            from psycopg import _queries
            assert sizes[writes[0]] > 50
            assert sizes[writes[0]] <= _queries.MAX_CACHED_STATEMENT_PARAMS
            assert len(writes[0].encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
        else:
            assert [s.split(' SET ')[0].split(' (')[0] for s in writes] == [
                'UPDATE process_instance', 'UPDATE task', 'INSERT INTO task']
