"""Writing the case, task and timer rows a write changed, with statements built once per shape.

The ORM's flush works out anew at every write what to send and how (its unit of work: about a third
of a completion's CPU, tests/bench/bench_request.py). The rows a case's write changes come in a few
shapes only — the case row, its task rows and its timer rows, each with a set of changed columns —
so each shape's statement is built once and executed with the rows' values:
- case rows: UPDATE … SET …, version = :new WHERE id = :id AND version = :read, one statement for
  the rows of a shape, every row under its own version check: fewer rows matched than sent is the
  ORM's own StaleDataError (the write answers 409, a batch of timers is fired again case by case);
- task and timer rows: UPDATE … WHERE id = :id; the new ones INSERTed, what the database makes
  (a timer's id, whether a task's step was done before) coming back by RETURNING.
On PostgreSQL a case's own write (its case row and up to a few task and timer rows) is ONE statement:
each row's UPDATE or INSERT in a WITH of its own, the task and timer rows' gated on the case row's
version check (`_together`).
Then the session holds them as its flush leaves the rows it wrote: persistent, unchanged, recorded
in the transaction (a rollback expires or drops them as it would).

What else a write may hold changed — another table's rows (a household granted by a service task),
a deletion — goes to the ORM's flush after these; a new case, or listeners on these mappers, send
everything to the ORM's flush.
"""
from sqlalchemy import bindparam, event, exists, func, inspect, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql import ClauseElement

from ..models import ProcessInstance, Task, Timer
from . import figures, statements
from .changes import changed

_CASE = ProcessInstance.__table__
_CASE_COLUMNS = frozenset(c.key for c in _CASE.columns) - {'id', 'version'}
_ROWS = {Task: Task.__table__, Timer: Timer.__table__}
_TABLES = {ProcessInstance: _CASE, **_ROWS}
_ROW_COLUMNS = {kind: frozenset(c.key for c in table.columns) - {'id'} for kind, table in _ROWS.items()}
_EARLIER = Task.__table__.alias('earlier')
def done_before(instance_id=None, bpmn_id=None, prefix=''):
    """Whether the case completed this step before, evaluated by the new task row's own INSERT (the
    completed rows are not read with the case). With values: for the ORM's flush of one row; without:
    in an INSERT built once here, the row's values bound under these names."""
    return exists().where(_EARLIER.c.instance_id == bindparam(prefix + 'earlier_instance', instance_id),
                          _EARLIER.c.bpmn_id == bindparam(prefix + 'earlier_bpmn', bpmn_id),
                          _EARLIER.c.state == 'completed')


# A new task row's `returned` as set by services/sync.py: worked out by its INSERT. Built once: the
# INSERT here binds the row's case and step to it; an ORM flush gets the expression with them.
DONE_BEFORE = done_before()


@event.listens_for(Session, 'before_flush')
def _values_for_the_orm(session, flush_context, instances):
    for obj in session.new:
        if type(obj) is Task:
            loaded = inspect(obj).dict
            if loaded.get('returned') is DONE_BEFORE:
                loaded['returned'] = done_before(loaded['instance_id'], loaded['bpmn_id'])


def _build(shape, prefix='', gate=None):
    """The statement of one shape of rows; `prefix`: its parameters' names within a statement of
    several (`_together`), where its UPDATE tells the rows it matched by RETURNING and `gate` (the
    case row's UPDATE matched) must hold for it to write anything. An INSERT's rows come back in the
    order sent when they are several (SQLAlchemy's executemany; the text is the same for one row)."""
    def param(name):
        return bindparam(prefix + name, type_=table.c[name].type if name in table.c else None)
    op, kind, columns = shape[:3]
    table = _TABLES[kind]
    if op == 'update':
        where = [table.c.id == param('row_id')] + ([gate] if gate is not None else [])
        values = {name: param(name) for name in columns}
        if table is _CASE:      # under the case's version check, which it moves on
            where.append(table.c.version == param('read_version'))
            values['version'] = param('new_version')
        stmt = table.update().where(*where).values(values)
        return stmt.returning(table.c.id) if prefix else stmt
    back = shape[3]
    values = {name: param(name) for name in sorted(columns)}
    if 'returned' in back:
        # Together with the rows' UPDATEs, the INSERT does not see a row this same write completes
        # (one statement, one snapshot): `done_here` says so instead.
        values['returned'] = or_(done_before(prefix=prefix), param('done_here')) if prefix else DONE_BEFORE
    returned = [table.c[name] for name in sorted(back)] or [table.c.id]
    if gate is None:
        return table.insert().values(values).returning(*returned, sort_by_parameter_order=True)
    chosen = select(*(value.label(name) for name, value in values.items())).where(gate)
    return table.insert().from_select(list(values), chosen).returning(*returned)


class _Write:
    """Rows of one shape — (op, kind, changed columns[, columns the database makes]) — written by one
    statement built once for the shape."""

    def __init__(self, shape, params, objects):
        self.shape, self.params, self.objects = shape, params, objects

    @property
    def back(self):
        return self.shape[3] if self.shape[0] == 'insert' else ()

    def run(self, connection):
        result = statements.execute_rows(connection, self.shape, lambda: _build(self.shape), self.params)
        if self.shape[0] == 'insert':
            self.took(result.rows)
        else:
            self.matched(result.rowcount)

    def matched(self, count):
        if count != len(self.params):
            raise StaleDataError(f'UPDATE of {len(self.params)} {self.shape[1].__tablename__} row(s) '
                                 f'matched {count}: changed by another writer')

    def took(self, rows):
        names = sorted(self.back)
        for obj, values, row in zip(self.objects, self.params, rows):
            loaded = inspect(obj).dict
            loaded.update((k, v) for k, v in values.items() if k in self.shape[2])
            loaded.update(zip(names, row))


def _together(connection, writes, names):
    """PostgreSQL, one row per write (a case's own write, _execute): the writes as one statement, each an
    UPDATE or INSERT in its WITH, what each matched or made selected from it. One round trip. When
    the case row's version check fails, the others write nothing (a concurrent writer's rows stay
    as they are, and the write is told apart as a conflict, not a duplicate row)."""
    def build():
        columns, gate = [], None
        for i, w in enumerate(writes):
            cte = _build(w.shape, f'w{i}_', gate).cte(f'w{i}')
            if w.shape[1] is ProcessInstance and gate is None:
                gate = select(cte.c.id).exists()
            if w.shape[0] == 'insert' and w.back:
                columns += [select(cte.c[name]).scalar_subquery().label(f'w{i}_{name}') for name in sorted(w.back)]
            else:
                columns.append(select(func.count()).select_from(cte).scalar_subquery().label(f'w{i}_n'))
        return select(*columns)
    return statements.prepared(connection, ('together', tuple(w.shape for w in writes), names), build, names)


# The most rows one case's write sends as one statement (each row a WITH of its own; the statement's
# text is kept per count of rows of each shape). A case's write has 2-5: the case row, the task
# completed, the steps it opened (a parallel fork opens several), their timers. More go row shape by
# row shape (a batch of fired timers holds several case rows: never one statement).
TOGETHER_AT_MOST = 8


def _execute(connection, writes, done_here=frozenset()):
    rows = sum(len(w.params) for w in writes)
    if connection.dialect.name != 'postgresql' or not 1 < rows <= TOGETHER_AT_MOST \
            or sum(len(w.params) for w in writes if w.shape[1] is ProcessInstance) > 1:
        for w in writes:
            w.run(connection)
        return
    # One row per write: two new task rows of one shape are two INSERTs in the WITH, not one of two
    # rows (whose RETURNING would come back in no promised order, and be SQLAlchemy's executemany).
    writes = [_Write(w.shape, [p], [o]) for w in writes for p, o in zip(w.params, w.objects)]
    params = {}
    for i, w in enumerate(writes):
        params.update((f'w{i}_{k}', v) for k, v in w.params[0].items())
        if 'returned' in w.back:
            params[f'w{i}_done_here'] = (w.params[0]['instance_id'], w.params[0]['bpmn_id']) in done_here
    names = tuple(sorted(params))
    (row,) = statements.execute(connection, _together(connection, writes, names), params).rows
    at = 0      # the statement's columns: per write, its RETURNING's columns in name order, or its count
    for w in writes:
        if w.shape[0] == 'insert' and w.back:
            w.took([row[at:at + len(w.back)]])
            at += len(w.back)
        else:
            w.matched(row[at])
            at += 1


def flush(session):
    """Write what the session holds changed: its case, task and timer rows by the statements above,
    anything else by the ORM's flush after them (usually nothing is left)."""
    if _listened() or any(type(obj) is ProcessInstance for obj in session.new):
        session.flush()     # a new case: its rows need its id first; listeners: the ORM calls them
        return
    dirty, new = session.dirty, session.new
    writes = _case_writes([obj for obj in dirty if type(obj) is ProcessInstance])
    cases = [obj for w in writes for obj in w.objects]
    if cases:
        figures.keep_changes(session, cases)
    done_here = set()
    for kind in _ROWS:
        more, done = _update_writes(kind, [obj for obj in dirty if type(obj) is kind])
        writes += more
        done_here |= done
        writes += _insert_writes(kind, [obj for obj in new if type(obj) is kind])
    _execute(session.connection(), writes, done_here)
    for instance in cases:
        inspect(instance).dict['version'] = instance.version + 1
    mark_written(session, [obj for w in writes for obj in w.objects])
    session.flush()


def _listened():
    for kind in (ProcessInstance, Task, Timer):
        d = kind.__mapper__.dispatch
        if d.before_insert or d.after_insert or d.before_update or d.after_update:
            return True
    return False


def _sql_free(changes):
    return not any(isinstance(value, ClauseElement) for value in changes.values())


def _case_writes(instances):
    """The UPDATEs of the changed case rows by shape (rows holding SQL are left to the ORM)."""
    groups = {}
    for instance in instances:
        changes = changed(instance, _CASE_COLUMNS)
        if changes and _sql_free(changes):
            groups.setdefault(frozenset(changes), []).append((instance, changes))
    return [_Write(('update', ProcessInstance, columns),
                   [dict(changes, row_id=i.id, read_version=i.version, new_version=i.version + 1)
                    for i, changes in rows], [i for i, _ in rows]) for columns, rows in groups.items()]


def _update_writes(kind, objects):
    """The UPDATEs of changed task or timer rows by shape, and the (case, step) of task rows completed."""
    groups, done = {}, set()
    for obj in objects:
        changes = changed(obj, _ROW_COLUMNS[kind])
        if changes and _sql_free(changes):
            groups.setdefault(frozenset(changes), []).append((obj, dict(changes, row_id=obj.id)))
            if kind is Task and changes.get('state') == 'completed':
                done.add((obj.instance_id, obj.bpmn_id))
    return [_Write(('update', kind, columns), [p for _, p in rows], [o for o, _ in rows])
            for columns, rows in groups.items()], done


def _insert_writes(kind, objects):
    groups = {}
    for obj in objects:
        values, back = _insert_values(kind, obj)
        if values is not None:
            groups.setdefault((frozenset(values), back), []).append((obj, values))
    writes = []
    for (columns, back), rows in groups.items():
        params = [dict(values, earlier_instance=values['instance_id'], earlier_bpmn=values['bpmn_id'])
                  if 'returned' in back else values for _, values in rows]
        writes.append(_Write(('insert', kind, columns, back), params, [o for o, _ in rows]))
    return writes


def _insert_values(kind, obj):
    """The values of a new row's INSERT, its column defaults filled in as the ORM's would be, and the
    columns the database makes (RETURNING): a key without a value, `returned` given as DONE_BEFORE.
    (None, None) for a row holding other SQL: the ORM writes it."""
    loaded = inspect(obj).dict
    values, back = {}, set()
    for column in _ROWS[kind].columns:
        value = loaded.get(column.key)
        if isinstance(value, ClauseElement):
            if value is not DONE_BEFORE:
                return None, None
            back.add('returned')
        elif value is not None:
            values[column.key] = value
        elif column.primary_key or (column.server_default is not None and column.default is None):
            back.add(column.key)
        elif column.default is not None and column.default.is_scalar:
            values[column.key] = column.default.arg
        elif column.default is not None and column.default.is_callable:
            values[column.key] = column.default.arg(None)
        else:
            values[column.key] = None
    return values, frozenset(back)


def mark_written(session, objects):
    """The session holds these rows as its flush leaves the rows it wrote: persistent, nothing
    changed, recorded in the transaction for a rollback. SQLAlchemy's own step after a flush's
    statements (Session._register_persistent), its one use outside the ORM."""
    if objects:
        session._register_persistent({inspect(obj) for obj in objects})
