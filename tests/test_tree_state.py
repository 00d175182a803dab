"""The one-pass load and dump of a case's task tree (engine/tree_state.py) against SpiffWorkflow's own path.

The state stays SpiffWorkflow's format: what the fast dump writes is byte for byte what the
generic converters write, and a state either path wrote loads into the same workflow by both.
A real dibao_a case half-way (a subprocess behind it, boundary timers waiting) and values of the
registered types (datetime, timedelta, UUID) are the material.
"""
import json
from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from service.engine.compaction import compact
from service.engine.serializer import FORMAT_KEY, ID_TEXTS
from service.engine.tree_state import Ids, TaskId, inherited
from service.services.context import engine
from SpiffWorkflow.util.deep_merge import DeepMerge

from .flow_helpers import deployed_app, ready, surveyed_dibao_a


@pytest.fixture
def app(make_app):
    yield from deployed_app(make_app, ('delegated/dibao_a.bpmn',))


@pytest.fixture
def case(app):
    return surveyed_dibao_a()


def specs(case):
    return engine().specs(case.definition_id, lambda: case.definition.spec_json)


def fast_load(case, text):
    workflow = engine().serializer.load_case(text, *specs(case))
    workflow.script_engine = engine().script_engine
    return workflow


def generic_load(case, text):
    """SpiffWorkflow's registry walk (the path before tree_state)."""
    serializer = engine().serializer
    dct = json.loads(text)
    dct.pop(FORMAT_KEY)
    return serializer.registry.restore(dct, spec=specs(case)[0], subprocess_specs=specs(case)[1])


def fast_dump(workflow):
    return engine().serializer.dump_case(workflow)


def generic_dump(workflow, compacted=True):
    """The same state through SpiffWorkflow's converters (the registry outside encoder mode)."""
    serializer = engine().serializer
    dct = serializer.registry.convert(workflow)
    if compacted:
        dct = compact(dct, workflow)
    dct[FORMAT_KEY] = serializer.format_version
    return json.dumps(dct, cls=serializer._serializer._encoder_cls, ensure_ascii=False, separators=(',', ':'))


def tree(workflow):
    """Everything a loaded workflow holds, comparable (ids as text, specs by name)."""
    def tasks(wf):
        return [(str(uid), str(t.id), list(vars(t)), str(t._parent), [str(c) for c in t._children], t.state,
                 t.task_spec.name, t.triggered, t.last_state_change, t.thread_id, t.data, t.internal_data,
                 t.workflow is wf, type(t).__name__)
                for uid, t in wf.tasks.items()]

    def common(wf):
        return (tasks(wf), str(wf.task_tree.id), str(wf.last_task.id) if wf.last_task else None, wf.data,
                wf.correlations, wf.success, wf.completed)
    return {
        'top': common(workflow),
        'subprocesses': [(str(k), str(sp.parent_task_id), sp.spec.name, sp.depth, common(sp),
                          sp.top_workflow is workflow) for k, sp in workflow.subprocesses.items()],
        'events': [(str(k), t.task_spec.name) for k, t in workflow.event_manager.tasks.items()],
        'bpmn_events': len(workflow.bpmn_events),
        'compacted': sorted(workflow.compacted_done),
    }


def test_a_case_half_way_loads_the_same_by_both_paths(case):
    workflow = fast_load(case, case.state)
    assert workflow.subprocesses and workflow.event_manager.tasks   # the material is what it should be
    assert tree(workflow) == tree(generic_load(case, case.state))
    # Parent and child references are one object per id, and the ids texts are kept for the dump.
    for task in workflow.get_tasks():
        if task.parent is not None:
            assert task._parent is task.parent.id
    assert getattr(workflow, ID_TEXTS)


def test_the_fast_dump_writes_what_spiffworkflow_writes(case):
    from service.engine.state_json import plain_state
    workflow = fast_load(case, case.state)
    assert fast_dump(workflow) == generic_dump(workflow) == case.state
    assert plain_state(json.loads(case.state))      # written by msgspec (engine/state_json.py), the same text
    # After a step: new tasks (ids never loaded), the subprocess finished, timers cancelled.
    from tests.test_flow_dibao_a import decision
    (row,) = ready(case).values()
    engine().complete(workflow, row.id, decision(True))
    assert fast_dump(workflow) == generic_dump(workflow)
    assert tree(fast_load(case, fast_dump(workflow))) == tree(generic_load(case, generic_dump(workflow)))


def test_states_written_before_load_by_both_paths(case):
    """A state from before tree_state (SpiffWorkflow's converters; also one never compacted) loads
    the same by both, and what the fast path writes older code reads."""
    workflow = generic_load(case, case.state)
    for old in (generic_dump(workflow), generic_dump(workflow, compacted=False)):
        assert tree(fast_load(case, old)) == tree(generic_load(case, old))
    new = fast_dump(fast_load(case, case.state))
    assert tree(generic_load(case, new)) == tree(fast_load(case, new))


def test_values_of_registered_types_round_trip(case):
    workflow = fast_load(case, case.state)
    when = datetime(2026, 10, 1, 8, 30, tzinfo=timezone.utc)
    typed = {'when': when, 'how_long': timedelta(days=3, seconds=5), 'ref': UUID(int=7),
             'nested': [{'at': when, 'tags': ('a', 'b')}, {'members': {'x'}}],
             'label': 'typename', 'typename_like': {'value': 'typename'}}
    workflow.task_tree.data.update(typed)                  # the root: stored whole
    last = workflow.last_task
    last.data['late'] = {'deep': [when]}                   # a delta against its parent
    last.internal_data['seen_at'] = when
    text = fast_dump(workflow)
    assert text == generic_dump(workflow)
    loaded = fast_load(case, text)
    assert tree(loaded) == tree(generic_load(case, text))
    root = loaded.task_tree.data
    assert root['when'] == when and root['how_long'] == timedelta(days=3, seconds=5) and root['ref'] == UUID(int=7)
    assert root['nested'][0]['at'] == when and root['nested'][0]['tags'] == ['a', 'b']
    assert loaded.get_task_from_id(last.id).data['late'] == {'deep': [when]}
    assert loaded.get_task_from_id(last.id).internal_data['seen_at'] == when


def test_a_tree_it_does_not_handle_goes_to_spiffworkflow(case):
    """A task stored under a key other than its id (nothing writes that): SpiffWorkflow's path decides."""
    dct = json.loads(case.state)
    task_id = next(k for k, t in dct['tasks'].items() if t['parent'] is not None and not t['children'])
    other = str(uuid4())
    dct['tasks'][other] = dct['tasks'].pop(task_id)
    text = json.dumps(dct, ensure_ascii=False)
    assert tree(fast_load(case, text)) == tree(generic_load(case, text))


def test_ids_and_inherited_data_are_what_the_library_makes():
    ids = Ids()
    text = str(uuid4())
    uid = ids(text)
    assert uid == UUID(text) and hash(uid) == hash(UUID(text)) and str(uid) == text and ids(text) is uid
    assert uid.is_safe == UUID(text).is_safe
    # A TaskId (its hash kept): everywhere a UUID, copied and pickled as one.
    import copy
    import pickle
    plain = UUID(text)
    assert isinstance(uid, TaskId) and repr(uid) == repr(plain) and uid.hex == plain.hex and uid.version == 4
    assert {plain: 1}[uid] == 1 and {uid: 2}[plain] == 2 and plain == uid and not (uid != plain)
    for other in (copy.copy(uid), copy.deepcopy(uid), pickle.loads(pickle.dumps(uid))):
        assert type(other) is UUID and other == uid and hash(other) == hash(uid)
    assert ids('{' + text + '}') == UUID(text)          # other spellings: uuid.UUID parses them
    with pytest.raises(ValueError):
        ids('x' * 36)
    data = {'a': {'b': [1]}, 'l': [1, {'c': 2}], 's': {1}, 'n': 3, 't': (1, 2)}
    mine, theirs = inherited(data), DeepMerge.merge({}, data)
    assert mine == theirs and list(mine) == list(theirs)
    for key in ('a', 'l', 's'):
        assert mine[key] is not data[key] and theirs[key] is not data[key]
        assert mine[key] == data[key]
    assert mine['a']['b'] is data['a']['b'] and theirs['a']['b'] is data['a']['b']   # shallow, as SpiffWorkflow

