from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


def tune_sqlite(engine):
    """WAL with synchronous=NORMAL: each commit no longer waits for an fsync of the whole journal.

    The database stays consistent after a crash; a power cut may lose the last transactions.
    """
    from sqlalchemy import event

    if engine.dialect.name != 'sqlite':
        return

    @event.listens_for(engine, 'connect')
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA journal_mode=WAL')
        cursor.execute('PRAGMA synchronous=NORMAL')
        cursor.execute('PRAGMA foreign_keys=ON')
        cursor.execute('PRAGMA busy_timeout=10000')
        cursor.close()
