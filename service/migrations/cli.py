"""`jiuzhu db …`: the schema migrations, run as the database owner (docs/migrations.md)."""
import sys

import click

from .. import crypto
from . import runner
from .readiness import SchemaState


def database_url():
    """The app's database URL from the environment, as create_app computes it (also the SQLite default)."""
    import os

    from flask import Flask

    from ..config import from_environment
    instance_path = Flask('service', instance_relative_config=True).instance_path
    os.makedirs(instance_path, exist_ok=True)
    return from_environment(instance_path)['SQLALCHEMY_DATABASE_URI']


def shown(url):
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


def require_current_schema():
    """For commands that use the database (serve, scheduler, deploy, users): refuse a behind one.

    An empty database is let through: create_app brings it to the head.
    """
    from sqlalchemy.exc import OperationalError
    try:
        state = runner.current(database_url())
    except OperationalError as exc:
        click.echo(f'无法启动：无法连接数据库 (cannot reach the database): {exc.orig}', err=True)
        sys.exit(1)
    if state.ready or state.state == 'empty':
        return
    click.echo(f'无法启动：{state.message()}', err=True)
    sys.exit(1)


def _describe(state: SchemaState):
    current = state.current or {'empty': '无（空数据库）(none: empty database)',
                                'unversioned': '无版本记录（旧版本程序建立的表）(none: tables made before migrations)'
                                }.get(state.state, '无 (none)')
    return f'当前版本 (current): {current}\n程序需要 (head):    {state.expected}\n状态 (state):       {state.state}'


class _Group(click.Group):
    def invoke(self, ctx):
        from alembic.util import CommandError
        from sqlalchemy.exc import DBAPIError
        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            # A server that is down, a wrong password, a revision that fails on this data: the
            # database's own words, not a traceback (PostgreSQL rolled the whole upgrade back).
            click.echo(f'数据库出错 (database error): {exc.orig}', err=True)
            sys.exit(1)
        except CommandError as exc:
            # Alembic's own refusals: an unknown revision, two heads.
            click.echo(f'迁移未执行 (migration not run): {exc}', err=True)
            sys.exit(1)


def _keys():
    """The keys a data migration uses (0005 hashes the ID numbers already stored), checked as strictly
    as an app start checks them; missing ones fail only a migration that needs them."""
    import os
    try:
        return crypto.keyring_from(os.environ, crypto.demo_mode(os.environ))
    except crypto.KeyConfigError as exc:
        return crypto.MissingKeys(str(exc))


@click.group('db', cls=_Group)
def db_group():
    """数据库结构迁移：升级、查看版本 (schema migrations)."""


@db_group.command()
@click.argument('revision', default='head')
def upgrade(revision):
    """Upgrade the database to REVISION (default: head); a create_all database equal to the baseline is stamped first."""
    url = database_url()
    try:
        with crypto.installed(_keys()):
            result = runner.upgrade(url, revision)
    except runner.MigrationRefused as exc:
        for line in exc.lines:
            click.echo(line, err=True)
        sys.exit(1)
    except crypto.KeyConfigError as exc:
        click.echo(f'迁移未执行 (migration not run): {exc}', err=True)
        sys.exit(1)
    if result.stamped:
        click.echo(f'已将原有的表登记为基线版本 {runner.BASELINE} (existing tables stamped as baseline {runner.BASELINE})')
    before = runner.BASELINE if result.stamped else (result.before.current or '无 (none)')
    if before == result.after.current:
        click.echo(f'数据库已是版本 {result.after.current}，无需升级 (already at {result.after.current}): {shown(url)}')
    else:
        click.echo(f'数据库已从 {before} 升级到 {result.after.current} (upgraded {before} -> {result.after.current}): {shown(url)}')


@db_group.command()
def current():
    """Show the database's revision and the one this program needs; exit 1 when they differ."""
    state = runner.current(database_url())
    click.echo(_describe(state))
    if not state.ready:
        click.echo(state.message())
        sys.exit(1)


@db_group.command()
def history():
    """List the revisions, newest first."""
    head = runner.readiness.head()
    for revision, down, message in runner.history():
        mark = ' (head)' if revision == head else ''
        click.echo(f'{down or "<base>"} -> {revision}{mark}  {message}')


@db_group.command()
@click.argument('revision')
def downgrade(revision):
    """Downgrade to REVISION (e.g. 0001; `base` drops every table and all data)."""
    state = runner.downgrade(database_url(), revision)
    click.echo(f'数据库现为版本 {state.current or "无 (none)"} (now at {state.current})')


@db_group.command()
@click.argument('revision')
def stamp(revision):
    """Record REVISION without running it: after the schema was made equal to it by hand."""
    state = runner.stamp(database_url(), revision)
    click.echo(f'已登记为版本 {state.current} (stamped {state.current})')


@db_group.command()
def check():
    """Compare the models with the database (after `upgrade`): exit 1 if a revision is missing."""
    found = runner.check(database_url())
    for diff in found:
        click.echo(repr(diff))
    if found:
        click.echo('模型与数据库结构不一致：请写一个新的迁移版本 (models and database differ: add a revision, '
                   'docs/migrations.md)', err=True)
        sys.exit(1)
    click.echo('模型与数据库结构一致 (models and database agree)')


@db_group.command()
@click.option('-m', '--message', required=True, help='What the revision does, e.g. "add case priority".')
@click.option('--empty', is_flag=True, help='An empty revision to fill by hand (data migrations).')
def revision(message, empty):
    """Write a new revision file from the model changes (developers, in a source checkout)."""
    path = runner.new_revision(message, autogenerate=not empty)
    click.echo(f'新的迁移版本 (new revision): {path}\n请审阅后再提交 (review it: docs/migrations.md)')
