"""Attachments: photos and scanned materials of a case, checked by content, stored by checksum.

A file is accepted by what its bytes are, not by its name or the browser's word: the first bytes
must be a PNG, JPEG, GIF, WebP or PDF signature, and an image must open as one (Pillow). Too large
is 413, anything else refused is 422, both with a Chinese message. The SHA-256 is kept with the
row and checked again on every download: a file changed or damaged on disk is refused, not served.
Images get a thumbnail (JPEG, at most 320 px, without the photo's EXIF such as its GPS position).
Files and thumbnails are encrypted with the current data key (AES-256-GCM, crypto.Keyring.encrypt_bytes):
a copy of the files directory alone shows nothing. A retired key must stay configured while files
written under it are kept until `jiuzhu keys rotate` re-encrypted them (rows and files; deploy/keys.md).
"""
import hashlib
import io
import logging
from pathlib import PurePosixPath

from cryptography.exceptions import InvalidTag
from flask import current_app
from sqlalchemy import select, update

from .. import crypto
from ..errors import Invalid, JiuzhuError, NotFound
from ..extensions import db
from ..models import Attachment, ProcessInstance
from . import access, audit, filestore
from .context import now

log = logging.getLogger('jiuzhu.attachments')

# Signature → (content type, file name suffix). Checked in order; WebP also needs "WEBP" at 8.
SIGNATURES = (
    (b'\x89PNG\r\n\x1a\n', 'image/png', '.png'),
    (b'\xff\xd8\xff', 'image/jpeg', '.jpg'),
    (b'GIF87a', 'image/gif', '.gif'),
    (b'GIF89a', 'image/gif', '.gif'),
    (b'%PDF-', 'application/pdf', '.pdf'),
)
ACCEPTED_ZH = '照片（常见图片格式）或 PDF 扫描件'
THUMB_PX = 320
MAX_PIXELS = 60_000_000     # a decompression bomb is refused before it is decoded


class TooLarge(JiuzhuError):
    status = 413
    code = 'file_too_large'


class Damaged(JiuzhuError):
    """The stored bytes no longer match the checksum taken at upload: restore the file from a backup."""
    status = 500
    code = 'file_damaged'


def sniff(data):
    """(content type, suffix) of bytes by their signature, or None."""
    if data[:4] == b'RIFF' and data[8:12] == b'WEBP':
        return 'image/webp', '.webp'
    for magic, kind, suffix in SIGNATURES:
        if data.startswith(magic):
            return kind, suffix
    return None


def max_bytes():
    return int(current_app.config.get('JIUZHU_MAX_FILE_BYTES') or 10 << 20)


def _refuse(message, field='file'):
    return Invalid(message, details={field: message.split(' (')[0]}, code='file_refused')


def _thumbnail(data):
    """JPEG bytes of a small copy, or raises Invalid when the image does not open."""
    from PIL import Image, UnidentifiedImageError
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            from PIL import ImageOps
            # A JPEG decodes straight at 1/2…1/8 size: a 12-megapixel phone photo costs a fraction.
            image.draft('RGB', (THUMB_PX * 2, THUMB_PX * 2))
            image = ImageOps.exif_transpose(image)   # phones store upright photos rotated + a tag
            image.thumbnail((THUMB_PX, THUMB_PX))
            out = io.BytesIO()
            image.convert('RGB').save(out, 'JPEG', quality=80)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _refuse('图片文件已损坏或不是图片 (not a readable image)') from None


def check(data, filename):
    """(content type, safe file name, thumbnail or None) of an upload, or a 413/422."""
    limit = max_bytes()
    if not data:
        raise _refuse('文件是空的，请重新选择 (empty file)')
    if len(data) > limit:
        raise TooLarge(f'文件过大：每个文件最大 {limit / (1 << 20):.0f} MB (file too large)',
                       details={'file': f'最大 {limit / (1 << 20):.0f} MB'})
    found = sniff(data)
    if found is None:
        raise _refuse(f'不支持的文件类型：只能上传{ACCEPTED_ZH} (unsupported file type)')
    kind, suffix = found
    thumb = _thumbnail(data) if kind.startswith('image/') else None
    # Keep the person's name for the file (it means something to them) without any path in it.
    name = PurePosixPath(str(filename or '').replace('\\', '/')).name.strip()[:200] or '附件'
    if PurePosixPath(name).suffix.lower() not in (suffix, '.jpeg' if suffix == '.jpg' else suffix):
        name = PurePosixPath(name).stem[:190] + suffix
    return kind, name, thumb


def save(user, data, filename, instance_id=None, task=None, field=None):
    """Store one upload; returns the row. With a case (or a task of one) it is the case's at once;
    without, it waits for the new application it came with (`link`)."""
    if task is not None:
        instance_id = task.instance_id
    if instance_id is not None:
        instance = db.session.get(ProcessInstance, instance_id)
        access.check_case_contribute(user, instance, instance_id)
        township = instance.township
    else:
        access.check_pending_upload(user)
        township = user.township
    kind, name, thumb = check(data, filename)
    store, key = filestore.store(), filestore.new_key()
    # Encrypted like the case data (a photo of an ID card is personal data); the purpose names the
    # key, so a file moved under another key does not decrypt.
    store.put(key, crypto.active().encrypt_bytes(data, 'attachment:' + key))
    if thumb is not None:
        store.put(key + '.thumb', crypto.active().encrypt_bytes(thumb, 'attachment:' + key + '.thumb'))
    row = Attachment(instance_id=instance_id, township=township, task_id=task.id if task is not None else None,
                     field=field, filename=name, content_type=kind, size=len(data),
                     sha256=hashlib.sha256(data).hexdigest(), storage_key=key, has_thumbnail=thumb is not None,
                     uploaded_by=user.username, created_at=now())
    db.session.add(row)
    db.session.flush()
    audit.record(user.username, 'attach', instance_id=instance_id, task_id=row.task_id, attachment_id=row.id,
                 filename=name, size=row.size, sha256=row.sha256, field=field)
    db.session.commit()
    return row


def link(user, ids, instance_id):
    """Put the user's own files sent with a new application on the case it started."""
    ids = [i for i in ids if isinstance(i, int)]
    if not ids:
        return 0
    instance = db.session.get(ProcessInstance, instance_id)
    result = db.session.execute(update(Attachment).where(
        Attachment.id.in_(ids), Attachment.instance_id.is_(None), Attachment.uploaded_by == user.username)
        .values(instance_id=instance.id, township=instance.township))
    db.session.commit()
    return result.rowcount


def usable(user, attachment_id, instance_id=None):
    """Whether a form may name this attachment: the case's own, or the user's own file not yet on a case."""
    row = db.session.get(Attachment, attachment_id) if isinstance(attachment_id, int) else None
    if row is None:
        return False
    if row.instance_id is None:
        return row.uploaded_by == user.username
    return instance_id is not None and row.instance_id == instance_id


def list_for(user, instance_id):
    instance = db.session.get(ProcessInstance, instance_id)
    access.check_instance_read(user, instance, instance_id)
    return db.session.scalars(select(Attachment).where(Attachment.instance_id == instance.id)
                              .order_by(Attachment.id)).all()


def get(user, attachment_id):
    """The row, if the user may see it (as the case: another township's is a 404 like a missing one)."""
    row = db.session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound('没有这个附件 (no such attachment)', code='attachment_not_found')
    if row.instance_id is None:
        access.check_pending_read(user, row.uploaded_by)
    else:
        try:
            access.check_instance_read(user, db.session.get(ProcessInstance, row.instance_id), row.instance_id)
        except NotFound:
            raise NotFound('没有这个附件 (no such attachment)', code='attachment_not_found') from None
    return row


def _load(key):
    """The clear bytes under a store key; None when missing or when they fail their authentication tag."""
    blob = filestore.store().get(key)
    if blob is None:
        return None
    try:
        return crypto.active().decrypt_bytes(blob, 'attachment:' + key)
    except InvalidTag:
        return None


def read(user, attachment_id, thumbnail=False):
    """(row, bytes) for a download, the checksum verified; a download of the file itself is audited."""
    row = get(user, attachment_id)
    if thumbnail:
        if not row.has_thumbnail:
            raise NotFound('此附件没有缩略图 (no thumbnail)', code='thumbnail_not_found')
        return row, _load(row.storage_key + '.thumb') or b''
    data = _load(row.storage_key)
    if data is None or hashlib.sha256(data).hexdigest() != row.sha256:
        log.error('attachment %s: stored file %s', row.id, 'missing' if data is None else 'does not match its SHA-256')
        raise Damaged('附件文件缺失或已被改动（校验值不符），请联系管理员从备份恢复 (stored file damaged)')
    audit.record(user.username, 'read_case', instance_id=row.instance_id, via='attachment', attachment_id=row.id)
    db.session.commit()
    return row, data


def check_store(batch=500):
    """Every attachment row against the store: (rows checked, [(id, 'missing' | 'damaged')]).

    After a restore (deploy/backup.md) this shows which files the copied directory lacks. Reads
    every file once: minutes for a few GB, run it by hand or nightly, not per request.
    """
    problems, checked, last = [], 0, 0
    while True:
        rows = db.session.execute(select(Attachment.id, Attachment.storage_key, Attachment.sha256)
                                  .where(Attachment.id > last).order_by(Attachment.id).limit(batch)).all()
        if not rows:
            return checked, problems
        for attachment_id, key, digest in rows:
            data = _load(key)
            if data is None:
                problems.append((attachment_id, 'missing' if not filestore.store().exists(key) else 'damaged'))
            elif hashlib.sha256(data).hexdigest() != digest:
                problems.append((attachment_id, 'damaged'))
            checked, last = checked + 1, attachment_id


def rotate_files(batch=500):
    """Re-encrypt every stored file and thumbnail not yet under the current data key (keys.rotate).

    Files never change after upload, so no guard is needed: each is read, re-encrypted and put back
    under the same key (the store writes a temporary file and renames it). A file already on the
    current key is left alone, so a rotation can be stopped and run again. Returns (rewritten, missing).
    """
    keyring = crypto.active()
    current = f'{crypto.PREFIX}{keyring.current_id}:'.encode()
    store, rewritten, missing, last = filestore.store(), 0, 0, 0
    while True:
        rows = db.session.execute(select(Attachment.id, Attachment.storage_key, Attachment.has_thumbnail)
                                  .where(Attachment.id > last).order_by(Attachment.id).limit(batch)).all()
        db.session.rollback()      # no transaction held open while files are rewritten
        if not rows:
            return rewritten, missing
        for attachment_id, key, thumb in rows:
            last = attachment_id
            for name in (key, key + '.thumb') if thumb else (key,):
                blob = store.get(name)
                if blob is None:
                    missing += 1
                elif not blob.startswith(current):
                    clear = keyring.decrypt_bytes(blob, 'attachment:' + name)
                    store.put(name, keyring.encrypt_bytes(clear, 'attachment:' + name))
                    rewritten += 1
