-- eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
-- The roles' rights by a rule instead of a list of tables (004 named each table, so a new table
-- had no rights until someone edited it): every table, view and materialized view of the schema
-- public that the migrating role creates gets, at its creation,
--   edu_pipeline: SELECT, INSERT, UPDATE, DELETE, TRUNCATE (it loads them; on a view only what
--                 the view allows);
--   edu_app:      SELECT (it reads, never writes);
-- and in the schema monitoring, edu_pipeline SELECT, INSERT, UPDATE and edu_app SELECT (a right
-- beyond these, such as DELETE on monitoring.runs for pruning, is granted where its table is
-- created). Default privileges belong to the role that sets them: this file, like every
-- migration, runs as the role that runs sql/migrate.sh. The relations that role already owns in
-- public, and the materialized views it gave to edu_pipeline, get the same rights now; the
-- extensions' tables (PostGIS's spatial_ref_sys) are left as their extension made them.
-- Numbered before the migrations that create objects, so that each gets its rights as it is made.

ALTER DEFAULT PRIVILEGES IN SCHEMA public
	GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO edu_pipeline;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO edu_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA monitoring GRANT SELECT, INSERT, UPDATE ON TABLES TO edu_pipeline;
ALTER DEFAULT PRIVILEGES IN SCHEMA monitoring GRANT SELECT ON TABLES TO edu_app;

DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
		AND c.relowner IN (SELECT oid FROM pg_roles WHERE rolname IN (current_user, 'edu_pipeline'))
		AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
			AND d.objid = c.oid AND d.deptype = 'e')
	LOOP
		EXECUTE format('GRANT SELECT ON %s TO edu_app', r.rel);
		EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON %s TO edu_pipeline', r.rel);
	END LOOP;
END
$$;
