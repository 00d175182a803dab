"""The backup file: a plain tar holding `manifest.json` first, then the database's own dump.

The manifest says what the payload is (database kind, schema revision, the audit log's last row)
and carries the payload's SHA-256, so a restore refuses a corrupted or altered payload before it
touches the target. A `<file>.sha256` beside the backup (sha256sum format) covers the whole file,
manifest included; an operator keeps a copy of it away from the backups (deploy/backup.md).
"""
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

from .errors import BackupError

FORMAT = 'jiuzhu-backup'
FORMAT_VERSION = 1
MANIFEST = 'manifest.json'
PAYLOADS = {'postgresql': 'database.pgdump', 'sqlite': 'database.sqlite3'}
CHUNK = 1 << 20


def sha256_of(fileobj):
    digest = hashlib.sha256()
    for chunk in iter(lambda: fileobj.read(CHUNK), b''):
        digest.update(chunk)
    return digest.hexdigest()


def private_file(path):
    """Create `path` readable by its owner only: a backup holds every applicant's personal data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, 'wb')


def write(output, manifest, payload_path):
    """Write the backup file at `output` (atomically: a failed write leaves no half file)."""
    output = Path(output)
    with open(payload_path, 'rb') as payload:
        manifest = dict(manifest, format=FORMAT, format_version=FORMAT_VERSION,
                        payload=PAYLOADS[manifest['database']], size=os.path.getsize(payload_path),
                        sha256=sha256_of(payload))
    body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    partial = output.with_name(output.name + '.partial')
    try:
        with private_file(partial) as out, tarfile.open(fileobj=out, mode='w', format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(body), 0o600, 0
            tar.addfile(info, io.BytesIO(body))
            info = tarfile.TarInfo(manifest['payload'])
            info.size, info.mode, info.mtime = manifest['size'], 0o600, 0
            with open(payload_path, 'rb') as payload:
                tar.addfile(info, payload)
        with open(partial, 'rb') as done:
            whole = sha256_of(done)
        os.replace(partial, output)
    finally:
        if partial.exists():
            partial.unlink()
    with private_file(output.with_name(output.name + '.sha256')) as side:
        side.write(f'{whole}  {output.name}\n'.encode())
    return manifest


@dataclass
class Backup:
    """An opened backup file whose manifest and payload hash were checked."""
    path: Path
    manifest: dict

    def payload(self):
        """A file object over the payload (open the tar again: the caller reads it to the end)."""
        tar = tarfile.open(self.path, mode='r:')
        member = tar.getmember(self.manifest['payload'])
        return tar, tar.extractfile(member)


def _refuse(path, why_zh, why_en):
    raise BackupError(f'备份文件不能用 (unusable backup file) {path}: {why_zh} ({why_en})')


def open_checked(path):
    """The backup at `path`, checked end to end before anything is restored from it."""
    path = Path(path)
    if not path.is_file():
        _refuse(path, '文件不存在', 'no such file')
    side = path.with_name(path.name + '.sha256')
    if side.is_file():
        noted = side.read_text(encoding='utf-8', errors='replace').split()[:1]
        with open(path, 'rb') as whole:
            if noted != [sha256_of(whole)]:
                _refuse(path, f'与 {side.name} 记录的 SHA-256 不符，文件已损坏或被改动',
                        f'does not match {side.name}: damaged or altered')
    try:
        with tarfile.open(path, mode='r:') as tar:
            members = tar.getmembers()
            names = [m.name for m in members]
            if not names or names[0] != MANIFEST:
                _refuse(path, '缺少清单 manifest.json', 'no manifest.json: not a jiuzhu backup')
            manifest = json.loads(tar.extractfile(members[0]).read().decode())
            _check_manifest(path, manifest, names)
            member = members[1]
            if not member.isfile() or member.size != manifest.get('size'):
                _refuse(path, '数据部分长度与清单不符，文件不完整', 'payload size differs from the manifest: truncated')
            if sha256_of(tar.extractfile(member)) != manifest['sha256']:
                _refuse(path, '数据部分的 SHA-256 与清单不符，文件已损坏或被改动',
                        'payload SHA-256 differs from the manifest: damaged or altered')
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _refuse(path, f'无法读取（{exc}）', f'cannot be read: {exc}')
    return Backup(path, manifest)


def _check_manifest(path, manifest, names):
    if not isinstance(manifest, dict) or manifest.get('format') != FORMAT:
        _refuse(path, '不是 jiuzhu 备份文件', 'not a jiuzhu backup')
    version = manifest.get('format_version')
    if not isinstance(version, int) or version > FORMAT_VERSION:
        _refuse(path, f'备份格式版本 {version} 比本程序新，请用新版本程序恢复',
                f'format version {version} is newer than this program reads: restore with a newer jiuzhu')
    kind = manifest.get('database')
    if kind not in PAYLOADS or names[1:] != [PAYLOADS[kind]] or manifest.get('payload') != PAYLOADS[kind]:
        _refuse(path, '文件内容与清单不符', 'the members do not match the manifest')
    if not isinstance(manifest.get('sha256'), str):
        _refuse(path, '清单缺少 SHA-256', 'the manifest has no SHA-256')
