"""Personal data at rest: AES-256-GCM for whole columns, and a keyed hash for exact search by ID number.

A ciphertext is text: `jz1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`, so it fits the columns
it replaces and names the key it needs: after a rotation, rows under older keys stay readable
until `jiuzhu keys rotate` has re-encrypted them (deploy/keys.md). Each column encrypts with its
own associated data (its "purpose"), so a value copied into another column does not decrypt there.
Values without the prefix are rows written before encryption, read as they are.

A long text (a case's state: 5–12 K characters) is compressed before it is sealed, marked by a first
byte 0xFF that no UTF-8 text starts with: 5.7 K characters of state become ≈ 1.6 K stored, which
PostgreSQL keeps in the row instead of writing it out of line (TOAST) at every change of the case.

Keys come from the environment:
  JIUZHU_DATA_KEYS   "id:base64key,id:base64key" — 32-byte keys, the first encrypts, all decrypt;
                     an entry without "id:" gets the key's fingerprint as its id
  JIUZHU_DATA_KEY    one key (base64), when there is nothing to rotate yet
  JIUZHU_SEARCH_KEY  32 bytes (base64) for the HMAC-SHA256 of ID numbers (process_instance.id_hash)
In demo and test mode (manual clock, TESTING) a fixed, public key stands in; anywhere else the
service refuses to start without them, as nothing could read the data it writes under a throwaway key.
"""
import base64
import contextlib
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
import zlib

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app, has_app_context

PREFIX = 'jz1:'
NONCE = 12
# Texts from this length on are compressed (zlib level 1: ≈ 0.04 ms for a case's state); shorter
# ones gain little. The marker is a byte no UTF-8 text begins with.
COMPRESS_FROM = 1024
_ZLIB = b'\xff'
KEY_ID = re.compile(r'^[A-Za-z0-9-]{1,32}$')
ID_NUMBER = re.compile(r'^\d{17}[\dX]$')
# Public on purpose: demo and test data only. A database written with it is readable by anyone.
DEMO_ID = 'demo'
_DEMO_DATA_KEY = hashlib.sha256(b'jiuzhu demo data key - public, never for real data').digest()
_DEMO_SEARCH_KEY = hashlib.sha256(b'jiuzhu demo search key - public, never for real data').digest()


class KeyConfigError(Exception):
    """The keys are missing or malformed: the service must not start."""


class UnknownKey(Exception):
    """A row was encrypted under a key this process does not have (JIUZHU_DATA_KEYS lacks its id)."""


def fingerprint(key):
    return hashlib.sha256(key).hexdigest()[:8]


def _decode_key(text, what):
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigError(f'{what} 不是 base64 (is not base64)') from None
    if len(key) != 32:
        raise KeyConfigError(f'{what} 应为 32 字节，实为 {len(key)} 字节 (must be 32 bytes)')
    return key


def new_key():
    """A fresh key as a JIUZHU_DATA_KEYS entry: "fingerprint:base64"."""
    key = os.urandom(32)
    return f'{fingerprint(key)}:{base64.b64encode(key).decode()}'


def normalise_id_number(number):
    """An ID number as it is hashed: no spaces, upper-case X; None when empty."""
    text = re.sub(r'\s', '', str(number or '')).upper()
    return text or None


def is_id_number(text):
    """Whether a normalised text has the form of an 18-character resident ID number."""
    return bool(text and ID_NUMBER.match(text))


class Keyring:
    """The data keys (the first one current) and the search key of one app."""

    def __init__(self, keys, search_key, demo=False):
        if not keys:
            raise KeyConfigError('没有数据密钥 (no data key)')
        self.keys = dict(keys)
        self.current_id = next(iter(self.keys))
        self._aead = {kid: AESGCM(key) for kid, key in self.keys.items()}
        self._current = self._aead[self.current_id]
        self._current_prefix = f'{PREFIX}{self.current_id}:'
        self.search_key = search_key
        self.search_id = fingerprint(search_key)
        self.demo = demo

    # -- column values
    def encrypt(self, text, purpose):
        nonce = os.urandom(NONCE)
        clear = text.encode()
        if len(clear) >= COMPRESS_FROM:
            clear = _ZLIB + zlib.compress(clear, 1)
        sealed = self._current.encrypt(nonce, clear, purpose.encode())
        return self._current_prefix + base64.b64encode(nonce + sealed).decode('ascii')

    def decrypt(self, stored, purpose):
        """The clear text of a stored value; a value written before encryption comes back as it is."""
        if not stored.startswith(PREFIX):
            return stored
        kid, _, body = stored[len(PREFIX):].partition(':')
        aead = self._aead.get(kid)
        if aead is None:
            raise UnknownKey(f'数据由密钥 {kid} 加密，但 JIUZHU_DATA_KEYS 中没有该密钥 (key {kid} is not configured)')
        raw = base64.b64decode(body)
        clear = aead.decrypt(raw[:NONCE], raw[NONCE:], purpose.encode())
        if clear[:1] == _ZLIB:
            clear = zlib.decompress(clear[1:])
        return clear.decode()

    # -- files (attachments): the same AES-GCM, raw bytes, "jz1:<key id>:" + nonce + sealed
    def encrypt_bytes(self, data, purpose):
        nonce = os.urandom(NONCE)
        return self._current_prefix.encode() + nonce + self._current.encrypt(nonce, data, purpose.encode())

    def decrypt_bytes(self, blob, purpose):
        """The clear bytes of a stored file; raises UnknownKey, or InvalidTag when it was changed."""
        if not blob.startswith(PREFIX.encode()):
            return blob
        kid, _, body = blob[len(PREFIX):].partition(b':')
        aead = self._aead.get(kid.decode('ascii', 'replace'))
        if aead is None:
            raise UnknownKey(f'文件由密钥 {kid.decode("ascii", "replace")} 加密，但 JIUZHU_DATA_KEYS 中没有该密钥 '
                             f'(key is not configured)')
        return aead.decrypt(body[:NONCE], body[NONCE:], purpose.encode())

    def applicant_hash(self, data):
        """The id_hash of a case whose data is `data`: its applicant's ID number's."""
        applicant = data.get('applicant') if isinstance(data, dict) else None
        return self.id_hash(applicant.get('id_number')) if isinstance(applicant, dict) else None

    def applicant_name_hash(self, data):
        """The name_hash of a case whose data is `data`: its applicant's full name's."""
        applicant = data.get('applicant') if isinstance(data, dict) else None
        return self.name_hash(applicant.get('name')) if isinstance(applicant, dict) else None

    def is_current(self, stored):
        return stored is None or stored.startswith(self._current_prefix)

    # -- search
    def id_hash(self, number):
        """HMAC-SHA256 (hex) of a normalised ID number; None when there is none."""
        normal = normalise_id_number(number)
        if normal is None:
            return None
        return hmac.new(self.search_key, normal.encode(), hashlib.sha256).hexdigest()


    def name_hash(self, name):
        """HMAC-SHA256 (hex) of a normalised full name, in its own domain (never equal to an ID hash)."""
        normal = normalise_name(name)
        if normal is None:
            return None
        return hmac.new(self.search_key, b'name\x00' + normal.encode(), hashlib.sha256).hexdigest()


def normalise_name(name):
    """A name as it is hashed: full-width forms folded (NFKC), no spaces; None when empty."""
    text = re.sub(r'\s', '', unicodedata.normalize('NFKC', str(name or '')))
    return text or None


def key_id_of(stored):
    """The key id a stored value names; None for a value written in clear."""
    if not isinstance(stored, str) or not stored.startswith(PREFIX):
        return None
    return stored[len(PREFIX):].split(':', 1)[0]


def _parse_keys(text):
    keys = {}
    for n, entry in enumerate(part.strip() for part in text.split(',')):
        if not entry:
            continue
        kid, sep, encoded = entry.rpartition(':')
        if not sep:
            encoded = entry
        key = _decode_key(encoded, f'JIUZHU_DATA_KEYS 第 {n + 1} 个密钥 (key {n + 1})')
        kid = kid or fingerprint(key)
        if not KEY_ID.match(kid):
            raise KeyConfigError(f'密钥编号 {kid!r} 只能含字母、数字和 - (key id: letters, digits, -)')
        if kid in keys:
            raise KeyConfigError(f'密钥编号 {kid} 重复 (duplicate key id)')
        keys[kid] = key
    return keys


def keyring_from(settings, demo):
    """The keyring of a configuration mapping (the environment, or the app's config).

    Outside demo mode a missing key is an error; in demo mode the public demo keys stand in for
    what is missing (and stay readable next to configured ones, so a demo database keeps working).
    """
    keys = {}
    if settings.get('JIUZHU_DATA_KEYS'):
        keys = _parse_keys(settings['JIUZHU_DATA_KEYS'])
    elif settings.get('JIUZHU_DATA_KEY'):
        key = _decode_key(settings['JIUZHU_DATA_KEY'], 'JIUZHU_DATA_KEY')
        keys = {fingerprint(key): key}
    search = settings.get('JIUZHU_SEARCH_KEY')
    search_key = _decode_key(search, 'JIUZHU_SEARCH_KEY') if search else None
    if not demo:
        missing = [name for name, ok in (('JIUZHU_DATA_KEYS', keys), ('JIUZHU_SEARCH_KEY', search_key)) if not ok]
        if missing:
            raise KeyConfigError(
                f'未设置 {"、".join(missing)}：个人信息须加密存储，无密钥不能启动（生成与轮换见 deploy/keys.md）'
                f' ({", ".join(missing)} not set: personal data is encrypted at rest; see deploy/keys.md)')
    if demo:
        keys.setdefault(DEMO_ID, _DEMO_DATA_KEY)
    return Keyring(keys, search_key or _DEMO_SEARCH_KEY, demo=demo)


class MissingKeys:
    """Stands in for a keyring that could not be made: any use says why."""

    def __init__(self, message):
        self.message = message

    def __getattr__(self, name):
        raise KeyConfigError(self.message)


def demo_mode(settings):
    """Demo and tests: the manual clock, or Flask's TESTING."""
    return bool(settings.get('TESTING')) or str(settings.get('JIUZHU_CLOCK', 'real')).strip() == 'manual'


# The keyring for code that runs outside an app context (the migrations): the one `jiuzhu db
# upgrade` installed after checking the environment as strictly as an app start does, else the
# last app's, else the environment's with the demo keys standing in (tests that migrate by hand).
_fallback = None


def install(keyring):
    global _fallback
    _fallback = keyring


@contextlib.contextmanager
def installed(keyring):
    """`keyring` as the process's for the duration (a command), the one before it afterwards."""
    global _fallback
    before, _fallback = _fallback, keyring
    try:
        yield keyring
    finally:
        _fallback = before


def active():
    """The keyring of the current app, else the process's (see `install`), else the environment's."""
    if has_app_context():
        found = current_app.extensions.get('jiuzhu.keyring')
        if found is not None:
            return found
    if _fallback is None:
        install(keyring_from(os.environ, demo=True))
    return _fallback
