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


# -- compaction by task objects (engine/compaction.py) against the id-based version it replaced ----------

def _reference_compact(dct, workflow):
    """engine/compaction.compact as of commit 13107ce (sets of UUIDs), kept here as the reference."""
    from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
    from SpiffWorkflow.util.deep_merge import DeepMerge
    from SpiffWorkflow.util.task import TaskState
    from service.engine.compaction import COMPACTED_KEY, FINISHED, _drop_orphan_subprocesses
    if workflow.task_tree is None:
        return dct
    tasks = workflow.tasks
    live = {i for i, t in tasks.items() if not t.state & FINISHED}
    pinned = {workflow.task_tree.id} | ({workflow.last_task.id} if workflow.last_task is not None else set())
    newest = {}
    for task in tasks.values():
        if task.state == TaskState.COMPLETED and isinstance(task.task_spec, UserTask):
            best = newest.get(task.task_spec.name)
            if best is None or task.last_state_change >= best.last_state_change:
                newest[task.task_spec.name] = task
    anchors = live | pinned | {t.id for t in newest.values()}
    keep = set(anchors)
    keep.update(tasks[i]._parent for i in live if tasks[i]._parent is not None)
    needed_children = {}
    for i in anchors:
        child, parent = i, tasks[i]._parent
        while parent is not None:
            seen = needed_children.setdefault(parent, set())
            first_visit = not seen
            seen.add(child)
            if not first_visit:
                break
            child, parent = parent, tasks[parent]._parent
    keep.update(p for p, children in needed_children.items() if len(children) > 1)
    done = set(getattr(workflow, 'compacted_done', ()))
    if len(keep) == len(tasks):
        if done:
            dct[COMPACTED_KEY] = sorted(done)
        return dct
    stored = dct['tasks']
    for task_id, task in tasks.items():
        if task_id in keep:
            continue
        if task.state == TaskState.COMPLETED and getattr(task.task_spec, 'bpmn_id', None):
            done.add(task.task_spec.bpmn_id)
        stored.pop(str(task_id), None)
    kept_children = {}
    for task_id in tasks:
        if task_id not in keep or task_id == workflow.task_tree.id:
            continue
        task = tasks[task_id]
        parent = task._parent
        while parent not in keep:
            parent = tasks[parent]._parent
        kept_children.setdefault(parent, []).append(str(task_id))
        entry = stored[str(task_id)]
        if parent != task._parent:
            entry['parent'] = str(parent)
            entry['delta'] = {'updates': DeepMerge.get_updated_keys(tasks[parent].data, task.data),
                              'deletions': DeepMerge.get_deleted_keys(tasks[parent].data, task.data)}
    for task_id in keep:
        stored[str(task_id)]['children'] = kept_children.get(task_id, [])
    _drop_orphan_subprocesses(dct, stored)
    dct[COMPACTED_KEY] = sorted(done)
    return dct


def same_compaction(workflow):
    """compact == _reference_compact on `workflow`; the number of tasks it dropped."""
    import json
    from service.engine.compaction import compact
    registry = engine().serializer.registry
    registry._encoder_mode = True
    try:
        ours, theirs = compact(registry.convert(workflow), workflow), \
            _reference_compact(registry.convert(workflow), workflow)
    finally:
        registry._encoder_mode = False
    assert json.dumps(ours, default=str) == json.dumps(theirs, default=str)
    return len(workflow.tasks) - len(ours['tasks'])


def test_compaction_keeps_what_the_id_based_version_kept(test_app, clock):
    """Every state of a looping case (rounds compacted out, a deadline fired, the join) compacts to
    the same stored tree as the version before."""
    eng = engine()
    compared = []
    eng.trace = lambda workflow: compared.append(same_compaction(workflow))
    try:
        case_id = runtime.start_instance('review_loop', 't01', dict(START), 'cw1').id
        for n in range(1, 6):
            send_back(case_id, n)
        clock.advance(timedelta(days=6))
        runtime.fire_due_timers(case_id)
        tasks.complete_task(ready(case_id, 'check').id, {'note': '材料齐全'}, 'cw1')
        tasks.complete_task(ready(case_id, 'review').id, {'note': '同意', 'approved': True}, 'cw1')
    finally:
        eng.trace = None
    assert len(compared) >= 8 and max(compared) > 0     # trees were compacted, not only kept whole
