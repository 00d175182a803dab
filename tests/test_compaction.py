"""A case that loops keeps a bounded state: finished rounds are compacted out of the stored tree,
and the case still goes on correctly (deadlines, the parallel branch, the join, its data).

tests/processes/review_loop.bpmn: a review sent back round after round (each round with its own
non-interrupting deadline), beside a parallel check; both join before the end.
"""
from datetime import timedelta
from uuid import UUID

from sqlalchemy import select

from service.engine import serializer
from service.extensions import db
from service.models import ProcessInstance, Task, Timer
from service.services import progress, runtime, tasks
from service.services.context import engine

START = {'rounds': 0, 'approved': False}


def ready(case_id, bpmn_id):
    return db.session.scalars(select(Task).where(Task.instance_id == case_id, Task.state == 'ready',
                                                 Task.bpmn_id == bpmn_id)).one()


def send_back(case_id, n):
    tasks.complete_task(ready(case_id, 'review').id, {'note': f'第{n}轮退回', 'approved': False}, 'cw1')


def stored(case_id):
    db.session.expire_all()
    return db.session.get(ProcessInstance, case_id)


def test_a_looping_review_keeps_its_state_bounded_and_goes_on(test_app, clock):
    case_id = runtime.start_instance('review_loop', 't01', dict(START), 'cw1').id
    sizes = {}
    for n in range(1, 41):
        send_back(case_id, n)
        sizes[n] = len(stored(case_id).state)
    # Forty rounds store no more than five did (a little slack for longer numbers and timestamps).
    assert sizes[40] <= sizes[5] * 1.1, sizes
    case = stored(case_id)
    page = progress.diagram_state(case)
    assert {'review', 'count', 'fork'} <= set(page['completed']) | set(page['active'])
    assert page['data']['rounds'] == 40 and page['data']['note'] == '第40轮退回'
    # The history is in the task rows: every round.
    done = db.session.scalars(select(Task.data).where(Task.instance_id == case_id, Task.bpmn_id == 'review',
                                                      Task.state == 'completed').order_by(Task.completed_at)).all()
    # (All rounds were completed at one moment of the test clock: the database may list them in any order.)
    assert sorted(d['note'] for d in done) == sorted(f'第{n}轮退回' for n in range(1, 41))

    # This round's deadline still fires after compaction: the review stays open, marked overdue.
    clock.advance(timedelta(days=6))
    runtime.fire_due_timers(case_id)
    fired = db.session.scalars(select(Timer).where(Timer.instance_id == case_id, Timer.state == 'fired')).all()
    assert [t.bpmn_id for t in fired] == ['round_deadline']
    assert ready(case_id, 'review').overdue

    # The parallel branch, then the last round: the join fires and the case ends with all its data.
    tasks.complete_task(ready(case_id, 'check').id, {'note': '材料齐全'}, 'cw1')
    assert stored(case_id).status == 'running'
    tasks.complete_task(ready(case_id, 'review').id, {'note': '同意', 'approved': True}, 'cw1')
    case = stored(case_id)
    assert case.status == 'completed'
    data = runtime.case_data(case_id)
    assert data['rounds'] == 41 and data['approved'] is True


def test_a_case_stored_before_compaction_loads_and_goes_on(test_app, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(serializer, 'compact', lambda dct, workflow: dct)
        case_id = runtime.start_instance('review_loop', 't01', dict(START), 'cw1').id
        for n in range(1, 9):
            send_back(case_id, n)
        before = len(stored(case_id).state)
        assert 'compacted' not in stored(case_id).state
    # Loaded as it was stored, written back compacted, and on it goes.
    send_back(case_id, 9)
    after = len(stored(case_id).state)
    assert after < before / 2
    assert runtime.case_data(case_id)['rounds'] == 9
    tasks.complete_task(ready(case_id, 'check').id, {'note': '材料齐全'}, 'cw1')
    tasks.complete_task(ready(case_id, 'review').id, {'note': '同意', 'approved': True}, 'cw1')
    assert stored(case_id).status == 'completed'


def test_a_compacted_case_keeps_the_data_each_task_saw(test_app):
    """The newest round of each user task stays in the tree with the data it saw (notices print it)."""
    rounds = 3
    case_id = runtime.start_instance('review_loop', 't01', dict(START), 'cw1').id
    for n in range(1, rounds + 1):
        send_back(case_id, n)
    reviews = db.session.scalars(select(Task).where(Task.instance_id == case_id, Task.bpmn_id == 'review',
                                                    Task.state == 'completed')).all()
    last_review = next(r for r in reviews if r.data['note'] == f'第{rounds}轮退回')   # the clock stood still
    workflow = engine().load(stored(case_id))
    task = workflow.get_task_from_id(UUID(last_review.id))
    assert task.data['note'] == f'第{rounds}轮退回' and task.data['rounds'] == rounds - 1
