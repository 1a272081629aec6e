#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# The annuaire de l'éducation (data.education.gouv.fr CSV export, label header) into
# annuaire_etablissements, replaced whole (the export is the full directory, so an establishment
# that closed disappears; the shrink guard refuses a file far smaller than the table). One mapping file accepts both the 2023 and the 2026
# column names (Code postal / Code_postal, coordonnee_X / coordX_origine, ...); any other renamed
# column is schema drift and is refused. Multi-site establishments repeat a UAI: the first row
# is kept. The database computes the point from WGS84, or from Lambert-93 when only that is given.
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/lib.sh"
edu_getopts "$@"

edu_load_args annuaire
edu_fetch annuaire "$EDU_WORK/annuaire.csv"
edu-csv2tsv "$EDU_WORK/annuaire.csv" |
	edu-normalize -M "$EDU_MAPS/annuaire.map" |
	edu_first_per_key uai |
	edu-pgcopy "${EDU_LOAD[@]}"
edu_stages "${PIPESTATUS[*]}" edu-csv2tsv edu-normalize edu_first_per_key edu-pgcopy
edu_refresh annuaire_etablissements
