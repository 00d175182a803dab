"""Calendar-driven cases: the monthly roster (by the 25th) and payment (by the 10th) of every township,
started by the scheduler from the clock, once per month however often it runs; and the APScheduler
wrapper around the sweep."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from service import calendar
from service.config import ROOT
from service.extensions import db
from service.models import ProcessInstance, Task, Timer
from service.scheduler import monthly, runner
from service.scheduler.monthly import monthly_starts, start_monthly_cases
from service.scheduler.sweep import sweep_due
from service.services import repository, runtime, tasks, users

from .conftest import TEST_PROCESSES

COMMON = ROOT / 'processes' / 'common'
NOV_1 = '2026-11-01T00:00:30+08:00'


def deploy_monthly():
    files = {f'common/{p.name}': p.read_bytes() for p in sorted(COMMON.glob('monthly_*.bpmn'))}
    return repository.deploy(files, 'designer')


@pytest.fixture
def roster_app(make_app):
    app = make_app(JIUZHU_CLOCK_START='2026-10-20T10:00:00+08:00')
    with app.app_context():
        deploy_monthly()
        for name, township, role in (('wang', 't01', 'township_caseworker'), ('li', 't01', 'township_leader'),
                                     ('zhao', 't02', 'township_caseworker'), ('chen', 'county', 'county_supervisor')):
            users.add_user(name, name, role, township, 'password-123', 'admin')
        yield app


def cases():
    return {c.business_key: c for c in db.session.scalars(select(ProcessInstance)
                                                          .where(ProcessInstance.business_key.is_not(None)))}


def open_task(case):
    return db.session.scalars(select(Task).where(Task.instance_id == case.id, Task.state == 'ready')).one()


def shanghai(moment):
    return moment.astimezone(calendar.SHANGHAI).isoformat()


def test_what_is_due_this_month_follows_the_shanghai_calendar():
    # 00:00:30 on 1 November in Shanghai is still 31 October in UTC.
    moment = datetime.fromisoformat(NOV_1).astimezone(timezone.utc)
    assert moment.day == 31
    starts = monthly_starts(moment, ['monthly_roster', 'monthly_payment'], ['t02', 't01'])
    assert [s.business_key for s in starts] == ['payment-t01-2026-11', 'payment-t02-2026-11',
                                                'roster-t01-2026-11', 'roster-t02-2026-11']
    assert starts[0].data == {'period': '2026-11', 'period_start': '2026-11-01T00:00:00+08:00',
                              'next_period': '2026-12'}
    december = monthly_starts(datetime.fromisoformat('2026-12-31T23:59:59+08:00'), ['monthly_roster'], ['t01'])
    assert december[0].business_key == 'roster-t01-2026-12' and december[0].data['next_period'] == '2027-01'


def test_the_first_of_the_month_starts_one_case_per_township_once(roster_app):
    clock = roster_app.extensions['jiuzhu.clock']
    started = start_monthly_cases(roster_app)
    # The clock is in October: October's cases are started (catching up), November's are not there yet.
    assert sorted(started) == ['payment-t01-2026-10', 'payment-t02-2026-10', 'roster-t01-2026-10',
                               'roster-t02-2026-10']
    clock.set(NOV_1)
    assert sorted(start_monthly_cases(roster_app)) == ['payment-t01-2026-11', 'payment-t02-2026-11',
                                                       'roster-t01-2026-11', 'roster-t02-2026-11']
    assert start_monthly_cases(roster_app) == []          # swept twice: nothing twice
    clock.advance(days=3)
    assert start_monthly_cases(roster_app) == []
    all_cases = cases()
    assert len(all_cases) == 8
    roster = all_cases['roster-t01-2026-11']
    assert (roster.process_key, roster.township, roster.started_by) == ('monthly_roster', 't01', 'system:calendar')
    task = open_task(roster)
    assert (task.name, task.role, task.township) == ('报送下月保障名册', 'township_caseworker', 't01')
    assert task.form == 'monthly_roster.schema.json'
    assert shanghai(task.due_at) == '2026-11-26T00:00:00+08:00'          # 24:00 on the 25th
    payment = open_task(all_cases['payment-t02-2026-11'])
    # Seed 000: the county bureau sees the money paid by the 10th, not the township caseworker.
    assert (payment.role, shanghai(payment.due_at)) == ('county_supervisor', '2026-11-11T00:00:00+08:00')
    assert runtime.case_data(roster.id)['next_period'] == '2026-12'


def test_a_missed_roster_deadline_marks_the_case_overdue(roster_app):
    clock = roster_app.extensions['jiuzhu.clock']
    clock.set(NOV_1)
    start_monthly_cases(roster_app)
    on_time = cases()['roster-t02-2026-11']
    tasks.complete_task(open_task(on_time).id, {'roster_report': {
        'roster_month': '2026-12', 'households': 120, 'persons': 233, 'total_amount': 61500.0,
        'submitted_on': '2026-11-20'}}, 'zhao')
    clock.set('2026-11-25T23:59:59+08:00')
    sweep_due(roster_app)
    db.session.expire_all()
    late = cases()['roster-t01-2026-11']
    assert not late.overdue
    clock.set('2026-11-26T00:00:01+08:00')
    assert sweep_due(roster_app) >= 1
    db.session.expire_all()
    late = cases()['roster-t01-2026-11']
    assert late.overdue and late.status == 'running'
    assert open_task(late).overdue                      # still to be sent, now late
    assert cases()['roster-t02-2026-11'].status == 'completed' and not cases()['roster-t02-2026-11'].overdue
    fired = db.session.scalars(select(Timer).where(Timer.instance_id == late.id)).one()
    assert (fired.bpmn_id, fired.kind, fired.state) == ('roster_deadline', 'deadline', 'fired')


def test_configured_townships_replace_the_users_table(make_app):
    app = make_app(JIUZHU_CLOCK_START=NOV_1, JIUZHU_TOWNSHIPS='t07, t08')
    with app.app_context():
        deploy_monthly()
        assert sorted(start_monthly_cases(app)) == ['payment-t07-2026-11', 'payment-t08-2026-11',
                                                    'roster-t07-2026-11', 'roster-t08-2026-11']


def test_nothing_starts_without_roster_processes_or_townships(test_app):
    assert start_monthly_cases(test_app) == []          # test processes only, no users


def test_two_schedulers_starting_the_same_month_start_each_case_once(roster_app, make_app, caplog):
    roster_app.extensions['jiuzhu.clock'].set(NOV_1)
    other = make_app(JIUZHU_CLOCK_START=NOV_1)
    barrier = threading.Barrier(2, timeout=120)     # a bound against a hang (slow apps at load 14)
    real = runtime.start_instance
    waited = set()
    outcome = {}

    def in_step(*args, **kwargs):
        # Both schedulers have found the month missing before either starts a case.
        if threading.current_thread().name not in waited:
            waited.add(threading.current_thread().name)
            barrier.wait()
        return real(*args, **kwargs)

    def run(app, name):
        outcome[name] = start_monthly_cases(app)
    caplog.set_level('INFO', logger='jiuzhu.scheduler')
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(monthly.runtime, 'start_instance', in_step)
        threads = [threading.Thread(target=run, args=(a, n), name=n) for a, n in ((roster_app, 'a'), (other, 'b'))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
    started = outcome['a'] + outcome['b']
    assert sorted(started) == sorted(set(started)) and len(started) == 4
    assert 'was started by another scheduler' in caplog.text       # the key, not luck, kept them apart
    db.session.expire_all()
    keys = db.session.execute(select(ProcessInstance.business_key, func.count()).where(
        ProcessInstance.business_key.like('%-2026-11')).group_by(ProcessInstance.business_key)).all()
    assert len(keys) == 4 and all(n == 1 for _, n in keys)


# -- the APScheduler wrapper ------------------------------------------------------------------------

class _Job:
    def __init__(self, next_run_time):
        self.next_run_time = next_run_time
        self.moved_to = None

    def modify(self, next_run_time):
        self.moved_to = next_run_time


class _Scheduler:
    """Records what TimerScheduler asks of APScheduler, without a thread."""

    def __init__(self, job=None):
        self.jobs = {}
        self.job = job

    def add_job(self, func, trigger, **kwargs):
        self.jobs[kwargs['id']] = (trigger, kwargs)

    def get_job(self, job_id):
        return self.job


def test_the_sweep_job_runs_at_start_and_moves_forward_to_the_next_due_timer(make_app):
    app = make_app(JIUZHU_CLOCK='real', JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'))
    with app.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        runtime.start_instance('one_timer', 't01', {}, 'tester')     # due in one (real) hour
    now = datetime.now(timezone.utc)
    stub = _Scheduler(_Job(now + timedelta(seconds=30)))
    ts = runner.TimerScheduler(app, stub, interval=30).install()
    trigger, kwargs = stub.jobs[runner.SWEEP_JOB]
    assert trigger == 'interval' and kwargs['seconds'] == 30
    assert kwargs['next_run_time'] <= datetime.now(timezone.utc)        # missed timers fire at once
    assert runner.MONTHLY_JOB in stub.jobs                             # real clock: a cron job
    cron = stub.jobs[runner.MONTHLY_JOB][0]
    first = cron.get_next_fire_time(None, datetime.fromisoformat('2026-10-20T10:00:00+08:00'))
    assert first.isoformat() == '2026-11-01T00:00:05+08:00'

    ts.run_sweep()
    assert stub.job.moved_to is None                      # the interval comes first
    stub.job = _Job(now + timedelta(hours=3))
    ts.run_sweep()
    assert abs((stub.job.moved_to - (now + timedelta(hours=1))).total_seconds()) < 60


def test_manual_clock_has_no_cron_and_the_interval_starts_monthly_cases(roster_app):
    stub = _Scheduler(_Job(None))
    ts = runner.TimerScheduler(roster_app, stub, interval=5).install()
    assert set(stub.jobs) == {runner.SWEEP_JOB}
    roster_app.extensions['jiuzhu.clock'].set(NOV_1)
    ts.run_sweep()
    db.session.expire_all()
    assert 'roster-t01-2026-11' in cases()
    assert stub.job.moved_to is None                      # manual due times are not wall times


def test_the_embedded_scheduler_starts_only_when_asked_and_only_once(make_app):
    assert runner._embedded is None
    make_app(JIUZHU_EMBEDDED_SCHEDULER=False)
    assert runner._embedded is None
    try:
        make_app(JIUZHU_EMBEDDED_SCHEDULER=True, JIUZHU_SWEEP_SECONDS=3600)
        first = runner._embedded
        assert first is not None and first.running and first.get_job(runner.SWEEP_JOB) is not None
        make_app(JIUZHU_EMBEDDED_SCHEDULER=True)
        assert runner._embedded is first
    finally:
        runner.stop_embedded(wait=True)
    assert runner._embedded is None


def test_scheduler_command_once_starts_the_month_and_sweeps(roster_app, database_url, monkeypatch):
    from click.testing import CliRunner
    from service.cli import main
    monkeypatch.setenv('DATABASE_URL', database_url)
    monkeypatch.setenv('JIUZHU_CLOCK', 'real')
    monkeypatch.delenv('JIUZHU_HOLIDAYS', raising=False)
    result = CliRunner().invoke(main, ['scheduler', '--once'])
    assert result.exit_code == 0, result.output
    assert 'started 4, fired 0' in result.output          # this (wall-clock) month, both townships
    again = CliRunner().invoke(main, ['scheduler', '--once'])
    assert 'started 0, fired 0' in again.output


def test_moving_the_demo_clock_over_the_api_starts_the_month_at_once(roster_app):
    from service.services.auth import find_user, issue_token
    token, _ = issue_token(find_user('chen'))
    r = roster_app.test_client().put('/api/v1/clock', json={'now': NOV_1},
                                     headers={'Authorization': f'Bearer {token}'})
    assert r.status_code == 200, r.json
    assert sorted(r.json['started']) == ['payment-t01-2026-11', 'payment-t02-2026-11',
                                         'roster-t01-2026-11', 'roster-t02-2026-11']
    assert set(cases()) == set(r.json['started'])


def test_the_timer_start_event_in_the_diagram_decides_when_the_work_begins(roster_app):
    """A designer delays the roster's start to the 3rd: the case exists from the 1st, waiting on its
    start timer (a timer row like any other), and its task appears when the sweep fires that timer."""
    clock = roster_app.extensions['jiuzhu.clock']
    source = (COMMON / 'monthly_roster.bpmn').read_bytes()
    delayed = source.replace(b'>period_start</bpmn:timeDate>', b'>add_days(period_start, 2)</bpmn:timeDate>')
    assert delayed != source
    repository.deploy({'common/monthly_roster.bpmn': delayed}, 'designer')
    clock.set(NOV_1)
    start_monthly_cases(roster_app)
    roster = cases()['roster-t01-2026-11']
    assert db.session.scalars(select(Task).where(Task.instance_id == roster.id)).all() == []
    start_timer = db.session.scalars(select(Timer).where(Timer.instance_id == roster.id)).one()
    assert (start_timer.kind, start_timer.state) == ('start', 'waiting')
    assert shanghai(start_timer.due_at) == '2026-11-04T00:00:00+08:00'     # 24:00 on the 3rd
    clock.set('2026-11-04T00:00:01+08:00')
    sweep_due(roster_app)
    db.session.expire_all()
    assert open_task(cases()['roster-t01-2026-11']).bpmn_id == 'submit_roster'


def test_a_sweep_that_loses_its_connection_says_so_in_one_line(make_app, caplog):
    """A database restart ends the scheduler's connection: that sweep fails and the next one works
    (services/outage.py). The log says so in one warning; any other failure keeps its traceback."""
    from sqlalchemy.exc import OperationalError
    app = make_app(JIUZHU_CLOCK='real')
    stub = _Scheduler(_Job(None))
    ts = runner.TimerScheduler(app, stub, interval=30).install()
    failures = iter([OperationalError('SELECT 1', {}, Exception('server closed the connection unexpectedly'),
                                      connection_invalidated=True), ValueError('a bug')])

    def sweep():
        raise next(failures)
    ts.sweeper.sweep = sweep
    with caplog.at_level('WARNING', logger='jiuzhu.scheduler'):
        ts.run_sweep()
        ts.run_sweep()
    lost, bug = [r for r in caplog.records if r.name == 'jiuzhu.scheduler']
    assert lost.levelname == 'WARNING' and lost.exc_info is None and '数据库连接' in lost.getMessage()
    assert bug.levelname == 'ERROR' and bug.exc_info is not None
