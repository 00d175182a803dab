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


@files_group.command('sweep')
@click.option('--hours', type=click.IntRange(1, 24 * 365), default=None,
              help='Uploads without a case older than this go (default JIUZHU_UPLOAD_HOURS, 48).')
def sweep(hours):
    """Remove uploads never linked to a case and drafts of finished or cancelled tasks (audited)."""
    from . import create_app
    from .services import cleanup
    app = create_app({'JIUZHU_EMBEDDED_SCHEDULER': False})
    with app.app_context():
        result = cleanup.sweep('cli', hours=hours)
    click.echo(f'已删除未关联案件的附件 {len(result.uploads)} 个、已结束任务的暂存 {result.drafts} 份'
               f'（{result.kept_in_drafts} 个附件仍在暂存的新申请中，保留） '
               f'({len(result.uploads)} uploads, {result.drafts} drafts removed; {result.kept_in_drafts} kept in drafts)')
