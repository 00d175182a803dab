"""What a backup's manifest says of the database, read in the snapshot that is backed up."""
from sqlalchemy import inspect, text

from ..migrations.readiness import VERSION_TABLE


def read_facts(conn):
    """The schema revision (Alembic) and the audit log's last row: the restore checks the chain up to it."""
    inspector = inspect(conn)
    tables = set(inspector.get_table_names())
    revision = None
    if VERSION_TABLE in tables:
        found = [row[0] for row in conn.execute(text(f'SELECT version_num FROM {VERSION_TABLE}'))]
        revision = ','.join(sorted(found)) or None
    last = None
    # Before revision 0003 the audit log had no chain: nothing to anchor (the upgrade chains it).
    if 'audit_log' in tables and 'row_hash' in {c['name'] for c in inspector.get_columns('audit_log')}:
        row = conn.execute(text('SELECT id, row_hash FROM audit_log ORDER BY id DESC LIMIT 1')).first()
        if row is not None:
            last = {'id': row.id, 'hash': row.row_hash}
    cases = conn.execute(text('SELECT count(*) FROM process_instance')).scalar() \
        if 'process_instance' in tables else 0
    return {'schema_revision': revision, 'audit_last': last, 'cases': cases}
