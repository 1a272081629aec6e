-- eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
-- Two group roles, created NOLOGIN and only when absent (roles belong to the cluster, not to
-- the database): edu_pipeline writes the loaded tables and refreshes the materialized views
-- (REFRESH needs ownership, so it owns them); edu_app only reads. Grant them to login roles:
--   GRANT edu_pipeline TO loader; GRANT edu_app TO webapp;
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edu_pipeline') THEN
		CREATE ROLE edu_pipeline NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edu_app') THEN
		CREATE ROLE edu_app NOLOGIN;
	END IF;
END
$$;

GRANT USAGE ON SCHEMA public, monitoring TO edu_pipeline, edu_app;

GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON
	communes, onisep_etablissements, annuaire_etablissements, lycees_indicateurs,
	colleges_indicateurs, dvf_mutations
	TO edu_pipeline;
GRANT SELECT, INSERT, UPDATE ON monitoring.data_sources TO edu_pipeline;
GRANT SELECT ON aggregated_data_lycees_2024, metrics_colleges_2024 TO edu_pipeline;

GRANT SELECT ON
	communes, onisep_etablissements, annuaire_etablissements, lycees_indicateurs,
	colleges_indicateurs, dvf_mutations, aggregated_data_lycees_2024, metrics_colleges_2024,
	mv_lycees_with_metrics, mv_colleges_with_metrics, monitoring.data_sources
	TO edu_app;

ALTER MATERIALIZED VIEW mv_lycees_with_metrics OWNER TO edu_pipeline;
ALTER MATERIALIZED VIEW mv_colleges_with_metrics OWNER TO edu_pipeline;
