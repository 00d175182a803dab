"""SQLite: the online backup API (sqlite3.Connection.backup), both ways.

A backup in one step reads the whole database in one read transaction: a consistent copy while
the service keeps writing (WAL: writers are not blocked meanwhile).
"""
import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ..migrations.readiness import check
from .archive import CHUNK, private_file
from .errors import BackupError, not_empty
from .facts import read_facts

BUSY_MS = 30_000


def path_of(url):
    url = make_url(url)
    name = url.database
    if not name or name == ':memory:' or url.query.get('mode') == 'memory':
        raise BackupError('内存中的 SQLite 数据库无法备份或恢复 (an in-memory SQLite database cannot be backed up)')
    return Path(name)


def _facts(path):
    engine = create_engine(f'sqlite:///{path}', poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return read_facts(conn)
    finally:
        engine.dispose()


def dump(url, payload_path):
    source = path_of(url)
    if not source.is_file():
        raise BackupError(f'数据库文件不存在 (no such database file): {source}')
    try:
        src = sqlite3.connect(f'file:{quote(str(source))}?mode=ro', uri=True, timeout=BUSY_MS / 1000)
        try:
            _copy(src, payload_path)
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f'SQLite 备份失败 (backup failed): {exc}') from exc
    return dict(_facts(payload_path), sqlite_version=sqlite3.sqlite_version)


def _copy(src, path, timeout=5.0):
    """Every page of the open database `src` into the database file at `path` (SQLite's backup API)."""
    dst = sqlite3.connect(path, timeout=timeout)
    try:
        src.backup(dst)
    finally:
        dst.close()


def restore(url, backup, force):
    target = path_of(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        engine = create_engine(f'sqlite:///{target}', poolclass=NullPool)
        try:
            state = check(engine)
        finally:
            engine.dispose()
        if state.state != 'empty' and not force:
            raise not_empty(state)
    staged = target.with_name(target.name + '.restoring')
    try:
        tar, payload = backup.payload()
        with tar, private_file(staged) as out:
            for chunk in iter(lambda: payload.read(CHUNK), b''):
                out.write(chunk)
        src = sqlite3.connect(staged)
        try:
            verdict = src.execute('PRAGMA quick_check').fetchone()[0]
            if verdict != 'ok':
                raise BackupError(f'备份中的数据库已损坏 (the backed-up database is damaged): {verdict}')
            # Page by page over the target through SQLite itself: its WAL and locks stay right,
            # and a target still open elsewhere makes this wait (busy timeout), not corrupt.
            _copy(src, target, timeout=BUSY_MS / 1000)
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f'SQLite 恢复失败 (restore failed): {exc}') from exc
    finally:
        staged.unlink(missing_ok=True)
