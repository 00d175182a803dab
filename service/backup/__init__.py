"""`jiuzhu backup` / `jiuzhu restore`: the whole database in one file, and back (deploy/backup.md).

PostgreSQL goes through pg_dump/pg_restore (postgres.py), SQLite through its online backup API
(sqlite.py); the file around either is archive.py. A restore checks the file, refuses a newer
schema or a non-empty target (unless forced), restores, upgrades to this program's schema,
checks the audit log's chain up to the row the backup ended with, and records the restore in it.
"""
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from . import archive, postgres, sqlite
from .errors import BackupError

__all__ = ['BackupError', 'backup', 'restore', 'kind_of']

_MODULES = {'postgresql': postgres, 'sqlite': sqlite}


def kind_of(url):
    backend = make_url(url).get_backend_name()
    if backend not in _MODULES:
        raise BackupError(f'不支持的数据库 (unsupported database): {backend}')
    return backend


def default_name(kind, moment):
    return f'jiuzhu-{kind}-{moment:%Y%m%dT%H%M%SZ}.backup'


def backup(url, output=None, now=None):
    """Write a backup of the database at `url` to `output` (a file, or a directory for a dated name)."""
    kind = kind_of(url)
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    output = Path(output or '.')
    if output.is_dir():
        output = output / default_name(kind, moment)
    if not output.parent.is_dir():
        raise BackupError(f'目录不存在 (no such directory): {output.parent}')
    # The payload is staged beside the output: same file system, and as private as the backup.
    with tempfile.TemporaryDirectory(dir=output.parent, prefix='.jiuzhu-backup-') as staging:
        payload = Path(staging) / archive.PAYLOADS[kind]
        facts = _MODULES[kind].dump(url, payload)
        manifest = dict(facts, database=kind, created_at=moment.strftime('%Y-%m-%dT%H:%M:%SZ'),
                        jiuzhu_version=_version())
        manifest = archive.write(output, manifest, payload)
    return output, manifest


def _version():
    try:
        return metadata.version('jiuzhu')
    except metadata.PackageNotFoundError:
        return None


@dataclass
class Restored:
    manifest: dict
    revision_before: str | None   # the backup's schema revision
    revision_after: str           # after the upgrade: this program's head
    audit: object                 # services.audit.Verification of the restored chain


def check(path, url):
    """The backup at `path`, checked, and fit for the database at `url` (kind, schema revision)."""
    from ..migrations import readiness
    found = archive.open_checked(path)
    manifest, kind = found.manifest, kind_of(url)
    if manifest['database'] != kind:
        raise BackupError(f'备份来自 {manifest["database"]} 数据库，不能恢复到 {kind} '
                          f'(a {manifest["database"]} backup cannot be restored into {kind})')
    revision = manifest.get('schema_revision')
    if revision is not None and any(rev not in readiness.revisions() for rev in revision.split(',')):
        raise BackupError(f'备份的数据库结构版本 {revision} 比本程序新（本程序最新为 {readiness.head()}）：'
                          f'请用制作该备份的程序版本或更新的版本恢复 (the backup is at schema revision {revision}, '
                          f'newer than this program ({readiness.head()}): restore with that release or a newer one)')
    return found


def restore(url, path, force=False, actor='cli', config=None):
    """Restore the backup at `path` into the database at `url`, then bring it to this program's schema."""
    from ..migrations import runner
    found = check(path, url)
    _MODULES[kind_of(url)].restore(url, found, force)
    try:
        upgraded = runner.upgrade(url)
    except runner.MigrationRefused as exc:
        raise BackupError('已恢复，但无法升级数据库结构 (restored, but the schema cannot be upgraded):\n'
                          + '\n'.join(exc.lines)) from exc
    except DBAPIError as exc:
        raise BackupError(f'已恢复，但升级数据库结构时出错 (restored, but the upgrade failed): {exc.orig}') from exc
    manifest = found.manifest
    verification = _verify_and_record(url, manifest, Path(path).name, upgraded.after.current, actor, config)
    return Restored(manifest, manifest.get('schema_revision'), upgraded.after.current, verification)


def _verify_and_record(url, manifest, file_name, revision, actor, config):
    """Check the restored chain up to the backup's last row, then record the restore after it."""
    from .. import create_app
    from ..extensions import db
    from ..services import audit
    app = create_app(dict(config or {}, DATABASE_URL=url, JIUZHU_EMBEDDED_SCHEDULER=False))
    try:
        with app.app_context():
            last = manifest.get('audit_last')
            result = audit.verify([(last['id'], last['hash'])] if last else ())
            audit.record(actor, 'backup_restore', file=file_name, created_at=manifest.get('created_at'),
                         sha256=manifest['sha256'], schema_revision=manifest.get('schema_revision'),
                         upgraded_to=revision, audit_intact=result.intact,
                         audit_last_id=last['id'] if last else None)
            db.session.commit()
            db.session.remove()
        return result
    finally:
        with app.app_context():
            db.engine.dispose()
