-- eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
-- The tables edu-pgcopy loads, with exactly the columns of the data dictionary
-- (/docs/schema.md). Geometry is a stored generated column: the database computes it from the
-- loaded coordinates, so no C code ever converts a projection and the point can never
-- disagree with the coordinates beside it. ST_Transform is IMMUTABLE in PostGIS 3 and is
-- therefore allowed in a generation expression.

CREATE TABLE IF NOT EXISTS communes (
	code_insee text PRIMARY KEY,
	nom text,
	typecom text,
	code_departement text,
	code_region text,
	code_parent text,
	longitude double precision,
	latitude double precision,
	geom geometry(Point, 4326) GENERATED ALWAYS AS (
		CASE WHEN longitude IS NOT NULL AND latitude IS NOT NULL
		THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) END) STORED
);

CREATE TABLE IF NOT EXISTS onisep_etablissements (
	uai text PRIMARY KEY,
	nom text,
	sigle text,
	type_etablissement text,
	statut text,
	tutelle text,
	adresse text,
	code_postal text,
	commune text,
	code_commune text,
	departement text,
	academie text,
	region text,
	telephone text,
	url_onisep text,
	longitude double precision,
	latitude double precision,
	geom geometry(Point, 4326) GENERATED ALWAYS AS (
		CASE WHEN longitude IS NOT NULL AND latitude IS NOT NULL
		THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) END) STORED
);

CREATE TABLE IF NOT EXISTS annuaire_etablissements (
	uai text PRIMARY KEY,
	nom text,
	type_etablissement text,
	statut_public_prive text,
	adresse_1 text,
	code_postal text,
	code_commune text,
	nom_commune text,
	code_departement text,
	code_academie text,
	code_region text,
	telephone text,
	web text,
	mail text,
	nombre_eleves integer,
	voie_generale boolean,
	voie_technologique boolean,
	voie_professionnelle boolean,
	restauration boolean,
	hebergement boolean,
	ulis boolean,
	segpa boolean,
	appartenance_education_prioritaire text,
	fiche_onisep text,
	coord_x double precision,
	coord_y double precision,
	epsg integer,
	latitude double precision,
	longitude double precision,
	precision_localisation text,
	date_ouverture date,
	date_maj_ligne date,
	etat text,
	code_nature text,
	libelle_nature text,
	-- WGS84 when the directory gives it, else the projected coordinates in their own EPSG
	-- (Lambert-93 in metropolitan France, UTM overseas) transformed to 4326.
	geom geometry(Point, 4326) GENERATED ALWAYS AS (
		CASE WHEN longitude IS NOT NULL AND latitude IS NOT NULL
		THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)
		WHEN coord_x IS NOT NULL AND coord_y IS NOT NULL AND epsg IS NOT NULL
		THEN ST_Transform(ST_SetSRID(ST_MakePoint(coord_x, coord_y), epsg), 4326) END) STORED
);

-- Year-generic: a new year of IVAL is new rows, not a new table; the app's
-- aggregated_data_lycees_2024 is a view over it (003-views.sql).
CREATE TABLE IF NOT EXISTS lycees_indicateurs (
	uai text NOT NULL,
	annee integer NOT NULL,
	libelle_uai text,
	code_region text,
	libelle_region text,
	libelle_academie text,
	code_departement text,
	libelle_departement text,
	code_commune text,
	libelle_commune text,
	secteur text,
	presents_total integer,
	taux_reu_total numeric,
	va_reu_total numeric,
	taux_acces_2nde numeric,
	va_acces_2nde numeric,
	taux_men_total numeric,
	va_men_total numeric,
	eff_2nde integer,
	eff_1ere integer,
	eff_term integer,
	taux_acces_1ere numeric,
	taux_acces_term numeric,
	va_acces_1ere numeric,
	va_acces_term numeric,
	nb_mentions_tb_avecf_g integer,
	nb_mentions_tb_sansf_g integer,
	nb_mentions_b_g integer,
	nb_mentions_ab_g integer,
	PRIMARY KEY (uai, annee)
);

CREATE TABLE IF NOT EXISTS colleges_indicateurs (
	uai text NOT NULL,
	session integer NOT NULL,
	nom text,
	commune text,
	code_region_academique text,
	code_academie text,
	code_departement text,
	secteur text,
	nb_candidats_g integer,
	taux_reussite_g numeric,
	va_taux_reussite_g numeric,
	nb_candidats_p integer,
	taux_reussite_p numeric,
	note_ecrit_g numeric,
	va_note_g numeric,
	note_ecrit_p numeric,
	taux_acces_6e_3e numeric,
	part_presents_3e_ord_total numeric,
	nb_mentions_ab_g integer,
	nb_mentions_b_g integer,
	nb_mentions_tb_g integer,
	nb_mentions_global_g integer,
	PRIMARY KEY (uai, session)
);

-- No primary key: id_mutation is not stable between releases, so DVF is loaded by replacing
-- one year at a time (edu-pgcopy -w annee=YYYY).
CREATE TABLE IF NOT EXISTS dvf_mutations (
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
		THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) END) STORED
);

CREATE INDEX IF NOT EXISTS dvf_mutations_annee ON dvf_mutations (annee);
CREATE INDEX IF NOT EXISTS dvf_mutations_code_commune ON dvf_mutations (code_commune);
CREATE INDEX IF NOT EXISTS dvf_mutations_geom ON dvf_mutations USING gist (geom);
CREATE INDEX IF NOT EXISTS annuaire_etablissements_geom ON annuaire_etablissements USING gist (geom);
CREATE INDEX IF NOT EXISTS onisep_etablissements_geom ON onisep_etablissements USING gist (geom);
CREATE INDEX IF NOT EXISTS communes_geom ON communes USING gist (geom);
