"""temporary_aid_legacy (before delegation): the county approves every temporary-aid case, however
small, after the township's investigation, opinion and publicity. Through the service layer on the
real processes/ and forms/, clock moved, never slept.
"""
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from service import calendar
from service.extensions import db
from service.models import Task
from service.services import repository, runtime

from .test_flow_temporary_aid import (APPLICATION, NOTICE, REJECTION, SURVEY, aware, decision, do,
                                      expire_publicity, opinion, ready, reinvestigated, timers)

ROOT = Path(__file__).resolve().parent.parent
BPMN = 'legacy/temporary_aid.bpmn'
KEY = 'temporary_aid_legacy'
INTAKE = {'intake': {'hardship': 'medical', 'description': '住院费用骤增', 'accepted_on': '2026-09-28'},
          'acceptance': {'result': 'complete'}}


def accept(case, intake=INTAKE):
    do(case, 'intake', intake)
    assert set(ready(case)) == {'issue_acceptance_notice'}
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({BPMN: tree[BPMN]}, 'tester')
        yield app


def start():
    from .test_flow_temporary_aid import start as start_delegated
    return start_delegated(KEY)


def to_publicity(case, amount, survey=None):
    accept(case)
    do(case, 'investigation', {'survey': dict(SURVEY, **(survey or {}))}, actor='surveyor1')
    if (survey or {}).get('democratic_review_needed'):
        assert ready(case)['democratic_review'].role == 'village_assistant'
        do(case, 'democratic_review', {'democratic_review': {
            'held_on': '2026-09-30', 'participants': 12, 'result': 'agree', 'record': '同意', 'chair_signed': True,
            'signed_by': {'name': '刘芳', 'capacity': 'director'}}},
           actor='village1')
    do(case, 'opinion', opinion(True, amount))
    assert not ready(case)


def test_the_county_approves_even_a_small_amount(app, clock):
    case = start()
    started = clock.now()
    to_publicity(case, amount=300)                        # far below any township ceiling
    timer = timers(case, 'waiting')['publicity_expired']
    assert aware(timer.due_at) == datetime.fromisoformat(calendar.add_days(started.isoformat(), 7))
    expire_publicity(clock, case)
    approval = ready(case)['county_approval']
    assert set(ready(case)) == {'county_approval'}
    assert (approval.lane, approval.role) == ('区民政局', 'county_supervisor')
    do(case, 'county_approval', decision(True, 300), actor='county1')
    assert ready(case)['notify_approval'].properties['notice'] == 'temporary_aid_approval_notice'
    do(case, 'notify_approval', {'approval_notice': dict(NOTICE, aid_method='cash', amount=300)})
    assert case.status == 'completed' and not case.overdue
    assert {t.bpmn_id for t in db.session.scalars(select(Task).where(Task.instance_id == case.id))} == {
        'intake', 'issue_acceptance_notice', 'investigation', 'opinion', 'county_approval', 'notify_approval'}


def test_county_refusal(app, clock):
    case = start()
    to_publicity(case, amount=300, survey={'democratic_review_needed': True})
    expire_publicity(clock, case)
    do(case, 'county_approval', decision(False), actor='county1')
    assert set(ready(case)) == {'notify_rejection'}
    do(case, 'notify_rejection', REJECTION)
    assert case.status == 'completed'


def test_township_finds_the_applicant_not_eligible(app, clock):
    case = start()
    accept(case)
    do(case, 'investigation', {'survey': SURVEY}, actor='surveyor1')
    do(case, 'opinion', opinion(False))
    assert set(ready(case)) == {'notify_rejection'}
    assert not timers(case)
    do(case, 'notify_rejection', REJECTION)
    assert case.status == 'completed'


def test_objection_then_new_publicity_then_the_county(app, clock):
    case = start()
    to_publicity(case, amount=800)
    clock.advance(timedelta(days=5))
    runtime.deliver_message(case.id, 'objection', {'reason': '有亲属资助', 'raised_by': '村民'}, 'village1')
    db.session.refresh(case)
    assert timers(case)['publicity_expired'].state == 'cancelled'
    do(case, 'reinvestigation', reinvestigated('eligible_republish'))
    assert not ready(case)
    expire_publicity(clock, case)
    assert set(ready(case)) == {'county_approval'}


def test_objection_dismissed_goes_straight_to_the_county(app, clock):
    case = start()
    to_publicity(case, amount=800)
    runtime.deliver_message(case.id, 'objection', {'reason': '有亲属资助', 'raised_by': '村民'}, 'village1')
    db.session.refresh(case)
    do(case, 'reinvestigation', reinvestigated('eligible'))
    assert set(ready(case)) == {'county_approval'}
    assert not timers(case, 'waiting')


def test_objection_upheld(app, clock):
    case = start()
    to_publicity(case, amount=800)
    runtime.deliver_message(case.id, 'objection', {'reason': '有亲属资助', 'raised_by': '村民'}, 'village1')
    db.session.refresh(case)
    do(case, 'reinvestigation', reinvestigated('ineligible'))
    assert set(ready(case)) == {'notify_rejection'}
