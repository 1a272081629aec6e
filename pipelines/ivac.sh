#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# IVAC (indicateurs de valeur ajoutée des collèges, data.education.gouv.fr CSV export with label
# header) into colleges_indicateurs, upserted on (uai, session): a new session adds rows, a
# republished one updates only the rows that changed. Exits with the first failing stage's status.
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/lib.sh"
edu_getopts "$@"

edu_load_args ivac
edu_fetch ivac "$EDU_WORK/ivac.csv"
edu-csv2tsv "$EDU_WORK/ivac.csv" |
	edu-normalize -M "$EDU_MAPS/ivac.map" |
	edu-pgcopy "${EDU_LOAD[@]}"
edu_stages "${PIPESTATUS[*]}" edu-csv2tsv edu-normalize edu-pgcopy
edu_refresh colleges_indicateurs
