"""Throwaway PostgreSQL databases for tests that need a database of their own (backup, roles).

`DROP DATABASE … WITH (FORCE)` is refused to a non-superuser when an autovacuum worker happens
to be inside the database (PostgreSQL 15 checks the worker's role like a user's; CI hit it).
A plain DROP DATABASE asks autovacuum to leave by itself and waits a few seconds for other
sessions, so: end our own sessions, then drop, a few times if a session is slow to go.
"""
import time

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

_OUR_SESSIONS = text('SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                     'WHERE datname = :name AND pid <> pg_backend_pid() AND usename = current_user')


def drop_database(admin, name, attempts=10):
    """Drop `name` through `admin` (an AUTOCOMMIT engine), ending the test role's own leftover sessions."""
    for attempt in range(attempts):
        with admin.connect() as conn:
            conn.execute(_OUR_SESSIONS, {'name': name})
            try:
                conn.execute(text(f'DROP DATABASE IF EXISTS {name}'))
                return
            except OperationalError:       # "is being accessed by other users": a session not gone yet
                if attempt == attempts - 1:
                    raise
        time.sleep(0.5)
