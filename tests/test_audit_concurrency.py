"""Many writers at once (gunicorn workers, schedulers): the chain stays whole, nobody errs or deadlocks.

Each thread is its own app (its own engine and pool, as a worker process has) and runs many small
transactions: starting and completing its own cases, audited reads, and priority changes on one
task every thread shares, so transactions also wait for each other's row locks.
"""
import threading
import time

import pytest

from sqlalchemy import func, select, text

from service.errors import Conflict
from service.extensions import db
from service.models import AuditEntry, Task
from service.services import audit, repository, runtime, tasks

from .conftest import TEST_PROCESSES
from .test_core import ready

THREADS = 6
ROUNDS = 8


def _worker(app, name, shared_task, barrier, errors, written):
    with app.app_context():
        try:
            barrier.wait()
            for i in range(ROUNDS):
                case = runtime.start_instance('core_case', 't01', {'applicant': {'name': name}}, name)
                tasks.complete_task(ready(case.id)['accept'].id, {'note': str(i)}, name)
                # An audited read: a transaction that has only read before its entry.
                runtime.get_instance(case.id)
                audit.record(name, 'read_case', instance_id=case.id)
                db.session.commit()
                # The same task row for every thread, changed two ways: flushed before the commit
                # (the write path's way), and left for the commit to flush. Either way its row lock
                # is taken before the chain's lock, so nobody waits for it while holding the chain.
                db.session.get(Task, shared_task).priority = i
                db.session.flush()
                audit.record(name, 'priority', task_id=shared_task, priority=i)
                db.session.commit()
                # Through the write path, the shared case's version is checked: a concurrent
                # change is a 409 (and its entry vanishes with it), never a broken chain.
                try:
                    tasks.set_priority(shared_task, i, name)
                    written[name] = written.get(name, 0) + 1
                except Conflict:
                    pass
                written[name] = written.get(name, 0) + 4
        except Exception as exc:  # noqa: BLE001  (every failure is reported by the test)
            errors.append(f'{name}: {exc!r}')
        finally:
            db.session.remove()


def test_concurrent_writers_keep_one_valid_chain(make_app):
    setup = make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'))
    with setup.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        shared = runtime.start_instance('core_case', 't01', {'applicant': {'name': '共用'}}, 'tester')
        shared_task = ready(shared.id)['accept'].id
        before = db.session.scalar(select(func.count()).select_from(AuditEntry))
        db.session.remove()
    apps = [make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms')) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS, timeout=120)
    errors, written = [], {}
    threads = [threading.Thread(target=_worker, args=(app, f'w{n}', shared_task, barrier, errors, written))
               for n, app in enumerate(apps)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not any(t.is_alive() for t in threads), 'a writer hung'
    assert errors == []
    with setup.app_context():
        result = audit.verify()
        assert result.intact, result.problem
        assert result.count == result.last_id == before + sum(written.values())
        # Every thread's committed entries are all there, and nothing of its refused ones.
        per_actor = dict(db.session.execute(select(AuditEntry.actor, func.count()).group_by(AuditEntry.actor)).all())
        assert per_actor == dict(per_actor, **written)
        assert min(written.values()) >= ROUNDS * 4


def test_waiting_for_a_row_lock_never_happens_while_holding_the_chain(make_app):
    """A has written a task row and is about to commit; B changed the same row and commits first.

    B must wait for A's row lock before it takes the chain's lock; were it the other way round,
    A (waiting for the chain) and B (waiting for A's row) would deadlock.
    """
    setup = make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'))
    with setup.app_context():
        if db.engine.dialect.name != 'postgresql':
            pytest.skip('SQLite has one database-wide write lock and no row locks to wait for')
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        case = runtime.start_instance('core_case', 't01', {'applicant': {'name': '共用'}}, 'tester')
        task_id = ready(case.id)['accept'].id
        db.session.remove()
    a_app, b_app = make_app(), make_app()
    a_flushed, b_connected, b_waiting = threading.Event(), threading.Event(), threading.Event()
    errors, b_pid = [], []

    def a():
        with a_app.app_context():
            try:
                db.session.get(Task, task_id).priority = 1
                db.session.flush()                        # A holds the row lock
                a_flushed.set()
                b_waiting.wait(120)
                audit.record('a', 'priority', task_id=task_id, priority=1)
                db.session.commit()                       # now A needs the chain's lock
            except Exception as exc:  # noqa: BLE001
                errors.append(f'a: {exc!r}')
            finally:
                db.session.remove()

    def b():
        with b_app.app_context():
            try:
                b_pid.append(db.session.scalar(text('SELECT pg_backend_pid()')))
                b_connected.set()
                a_flushed.wait(120)
                db.session.get(Task, task_id).priority = 2
                audit.record('b', 'priority', task_id=task_id, priority=2)
                db.session.commit()                       # the change is flushed by the commit
            except Exception as exc:  # noqa: BLE001
                errors.append(f'b: {exc!r}')
            finally:
                db.session.remove()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    with setup.app_context():
        assert a_flushed.wait(120) and b_connected.wait(120)
        # B's commit is under way once its backend waits for a lock (the row's, or wrongly the chain's).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not db.session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid "
                                         "AND wait_event_type = 'Lock'"), {'pid': b_pid[0]}):
            db.session.rollback()
        b_waiting.set()
        db.session.remove()
    for t in threads:
        t.join(300)
    assert errors == []
    with setup.app_context():
        assert audit.verify().intact
        assert db.session.get(Task, task_id).priority == 2
