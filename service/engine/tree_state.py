"""The task tree to and from its stored dicts, in one pass per tree instead of SpiffWorkflow's generic walk.

SpiffWorkflow restores a case through its registry: every task dict, every data value in it,
down to each string, goes through `DictionaryConverter.restore` (is it a registered type?), every
container is copied, and every id is parsed by `uuid.UUID` each time it appears (as a task, as
a parent, as a child). Dumping walks the same way. Together that was most of a write's engine time.

The functions here produce exactly what SpiffWorkflow's `TaskConverter` does, in the same format
(tests/test_tree_state.py compares them with the generic path, both ways):

- load: the dicts come straight from `json.loads`, so nothing in them is shared and they can be
  kept as they are instead of copied; the registered types (datetime, timedelta, UUID: dicts
  with a `typename` key) are restored where they are. When the text holds no `typename` key
  besides the workflows' and tasks' own, the data is not even walked. Each id is parsed once
  per load, as a TaskId (a UUID whose hash is computed once), and every reference to it is the
  same object (dict lookups by id then stop at `is`).
- dump: the same dict per task (same keys, same order), each id turned into text once.
"""
from copy import copy
from os import urandom
from types import ModuleType
from uuid import UUID, SafeUUID

from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

TYPENAME = 'typename'
_TASK_TYPENAME = 'Task'
_new_uuid = object.__new__
_UNKNOWN = SafeUUID.unknown
_SCALARS = frozenset({str, int, float, bool, type(None)})
_COPIED = (dict, list, set)


class Ids:
    """The ids of one load: each text parsed once, each id one object.

    `texts` maps id(uuid) to (uuid, text), for the dump of the same workflow: keyed by the
    object's identity (a C-level int hash, where hashing a UUID calls Python code), and holding
    the object, so that identity cannot be reused while the entry lives.
    """

    def __init__(self):
        self._by_text = {}
        self.texts = {}
        self.known = self._by_text.get     # the id of a text already parsed, else None

    def __call__(self, text):
        found = self._by_text.get(text)
        if found is None:
            found = self._by_text[text] = _parse(text)
            self.texts[id(found)] = (found, text)
        return found


ID_TEXTS = 'jiuzhu_id_texts'   # the top workflow's attribute: the texts of its ids, from its load (Ids.texts)


def id_texts(workflow):
    """The id texts kept with `workflow`'s top workflow (made empty for a workflow not loaded by Ids)."""
    top = workflow.top_workflow
    texts = getattr(top, ID_TEXTS, None)
    if texts is None:
        texts = {}
        setattr(top, ID_TEXTS, texts)
    return texts


def id_text(uid, texts):
    """str(uid), from `texts` (Ids.texts) when this very object is there; new ids are added."""
    entry = texts.get(id(uid))
    if entry is not None and entry[0] is uid:
        return entry[1]
    text = str(uid)
    texts[id(uid)] = (uid, text)
    return text


class TaskId(UUID):
    """A task id as loaded: a uuid.UUID, equal to, hashing, printing and copied as `UUID(text)`, whose
    hash is computed once.

    Task ids are the keys of every lookup in the tree (a task's parent and children, the workflow's
    tasks, its subprocesses and waiting events): some 270 per completion. uuid.UUID hashes in Python,
    a call and the hash of a 128-bit int each time; here the hash is kept in the slot named
    `__hash__`, as the bound `__index__` of that int (which returns it), so hash() runs in C.
    """
    __slots__ = ('__hash__',)

    def __repr__(self):
        return f"UUID('{self}')"

    def __reduce__(self):
        # Copies and pickles are plain UUIDs (the slot would not survive them).
        return UUID, (None, None, None, None, self.int)


_set_int = UUID.__dict__['int'].__set__        # the slots' own setters: UUID refuses setattr,
_set_safe = UUID.__dict__['is_safe'].__set__   # and these skip object.__setattr__'s lookup
_set_hash = TaskId.__dict__['__hash__'].__set__


def _task_id(value):
    uid = _new_uuid(TaskId)
    _set_int(uid, value)
    _set_safe(uid, _UNKNOWN)
    _set_hash(uid, hash(value).__index__)
    return uid


def _parse(text):
    """uuid.UUID(text) as a TaskId, without UUID's general parsing for the canonical form every stored id has."""
    if len(text) == 36:
        digits = text.replace('-', '')
        if len(digits) == 32 and text[8] == text[13] == text[18] == text[23] == '-':
            return _task_id(int(digits, 16))
    return UUID(text)


_VERSION_4_CLEAR = ~((0xc000 << 48) | (0xf000 << 64))   # what UUID(bytes=..., version=4) clears and sets
_VERSION_4_SET = (0x8000 << 48) | (4 << 76)


def new_task_id():
    """uuid.uuid4() as a TaskId (the id of a task SpiffWorkflow makes: engine/spiff_speedups.py)."""
    return _task_id((int.from_bytes(urandom(16), 'big') & _VERSION_4_CLEAR) | _VERSION_4_SET)


def typed_values_possible(text, workflow_dicts, task_dicts):
    """Whether the stored text holds a `typename` key other than its workflows' and tasks' own.

    Counting the quoted word in the JSON text is exact enough: a key "typename" always appears as
    `"typename"`, a string containing it appears escaped; a string equal to it only makes the
    count larger, and then the values are walked, which is always correct.
    """
    return text.count('"typename"') != workflow_dicts + task_dicts


def restored(value, restore):
    """`value` (fresh from json.loads) with the registered types restored where they are."""
    kind = type(value)
    if kind is dict:
        if TYPENAME in value:
            return restore(value)
        for key, item in value.items():
            if type(item) is dict or type(item) is list:
                new = restored(item, restore)
                if new is not item:
                    value[key] = new
    elif kind is list:
        for index, item in enumerate(value):
            if type(item) is dict or type(item) is list:
                new = restored(item, restore)
                if new is not item:
                    value[index] = new
    return value


class NotCanonical(Exception):
    """A stored tree this module leaves to SpiffWorkflow's generic path (never written by either)."""


def tasks_from_dict(stored, workflow, ids, restore):
    """Restore `workflow.tasks` from its stored dicts (what TaskConverter.from_dict does, task by task).

    `restore`: None when the values hold no registered type (typed_values_possible), else the
    registry's restore for the dicts that do. Raises NotCanonical for what it does not handle.
    """
    tasks = workflow.tasks = {}
    specs = workflow.spec.task_specs
    events = workflow.top_workflow.event_manager
    waiting = TaskState.WAITING
    thread_id = Task.thread_id_pool
    known = ids.known      # an id seen before (a task's own, after its parent listed it): no call of ids
    for key, dct in stored.items():
        spec = specs.get(dct['task_spec'])
        if spec is None or key != dct['id']:
            raise NotCanonical(key)
        uid = known(key) or ids(key)
        parent_text = dct['parent']
        parent_id = (known(parent_text) or ids(parent_text)) if parent_text is not None else None
        internal = dct['internal_data']
        delta = dct.get('delta')
        parent = tasks.get(parent_id) if parent_id is not None else None
        if delta and parent is not None:
            data = inherited(parent.data)
            updates = delta.get('updates', {})
            data.update(restored(updates, restore) if restore is not None else updates)
            for name in delta.get('deletions', {}):
                if name in data:
                    del data[name]
        else:
            data = dct['data'] if restore is None else restored(dct['data'], restore)
        task = Task.__new__(Task)
        # Task.__init__'s attributes, in its order, with the stored values.
        task.__dict__.update(
            id=uid, workflow=workflow, _parent=parent_id, _children=[ids(child) for child in dct['children']],
            _state=dct['state'], triggered=dct['triggered'], task_spec=spec, thread_id=thread_id, data=data,
            internal_data=internal if restore is None else restored(internal, restore),
            last_state_change=dct['last_state_change'])
        tasks[uid] = task
        if task._state & waiting and isinstance(spec, CatchingEvent):
            events.add_task(task)
    return tasks


def inherited(data):
    """DeepMerge.merge({}, data): a new dict whose dicts, lists and sets are shallow copies of data's."""
    out = data.copy()
    for key, value in data.items():
        kind = type(value)
        if kind in _SCALARS:
            continue
        if kind is dict or kind is list or kind is set:
            out[key] = value.copy()
        elif isinstance(value, _COPIED):
            out[key] = copy(value)
    return out


def _clean(obj):
    """DefaultRegistry.clean: callables and modules are not stored."""
    return {k: v for k, v in obj.items() if not callable(v) and not isinstance(v, ModuleType)}


def tasks_to_dict(workflow, convert, texts):
    """The stored dicts of `workflow.tasks` (TaskConverter.to_dict in the registry's encoder mode).

    `convert`: the registry's convert, for an internal_data that is not a plain dict;
    `texts`: id texts known already (Ids.texts of the load), added to.
    """
    tasks = workflow.tasks
    updated, deleted = DeepMerge.get_updated_keys, DeepMerge.get_deleted_keys
    out = {}
    for uid, task in tasks.items():
        key = id_text(uid, texts)
        parent = tasks.get(task._parent)
        if parent is None:
            data, delta, parent_text = task.data, {}, None
        else:
            data, parent_text = {}, id_text(task._parent, texts)
            delta = {'updates': updated(parent.data, task.data), 'deletions': deleted(parent.data, task.data)}
        internal = task.internal_data
        out[key] = {
            'id': key if task.id is uid else str(task.id),
            'parent': parent_text,
            'children': [id_text(child, texts) for child in task._children],
            'last_state_change': task.last_state_change,
            'state': task._state,
            'task_spec': task.task_spec.name,
            'triggered': task.triggered,
            'internal_data': _clean(internal) if type(internal) is dict else convert(internal),
            'data': data,
            'delta': delta,
            TYPENAME: _TASK_TYPENAME,
        }
    return out
