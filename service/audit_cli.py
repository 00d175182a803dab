"""`jiuzhu audit verify`: walk the audit log's hash chain and report the first break (docs/audit.md)."""
import sys

import click


def _anchor(ctx, param, values):
    from .services.audit import parse_anchor
    anchors = [parse_anchor(value) for value in values]
    for value, anchor in zip(values, anchors):
        if anchor is None:
            raise click.BadParameter(f'应为 编号:哈希（64 位十六进制） (expected ID:SHA256): {value}')
    return anchors


def _one_anchor(ctx, param, value):
    return _anchor(ctx, param, [value])[0] if value else None


@click.group('audit')
def audit_group():
    """审计日志 (the hash-chained audit log)"""


@audit_group.command('verify')
@click.option('--anchor', 'anchors', multiple=True, callback=_anchor, metavar='ID:HASH',
              help='A row id and hash noted down earlier (the last row of an earlier verify); repeatable.')
@click.option('--since', callback=_one_anchor, metavar='ID:HASH',
              help='Walk only the rows after this one (noted down earlier); it must still match.')
def verify(anchors, since):
    """Check every row of the audit log against the chain; exit 1 at the first break."""
    from . import create_app
    from .services import audit
    with create_app({'JIUZHU_EMBEDDED_SCHEDULER': False}).app_context():
        result = audit.verify(anchors, since)
    if not result.intact:
        p = result.problem
        click.echo(f'审计日志被改动 (audit log tampered): {p.kind} at row {p.id}\n  {p.message}\n'
                   f'  此前 {result.count} 条完好 ({result.count} rows intact before it)')
        sys.exit(1)
    after = f'第 {since[0]} 条之后 (after row {since[0]}) ' if since else ''
    click.echo(f'审计日志完整 (audit log intact): {after}{result.count} 条记录 (rows)')
    if result.count:
        click.echo(f'最后一条 (last row): {result.last_id}:{result.last_hash}')
        click.echo('  请另行记下这一行，日后用 --anchor 核对 (note it elsewhere; check later with --anchor)')
    for anchor_id in result.checked_anchors:
        click.echo(f'核对点 (anchor) {anchor_id}: 一致 (matches)')


@click.command('recount')
@click.option('--repair', is_flag=True, help='Rebuild the counts from the cases when they differ.')
def recount_command(repair):
    """Compare the supervision counts with a recount of the cases (exit 1 when they differ)."""
    from . import create_app
    from .extensions import db
    from .services import figures
    with create_app({'JIUZHU_EMBEDDED_SCHEDULER': False}).app_context():
        found = figures.differences(db.session)
        if found and repair:
            figures.rebuild(db.session)
            db.session.commit()
    for table, key, have, want in found[:20]:
        click.echo(f'{table} {key}: 记录 {have}，实数 {want} (stored {have}, recounted {want})')
    if not found:
        click.echo('督办统计与案件一致 (supervision counts match the cases)')
    elif repair:
        click.echo(f'已按案件重算 {len(found)} 处 (rebuilt; {len(found)} rows differed)')
    else:
        click.echo('统计不一致：用 --repair 重算 (counts differ: run with --repair)')
        sys.exit(1)
