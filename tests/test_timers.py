"""Deadlines through real timer rows: working days across National Day, estimated years, a district's
adjustments file, and the §3.3 extension to 45 working days. The clock is moved, never slept."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from service import calendar
from service.errors import Conflict, Invalid
from service.extensions import db
from service.models import AuditEntry, Task, Timer
from service.scheduler.sweep import sweep_due
from service.services import repository, runtime

from .conftest import TEST_PROCESSES

FORMS = str(TEST_PROCESSES / 'forms')


@pytest.fixture
def restore_calendar():
    yield
    # create_app configures the process-wide default calendar; leave it as the other tests expect.
    calendar.configure(None)


def start(limit, township='t01'):
    return runtime.start_instance('deadline_case', township, {'time_limit': limit}, 'alice')


def limit_row(case_id):
    return db.session.scalars(select(Timer).where(Timer.instance_id == case_id,
                                                  Timer.bpmn_id == 'total_limit')).one()


def task_row(case_id):
    return db.session.scalars(select(Task).where(Task.instance_id == case_id, Task.bpmn_id == 'decide')).one()


def shanghai(moment):
    return moment.astimezone(calendar.SHANGHAI).isoformat()


def test_twelve_working_days_across_national_day(test_app, clock):
    # Accepted Monday 2026-09-28: 10-01…07 are holidays, Saturday 10-10 is a make-up working day.
    case = start(12)
    row = limit_row(case.id)
    assert shanghai(row.due_at) == '2026-10-21T00:00:00+08:00'      # 24:00 of 2026-10-20
    assert (row.kind, row.state, row.estimated) == ('deadline', 'waiting', False)
    assert task_row(case.id).due_at == row.due_at

    clock.set('2026-10-20T23:59:59+08:00')
    assert sweep_due(test_app) == 0
    clock.set('2026-10-21T00:00:01+08:00')
    assert sweep_due(test_app) == 1
    db.session.expire_all()
    assert limit_row(case.id).state == 'fired'
    assert runtime.get_instance(case.id).overdue
    assert task_row(case.id).overdue and task_row(case.id).state == 'ready'   # still to be done, late


def test_a_deadline_in_a_year_without_holiday_data_is_stored_estimated(test_app, clock):
    # chinesecalendar 1.11.0 knows 2004-2026: 12 working days from 2026-12-21 end in January 2027.
    assert 2027 not in calendar.KNOWN_YEARS
    clock.set('2026-12-21T10:00:00+08:00')
    case = start(12)
    row = limit_row(case.id)
    assert row.due_at.astimezone(calendar.SHANGHAI).year == 2027
    assert row.estimated is True
    clock.set('2026-11-02T10:00:00+08:00')
    inside = start(12)
    assert limit_row(inside.id).estimated is False


def test_a_district_adjustments_file_moves_a_deadline(make_app, tmp_path, restore_calendar):
    holidays = tmp_path / 'holidays.txt'
    holidays.write_text('# 区政府通知：国庆后补休一天\n2026-10-09 休息\n', encoding='utf-8')
    app = make_app(JIUZHU_FORMS_DIR=FORMS, JIUZHU_HOLIDAYS=str(holidays))
    with app.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        case = start(12)
        # One working day fewer in the period: the 12th is 10-21, not 10-20.
        assert shanghai(limit_row(case.id).due_at) == '2026-10-22T00:00:00+08:00'
        clock = app.extensions['jiuzhu.clock']
        clock.set('2026-10-21T12:00:00+08:00')
        assert sweep_due(app) == 0                      # would have been overdue without the file
        clock.set('2026-10-22T00:00:01+08:00')
        assert sweep_due(app) == 1


def test_an_adjustments_entry_for_2027_makes_the_due_time_authoritative(make_app, tmp_path, restore_calendar):
    # The district fills in the days up to the deadline before the State Council publishes 2027.
    holidays = tmp_path / 'holidays.txt'
    lines = [f'{(datetime(2027, 1, 1) + timedelta(days=i)).date().isoformat()} '
             f'{"holiday" if i < 3 or (datetime(2027, 1, 1) + timedelta(days=i)).weekday() >= 5 else "workday"}'
             for i in range(31)]
    holidays.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    app = make_app(JIUZHU_FORMS_DIR=FORMS, JIUZHU_HOLIDAYS=str(holidays),
                   JIUZHU_CLOCK_START='2026-12-21T10:00:00+08:00')
    with app.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        row = limit_row(start(12).id)
        assert row.due_at.astimezone(calendar.SHANGHAI).year == 2027 and row.estimated is False


# -- deadline extension (DOMAIN.md §3.3) -----------------------------------------------------------

def test_extension_to_45_working_days_moves_the_row_and_audits_the_reason(test_app, clock):
    case = start(20)
    before = limit_row(case.id).due_at
    assert shanghai(before) == '2026-10-31T00:00:00+08:00'
    clock.advance(days=10)
    runtime.extend_deadline(case.id, 'total_limit', 45, '人户分离', 'leader', note='申请人长期在外务工')
    db.session.expire_all()
    row = limit_row(case.id)
    expected = calendar.add_working_days('2026-09-28T09:00:00+08:00', 45)
    assert shanghai(row.due_at) == expected == '2026-12-05T00:00:00+08:00'
    assert row.state == 'waiting' and row.estimated is False
    assert task_row(case.id).due_at == row.due_at
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'extend_deadline')).one()
    assert entry.actor == 'leader' and entry.instance_id == case.id
    assert entry.detail['ground'] == 'separated_household' and entry.detail['reason'] == '人户分离'
    assert entry.detail['note'] == '申请人长期在外务工' and entry.detail['working_days'] == 45
    assert entry.detail['change']['previous_due'] == before.isoformat()
    assert entry.detail['change']['due'] == expected

    # The engine itself uses the new time: past the old deadline nothing fires, past the new one it does.
    clock.set('2026-11-10T00:00:00+08:00')
    assert sweep_due(test_app) == 0
    clock.set('2026-12-05T00:00:01+08:00')
    assert sweep_due(test_app) == 1
    db.session.expire_all()
    assert runtime.get_instance(case.id).overdue


def test_extension_survives_a_restart(make_app):
    first = make_app(JIUZHU_FORMS_DIR=FORMS)
    with first.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        case_id = start(20).id
        runtime.extend_deadline(case_id, 'total_limit', 30, 'objection', 'leader')
        db.session.remove()
    second = make_app(JIUZHU_FORMS_DIR=FORMS, JIUZHU_CLOCK_START='2026-11-02T12:00:00+08:00')
    assert sweep_due(second) == 0         # the old 20-day deadline (10-31) passed, the new one did not
    with second.app_context():
        assert limit_row(case_id).state == 'waiting'


@pytest.mark.parametrize('reason', ['家里有事', 'busy', '', None])
def test_extension_on_other_grounds_is_refused(test_app, reason):
    case = start(20)
    with pytest.raises(Invalid) as err:
        runtime.extend_deadline(case.id, 'total_limit', 45, reason, 'leader')
    assert err.value.code == 'invalid_extension_ground'
    db.session.expire_all()
    assert shanghai(limit_row(case.id).due_at) == '2026-10-31T00:00:00+08:00'
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == 'extend_deadline')) is None


def test_extension_beyond_45_or_backwards_is_refused(test_app):
    case = start(20)
    with pytest.raises(Invalid) as err:
        runtime.extend_deadline(case.id, 'total_limit', 46, 'hard_investigation', 'leader')
    assert err.value.code == 'extension_too_long'
    with pytest.raises(Conflict) as err:
        runtime.extend_deadline(case.id, 'total_limit', 15, 'hard_investigation', 'leader')
    assert err.value.code == 'extension_not_later'
    with pytest.raises(Invalid):
        runtime.extend_deadline(case.id, 'total_limit', True, 'hard_investigation', 'leader')
    db.session.expire_all()
    assert shanghai(limit_row(case.id).due_at) == '2026-10-31T00:00:00+08:00'


def test_an_expired_or_unknown_deadline_cannot_be_extended(test_app, clock):
    case = start(20)
    with pytest.raises(Conflict) as err:
        runtime.extend_deadline(case.id, 'no_such_timer', 45, 'objection', 'leader')
    assert err.value.code == 'timer_not_waiting'
    clock.set('2026-10-31T00:00:01+08:00')
    # The write path fires the passed deadline first; an overdue case is not made on time again.
    with pytest.raises(Conflict) as err:
        runtime.extend_deadline(case.id, 'total_limit', 45, 'objection', 'leader')
    assert err.value.code == 'timer_not_waiting'
    db.session.expire_all()
    assert limit_row(case.id).state == 'fired' and runtime.get_instance(case.id).overdue
