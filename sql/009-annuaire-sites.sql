-- eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
-- The annuaire lists a multi-site establishment once per site under one UAI. Every line is now
-- kept, in annuaire_sites (key uai, site: the line's rank among its UAI's lines, in file order),
-- which edu-pgcopy loads in one transaction; annuaire_etablissements, which the app and the
-- materialized views read, becomes a view giving one row per UAI by a rule (docs/schema.md):
--   the main line is the first of its UAI's lines by: a name without "annexe" first, then the
--   most tracks (générale, technologique, professionnelle), then file order; it gives the
--   name, address, contacts, codes, coordinates and dates;
--   what the lines offer is combined: a track, a section, a service (restauration, ULIS,
--   SEGPA...) is there if any line says so; nombre_eleves, the UAI's count repeated on each
--   line, is the largest; nombre_sites counts the lines.
-- A view cannot go out of step with its sites, and the load stays one transaction. The
-- materialized views read annuaire_etablissements, so they are dropped and created again (with
-- the indicator columns of 007 too); the rows already loaded become site 1 of their UAI.
-- A view of the app over annuaire_etablissements would block the DROP below: the whole file
-- then fails and nothing of it is applied; drop such a view first and recreate it after.

DROP MATERIALIZED VIEW mv_lycees_with_metrics;
DROP MATERIALIZED VIEW mv_colleges_with_metrics;
ALTER TABLE annuaire_etablissements RENAME TO annuaire_etablissements_unsited;
ALTER INDEX IF EXISTS annuaire_etablissements_geom RENAME TO annuaire_etablissements_unsited_geom;
ALTER INDEX IF EXISTS annuaire_etablissements_pkey RENAME TO annuaire_etablissements_unsited_pkey;

-- Every column of the export, in its order, but position (latitude and longitude as one text).
CREATE TABLE annuaire_sites (
	uai text NOT NULL,
	site integer NOT NULL CHECK (site > 0),
	nom text,
	type_etablissement text,
	statut_public_prive text,
	adresse_1 text,
	adresse_2 text,
	adresse_3 text,
	code_postal text,
	code_commune text,
	nom_commune text,
	code_departement text,
	code_academie text,
	code_region text,
	ecole_maternelle boolean,
	ecole_elementaire boolean,
	voie_generale boolean,
	voie_technologique boolean,
	voie_professionnelle boolean,
	telephone text,
	fax text,
	web text,
	mail text,
	restauration boolean,
	hebergement boolean,
	ulis boolean,
	apprentissage boolean,
	segpa boolean,
	section_arts boolean,
	section_cinema boolean,
	section_theatre boolean,
	section_sport boolean,
	section_internationale boolean,
	section_europeenne boolean,
	lycee_agricole boolean,
	lycee_militaire boolean,
	lycee_des_metiers boolean,
	post_bac boolean,
	appartenance_education_prioritaire text,
	greta boolean,
	siren_siret text,
	nombre_eleves integer,
	fiche_onisep text,
	type_contrat_prive text,
	libelle_departement text,
	libelle_academie text,
	libelle_region text,
	coord_x double precision,
	coord_y double precision,
	epsg integer,
	nom_circonscription text,
	latitude double precision,
	longitude double precision,
	precision_localisation text,
	date_ouverture date,
	date_maj_ligne date,
	etat text,
	ministere_tutelle text,
	multi_lignes boolean,
	rpi_concentre boolean,
	rpi_disperse text,
	code_nature text,
	libelle_nature text,
	code_type_contrat_prive text,
	pial text,
	etablissement_mere text,
	type_rattachement_etablissement_mere text,
	code_circonscription text,
	code_zone_animation_pedagogique text,
	libelle_zone_animation_pedagogique text,
	code_bassin_formation text,
	libelle_bassin_formation text,
	-- WGS84 when the directory gives it, else the projected coordinates in their own EPSG
	-- (Lambert-93 in metropolitan France, UTM overseas) transformed to 4326.
	geom geometry(Point, 4326) GENERATED ALWAYS AS (
		CASE WHEN longitude IS NOT NULL AND latitude IS NOT NULL
		THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)
		WHEN coord_x IS NOT NULL AND coord_y IS NOT NULL AND epsg IS NOT NULL
		THEN ST_Transform(ST_SetSRID(ST_MakePoint(coord_x, coord_y), epsg), 4326) END) STORED,
	PRIMARY KEY (uai, site)
);
CREATE INDEX annuaire_sites_geom ON annuaire_sites USING gist (geom);

INSERT INTO annuaire_sites (uai, site, nom, type_etablissement, statut_public_prive, adresse_1,
	code_postal, code_commune, nom_commune, code_departement, code_academie, code_region,
	telephone, web, mail, nombre_eleves, voie_generale, voie_technologique,
	voie_professionnelle, restauration, hebergement, ulis, segpa,
	appartenance_education_prioritaire, fiche_onisep, coord_x, coord_y, epsg, latitude,
	longitude, precision_localisation, date_ouverture, date_maj_ligne, etat, code_nature,
	libelle_nature)
SELECT uai, 1, nom, type_etablissement, statut_public_prive, adresse_1,
	code_postal, code_commune, nom_commune, code_departement, code_academie, code_region,
	telephone, web, mail, nombre_eleves, voie_generale, voie_technologique,
	voie_professionnelle, restauration, hebergement, ulis, segpa,
	appartenance_education_prioritaire, fiche_onisep, coord_x, coord_y, epsg, latitude,
	longitude, precision_localisation, date_ouverture, date_maj_ligne, etat, code_nature,
	libelle_nature
FROM annuaire_etablissements_unsited;
DROP TABLE annuaire_etablissements_unsited;

-- The columns the table had, in its order, then what the sites add.
CREATE VIEW annuaire_etablissements AS
	SELECT m.uai, m.nom, m.type_etablissement, m.statut_public_prive, m.adresse_1,
		m.code_postal, m.code_commune, m.nom_commune, m.code_departement, m.code_academie,
		m.code_region, m.telephone, m.web, m.mail, c.nombre_eleves, c.voie_generale,
		c.voie_technologique, c.voie_professionnelle, c.restauration, c.hebergement, c.ulis,
		c.segpa, m.appartenance_education_prioritaire, m.fiche_onisep, m.coord_x, m.coord_y,
		m.epsg, m.latitude, m.longitude, m.precision_localisation, m.date_ouverture,
		m.date_maj_ligne, m.etat, m.code_nature, m.libelle_nature, m.geom,
		c.nombre_sites, m.site AS site_principal, m.adresse_2, m.adresse_3, m.fax,
		c.ecole_maternelle, c.ecole_elementaire, c.apprentissage, c.section_arts,
		c.section_cinema, c.section_theatre, c.section_sport, c.section_internationale,
		c.section_europeenne, c.lycee_agricole, c.lycee_militaire, c.lycee_des_metiers,
		c.post_bac, c.greta, m.siren_siret, m.type_contrat_prive, m.libelle_departement,
		m.libelle_academie, m.libelle_region, m.nom_circonscription, m.ministere_tutelle,
		m.multi_lignes, m.rpi_concentre, m.rpi_disperse, m.code_type_contrat_prive, m.pial,
		m.etablissement_mere, m.type_rattachement_etablissement_mere, m.code_circonscription,
		m.code_zone_animation_pedagogique, m.libelle_zone_animation_pedagogique,
		m.code_bassin_formation, m.libelle_bassin_formation
	FROM (SELECT DISTINCT ON (uai) * FROM annuaire_sites
		ORDER BY uai, nom ~* 'annexe',
			(voie_generale IS TRUE)::int + (voie_technologique IS TRUE)::int
				+ (voie_professionnelle IS TRUE)::int DESC,
			site) m
	JOIN (SELECT uai, count(*) AS nombre_sites, max(nombre_eleves) AS nombre_eleves,
		bool_or(voie_generale) AS voie_generale,
		bool_or(voie_technologique) AS voie_technologique,
		bool_or(voie_professionnelle) AS voie_professionnelle,
		bool_or(restauration) AS restauration, bool_or(hebergement) AS hebergement,
		bool_or(ulis) AS ulis, bool_or(segpa) AS segpa,
		bool_or(ecole_maternelle) AS ecole_maternelle,
		bool_or(ecole_elementaire) AS ecole_elementaire,
		bool_or(apprentissage) AS apprentissage, bool_or(section_arts) AS section_arts,
		bool_or(section_cinema) AS section_cinema, bool_or(section_theatre) AS section_theatre,
		bool_or(section_sport) AS section_sport,
		bool_or(section_internationale) AS section_internationale,
		bool_or(section_europeenne) AS section_europeenne,
		bool_or(lycee_agricole) AS lycee_agricole, bool_or(lycee_militaire) AS lycee_militaire,
		bool_or(lycee_des_metiers) AS lycee_des_metiers, bool_or(post_bac) AS post_bac,
		bool_or(greta) AS greta
		FROM annuaire_sites GROUP BY uai) c ON c.uai = m.uai;

CREATE MATERIALIZED VIEW mv_lycees_with_metrics AS
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
CREATE UNIQUE INDEX mv_lycees_with_metrics_key ON mv_lycees_with_metrics (uai, annee);
CREATE INDEX mv_lycees_with_metrics_geom ON mv_lycees_with_metrics USING gist (geom);

CREATE MATERIALIZED VIEW mv_colleges_with_metrics AS
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
CREATE UNIQUE INDEX mv_colleges_with_metrics_key ON mv_colleges_with_metrics (uai, session);
CREATE INDEX mv_colleges_with_metrics_geom ON mv_colleges_with_metrics USING gist (geom);

-- REFRESH needs ownership.
ALTER MATERIALIZED VIEW mv_lycees_with_metrics OWNER TO edu_pipeline;
ALTER MATERIALIZED VIEW mv_colleges_with_metrics OWNER TO edu_pipeline;

-- The sites of the UAIs kept so far were lost: the next run loads the directory again and keeps
-- every line.
SELECT monitoring.forget('annuaire');
