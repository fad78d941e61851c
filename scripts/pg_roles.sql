-- Least-privilege PostgreSQL roles for Ruta (docs/decisions/0012-tamper-evident-audit.md).
--
-- Run as a superuser, connected to Ruta's database, after `flask db upgrade` and again
-- after every upgrade (tables added by a migration get their grants here):
--
--   psql -v ON_ERROR_STOP=1 -d ruta -f scripts/pg_roles.sql
--   psql -d ruta -c '\password ruta_owner'  and  -c '\password ruta_app'
--
-- ruta_owner  owns the schema, its tables and the audit trigger function. Only migrations
--             (`flask db upgrade`) and `flask backup restore` connect as it.
-- ruta_app    what the application (gunicorn, cron commands, `flask audit verify`)
--             connects as. It owns nothing, so it cannot ALTER TABLE ... DISABLE TRIGGER
--             nor drop the append-only triggers; on audit_events it may only SELECT and
--             INSERT (no UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES). Neither role is a
--             superuser, so neither can SET session_replication_role = replica.
--
-- The names are plain text: to use others, replace ruta_owner / ruta_app in this file.
-- Idempotent: running it twice changes nothing.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ruta_owner') THEN
    CREATE ROLE ruta_owner LOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ruta_app') THEN
    CREATE ROLE ruta_app LOGIN;
  END IF;
END $$;
ALTER ROLE ruta_owner NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE ruta_app NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

-- The owner owns everything in the schema (a database migrated as postgres is handed
-- over; sequences owned by a column follow their table).
ALTER SCHEMA public OWNER TO ruta_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('ALTER TABLE public.%I OWNER TO ruta_owner', r.tablename);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO ruta_owner', r.fn);
  END LOOP;
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO ruta_app', current_database());
END $$;

-- The application: read and write its data...
GRANT USAGE ON SCHEMA public TO ruta_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ruta_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ruta_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ruta_app;
-- ...but only append to the audit log, and never move the schema revision.
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_events FROM ruta_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON alembic_version FROM ruta_app;
