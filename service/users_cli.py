"""`jiuzhu users ...`: accounts and close-relative registrations from the command line."""
import sys

import click

from .models import ROLES


def _app():
    from . import create_app
    return create_app({'JIUZHU_EMBEDDED_SCHEDULER': False})


def _fail(exc):
    click.echo(f'错误: {exc.message}' + (f'  {exc.details}' if exc.details else ''), err=True)
    sys.exit(1)


@click.group('users')
def users_group():
    """人员管理 (accounts, roles, townships)"""


@users_group.command('add')
@click.argument('username')
@click.option('--role', required=True, type=click.Choice(ROLES))
@click.option('--township', default='', help='Township code (township roles); county roles ignore it.')
@click.option('--name', 'display_name', default=None, help='Display name (中文姓名).')
@click.option('--password', prompt=True, hide_input=True, confirmation_prompt=True,
              help='At least 10 characters, two kinds, not a common password, not the username; prompted when omitted.')
@click.option('--temporary/--permanent', default=True, show_default=True,
              help='Temporary: the user must choose a new password at first sign-in.')
def add(username, role, township, display_name, password, temporary):
    """Add a user."""
    from .errors import JiuzhuError
    from .services import users
    with _app().app_context():
        try:
            user = users.add_user(username, display_name, role, township, password, 'cli', must_change=temporary)
        except JiuzhuError as exc:
            _fail(exc)
        click.echo(f'已添加 {user.username} ({user.role}, {user.township})'
                   + ('，首次登录须修改密码' if temporary else ''))


@users_group.command('list')
@click.option('--role', type=click.Choice(ROLES), default=None)
@click.option('--township', default=None)
def list_(role, township):
    """List users."""
    from .services import users
    with _app().app_context():
        for user in users.list_users(role, township):
            state = '' if user.active else '  [已停用 disabled]'
            click.echo(f'{user.username:20} {user.role:20} {user.township:10} {user.display_name}{state}')


def _set_active(username, active):
    from .errors import JiuzhuError
    from .services import users
    with _app().app_context():
        try:
            users.set_active(username, active, 'cli')
        except JiuzhuError as exc:
            _fail(exc)
        click.echo(f'{"已启用" if active else "已停用"} {username}')


@users_group.command('disable')
@click.argument('username')
def disable(username):
    """Disable a user: login refused, every session and token ends at once."""
    _set_active(username, False)


@users_group.command('enable')
@click.argument('username')
def enable(username):
    """Enable a disabled user again."""
    _set_active(username, True)


@users_group.command('logout')
@click.argument('username')
def logout(username):
    """End every session and token of a user now (a lost computer, a leaked token)."""
    from .errors import JiuzhuError
    from .services import users
    with _app().app_context():
        try:
            ended = users.end_sessions(username, 'cli')
        except JiuzhuError as exc:
            _fail(exc)
        click.echo(f'已退出 {username} 的全部登录（{ended} 个）')


@users_group.command('password')
@click.argument('username')
@click.option('--password', prompt=True, hide_input=True, confirmation_prompt=True)
@click.option('--temporary/--permanent', default=True, show_default=True,
              help='Temporary: the user must choose a new password at the next sign-in.')
def password(username, password, temporary):
    """Set a new password: every session and token of the user ends at once."""
    from .errors import JiuzhuError
    from .services import users
    with _app().app_context():
        try:
            users.set_password(username, password, 'cli', must_change=temporary)
        except JiuzhuError as exc:
            _fail(exc)
        click.echo(f'已修改 {username} 的密码，其登录已全部退出' + ('；下次登录须修改密码' if temporary else ''))


@users_group.command('relative')
@click.argument('staff_username')
@click.option('--name', required=True, help="The relative's name.")
@click.option('--id-number', required=True, help="The relative's resident ID number.")
@click.option('--relation', required=True, help='e.g. 配偶、父母、子女、兄弟姐妹')
def relative(staff_username, name, id_number, relation):
    """Register a staff member's close relative (近亲属备案)."""
    from .errors import JiuzhuError
    from .services import users
    with _app().app_context():
        try:
            users.register_close_relative(staff_username, name, id_number, relation, 'cli')
        except JiuzhuError as exc:
            _fail(exc)
        click.echo(f'已备案：{staff_username} 的{relation} {name}')
