"""PostgreSQL: the commit's count deltas go with the audit chain's append, in the same call.

Every write commits its supervision count deltas (services/figures.py: case_count, decision_day_count,
step_count, start_count) and its audit entries. The counts were one upsert statement per table before
the chain's append (migration 0030): a round trip per completion and per batch of fired timers.
`jiuzhu_audit_append` now takes them too (`counts`, JSON rows per table, in key order) and applies
them first — their row locks still before the chain's lock, never while holding it. The three-
argument function is replaced. SQLite: nothing to do.

Revision ID: 0032
Revises: 0031
Create Date: 2026-11-28 19:20:00
"""
import importlib

from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

# The function as this revision made it, written out: the model's text may change later.
PG_APPEND = """
CREATE OR REPLACE FUNCTION jiuzhu_audit_append(chain_key bigint, sync text, entries json, counts json)
RETURNS integer VOLATILE LANGUAGE plpgsql AS $$
DECLARE
    last_id integer;
    last_hash text;
    entry json;
    next_hash text;
BEGIN
    -- The transaction's count deltas first, in key order: their row locks are taken before the
    -- chain's lock, never while holding it. Only the tables it has deltas for.
    IF counts IS NOT NULL THEN
        IF counts->'case_count' IS NOT NULL THEN
            INSERT INTO case_count AS c (township, definition_id, status, overdue, n)
                SELECT township, definition_id, status, overdue, n FROM json_to_recordset(counts->'case_count')
                    AS x(township varchar, definition_id integer, status varchar, overdue boolean, n integer)
                ON CONFLICT (township, definition_id, status, overdue) DO UPDATE SET n = c.n + excluded.n;
        END IF;
        IF counts->'decision_day_count' IS NOT NULL THEN
            INSERT INTO decision_day_count AS c (township, definition_id, days, n)
                SELECT township, definition_id, days, n FROM json_to_recordset(counts->'decision_day_count')
                    AS x(township varchar, definition_id integer, days integer, n integer)
                ON CONFLICT (township, definition_id, days) DO UPDATE SET n = c.n + excluded.n;
        END IF;
        IF counts->'step_count' IS NOT NULL THEN
            INSERT INTO step_count AS c (township, definition_id, kind, n)
                SELECT township, definition_id, kind, n FROM json_to_recordset(counts->'step_count')
                    AS x(township varchar, definition_id integer, kind varchar, n integer)
                ON CONFLICT (township, definition_id, kind) DO UPDATE SET n = c.n + excluded.n;
        END IF;
        IF counts->'start_count' IS NOT NULL THEN
            INSERT INTO start_count AS c (township, definition_id, month, n)
                SELECT township, definition_id, month, n FROM json_to_recordset(counts->'start_count')
                    AS x(township varchar, definition_id integer, month varchar, n integer)
                ON CONFLICT (township, definition_id, month) DO UPDATE SET n = c.n + excluded.n;
        END IF;
    END IF;
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
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP FUNCTION IF EXISTS jiuzhu_audit_append(bigint, text, json)')
    op.execute(PG_APPEND)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP FUNCTION IF EXISTS jiuzhu_audit_append(bigint, text, json, json)')
    op.execute(importlib.import_module('service.migrations.versions.0030_audit_append_function').PG_APPEND)
