"""PostgreSQL: the chain's append as one function call (services/audit.py).

Appending under the chain's lock took three round trips — take the lock, read the last row, insert —
and the lock was held across the last two. `jiuzhu_audit_append` does all three in one call: the
application sends each entry's canonical encoding split around the previous row's hash (models/
audit.entry_parts), and the function numbers, hashes (the same SHA-256 over the same UTF-8 text) and
inserts them after the last row. A VOLATILE function's statements each take a fresh snapshot (READ
COMMITTED), so the last row is read after the lock is held, as the separate statements did.
SQLite keeps the statements (services/audit.py): one writer at a time there anyway.
"""
from sqlalchemy import DDL, event

from .audit import GENESIS, AuditEntry

PG_APPEND = f"""
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
