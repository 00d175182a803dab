"""PostgreSQL: a transaction begins at its first statement that may write or lock, not at its first read.

Every request opens a transaction with its first statement (the session check, services/auth.py),
and psycopg sends BEGIN on its own round trip before it. A request that only reads (a task list)
then paid for BEGIN, and at its end for the check that it wrote nothing and a COMMIT
(extensions.tune_postgresql): three round trips, and the Python around them, for no transaction
at all. So each SQLAlchemy transaction starts with the connection in autocommit, and the first
statement that is not a plain read switches it back before it runs: psycopg then sends BEGIN
ahead of it, and from there on everything is as before (the write, what follows it, the commit or
the rollback). A request that only read ends with nothing to end.

Reads before that point run each on its own, as they already did under READ COMMITTED (each
statement of a transaction sees the data committed when it starts; a read takes no lock that
lasts). So only connections at the server's default READ COMMITTED take part: a connection given
another isolation level (the backup's REPEATABLE READ) or autocommit of its own is left alone.

A plain read (reads_only): one SELECT (not SELECT … INTO, not a WITH that may hold an UPDATE),
no FOR UPDATE / FOR SHARE, no executemany, and no function call but a few that neither write
nor lock — any other function may (the audit chain's append is called by a SELECT, locks are
taken by pg_advisory_xact_lock). Judged on the SQL text, once per text.
"""
import re

from sqlalchemy import event

# Functions that neither write nor lock, as they appear in the SQL SQLAlchemy renders.
PURE_FUNCTIONS = frozenset({'cast', 'count', 'coalesce', 'lower', 'upper', 'min', 'max', 'sum', 'avg', 'length',
                            'abs', 'now', 'nullif', 'greatest', 'least', 'date_trunc', 'extract'})
_CALL = re.compile(r'([A-Za-z_][\w$]*|"[^"]+")\s*\(')
_KEYWORDS_BEFORE_PARENTHESES = frozenset({'in', 'exists', 'any', 'all', 'not', 'and', 'or', 'on', 'from', 'join',
                                          'as', 'over', 'filter', 'within', 'values', 'select', 'where', 'by',
                                          'then', 'else', 'when', 'case', 'is', 'distinct', 'using'})
_LOCKING = re.compile(r'\bFOR\s+(UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b|\bINTO\b', re.I)
_verdicts = {}
_DEFERRED = 'jiuzhu.reads_outside_transaction'


def reads_only(sql):
    """True when this SQL text can neither write nor take a lock that outlives it."""
    verdict = _verdicts.get(sql)
    if verdict is None:
        verdict = _judge(sql)
        if len(_verdicts) > 10000:       # texts with literals in them: keep the table bounded
            _verdicts.clear()
        _verdicts[sql] = verdict
    return verdict


def _judge(sql):
    text = sql.strip()
    if not text[:7].upper() == 'SELECT ' or ';' in text or _LOCKING.search(text):
        return False
    for name in _CALL.findall(text):
        name = name.strip('"').lower()
        if name not in PURE_FUNCTIONS and name not in _KEYWORDS_BEFORE_PARENTHESES:
            return False
    return True


def install(engine):
    from psycopg.pq import TransactionStatus

    idle = TransactionStatus.IDLE

    @event.listens_for(engine, 'begin')
    def _defer(conn):
        raw = conn.connection.dbapi_connection
        if (raw.autocommit or raw.isolation_level is not None or raw.info.transaction_status != idle
                or conn.dialect.default_isolation_level != 'READ COMMITTED'):
            return
        raw.autocommit = True
        conn.info[_DEFERRED] = True

    @event.listens_for(engine, 'before_cursor_execute')
    def _begin_before_writing(conn, cursor, statement, parameters, context, executemany):
        if conn.info.get(_DEFERRED) and (executemany or not reads_only(statement)):
            _end_deferral(conn)      # psycopg sends BEGIN before this statement

    @event.listens_for(engine, 'commit')
    def _after_reads_committed(conn):
        if conn.info.get(_DEFERRED):
            _end_deferral(conn)      # nothing to commit: psycopg's COMMIT sees no transaction

    @event.listens_for(engine, 'rollback')
    def _after_reads_rolled_back(conn):
        # An invalidated connection (the server ended it) has no state to ask: its record opens a
        # new one, with its info emptied, at the next checkout.
        if not conn.invalidated and conn.info.get(_DEFERRED):
            _end_deferral(conn)

    # A connection closed or invalidated mid-request: it comes back to the pool as it went out.
    @event.listens_for(engine.pool, 'checkin')
    def _checked_in(dbapi_connection, record):
        if record is not None and record.info.pop(_DEFERRED, None) and dbapi_connection is not None \
                and not dbapi_connection.closed:
            dbapi_connection.autocommit = False


def _end_deferral(conn):
    conn.info[_DEFERRED] = False
    conn.connection.dbapi_connection.autocommit = False
