"""PostgreSQL: the audit chain's append in one call (models/audit_append.py).

Appending to the chain took three round trips under its lock (lock, read the last row, insert);
`jiuzhu_audit_append` does them in one. SQLite: nothing to do (the chain appends as before).

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-28 15:20:00
"""
from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

# The function as this revision made it, written out: the model's text may change later.
PG_APPEND = """
CREATE OR REPLACE FUNCTION jiuzhu_audit_append(chain_key bigint, sync text, entries json)
RETURNS integer VOLATILE LANGUAGE plpgsql AS $$
DECLARE
    last_id integer;
    last_hash text;
    entry json;
    next_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(chain_key);
    PERFORM set_config('synchronous_commit', sync, true);
    SELECT id, row_hash INTO last_id, last_hash FROM audit_log ORDER BY id DESC LIMIT 1;
    IF NOT FOUND THEN
        last_id := 0;
        last_hash := '0000000000000000000000000000000000000000000000000000000000000000';
    END IF;
    FOR entry IN SELECT value FROM json_array_elements(entries) LOOP
        last_id := last_id + 1;
        next_hash := encode(sha256(convert_to((entry->>'head') || last_hash || (entry->>'tail'), 'UTF8')), 'hex');
        INSERT INTO audit_log (id, at, actor, action, instance_id, task_id, detail, remote_addr, prev_hash, row_hash)
        VALUES (last_id, (entry->>'at')::timestamp, entry->>'actor', entry->>'action',
                (entry->>'instance_id')::integer, entry->>'task_id', (entry->>'detail')::json,
                entry->>'remote_addr', last_hash, next_hash);
        last_hash := next_hash;
    END LOOP;
    RETURN last_id;
END;
$$;
"""


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_APPEND)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS jiuzhu_audit_append(bigint, text, json)')
