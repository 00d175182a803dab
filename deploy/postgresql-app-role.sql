-- jiuzhu: the role the application connects as (docs/audit.md, "Two roles").
--
-- The owner of the tables runs migrations and `jiuzhu deploy`; the web workers and schedulers
-- connect as the application role, which may read and write the case tables but may only
-- INSERT into and SELECT from audit_log, and owns nothing: it cannot TRUNCATE, ALTER, DISABLE
-- or DROP TRIGGER on the audit log, nor UPDATE or DELETE its rows.
--
-- Run it as the owner (or a superuser) after the tables exist; running it again does no harm:
--
--   psql "postgresql://jiuzhu@127.0.0.1/jiuzhu" -v owner=jiuzhu -v app=jiuzhu_app \
--        -v app_password="$(cat /etc/jiuzhu/app-db-password)" -f deploy/postgresql-app-role.sql
--
-- Variables: owner (required: the role that owns the tables), app (required: created when
-- missing), app_password (optional: sets the application role's password), schema (default public).
-- Tables and sequences that later migrations create (as the owner) are granted to the
-- application role by ALTER DEFAULT PRIVILEGES below.

\set ON_ERROR_STOP on
\set QUIET on

\if :{?owner}
\else
DO $$ BEGIN RAISE EXCEPTION 'missing psql variable: -v owner=ROLE (the role that owns the tables)'; END $$;
\endif
\if :{?app}
\else
DO $$ BEGIN RAISE EXCEPTION 'missing psql variable: -v app=ROLE (the role the application connects as)'; END $$;
\endif
\if :{?schema}
\else
\set schema public
\endif

-- The owner must own audit_log already: the migrations (or `jiuzhu deploy`) ran as the owner.
SELECT format('DO $c$ BEGIN RAISE EXCEPTION %L; END $c$',
              format('%I.audit_log does not exist or is not owned by %I: run the migrations as the owner first',
                     :'schema', :'owner'))
 WHERE NOT EXISTS (SELECT 1 FROM pg_tables
                    WHERE schemaname = :'schema' AND tablename = 'audit_log' AND tableowner = :'owner')
\gexec

SELECT format('CREATE ROLE %I LOGIN', :'app')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app')
\gexec
\if :{?app_password}
ALTER ROLE :"app" PASSWORD :'app_password';
\endif

-- A role that is the owner, a member of it, or a superuser could switch every guard off.
SELECT format('DO $c$ BEGIN RAISE EXCEPTION %L; END $c$',
              format('role %I is a superuser, may bypass row security, or is (a member of) the owner %I: '
                     'the application needs a role of its own', :'app', :'owner'))
  FROM pg_roles
 WHERE rolname = :'app' AND (rolsuper OR rolbypassrls OR pg_has_role(:'app', :'owner', 'MEMBER'))
\gexec
-- PostgreSQL before 15 lets everybody create objects in the public schema.
SELECT format('DO $c$ BEGIN RAISE EXCEPTION %L; END $c$',
              format('role %I may create objects in schema %I: REVOKE CREATE ON SCHEMA %I FROM PUBLIC first',
                     :'app', :'schema', :'schema'))
 WHERE has_schema_privilege(:'app', :'schema', 'CREATE')
\gexec

GRANT CONNECT ON DATABASE :"DBNAME" TO :"app";
GRANT USAGE ON SCHEMA :"schema" TO :"app";

-- The case tables: read and write, never TRUNCATE, REFERENCES or TRIGGER.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA :"schema" TO :"app";

-- The audit log: append and read only.
REVOKE ALL ON TABLE :"schema".audit_log FROM :"app", PUBLIC;
GRANT SELECT, INSERT ON TABLE :"schema".audit_log TO :"app";

-- Alembic's bookkeeping (once migrations are in use) is the owner's alone.
SELECT format('REVOKE INSERT, UPDATE, DELETE ON TABLE %I.alembic_version FROM %I', :'schema', :'app')
 WHERE to_regclass(format('%I.alembic_version', :'schema')) IS NOT NULL
\gexec

-- Tables and sequences the owner creates later (new migrations) are the application's to use too.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema"
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema"
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";

\echo 'application role ready:' :app 'in' :DBNAME '(schema' :schema ', owner' :owner ')'
