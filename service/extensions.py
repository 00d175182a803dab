from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


def tune_sqlite(engine):
    """WAL with synchronous=NORMAL: each commit no longer waits for an fsync of the whole journal.

    The database stays consistent after a crash; a power cut may lose the last transactions.
    """
    from sqlalchemy import event

    if engine.dialect.name != 'sqlite':
        return

    @event.listens_for(engine, 'connect')
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA journal_mode=WAL')
        cursor.execute('PRAGMA synchronous=NORMAL')
        cursor.execute('PRAGMA foreign_keys=ON')
        cursor.execute('PRAGMA busy_timeout=10000')
        cursor.close()


def _cache_long_statements():
    """Let psycopg keep its parse of the write path's longest statements.

    psycopg turns each statement's `%(name)s` placeholders into `$n` with a regular expression and
    keeps the result, but only for statements of at most 4,096 bytes and 50 parameters (its
    _queries module: ORMs' INSERTs of ever more rows would fill the cache). A case's write with a
    parallel fork (services/row_writes.py: the case row, the task completed and one INSERT per
    branch in one WITH) has about 60, and was parsed again at every execution (≈ 0.4 M instructions
    more than the same write's three statements, callgrind). The write path's statements are few,
    each built once (services/statements.py): past the limits they stay cacheable. psycopg's own
    cache holds 128 statement texts; a setting it does not have any more changes nothing."""
    from psycopg import _queries
    for name, at_least in (('MAX_CACHED_STATEMENT_PARAMS', 200), ('MAX_CACHED_STATEMENT_LENGTH', 16384)):
        if hasattr(_queries, name):
            setattr(_queries, name, max(getattr(_queries, name), at_least))


def tune_postgresql(engine):
    """Keep psycopg's prepared statements across requests: a transaction that wrote nothing is ended
    with COMMIT, not ROLLBACK.

    psycopg prepares a statement on the server once it has run five times on a connection, and
    forgets every prepared statement at each rollback (a rolled-back transaction may have changed
    the schema they were planned on). SQLAlchemy ends every transaction it did not commit with a
    rollback: each read-only request, and the return of each connection to the pool. So nothing
    stayed prepared, and PostgreSQL parsed and planned every statement of every request again:
    about half of its CPU per task list and completion (tests/bench/bench_load.py).

    A transaction that PostgreSQL gave no transaction id wrote nothing (no row, no schema, no
    transactional message), so its COMMIT and its ROLLBACK end the same way: locks and SET LOCAL
    go with either. One that wrote anything, or failed, still rolls back as before.
    """
    if engine.dialect.name != 'postgresql':
        return
    from psycopg.pq import TransactionStatus
    from sqlalchemy import event

    _cache_long_statements()

    @event.listens_for(engine, 'connect')
    def _cursors(dbapi_connection, _record):
        dbapi_connection.cursor_factory = described_cursor()

    from . import pg_reads
    pg_reads.install(engine)     # and a transaction begins at its first write (pg_reads.py)

    rollback = engine.dialect.do_rollback

    def do_rollback(connection):
        raw = getattr(connection, 'dbapi_connection', connection)   # a pool proxy or psycopg's own
        status = raw.pgconn.transaction_status
        if status == TransactionStatus.IDLE:
            # No transaction (a request that only read, pg_reads.py; the pool's reset after the
            # session's rollback): psycopg's rollback would return without a word to the server.
            return
        if status == TransactionStatus.INTRANS:
            with raw.cursor() as cursor:
                cursor.execute('SELECT pg_current_xact_id_if_assigned() IS NULL')
                wrote_nothing = cursor.fetchone()[0]
            if wrote_nothing:
                raw.commit()
                return
        rollback(connection)

    engine.dialect.do_rollback = do_rollback


_DESCRIBED = None


def described_cursor():
    """psycopg's cursor, whose `description` is built once per shape of result on each connection.

    SQLAlchemy reads every result's description, and psycopg builds it anew each time: a Column
    object per column, each decoding its name and looking up its type (≈ 15 µs for a task row's 20
    columns, on every statement; most of it for nothing, SQLAlchemy keeps what it needs of a
    statement it has seen). The same names, types, modifiers and sizes give equal Columns, so the
    list made the first time is handed out again (as a copy): exactly what psycopg would build.
    """
    global _DESCRIBED
    if _DESCRIBED is not None:
        return _DESCRIBED
    import weakref

    import psycopg

    known = weakref.WeakKeyDictionary()      # connection -> {shape: [Column]}

    class DescribedCursor(psycopg.Cursor):
        __slots__ = ()

        @property
        def description(self):
            res = self.pgresult
            if not res or not res.nfields:
                return super().description
            shape = tuple([(res.fname(i), res.ftype(i), res.fmod(i), res.fsize(i)) for i in range(res.nfields)])
            mine = known.get(self._conn)
            if mine is None:
                mine = known[self._conn] = {}
            columns = mine.get(shape)
            if columns is None:
                columns = mine[shape] = super().description
            return list(columns)

    _DESCRIBED = DescribedCursor
    return _DESCRIBED
