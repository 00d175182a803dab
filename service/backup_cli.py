"""`jiuzhu backup` and `jiuzhu restore` (service/backup/, deploy/backup.md)."""
import sys

import click


def _database_url():
    from .migrations.cli import database_url
    return database_url()


def _fail(exc):
    click.echo(f'错误 (error): {exc.message}', err=True)
    sys.exit(1)


@click.command('backup')
@click.option('--output', '-o', type=click.Path(), default=None, metavar='PATH',
              help='The backup file, or a directory for jiuzhu-<database>-<UTC time>.backup (default: here).')
def backup_command(output):
    """备份整个数据库 (back up the whole database; safe while the service runs)."""
    from .backup import BackupError, backup
    from .migrations.cli import shown
    url = _database_url()
    try:
        path, manifest = backup(url, output)
    except BackupError as exc:
        _fail(exc)
    last = manifest.get('audit_last')
    anchor = f"{last['id']}:{last['hash']}" if last else '无 (none)'
    click.echo(f'备份完成 (backup written): {path}\n'
               f'  数据库 (database): {shown(url)}\n'
               f'  结构版本 (schema revision): {manifest.get("schema_revision") or "无 (none)"}；'
               f'案件 (cases): {manifest.get("cases")}；大小 (bytes): {manifest["size"]}\n'
               f'  审计日志最后一条 (audit log last row): {anchor}\n'
               f'  校验文件 (checksum): {path}.sha256 — 请与备份分开保存一份 (keep a copy apart from the backups)\n'
               f'  备份没有加密密钥就无法读出加密字段：密钥另行备份 (useless without the data keys: back them up '
               f'separately, deploy/keys.md)')


@click.command('restore')
@click.argument('path', type=click.Path())
@click.option('--force', is_flag=True, help='Replace the data of a database that is not empty.')
def restore_command(path, force):
    """从备份恢复数据库，再升级到本程序的结构版本 (restore a backup, then upgrade the schema).

    Run it as the database owner with the service stopped (deploy/backup.md).
    """
    from .backup import BackupError, restore
    from .migrations.cli import shown
    url = _database_url()
    try:
        done = restore(url, path, force=force)
    except BackupError as exc:
        _fail(exc)
    m = done.manifest
    click.echo(f'恢复完成 (restored): {path} → {shown(url)}\n'
               f'  备份时间 (made at): {m.get("created_at")}；案件 (cases): {m.get("cases")}\n'
               f'  结构版本 (schema revision): {done.revision_before or "无 (none)"} → {done.revision_after}')
    if m['database'] == 'postgresql':
        click.echo('  请以所有者身份再运行 deploy/postgresql-app-role.sql，给应用账号授权 '
                   '(run deploy/postgresql-app-role.sql again as the owner: the grants were not restored)')
    result = done.audit
    if not result.intact:
        p = result.problem
        click.echo(f'审计日志被改动 (audit log tampered): {p.kind} at row {p.id}\n  {p.message}', err=True)
        sys.exit(1)
    anchors = f'，含备份时最后一条 {result.checked_anchors[0]} (the backup\'s last row matches)' \
        if result.checked_anchors else ''
    click.echo(f'  审计日志完整 (audit log intact): {result.count} 条 (rows){anchors}\n'
               f'  恢复已记入审计日志 (the restore is recorded in the audit log)')
