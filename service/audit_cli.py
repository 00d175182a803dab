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


@click.group('audit')
def audit_group():
    """审计日志 (the hash-chained audit log)"""


@audit_group.command('verify')
@click.option('--anchor', 'anchors', multiple=True, callback=_anchor, metavar='ID:HASH',
              help='A row id and hash noted down earlier (the last row of an earlier verify); repeatable.')
def verify(anchors):
    """Check every row of the audit log against the chain; exit 1 at the first break."""
    from . import create_app
    from .services import audit
    with create_app({'JIUZHU_EMBEDDED_SCHEDULER': False}).app_context():
        result = audit.verify(anchors)
    if not result.intact:
        p = result.problem
        click.echo(f'审计日志被改动 (audit log tampered): {p.kind} at row {p.id}\n  {p.message}\n'
                   f'  此前 {result.count} 条完好 ({result.count} rows intact before it)')
        sys.exit(1)
    click.echo(f'审计日志完整 (audit log intact): {result.count} 条记录 (rows)')
    if result.count:
        click.echo(f'最后一条 (last row): {result.last_id}:{result.last_hash}')
        click.echo('  请另行记下这一行，日后用 --anchor 核对 (note it elsewhere; check later with --anchor)')
    for anchor_id in result.checked_anchors:
        click.echo(f'核对点 (anchor) {anchor_id}: 一致 (matches)')
