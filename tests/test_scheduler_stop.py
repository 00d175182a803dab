"""A scheduler always stops: mid-sweep, repeatedly, a real BackgroundScheduler on a real database;
and `jiuzhu scheduler` exits with status 0 on SIGTERM and SIGINT, handing back its claims.

Stopping used to deadlock: APScheduler's shutdown(wait=True) held its job-store lock while waiting
for the sweep, whose pull-forward then asked APScheduler for its job under that same lock.
"""
import os
import queue
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.extensions import db
from service.models import AuditEntry, Timer
from service.scheduler import runner
from service.scheduler.sweep import sweep_due
from service.services import write

from .bench.bench_timers import populate
from .conftest import PRODUCTION_KEYS, TEST_PROCESSES

FORMS = str(TEST_PROCESSES / 'forms')
# Generous: a deadlock never returns; a working stop returns after one case (milliseconds).
STOP_LIMIT = 300


def count(*where):
    return db.session.scalar(select(func.count()).select_from(Timer).where(*where))


def due_timers(app, n):
    """`n` timers due an hour ago by the real clock, and one due next month (so the sweep's
    pull-forward has a next due time to ask APScheduler about)."""
    now = datetime.now(timezone.utc)
    populate(app, [now - timedelta(hours=1)] * n, 1, now + timedelta(days=30))


def fired_at_most_once_each():
    with_two = db.session.execute(select(AuditEntry.instance_id).where(AuditEntry.action == 'timers_fired')
                                  .group_by(AuditEntry.instance_id).having(func.count() > 1)).all()
    assert with_two == []


def test_stopping_the_scheduler_mid_sweep_returns_every_time(make_app, monkeypatch):
    """Stopped in the middle of a transaction of several cases (JIUZHU_FIRE_BATCH), five times over:
    it returns, keeps the cases it fired, and hands back every claim it did not reach."""
    per_transaction, stop_at, rounds = 20, 3, 5
    app = make_app(JIUZHU_CLOCK='real', JIUZHU_FORMS_DIR=FORMS, JIUZHU_FIRE_BATCH=str(per_transaction))
    n = 200
    due_timers(app, n)
    firing = threading.Event()
    real = write.fire_open_case
    calls = []

    def signalling(case):
        calls.append(case.instance.id)
        if len(calls) == stop_at:
            # The third case of the first transaction: hold it until the stop was asked for, so the
            # stop lands mid-batch, then let it finish.
            timers = runner._embedded_timers
            firing.set()
            timers._stopping.wait(STOP_LIMIT)
        return real(case)
    monkeypatch.setattr(write, 'fire_open_case', signalling)

    for round_ in range(1, rounds + 1):
        firing.clear()
        calls.clear()
        assert runner.start_embedded(app) is not None
        assert firing.wait(STOP_LIMIT), 'the scheduler never started sweeping'
        stopper = threading.Thread(target=runner.stop_embedded, kwargs={'wait': True}, daemon=True)
        stopper.start()
        stopper.join(STOP_LIMIT)
        assert not stopper.is_alive(), 'stopping the scheduler mid-sweep hung'
        with app.app_context():
            due_left = count(Timer.state == 'waiting', Timer.due_at < datetime.now(timezone.utc))
            # It stopped after the case it was firing, in the middle of its first transaction: the
            # cases before the stop are kept, the rest of the batch is handed back unclaimed.
            assert len(calls) == stop_at
            assert due_left == n - round_ * stop_at
            assert count(Timer.state == 'waiting', Timer.claimed_by.is_not(None)) == 0
            db.session.remove()

    monkeypatch.undo()
    assert sweep_due(app) == due_left
    with app.app_context():
        assert count(Timer.state == 'fired') == n
        fired_at_most_once_each()
        db.session.remove()


# ---------------------------------------------------------------------------------------------
# the `jiuzhu scheduler` process

def _lines(stream, into):
    for line in stream:
        into.put(line)
    into.put(None)


@pytest.mark.slow
@pytest.mark.parametrize('stop_signal', [signal.SIGTERM, signal.SIGINT], ids=['SIGTERM', 'SIGINT'])
def test_the_scheduler_command_exits_cleanly_on_a_stop_signal(make_app, database_url, stop_signal):
    app = make_app(JIUZHU_CLOCK='real', JIUZHU_FORMS_DIR=FORMS)
    n = 300
    due_timers(app, n)
    env = dict(os.environ, DATABASE_URL=database_url, JIUZHU_CLOCK='real', SECRET_KEY='test-secret',
               JIUZHU_HOLIDAYS='', JIUZHU_FORMS_DIR=FORMS, JIUZHU_EMBEDDED_SCHEDULER='0', **PRODUCTION_KEYS)
    jiuzhu = Path(sys.executable).with_name('jiuzhu')
    proc = subprocess.Popen([str(jiuzhu), '-v', 'scheduler'], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    seen = []
    try:
        # Signal it once its first sweep has claimed rows: mid-sweep.
        while not any('sweep: firing timers' in line for line in seen):
            line = lines.get(timeout=STOP_LIMIT)
            assert line is not None, ''.join(seen)
            seen.append(line)
        proc.send_signal(stop_signal)
        assert proc.wait(STOP_LIMIT) == 0, ''.join(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    while (line := lines.get(timeout=STOP_LIMIT)) is not None:
        seen.append(line)
    output = ''.join(seen)
    assert f'stopped on {stop_signal.name}' in output
    assert 'Traceback' not in output
    with app.app_context():
        # Whatever it did not fire is waiting, unclaimed, for the next scheduler.
        assert count(Timer.state == 'waiting', Timer.claimed_by.is_not(None)) == 0
        assert count(Timer.state == 'fired') + count(Timer.state == 'waiting') == n + 1
        fired_at_most_once_each()
        db.session.remove()
