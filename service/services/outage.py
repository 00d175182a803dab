"""The database's connection lost under a request: a moment's outage, not a bug.

PostgreSQL ends connections when it restarts or fails over, or when an administrator ends them. The
pool lends connections without a ping first (config.engine_options), so after such an event the
first request of each worker finds its connection gone. That request is answered "try again" (503)
and ends its session without asking the dead connection anything; SQLAlchemy has already told the
pool to replace every connection older than the failure, so the next request works.
"""
import logging

from flask import request
from sqlalchemy.exc import DBAPIError

from ..extensions import db

log = logging.getLogger('jiuzhu.outage')

MESSAGE = '数据库暂时无法连接，请稍后重试 (database unavailable, try again)'
RETRY_AFTER = '1'


def connection_lost(exc):
    """Whether `exc` says the connection to the database is gone: SQLAlchemy invalidated it, or the
    driver raised it past SQLAlchemy (the audit chain's pipelined commit) and the dialect knows the
    error as a disconnect."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    try:
        dialect = db.engine.dialect
    except RuntimeError:        # no app: nothing of ours raised it
        return False
    return isinstance(exc, dialect.loaded_dbapi.Error) and dialect.is_disconnect(exc, None, None)


def ended_request(exc):
    """For a request's error handler: when `exc` is a lost connection, end the session, log one line
    and return True (the handler answers 503 with Retry-After); otherwise False."""
    if not connection_lost(exc):
        return False
    _end_session()
    log.warning('database connection lost on %s %s: %s', request.method, request.path, type(exc).__name__)
    return True


def _end_session():
    """End the request's session after a lost connection: its rollback may find the connection dead
    too (when the driver, not SQLAlchemy, met the loss first); either way the session lets it go."""
    try:
        db.session.rollback()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    db.session.remove()
