"""Database-level guard for the append-only audit log, beside the ORM guard in audit.py.

The ORM guard stops the application; these triggers also stop raw SQL (a psql session,
a script) from rewriting history.
"""
from sqlalchemy import DDL, event

from .audit import AuditEntry

_PG = DDL("""
CREATE OR REPLACE FUNCTION jiuzhu_audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION jiuzhu_audit_log_append_only();
""").execute_if(dialect='postgresql')

_SQLITE_UPDATE = DDL("""
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
""").execute_if(dialect='sqlite')

_SQLITE_DELETE = DDL("""
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
""").execute_if(dialect='sqlite')

for _ddl in (_PG, _SQLITE_UPDATE, _SQLITE_DELETE):
    event.listen(AuditEntry.__table__, 'after_create', _ddl)
