import json
from datetime import timezone

from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator

from .. import crypto


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC (SQLite drops zones), always returned aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError('naive datetime given to a UTC column')
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class EncryptedText(TypeDecorator):
    """Text encrypted at rest with the app's current data key (service/crypto.py).

    `purpose` names the column in the ciphertext's associated data: a value moved to another
    column does not decrypt. Rows written before encryption are read as they are.
    """

    impl = Text
    cache_ok = True

    def __init__(self, purpose, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.purpose = purpose

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return crypto.active().encrypt(self._text(value), self.purpose)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return self._value(crypto.active().decrypt(value, self.purpose))

    def _text(self, value):
        return value

    def _value(self, text):
        return text


class EncryptedJSON(EncryptedText):
    """A JSON value, encrypted as its text (compact, UTF-8 as written)."""

    cache_ok = True     # SQLAlchemy asks each subclass; its state is `purpose`, part of the cache key

    def _text(self, value):
        return json.dumps(value, ensure_ascii=False, separators=(',', ':'))

    def _value(self, text):
        return json.loads(text)
