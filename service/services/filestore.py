"""Where attachment bytes live: a directory now, an S3-compatible bucket later, behind one small interface.

The database keeps each file's key, size and SHA-256 (models/casework.Attachment); the store
keeps only bytes under keys. A store needs four operations — put, get, delete, exists — so a
bucket store (boto3 or minio) can replace `LocalFileStore` without touching the services.

`JIUZHU_FILES_DIR` (default `instance/files`) is part of what a backup must carry: `jiuzhu
backup` copies it into the archive (service/backup/files.py, deploy/backup.md).
"""
import os
import secrets
import tempfile
from pathlib import Path

from flask import current_app

from .context import now


class FileStore:
    """The interface every store keeps."""

    def put(self, key, data):        # pragma: no cover - interface
        raise NotImplementedError

    def get(self, key):              # pragma: no cover - interface
        raise NotImplementedError

    def delete(self, key):           # pragma: no cover - interface
        raise NotImplementedError

    def exists(self, key):           # pragma: no cover - interface
        raise NotImplementedError


class LocalFileStore(FileStore):
    """Files under one directory, `YYYY/MM/<random>`; written to a temporary name first and renamed,
    so a crash never leaves half a file under a key."""

    def __init__(self, root):
        self.root = Path(root)

    def _path(self, key):
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f'key outside the store: {key}')
        return path

    def put(self, key, data):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix='.upload-')
        try:
            with os.fdopen(fd, 'wb') as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key):
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def delete(self, key):
        self._path(key).unlink(missing_ok=True)

    def exists(self, key):
        return self._path(key).is_file()


def store():
    """The app's store (one per app)."""
    found = current_app.extensions.get('jiuzhu.filestore')
    if found is None:
        found = LocalFileStore(current_app.config['JIUZHU_FILES_DIR'])
        current_app.extensions['jiuzhu.filestore'] = found
    return found


def new_key():
    """A key nobody can guess or collide with, grouped by month so no directory grows without end."""
    moment = now()
    return f'{moment:%Y}/{moment:%m}/{secrets.token_hex(16)}'
