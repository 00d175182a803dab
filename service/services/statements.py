"""The write path's fixed statements, compiled once per database and handed straight to its driver.

SQLAlchemy spends more CPU around a statement it has compiled before than the driver spends on it:
its execution context, the processing of parameters and result rows set up anew each time, a
result object with its metadata, and for the ORM the loading of objects (≈ 0.55 ms for the case
read by a completion, ≈ 0.1 ms for the driver's execute: tests/bench/bench_write_path.py). The
write path's statements have a few shapes only (services/row_reads.py, services/row_writes.py),
so each is compiled by SQLAlchemy once per database; its text, the order of its parameters and
the type processors of its parameters and columns are kept. Executing it processes the values by
those same processors and gives text and values to the Connection's own cursor execution
(`Connection._cursor_execute`, SQLAlchemy's path for its dialects' own statements): its events
(services' BEGIN before a write on PostgreSQL, pg_reads.py; tests' statement counters), its
logging and its translation of driver errors into SQLAlchemy's exceptions are every statement's.
"""
from collections import namedtuple
from dataclasses import dataclass

_prepared = {}


@dataclass(frozen=True)
class Result:
    rows: list
    rowcount: int


class Prepared:
    """One statement compiled for one database: `variables` are the names bound at each execution;
    every other parameter keeps the value it was built with."""

    def __init__(self, stmt, dialect, variables):
        compiled = stmt.compile(dialect=dialect)
        if '__[POSTCOMPILE_' in compiled.string:
            # An IN list's values rendered into the text (its parameters are fixed; the variables
            # must be built with required=False, as no value for them is known yet).
            compiled = stmt.compile(dialect=dialect, compile_kwargs={'render_postcompile': True})
        if compiled.escaped_bind_names:
            raise ValueError(f'parameter names that need escaping: {sorted(compiled.escaped_bind_names)}')
        self.sql = compiled.string
        self.order = list(compiled.positiontup) if compiled.positional else None
        binds = compiled.binds

        def processor(name):
            # An IN list's values are rendered as name_1, name_2, … of the list's parameter.
            bind = binds.get(name)
            if bind is None:
                bind = binds.get(name.rpartition('_')[0])
            return bind.type.dialect_impl(dialect).bind_processor(dialect) if bind is not None else None

        # Names the statement does not have are ignored, as SQLAlchemy ignores them; one it requires
        # that is neither given nor fixed is refused here, as SQLAlchemy refuses it at each execution.
        variables = [name for name in variables if name in compiled.params]
        self.fixed = {}
        for name, value in compiled.params.items():
            if name not in variables:
                bind = binds.get(name)
                if bind is not None and bind.required and bind.value is None and bind.callable is None:
                    raise ValueError(f'a value is required for the parameter {name}')
                process = processor(name)
                self.fixed[name] = process(value) if process else value
        self.binders = [(name, process, process(None) is None) for name in variables if (process := processor(name))]
        self.statement = stmt      # for SQLAlchemy's executemany of several rows (execute_rows)
        self.keys = [column.key for column in stmt.exported_columns]
        # A SELECT's columns, or an INSERT/UPDATE's RETURNING: known here, so an execution does not
        # ask the cursor for its description (psycopg builds it anew for each result).
        self.returns_rows = bool(self.keys)
        self._named = None
        # Each column's processor, and whether it gives None for None (dates, booleans, the encrypted
        # columns): then it is not called for it, and a case's row has many empty columns. The same
        # for the parameters' processors.
        self.readers = [(i, process, process(None) is None) for i, column in enumerate(stmt.exported_columns)
                        if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))]

    def values(self, params):
        values = dict(self.fixed)
        values.update(params)
        for name, process, keeps_none in self.binders:   # None too, unless it stays None (a JSON null does not)
            value = values[name]
            if value is not None or not keeps_none:
                values[name] = process(value)
        return [values[name] for name in self.order] if self.order is not None else values

    def named_row(self):
        if self._named is None:
            self._named = namedtuple('Row', self.keys)._make
        return self._named

    def row(self, raw):
        if not self.readers:
            return raw
        row = list(raw)
        for i, process, keeps_none in self.readers:
            value = row[i]
            if value is not None or not keeps_none:
                row[i] = process(value)
        return row


def prepared(connection, key, build, variables):
    """The statement `build()` makes, compiled for this connection's database once (per `key`)."""
    dialect = connection.dialect
    found = _prepared.get((dialect.name, dialect.paramstyle, key))
    if found is None:
        if len(_prepared) > 2000:       # shapes are few; anything making ever new ones cannot grow this
            _prepared.clear()
        found = _prepared[(dialect.name, dialect.paramstyle, key)] = Prepared(build(), dialect, variables)
    return found


def execute_rows(connection, key, build, rows):
    """One statement for a list of parameter rows, all with the same names: a single row straight to
    the driver, several by SQLAlchemy's executemany of the same statement (built once either way)."""
    names = tuple(sorted(rows[0]))
    statement = prepared(connection, (key, names), build, names)
    if len(rows) == 1:
        return execute(connection, statement, rows[0])
    result = connection.execute(statement.statement, rows)
    return Result(result.all() if result.returns_rows else [], result.rowcount)


def execute(connection, statement, params, named=False):
    """Run a Prepared statement with these variables in the connection's transaction; its rows
    (through the columns' result processors, as SQLAlchemy would give them) and row count.
    `named`: rows whose values are also attributes named by the columns' keys, as SQLAlchemy's rows."""
    fairy = connection.connection
    cursor = _cursor(fairy)
    try:
        connection._cursor_execute(cursor, statement.sql, statement.values(params))
    except BaseException:
        # SQLAlchemy closes a cursor whose statement failed (not every driver says so: sqlite3). A
        # connection it invalidated (lost) empties the record's info itself when it reconnects.
        if not connection.invalidated:
            fairy.info.pop(_CURSOR, None)
        raise
    rows = [statement.row(r) for r in cursor.fetchall()] if statement.returns_rows else []
    if named and rows:
        make = statement.named_row()
        rows = [make(r) for r in rows]
    return Result(rows, cursor.rowcount)


_CURSOR = 'jiuzhu.statements.cursor'


def _cursor(fairy):
    """One driver cursor per driver connection, used again by each statement on it (one statement at
    a time: a connection serves one request or one sweep). Kept with the pool's record of the
    connection, which outlives a reconnect: the cursor is taken only while it is of this connection."""
    cursor = fairy.info.get(_CURSOR)
    if cursor is None or cursor.connection is not fairy.dbapi_connection:
        cursor = fairy.info[_CURSOR] = fairy.cursor()
    return cursor
