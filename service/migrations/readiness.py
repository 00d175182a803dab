"""Is the database at the schema this code needs? Read once by create_app, again while it is not.

A database that is behind answers every request except /healthz with 503 (a page in Chinese, or
JSON under /api/), so a half-upgraded deployment never serves 500s from a missing column.
"""
import functools
import html
import os
from dataclasses import dataclass
from pathlib import Path

from flask import jsonify, request
from sqlalchemy import inspect, text

HERE = Path(__file__).resolve().parent
VERSION_TABLE = 'alembic_version'
# Requests that are answered even when the database is not ready.
OPEN_ENDPOINTS = {'health.healthz'}


# Where the revision files are. Tests append a folder with a revision of their own to play code
# that is newer than the database (tests/test_migrations_readiness.py).
VERSION_LOCATIONS = [HERE / 'versions']


def alembic_config(connection=None):
    from alembic.config import Config
    config = Config()   # no alembic.ini: the script location is this package, also when installed
    config.set_main_option('script_location', str(HERE))
    config.set_main_option('path_separator', 'os')
    config.set_main_option('version_locations', os.pathsep.join(str(p) for p in VERSION_LOCATIONS))
    config.attributes['connection'] = connection
    return config


@functools.cache
def script_directory():
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(alembic_config())


def forget_revisions():
    """Read the revision files again on next use (after VERSION_LOCATIONS changed)."""
    script_directory.cache_clear()
    head.cache_clear()


@functools.cache
def head():
    """The one revision this code needs (two heads would be two unmerged branches: refuse)."""
    heads = script_directory().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f'migrations have {len(heads)} heads {heads}: merge them (docs/migrations.md)')
    return heads[0]


def our_tables():
    from .runner import target_metadata
    return set(target_metadata().tables)


@dataclass(frozen=True)
class SchemaState:
    state: str            # current | behind | empty | unversioned | unknown
    current: str | None   # the revision recorded in the database
    expected: str         # this code's head

    @property
    def ready(self):
        return self.state == 'current'

    def message(self):
        """What an operator reads: Chinese, English in parentheses."""
        cur, exp = self.current, self.expected
        if self.state == 'behind':
            return (f'数据库结构版本 {cur} 落后于本程序需要的 {exp}，请以数据库所有者身份运行 `jiuzhu db upgrade` 后再启动 '
                    f'(the database schema is at {cur}, this program needs {exp}: run `jiuzhu db upgrade`)')
        if self.state == 'unversioned':
            return ('数据库中已有 jiuzhu 的表，但没有结构版本记录（由旧版本程序建立），请以数据库所有者身份运行 `jiuzhu db upgrade` '
                    '(the tables were made before migrations existed: run `jiuzhu db upgrade`)')
        if self.state == 'unknown':
            return (f'数据库结构版本 {cur} 不是本程序认识的版本（数据库比程序新？），请部署与数据库相符的程序版本 '
                    f'(the database is at revision {cur}, unknown to this program: deploy the matching version)')
        if self.state == 'empty':
            return '数据库是空的，请运行 `jiuzhu db upgrade` 建表 (the database is empty: run `jiuzhu db upgrade`)'
        return f'数据库结构版本 {cur}，与程序一致 (the database schema is at {cur}, as expected)'

    def as_dict(self):
        return {'state': self.state, 'current': self.current, 'expected': self.expected}


def read_state(connection):
    """Two catalog queries at most: the version table, then (only without one) the table names."""
    expected = head()
    insp = inspect(connection)
    revisions = []
    if insp.has_table(VERSION_TABLE):
        revisions = [row[0] for row in connection.execute(text(f'SELECT version_num FROM {VERSION_TABLE}'))]
    if not revisions:
        present = set(insp.get_table_names()) & our_tables()
        return SchemaState('unversioned' if present else 'empty', None, expected)
    current = ','.join(sorted(revisions))
    if revisions == [expected]:
        return SchemaState('current', current, expected)
    known = all(_known(rev) for rev in revisions)
    return SchemaState('behind' if known else 'unknown', current, expected)


def _known(revision):
    from alembic.util import CommandError
    try:
        return script_directory().get_revision(revision) is not None
    except CommandError:
        return False


def check(engine):
    with engine.connect() as connection:
        state = read_state(connection)
        connection.rollback()
    return state


# ------------------------------------------------------------------ the app while not ready

def current_state(app):
    """The state create_app found; re-read while not ready, so `jiuzhu db upgrade` heals a running app."""
    state = app.extensions['jiuzhu.schema']
    if not state.ready:
        from ..extensions import db
        state = app.extensions['jiuzhu.schema'] = check(db.engine)
    return state


def install_guard(app):
    @app.before_request
    def _database_not_ready():
        if request.endpoint in OPEN_ENDPOINTS:
            return None
        state = current_state(app)
        return None if state.ready else not_ready_response(state)


def not_ready_response(state):
    headers = {'Retry-After': '60'}
    wants_json = request.path.startswith('/api/') or (
        request.accept_mimetypes.best_match(['text/html', 'application/json']) == 'application/json')
    if wants_json:
        body = jsonify(error='database_not_ready', message=state.message(), details=state.as_dict())
        return body, 503, headers
    # No template: the page layout reads the signed-in user from the database that is not ready.
    page = _PAGE.format(message=html.escape(state.message()), current=html.escape(state.current or '无'),
                        expected=html.escape(state.expected))
    return page, 503, {**headers, 'Content-Type': 'text/html; charset=utf-8'}


_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>系统升级中 — jiuzhu 救助</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.6">
<h1>系统暂不可用：数据库需要升级</h1>
<p>{message}</p>
<p>数据库当前版本：<code>{current}</code>；程序需要的版本：<code>{expected}</code>。</p>
<p>请联系系统管理员。升级完成后刷新本页即可继续办理。</p>
</body></html>
"""
