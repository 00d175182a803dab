"""Database-level guard for the append-only audit log, beside the ORM guard in audit.py.

The ORM guard stops the application; these triggers also stop raw SQL (a psql session,
a script) from rewriting history. The owner of the table can still disable or drop them: the
application connects as a role that cannot (deploy/postgresql-app-role.sql), and the hash
chain shows what the owner changed (docs/audit.md).
"""
from sqlalchemy import DDL, event

from .audit import AuditEntry

PG_GUARD = """
CREATE OR REPLACE FUNCTION jiuzhu_audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION jiuzhu_audit_log_append_only();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_audit_log_append_only();
"""

SQLITE_GUARD = (
    """CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    # REPLACE INTO / INSERT OR REPLACE delete the row in the way without firing the delete
    # trigger (recursive_triggers is off), so an insert onto an existing id is refused itself.
    """CREATE TRIGGER IF NOT EXISTS audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
)

event.listen(AuditEntry.__table__, 'after_create', DDL(PG_GUARD).execute_if(dialect='postgresql'))
for _sql in SQLITE_GUARD:
    event.listen(AuditEntry.__table__, 'after_create', DDL(_sql).execute_if(dialect='sqlite'))
