-- eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
-- What the app reads. aggregated_data_lycees_2024 and metrics_colleges_2024 keep the app's
-- table names as views over the year-generic tables, so that next year is new rows under the
-- same tables rather than a new table and a new load script. The materialized views join each
-- establishment's indicators to the directory, ONISEP and its commune; each has a unique index
-- so that edu-refresh can refresh it CONCURRENTLY while the app keeps reading.

CREATE OR REPLACE VIEW aggregated_data_lycees_2024 AS
	SELECT * FROM lycees_indicateurs WHERE annee = 2024;

CREATE OR REPLACE VIEW metrics_colleges_2024 AS
	SELECT * FROM colleges_indicateurs WHERE session = 2024;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_lycees_with_metrics AS
	SELECT i.*,
		coalesce(a.nom, o.nom, i.libelle_uai) AS nom_etablissement,
		coalesce(a.type_etablissement, o.type_etablissement) AS type_etablissement,
		a.statut_public_prive,
		coalesce(a.adresse_1, o.adresse) AS adresse,
		coalesce(a.code_postal, o.code_postal) AS code_postal,
		coalesce(a.telephone, o.telephone) AS telephone,
		a.web,
		o.url_onisep,
		c.nom AS nom_commune_insee,
		coalesce(a.geom, o.geom, c.geom) AS geom
	FROM lycees_indicateurs i
	LEFT JOIN annuaire_etablissements a ON a.uai = i.uai
	LEFT JOIN onisep_etablissements o ON o.uai = i.uai
	LEFT JOIN communes c ON c.code_insee = coalesce(a.code_commune, o.code_commune, i.code_commune)
	WITH DATA;
CREATE UNIQUE INDEX IF NOT EXISTS mv_lycees_with_metrics_key
	ON mv_lycees_with_metrics (uai, annee);
CREATE INDEX IF NOT EXISTS mv_lycees_with_metrics_geom
	ON mv_lycees_with_metrics USING gist (geom);

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_colleges_with_metrics AS
	SELECT i.*,
		coalesce(a.nom, o.nom, i.nom) AS nom_etablissement,
		coalesce(a.type_etablissement, o.type_etablissement) AS type_etablissement,
		a.statut_public_prive,
		coalesce(a.adresse_1, o.adresse) AS adresse,
		coalesce(a.code_postal, o.code_postal) AS code_postal,
		coalesce(a.code_commune, o.code_commune) AS code_commune,
		coalesce(a.telephone, o.telephone) AS telephone,
		a.web,
		o.url_onisep,
		c.nom AS nom_commune_insee,
		coalesce(a.geom, o.geom, c.geom) AS geom
	FROM colleges_indicateurs i
	LEFT JOIN annuaire_etablissements a ON a.uai = i.uai
	LEFT JOIN onisep_etablissements o ON o.uai = i.uai
	LEFT JOIN communes c ON c.code_insee = coalesce(a.code_commune, o.code_commune)
	WITH DATA;
CREATE UNIQUE INDEX IF NOT EXISTS mv_colleges_with_metrics_key
	ON mv_colleges_with_metrics (uai, session);
CREATE INDEX IF NOT EXISTS mv_colleges_with_metrics_geom
	ON mv_colleges_with_metrics USING gist (geom);
