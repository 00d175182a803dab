"""Reading a case for writing — its row, its live timer rows, its open task rows — without the ORM's loading.

One statement (the case LEFT JOIN its live timers LEFT JOIN its open tasks, the joins being the
relationships' own conditions), compiled once per database and run through services/statements.py;
the rows become the session's objects by SQLAlchemy's public steps for objects whose rows are
known (make_transient_to_detached, then Session.add): persistent, unchanged, their relationships
`live_timers` and `open_tasks` loaded — what the ORM's joined loading of the same rows leaves.

The ORM's loading of these rows cost more CPU than the statement and SpiffWorkflow's work on the
case together (tests/bench/bench_write_path.py). When the session already holds one of the rows
(read earlier in the same transaction), the caller's ORM query loads them instead, as it did
always: it overwrites what the session holds (populate_existing); this does not.
"""
from sqlalchemy import bindparam, select
from sqlalchemy.orm import attributes, make_transient_to_detached

from ..models import ProcessInstance, Task, Timer
from . import statements
from .exclusions import excluded_from

_KINDS = (ProcessInstance, Timer, Task)


def _loaded(kind, undefer=()):
    """(attribute, SQL expression) of what the ORM loads of a row of `kind` (deferred ones only if asked)."""
    return [(p.key, p.expression) for p in kind.__mapper__.column_attrs if not p.deferred or p.key in undefer]


_COLUMNS = {ProcessInstance: _loaded(ProcessInstance), Timer: _loaded(Timer),
            Task: _loaded(Task, undefer=('has_drafts',))}
_KEYS = {kind: [key for key, _ in columns] for kind, columns in _COLUMNS.items()}
_ID = {kind: _KEYS[kind].index(kind.__mapper__.get_property_by_column(kind.__mapper__.primary_key[0]).key)
       for kind in _KINDS}


def _build(by_task, reader):
    """The case found by its id, or through a task row's (`by_task`); `reader`: with whether that
    user stays out of the case."""
    case = ProcessInstance.__table__
    if by_task:
        # Its own task table, not the joined one (correlate(None)): the task named may be completed.
        which = (select(Task.instance_id).where(Task.id == bindparam('task_id', type_=Task.id.type, required=False)).correlate(None)
                 .scalar_subquery())
    else:
        which = bindparam('instance_id', type_=ProcessInstance.id.type, required=False)
    columns = [expr.label(f'c{i}_{j}') for i, kind in enumerate(_KINDS) for j, (_, expr) in enumerate(_COLUMNS[kind])]
    if reader:
        columns.append(excluded_from(ProcessInstance.id, bindparam('username', required=False)).label('excluded'))
    return (select(*columns)
            .select_from(case.outerjoin(Timer, ProcessInstance.live_timers.property.primaryjoin)
                         .outerjoin(Task, ProcessInstance.open_tasks.property.primaryjoin))
            .where(ProcessInstance.id == which))


def read_case(session, instance_id=None, task_id=None, reader=None):
    """The case (by id, or as the case of task `task_id`) with its live timers and open tasks loaded,
    and whether `reader` stays out of it (None when not asked); (None, None): no such case or task;
    None: the session holds one of these rows already, for the ORM's query to load."""
    if instance_id is not None and session.identity_map.get(_identity(ProcessInstance, instance_id)) is not None:
        return None
    if session.autoflush:       # what the session holds changed is written first, as before the ORM's query
        session.flush()
    connection = session.connection()
    by_task, asks = instance_id is None, reader is not None
    params = {'task_id': task_id} if by_task else {'instance_id': instance_id}
    if asks:
        params['username'] = reader
    statement = statements.prepared(connection, ('read_case', by_task, asks), lambda: _build(by_task, asks),
                                    list(params))
    rows = statements.execute(connection, statement, params).rows
    if not rows:
        return None, None
    return _objects(session, rows, asks)


def _objects(session, rows, asks):
    sizes = [len(_KEYS[kind]) for kind in _KINDS]
    found = {kind: {} for kind in _KINDS}
    for row in rows:
        start = 0
        for kind, size in zip(_KINDS, sizes):
            values = row[start:start + size]
            start += size
            key = values[_ID[kind]]
            if key is not None and key not in found[kind]:
                found[kind][key] = values
    identity_map = session.identity_map
    if any(identity_map.get(_identity(kind, key)) is not None for kind, by_id in found.items() for key in by_id):
        return None
    timers = [_detached(Timer, values) for values in found[Timer].values()]
    tasks = [_detached(Task, values) for values in found[Task].values()]
    (case_values,) = found[ProcessInstance].values()
    case = _new(ProcessInstance, case_values)
    attributes.set_committed_value(case, 'live_timers', timers)
    attributes.set_committed_value(case, 'open_tasks', tasks)
    make_transient_to_detached(case)
    session.add_all([case, *timers, *tasks])
    return case, (bool(rows[0][-1]) if asks else None)


def _identity(kind, key):
    return kind.__mapper__.identity_key_from_primary_key((key,))


def _new(kind, values):
    obj = kind.__mapper__.class_manager.new_instance()
    obj.__dict__.update(zip(_KEYS[kind], values))
    return obj


def _detached(kind, values):
    obj = _new(kind, values)
    make_transient_to_detached(obj)
    return obj
