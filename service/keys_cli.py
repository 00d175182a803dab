"""`jiuzhu keys generate|status|rotate`: the keys of personal data at rest (deploy/keys.md)."""
import click


@click.group('keys')
def keys_group():
    """个人信息加密密钥：生成、查看、轮换 (data keys: generate, status, rotate)"""


@keys_group.command('generate')
def generate():
    """Print a new data key entry (id:base64) and a new search key; nothing is stored."""
    import base64
    import os

    from .crypto import new_key
    click.echo(f'JIUZHU_DATA_KEYS 新密钥，放在最前面 (new data key, put it first): {new_key()}')
    click.echo(f'JIUZHU_SEARCH_KEY (only for a new installation, see deploy/keys.md): '
               f'{base64.b64encode(os.urandom(32)).decode()}')


def _app():
    from . import create_app
    return create_app({'JIUZHU_EMBEDDED_SCHEDULER': False})


@keys_group.command('status')
def status():
    """How many rows each key encrypts ('clear': written before encryption)."""
    from .crypto import active
    from .services import keys
    with _app().app_context():
        current = active().current_id
        for (column, key), rows in sorted(keys.counts().items()):
            mark = '  (当前 current)' if key == current else ''
            click.echo(f'{column:28} {key:12} {rows:8}{mark}')


@keys_group.command('rotate')
@click.option('--batch', default=200, show_default=True, type=click.IntRange(1, 10000),
              help='Rows per transaction.')
@click.option('--rehash', is_flag=True, help='Every row, and recompute the ID hashes (after a new search key).')
def rotate(batch, rehash):
    """Re-encrypt every row under the current key (the first of JIUZHU_DATA_KEYS); safe to rerun."""
    from .services import keys
    with _app().app_context():
        result = keys.rotate('cli', batch=batch, rehash=rehash)
    done = ', '.join(f'{t} {n}' for t, n in sorted(result.rewritten.items())) or '无 (none)'
    click.echo(f'已用密钥 {result.key_id} 重新加密 (re-encrypted under {result.key_id}): {done}')
    if result.left:
        click.echo(f'仍有 {result.left} 行未完成（正被修改），请再运行一次 ({result.left} rows left: run it again)', err=True)
        raise SystemExit(1)
