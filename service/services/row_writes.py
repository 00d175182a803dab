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
Then the session holds them as its flush leaves the rows it wrote: persistent, unchanged, recorded
in the transaction (a rollback expires or drops them as it would).

What else a write may hold changed — a new case, another table's rows (a household granted by a
service task), a deletion, listeners on these mappers — goes to the ORM's flush as a whole.
"""
from sqlalchemy import bindparam, event, exists, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql import ClauseElement

from ..models import ProcessInstance, Task, Timer
from . import figures
from .changes import changed

_CASE = ProcessInstance.__table__
_CASE_COLUMNS = frozenset(c.key for c in _CASE.columns) - {'id', 'version'}
_ROWS = {Task: Task.__table__, Timer: Timer.__table__}
_ROW_COLUMNS = {kind: frozenset(c.key for c in table.columns) - {'id'} for kind, table in _ROWS.items()}
_EARLIER = Task.__table__.alias('earlier')
_built = {}


def _statement(key, build):
    stmt = _built.get(key)
    if stmt is None:
        stmt = _built[key] = build()
    return stmt


def case_update(columns):
    """UPDATE process_instance SET …, version = :new_version WHERE id = :row_id AND version = :read_version."""
    return _statement(('case', columns), lambda: (
        _CASE.update()
        .where(_CASE.c.id == bindparam('row_id'), _CASE.c.version == bindparam('read_version'))
        .values({**{name: bindparam(name) for name in columns}, 'version': bindparam('new_version')})))


def _row_update(kind, columns):
    table = _ROWS[kind]
    return _statement((kind, 'update', columns), lambda: (
        table.update().where(table.c.id == bindparam('row_id'))
        .values({name: bindparam(name) for name in columns})))


def done_before(instance_id=None, bpmn_id=None):
    """Whether the case completed this step before, evaluated by the new task row's own INSERT (the
    completed rows are not read with the case). With values: for the ORM's flush of one row; without:
    in the INSERT built once here, the row's values bound under these two names."""
    return exists().where(_EARLIER.c.instance_id == bindparam('earlier_instance', instance_id),
                          _EARLIER.c.bpmn_id == bindparam('earlier_bpmn', bpmn_id),
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


def _row_insert(kind, columns, made_by_database):
    table = _ROWS[kind]

    def build():
        values = {name: bindparam(name) for name in columns}
        if 'returned' in made_by_database:
            values['returned'] = DONE_BEFORE
        back = [table.c[name] for name in sorted(made_by_database)]
        return table.insert().values(values).returning(*back, sort_by_parameter_order=True)
    return _statement((kind, 'insert', columns, made_by_database), build)


def flush(session):
    """Write what the session holds changed: its case, task and timer rows by the statements above,
    anything else by the ORM's flush after them (usually nothing is left)."""
    if _listened() or any(type(obj) is ProcessInstance for obj in session.new):
        session.flush()     # a new case: its rows need its id first; listeners: the ORM calls them
        return
    dirty, new = session.dirty, session.new
    connection = session.connection()
    written = write_cases(session, [obj for obj in dirty if type(obj) is ProcessInstance], connection)
    for kind in _ROWS:
        written += _update_rows(connection, kind, [obj for obj in dirty if type(obj) is kind])
        written += _insert_rows(connection, kind, [obj for obj in new if type(obj) is kind])
    mark_written(session, written)
    session.flush()


def _listened():
    for kind in (ProcessInstance, Task, Timer):
        d = kind.__mapper__.dispatch
        if d.before_insert or d.after_insert or d.before_update or d.after_update:
            return True
    return False


def _sql_free(changes):
    return not any(isinstance(value, ClauseElement) for value in changes.values())


def write_cases(session, instances, connection=None):
    """UPDATE the changed case rows, one statement per set of changed columns, each row under its own
    version check; their supervision counts are kept (services/figures.py). Returns the rows written
    (holding their new version), for `mark_written`."""
    groups = {}
    for instance in instances:
        changes = changed(instance, _CASE_COLUMNS)
        if changes and _sql_free(changes):
            groups.setdefault(frozenset(changes), []).append((instance, changes))
    if not groups:
        return []
    written = [i for rows in groups.values() for i, _ in rows]
    figures.keep_changes(session, written)
    connection = connection or session.connection()
    for columns, rows in groups.items():
        params = [dict(changes, row_id=i.id, read_version=i.version, new_version=i.version + 1)
                  for i, changes in rows]
        matched = connection.execute(case_update(columns), params).rowcount
        if matched != len(params):
            raise StaleDataError(f'UPDATE of {len(params)} case row(s) matched {matched}: '
                                 'a case was changed by another writer')
    for instance in written:
        inspect(instance).dict['version'] = instance.version + 1
    return written


def _update_rows(connection, kind, objects):
    groups, written = {}, []
    for obj in objects:
        changes = changed(obj, _ROW_COLUMNS[kind])
        if changes and _sql_free(changes):
            groups.setdefault(frozenset(changes), []).append(dict(changes, row_id=obj.id))
            written.append(obj)
    for columns, params in groups.items():
        matched = connection.execute(_row_update(kind, columns), params).rowcount
        if matched != len(params):
            raise StaleDataError(f'UPDATE of {len(params)} {kind.__tablename__} row(s) matched {matched}')
    return written


def _insert_rows(connection, kind, objects):
    groups = {}
    for obj in objects:
        values, back = _insert_values(kind, obj)
        if values is not None:
            groups.setdefault((frozenset(values), back), []).append((obj, values))
    written = []
    for (columns, back), rows in groups.items():
        params = [dict(values, earlier_instance=values['instance_id'], earlier_bpmn=values['bpmn_id'])
                  if 'returned' in back else values for _, values in rows]
        made = connection.execute(_row_insert(kind, columns, back), params).all()
        names = sorted(back)
        for (obj, values), row in zip(rows, made):
            loaded = inspect(obj).dict
            loaded.update(values)
            loaded.update(zip(names, row))
            written.append(obj)
    return written


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
