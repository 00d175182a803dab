"""The `jiuzhu` command: validate, deploy, serve, scheduler, users, db, audit, recount, backup, restore."""
import functools
import logging
import sys
from pathlib import Path

import click

from .config import ROOT
from .heap import freeze_startup_heap


def _app(**config):
    from . import create_app
    return create_app(config or None)


class _Main(click.Group):
    def invoke(self, ctx):
        from .crypto import KeyConfigError
        try:
            return super().invoke(ctx)
        except KeyConfigError as exc:
            # Every command that builds the app: missing keys are a setup step, not a traceback.
            click.echo(f'无法启动 (cannot start): {exc}', err=True)
            sys.exit(1)


@click.group(cls=_Main)
@click.option('-v', '--verbose', is_flag=True, help='Log at INFO level.')
def main(verbose):
    """jiuzhu (救助) — 社会救助审核确认流程服务"""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')


def needs_current_schema(command):
    """A command (or its function) that reads or writes cases refuses a database whose schema is
    behind this code: a missing column would otherwise surface as a 500 on every case page."""
    callback = command.callback if isinstance(command, click.Command) else command

    @functools.wraps(callback)
    def checked(*args, **kwargs):
        from .migrations.cli import require_current_schema
        require_current_schema()
        return callback(*args, **kwargs)

    if isinstance(command, click.Command):
        command.callback = checked
        return command
    return checked


def _shown(path):
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _collect(paths):
    from .services.repository import SUFFIXES
    files = {}
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for p in sorted(path.rglob('*')):
                if p.suffix in SUFFIXES and p.is_file():
                    files[_shown(p)] = p.read_bytes()
        elif path.is_file():
            files[_shown(path)] = path.read_bytes()
        else:
            raise click.BadParameter(f'no such file or directory: {path}')
    return files


@main.command()
@click.argument('paths', nargs=-1, type=click.Path())
def validate(paths):
    """Validate BPMN/DMN files (default: processes/). Prints file:line: element: message."""
    from .engine.parser import DefinitionError, load_lanes, parse_files
    files = _collect(paths or [ROOT / 'processes'])
    try:
        parsed = parse_files(files, load_lanes(ROOT / 'processes' / 'lanes.json'), ROOT / 'forms')
    except DefinitionError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        for warning in exc.warnings:
            click.echo(f'warning: {warning}')
        sys.exit(1)
    for warning in parsed.warnings:
        click.echo(f'warning: {warning}')
    for key, proc in sorted(parsed.items()):
        click.echo(f'ok  {key}  {proc.name}  ({proc.file})')


@main.command()
@needs_current_schema
@click.argument('paths', nargs=-1, type=click.Path())
@click.option('--actor', default='cli', help='Recorded as the deployer in the audit log.')
def deploy(paths, actor):
    """Deploy BPMN/DMN files (default: processes/); unchanged processes keep their version."""
    from .errors import Invalid
    from .services import repository
    app = _app()
    with app.app_context():
        files = repository.read_tree(ROOT / 'processes')
        only = None
        if paths:
            extra = _collect(paths)
            files.update(extra)
            only = set(extra)
        try:
            results = repository.deploy(files, actor, only=only)
        except Invalid as exc:
            for d in exc.details:
                click.echo(f"{d['file']}:{d['line'] or '?'}: {d['element'] or '-'}: {d['message']}")
            sys.exit(1)
        for warning in results.warnings:
            click.echo(f'warning: {warning}')
        for definition, new in results:
            click.echo(f"{'deployed ' if new else 'unchanged'} {definition.key} v{definition.version}  {definition.name}")


@main.command()
@needs_current_schema
@click.option('--host', default='127.0.0.1')
@click.option('--port', default=5000, type=int)
@click.option('--demo', is_flag=True, help='Manual clock, processes deployed, demo users and cases.')
def serve(host, port, demo):
    """Run the web service (with the timer sweep embedded)."""
    config = {'JIUZHU_EMBEDDED_SCHEDULER': True}
    if demo:
        config['JIUZHU_CLOCK'] = 'manual'
    app = _app(**config)
    if demo:
        from .demo import load_demo
        with app.app_context():
            load_demo()
    import socket

    from werkzeug.serving import make_server
    # Bind first, ourselves (werkzeug would print an English note and exit): "服务已启动" only once
    # the port is really ours.
    try:
        family = socket.AF_INET6 if ':' in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError as exc:
        click.echo(f'无法启动服务：{host}:{port} 已被其他程序占用或不可用，请用 --port 换一个端口'
                   f'（或先停止占用它的程序）。({exc.strerror or exc})', err=True)
        sys.exit(1)
    server = make_server(host, port, app, threaded=True, fd=listener.fileno())
    freeze_startup_heap()
    click.echo(f'jiuzhu 服务已启动: http://{host}:{port}/  (clock: {app.config["JIUZHU_CLOCK"]})')
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


from .scheduler.cli import scheduler_command  # noqa: E402  (the scheduler package owns its command)
main.add_command(needs_current_schema(scheduler_command))

from .users_cli import users_group  # noqa: E402
for _command in users_group.commands.values():
    needs_current_schema(_command)
main.add_command(users_group)

from .migrations.cli import db_group  # noqa: E402
main.add_command(db_group)

from .audit_cli import audit_group  # noqa: E402
for _command in audit_group.commands.values():
    needs_current_schema(_command)
main.add_command(audit_group)
from .audit_cli import recount_command  # noqa: E402
main.add_command(needs_current_schema(recount_command))

from .backup_cli import backup_command, restore_command  # noqa: E402
# Neither waits for the current schema: a backup is what one makes before an upgrade, and a
# restore brings an older backup up to this program's schema itself.
main.add_command(backup_command)
main.add_command(restore_command)
from .keys_cli import keys_group  # noqa: E402
for _command in keys_group.commands.values():
    if _command.name != 'generate':
        needs_current_schema(_command)
main.add_command(keys_group)

from .scenarios.cli import test_processes_command  # noqa: E402  (process scenario tests, processes/README.md)
main.add_command(test_processes_command)

from .files_cli import files_group  # noqa: E402  (attachments: the files directory)

for _command in files_group.commands.values():
    needs_current_schema(_command)
main.add_command(files_group)
