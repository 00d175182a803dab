"""What the migration tests share: databases at a given revision, old rows loaded into them by SQL."""
import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import DateTime, MetaData, func, insert, select, text

from service.config import database_uri
from service.migrations import runner

ROOT = Path(__file__).resolve().parent.parent
BASELINE_ROWS = ROOT / 'tests' / 'fixtures' / 'migrations' / 'baseline_0001_rows.json'


def url_of(database_url):
    return database_uri(database_url, '.')


def connect(database_url):
    """A plain connection (no app): (engine, connection); dispose the engine when done."""
    engine = runner.migration_engine(url_of(database_url))
    return engine, engine.connect()


def state(database_url):
    return runner.current(url_of(database_url))


def load_rows(database_url, path=BASELINE_ROWS):
    """Insert a snapshot's rows with plain SQL into the database (at the snapshot's revision).

    The snapshot is the rows as their code wrote them; the tables are read from the database, so
    the rows go in as that revision's columns, whatever the models say now.
    """
    snapshot = json.loads(path.read_text(encoding='utf-8'))
    engine, connection = connect(database_url)
    try:
        with connection.begin():
            metadata = MetaData()
            metadata.reflect(connection)
            for table in metadata.sorted_tables:
                rows = snapshot['tables'].get(table.name)
                if not rows:
                    continue
                dates = {c.name for c in table.columns if isinstance(c.type, DateTime)}
                connection.execute(insert(table), [
                    {k: (datetime.fromisoformat(v) if k in dates and v else v) for k, v in row.items()}
                    for row in rows])
                _advance_sequence(connection, table)
    finally:
        connection.close()
        engine.dispose()
    return snapshot


def _advance_sequence(connection, table):
    # Ids were inserted as they were; PostgreSQL's serial counters must move past them, as they had.
    if connection.dialect.name != 'postgresql':
        return
    for column in table.primary_key.columns:
        sequence = connection.execute(text('SELECT pg_get_serial_sequence(:t, :c)'),
                                      {'t': table.name, 'c': column.name}).scalar()
        if sequence:
            highest = connection.execute(select(func.max(column))).scalar()
            connection.execute(text('SELECT setval(:s, :v)'), {'s': sequence, 'v': highest})


def count_rows(database_url, tables):
    engine, connection = connect(database_url)
    try:
        return {name: connection.execute(text(f'SELECT COUNT(*) FROM {name}')).scalar() for name in tables}
    finally:
        connection.close()
        engine.dispose()
