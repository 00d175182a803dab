"""The audit log's hash chain: prev_hash and row_hash on every row, contiguous ids, more guards.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

Run as the owner of audit_log (it switches the append-only triggers off while it works). The rows
already there are chained in id order, as the application chains new ones (docs/audit.md). Their
ids came from a sequence, with gaps where a transaction rolled back; they are renumbered 1, 2, 3…
in the same order, so that from now on a gap means a removed row. Then: PostgreSQL refuses
TRUNCATE too and ids no longer come from a sequence (the chain hands them out); SQLite refuses
REPLACE INTO / INSERT OR REPLACE over an existing row. The encoding is written out here, not
imported, so this revision stays what it is when the model changes.
"""
import hashlib
import json

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

GENESIS = '0' * 64
SCHEME = 'jiuzhu-audit/1'
BATCH = 2000

_log = sa.table('audit_log', sa.column('id', sa.Integer), sa.column('at', sa.DateTime),
                sa.column('actor', sa.String), sa.column('action', sa.String),
                sa.column('instance_id', sa.Integer), sa.column('task_id', sa.String),
                sa.column('detail', sa.JSON), sa.column('remote_addr', sa.String))

_SQLITE_GUARD = (
    """CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
)


def _hash(prev_hash, row):
    # models/audit.py entry_hash, scheme jiuzhu-audit/1: `at` is naive UTC in the database.
    at = None if row.at is None else row.at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    encoded = json.dumps([SCHEME, prev_hash, at, row.actor, row.action, row.instance_id, row.task_id, row.detail,
                          row.remote_addr], sort_keys=True, ensure_ascii=False, separators=(',', ':'), allow_nan=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _chain_existing_rows(bind):
    """Number and chain the rows in id order, a batch at a time (constant memory)."""
    update = sa.text('UPDATE audit_log SET id = :new, prev_hash = :prev, row_hash = :hash WHERE id = :old')
    after, position, prev = 0, 0, GENESIS
    while True:
        rows = bind.execute(sa.select(_log).where(_log.c.id > after).order_by(_log.c.id).limit(BATCH)).all()
        if not rows:
            break
        changes = []
        for row in rows:
            position += 1
            row_hash = _hash(prev, row)
            # A renumbered row parks at -position: no id it passes on the way can be taken.
            changes.append({'old': row.id, 'new': position if position == row.id else -position,
                            'prev': prev, 'hash': row_hash})
            prev = row_hash
        bind.execute(update, changes)
        after = rows[-1].id
    bind.execute(sa.text('UPDATE audit_log SET id = -id WHERE id < 0'))


def upgrade():
    bind = op.get_bind()
    # Plain ADD COLUMN on both databases: a batch copy of audit_log on SQLite would lose its triggers.
    op.add_column('audit_log', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_log', sa.Column('row_hash', sa.String(length=64), nullable=True))
    if bind.dialect.name == 'postgresql':
        op.execute('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only')
        _chain_existing_rows(bind)
        op.execute('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only')
        op.execute("""
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_audit_log_append_only();
""")
        op.execute('ALTER TABLE audit_log ALTER COLUMN id DROP DEFAULT')
        op.execute('DROP SEQUENCE IF EXISTS audit_log_id_seq')
    elif bind.dialect.name == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_update')
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_delete')
        _chain_existing_rows(bind)
        for sql in _SQLITE_GUARD:
            op.execute(sql)
    else:
        _chain_existing_rows(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log')
        op.execute('CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id')
        op.execute("SELECT setval('audit_log_id_seq', COALESCE((SELECT max(id) FROM audit_log), 0) + 1, false)")
        op.execute("ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq')")
    elif bind.dialect.name == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_replace')
    # Native DROP COLUMN (SQLite 3.35+), not a batch copy: the other triggers stay.
    op.execute('ALTER TABLE audit_log DROP COLUMN row_hash')
    op.execute('ALTER TABLE audit_log DROP COLUMN prev_hash')
