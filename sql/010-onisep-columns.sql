-- eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
-- Every column ONISEP publishes in Idéo-Structures (docs/DATA_SOURCE_ONISEP.md), in either of its
-- two header shapes, gets a column of onisep_etablissements: the SIRET (14 digits, checked by
-- edu-normalize's siret rule and here), cedex, arrondissement, the university an establishment
-- belongs to, the establishments linked to it, its open days (as published: their format is not
-- known for sure), the languages taught, the 2024 label and ONISEP's record dates (2026 file
-- only). Lists inside a cell are text[]: "lycées teaching Chinese in Hérault" is
-- `langues @> '{Chinois}' AND departement = 'Hérault'`, which the GIN index serves.
-- The run history gains the columns of the publisher's file that the map did not name
-- (unmapped_columns), written by the pipelines (pipelines/lib.sh) and read by the job's report.

ALTER TABLE onisep_etablissements
	ADD COLUMN IF NOT EXISTS siret text CONSTRAINT onisep_etablissements_siret_14_digits
		CHECK (siret ~ '^[0-9]{14}$'),
	ADD COLUMN IF NOT EXISTS cedex text,
	ADD COLUMN IF NOT EXISTS arrondissement text,
	ADD COLUMN IF NOT EXISTS universite_rattachement text,
	ADD COLUMN IF NOT EXISTS universite_rattachement_url text,
	ADD COLUMN IF NOT EXISTS etablissements_lies text[],
	ADD COLUMN IF NOT EXISTS etablissements_lies_url text[],
	ADD COLUMN IF NOT EXISTS journees_portes_ouvertes text,
	ADD COLUMN IF NOT EXISTS langues text[],
	ADD COLUMN IF NOT EXISTS label_generation_2024 text,
	ADD COLUMN IF NOT EXISTS date_creation date,
	ADD COLUMN IF NOT EXISTS date_modification date;
CREATE INDEX IF NOT EXISTS onisep_etablissements_langues ON onisep_etablissements USING gin (langues);

ALTER TABLE monitoring.runs ADD COLUMN IF NOT EXISTS unmapped_columns text[];

-- monitoring.unmapped(unit, since, columns): the columns of the publisher's file that the map
-- does not name, on the newest load row of the unit started at or after since (the pipeline's
-- start). Returns that row's id, NULL when there is none (edu-pgcopy could not record).
CREATE OR REPLACE FUNCTION monitoring.unmapped(p_unit text, p_since timestamptz, p_columns text[])
RETURNS bigint LANGUAGE sql AS $$
	UPDATE monitoring.runs SET unmapped_columns = p_columns
	WHERE id = (SELECT max(id) FROM monitoring.runs
		WHERE unit = p_unit AND kind = 'load' AND started >= p_since)
	RETURNING id;
$$;

-- The pipelines run as edu_pipeline, which may insert history rows but not rewrite them: it may
-- set this one column.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edu_pipeline') THEN
		GRANT UPDATE (unmapped_columns) ON monitoring.runs TO edu_pipeline;
	END IF;
END
$$;

-- The rows loaded so far lack these columns: the next run loads ONISEP again and fills them.
SELECT monitoring.forget('onisep');
