"""PostgreSQL: the chain's append as one function call (services/audit.py).

Appending under the chain's lock took three round trips — take the lock, read the last row, insert —
and the lock was held across the last two. `jiuzhu_audit_append` does all three in one call: the
application sends each entry's canonical encoding split around the previous row's hash (models/
audit.entry_parts), and the function numbers, hashes (the same SHA-256 over the same UTF-8 text) and
inserts them after the last row. A VOLATILE function's statements each take a fresh snapshot (READ
COMMITTED), so the last row is read after the lock is held, as the separate statements did.
SQLite keeps the statements (services/audit.py): one writer at a time there anyway.

The same call first adds the transaction's supervision count deltas (services/figures.py), when it
has any: one round trip fewer per commit, the count rows still locked before the chain (0032).
"""
from sqlalchemy import DDL, event

from .audit import GENESIS, AuditEntry

PG_APPEND = f"""
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
        last_hash := '{GENESIS}';
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

event.listen(AuditEntry.__table__, 'after_create', DDL(PG_APPEND).execute_if(dialect='postgresql'))
