-- eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
-- The columns the publishers publish and the loads dropped: IVAL's results per series (présents,
-- taux and valeur ajoutée of réussite and mentions) and the technological mentions; IVAC's
-- shares of pupils present in 3e (G, P, SEGPA) and the labels beside its codes; ONISEP's
-- postal box and region code. Each table keeps its columns and gains these after them. What a
-- publisher's file holds and is still not loaded is listed, with why, in docs/DATA_SOURCE_*.md.

ALTER TABLE lycees_indicateurs
	ADD COLUMN IF NOT EXISTS presents_l integer,
	ADD COLUMN IF NOT EXISTS presents_es integer,
	ADD COLUMN IF NOT EXISTS presents_s integer,
	ADD COLUMN IF NOT EXISTS presents_gnle integer,
	ADD COLUMN IF NOT EXISTS presents_sti2d integer,
	ADD COLUMN IF NOT EXISTS presents_std2a integer,
	ADD COLUMN IF NOT EXISTS presents_stmg integer,
	ADD COLUMN IF NOT EXISTS presents_stl integer,
	ADD COLUMN IF NOT EXISTS presents_st2s integer,
	ADD COLUMN IF NOT EXISTS presents_s2tmd integer,
	ADD COLUMN IF NOT EXISTS presents_sthr integer,
	ADD COLUMN IF NOT EXISTS taux_reu_l numeric,
	ADD COLUMN IF NOT EXISTS taux_reu_es numeric,
	ADD COLUMN IF NOT EXISTS taux_reu_s numeric,
	ADD COLUMN IF NOT EXISTS taux_reu_gnle numeric,
	ADD COLUMN IF NOT EXISTS taux_reu_sti2d numeric,
	ADD COLUMN IF NOT EXISTS taux_reu_std2a numeric,
	ADD COLUMN IF NOT EXISTS taux_reu_stmg numeric,
	ADD COLUMN IF NOT EXISTS taux_reu_stl numeric,
	ADD COLUMN IF NOT EXISTS taux_reu_st2s numeric,
	ADD COLUMN IF NOT EXISTS taux_reu_s2tmd numeric,
	ADD COLUMN IF NOT EXISTS taux_reu_sthr numeric,
	ADD COLUMN IF NOT EXISTS va_reu_l numeric,
	ADD COLUMN IF NOT EXISTS va_reu_es numeric,
	ADD COLUMN IF NOT EXISTS va_reu_s numeric,
	ADD COLUMN IF NOT EXISTS va_reu_gnle numeric,
	ADD COLUMN IF NOT EXISTS va_reu_sti2d numeric,
	ADD COLUMN IF NOT EXISTS va_reu_std2a numeric,
	ADD COLUMN IF NOT EXISTS va_reu_stmg numeric,
	ADD COLUMN IF NOT EXISTS va_reu_stl numeric,
	ADD COLUMN IF NOT EXISTS va_reu_st2s numeric,
	ADD COLUMN IF NOT EXISTS va_reu_s2tmd numeric,
	ADD COLUMN IF NOT EXISTS va_reu_sthr numeric,
	ADD COLUMN IF NOT EXISTS taux_men_l numeric,
	ADD COLUMN IF NOT EXISTS taux_men_es numeric,
	ADD COLUMN IF NOT EXISTS taux_men_s numeric,
	ADD COLUMN IF NOT EXISTS taux_men_gnle numeric,
	ADD COLUMN IF NOT EXISTS taux_men_sti2d numeric,
	ADD COLUMN IF NOT EXISTS taux_men_std2a numeric,
	ADD COLUMN IF NOT EXISTS taux_men_stmg numeric,
	ADD COLUMN IF NOT EXISTS taux_men_stl numeric,
	ADD COLUMN IF NOT EXISTS taux_men_st2s numeric,
	ADD COLUMN IF NOT EXISTS taux_men_s2tmd numeric,
	ADD COLUMN IF NOT EXISTS taux_men_sthr numeric,
	ADD COLUMN IF NOT EXISTS va_men_l numeric,
	ADD COLUMN IF NOT EXISTS va_men_es numeric,
	ADD COLUMN IF NOT EXISTS va_men_s numeric,
	ADD COLUMN IF NOT EXISTS va_men_gnle numeric,
	ADD COLUMN IF NOT EXISTS va_men_sti2d numeric,
	ADD COLUMN IF NOT EXISTS va_men_std2a numeric,
	ADD COLUMN IF NOT EXISTS va_men_stmg numeric,
	ADD COLUMN IF NOT EXISTS va_men_stl numeric,
	ADD COLUMN IF NOT EXISTS va_men_st2s numeric,
	ADD COLUMN IF NOT EXISTS va_men_s2tmd numeric,
	ADD COLUMN IF NOT EXISTS va_men_sthr numeric,
	ADD COLUMN IF NOT EXISTS nb_mentions_tb_avecf_t integer,
	ADD COLUMN IF NOT EXISTS nb_mentions_tb_sansf_t integer,
	ADD COLUMN IF NOT EXISTS nb_mentions_b_t integer,
	ADD COLUMN IF NOT EXISTS nb_mentions_ab_t integer;

ALTER TABLE colleges_indicateurs
	ADD COLUMN IF NOT EXISTS libelle_region_academique text,
	ADD COLUMN IF NOT EXISTS libelle_academie text,
	ADD COLUMN IF NOT EXISTS libelle_departement text,
	ADD COLUMN IF NOT EXISTS part_presents_3e_ord_g numeric,
	ADD COLUMN IF NOT EXISTS part_presents_3e_ord_p numeric,
	ADD COLUMN IF NOT EXISTS part_presents_3e_segpa_total numeric;

ALTER TABLE onisep_etablissements
	ADD COLUMN IF NOT EXISTS boite_postale text,
	ADD COLUMN IF NOT EXISTS code_region text;

-- The app's names show the new columns too (after the old ones: CREATE OR REPLACE VIEW may only
-- add columns at the end).
CREATE OR REPLACE VIEW aggregated_data_lycees_2024 AS
	SELECT * FROM lycees_indicateurs WHERE annee = 2024;
CREATE OR REPLACE VIEW metrics_colleges_2024 AS
	SELECT * FROM colleges_indicateurs WHERE session = 2024;

-- The rows loaded so far lack these columns: the next run loads these sources again and fills
-- them, rather than when they next change (IVAL and IVAC, once a year).
SELECT monitoring.forget('ival'), monitoring.forget('ivac'), monitoring.forget('onisep');
