-- eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
-- dvf_mutations becomes partitioned by year (LIST on annee), one partition per published year,
-- so that a year is replaced, reloaded or dropped on its own, and gains the columns geo-DVF
-- publishes that were dropped: the five lots with their Carrez surfaces, numero_volume, the
-- special culture, and the pre-merger commune and parcel (ancien_*). The rows already loaded
-- are moved into the new table; the app-facing indexes (annee, code_commune, the GiST on geom)
-- and the generated point are kept. Partitions are created here only for the years present
-- now; a new year gets its own at load time (edu_ensure_partition, sql/005).
-- A view of the app over dvf_mutations would block the DROP below: the whole file then fails
-- and nothing of it is applied; drop such a view first and recreate it after.

ALTER TABLE dvf_mutations RENAME TO dvf_mutations_unpartitioned;
ALTER INDEX IF EXISTS dvf_mutations_annee RENAME TO dvf_mutations_unpartitioned_annee;
ALTER INDEX IF EXISTS dvf_mutations_code_commune RENAME TO dvf_mutations_unpartitioned_code_commune;
ALTER INDEX IF EXISTS dvf_mutations_geom RENAME TO dvf_mutations_unpartitioned_geom;

-- The old columns in their old order, the new ones after them (what ADD COLUMN would have
-- given), so that a reader by position sees no change.
CREATE TABLE dvf_mutations (
	annee integer NOT NULL,
	id_mutation text,
	date_mutation date,
	numero_disposition integer,
	nature_mutation text,
	valeur_fonciere numeric,
	adresse_numero integer,
	adresse_suffixe text,
	adresse_nom_voie text,
	adresse_code_voie text,
	code_postal text,
	code_commune text,
	nom_commune text,
	code_departement text,
	id_parcelle text,
	nombre_lots integer,
	code_type_local integer,
	type_local text,
	surface_reelle_bati numeric,
	nombre_pieces_principales integer,
	code_nature_culture text,
	nature_culture text,
	surface_terrain numeric,
	longitude double precision,
	latitude double precision,
	geom geometry(Point, 4326) GENERATED ALWAYS AS (
		CASE WHEN longitude IS NOT NULL AND latitude IS NOT NULL
		THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) END) STORED,
	ancien_code_commune text,
	ancien_nom_commune text,
	ancien_id_parcelle text,
	numero_volume text,
	lot1_numero text,
	lot1_surface_carrez numeric,
	lot2_numero text,
	lot2_surface_carrez numeric,
	lot3_numero text,
	lot3_surface_carrez numeric,
	lot4_numero text,
	lot4_surface_carrez numeric,
	lot5_numero text,
	lot5_surface_carrez numeric,
	code_nature_culture_speciale text,
	nature_culture_speciale text
) PARTITION BY LIST (annee);

CREATE INDEX dvf_mutations_annee ON dvf_mutations (annee);
CREATE INDEX dvf_mutations_code_commune ON dvf_mutations (code_commune);
CREATE INDEX dvf_mutations_geom ON dvf_mutations USING gist (geom);

SELECT edu_ensure_partition('dvf_mutations', annee::text)
FROM (SELECT DISTINCT annee FROM dvf_mutations_unpartitioned) y;

INSERT INTO dvf_mutations (annee, id_mutation, date_mutation, numero_disposition,
	nature_mutation, valeur_fonciere, adresse_numero, adresse_suffixe, adresse_nom_voie,
	adresse_code_voie, code_postal, code_commune, nom_commune, code_departement, id_parcelle,
	nombre_lots, code_type_local, type_local, surface_reelle_bati, nombre_pieces_principales,
	code_nature_culture, nature_culture, surface_terrain, longitude, latitude)
SELECT annee, id_mutation, date_mutation, numero_disposition,
	nature_mutation, valeur_fonciere, adresse_numero, adresse_suffixe, adresse_nom_voie,
	adresse_code_voie, code_postal, code_commune, nom_commune, code_departement, id_parcelle,
	nombre_lots, code_type_local, type_local, surface_reelle_bati, nombre_pieces_principales,
	code_nature_culture, nature_culture, surface_terrain, longitude, latitude
FROM dvf_mutations_unpartitioned;

DO $$
DECLARE
	v_old bigint;
	v_new bigint;
BEGIN
	SELECT count(*) INTO v_old FROM dvf_mutations_unpartitioned;
	SELECT count(*) INTO v_new FROM dvf_mutations;
	IF v_old <> v_new THEN
		RAISE EXCEPTION 'dvf_mutations: % rows moved of %', v_new, v_old;
	END IF;
END
$$;

DROP TABLE dvf_mutations_unpartitioned;

-- What the last import of a unit saw, forgotten: the next check finds the unit changed and the
-- next run loads it again. Given a source id, every unit of that source (each of its years).
-- Used when a table gains columns that its sources fill, and when a year is dropped (so that it
-- reloads if the publisher publishes it again). Returns the number of units forgotten.
CREATE OR REPLACE FUNCTION monitoring.forget(p_unit text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	v_source text;
	v_year integer;
	v_n bigint;
BEGIN
	SELECT source, year INTO v_source, v_year FROM monitoring.unit_parts(p_unit);
	UPDATE monitoring.data_sources SET known_etag = NULL, last_known_modified = NULL,
		known_sha256 = NULL, known_size = NULL, known_url = NULL
	WHERE id = p_unit OR (v_year IS NULL AND split_part(id, ':', 1) = v_source);
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;

-- The years loaded so far lack the new columns: the next run loads them again and fills them.
SELECT monitoring.forget('dvf'), monitoring.forget('dvf_raw');
