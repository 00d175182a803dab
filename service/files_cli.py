"""`jiuzhu files check`: every attachment row has its file, and the file its checksum (deploy/backup.md)."""
import sys

import click


@click.group('files')
def files_group():
    """附件文件 (attachments in JIUZHU_FILES_DIR)"""


@files_group.command('check')
def check():
    """Read every attachment's file and compare it with its SHA-256; exit 1 if any is missing or changed."""
    from . import create_app
    from .services import attachments
    app = create_app({'JIUZHU_EMBEDDED_SCHEDULER': False})
    with app.app_context():
        checked, problems = attachments.check_store()
    words = {'missing': '缺失 (missing)', 'damaged': '校验值不符 (checksum mismatch)'}
    for attachment_id, kind in problems:
        click.echo(f'附件 {attachment_id}: {words[kind]}')
    click.echo(f'已检查 {checked} 个附件，{len(problems)} 个有问题 ({checked} checked, {len(problems)} problems) '
               f'in {app.config["JIUZHU_FILES_DIR"]}')
    sys.exit(1 if problems else 0)
