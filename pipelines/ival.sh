#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# IVAL (indicateurs de résultat des lycées GT v2, data.education.gouv.fr CSV export with the
# technical field names) into lycees_indicateurs, upserted on (uai, annee). Older years stay when
# the publisher drops them. Exits with the first failing stage's status.
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/lib.sh"
edu_getopts "$@"

edu_load_args ival
edu_fetch ival "$EDU_WORK/ival.csv"
edu-csv2tsv "$EDU_WORK/ival.csv" |
	edu-normalize -M "$EDU_MAPS/ival.map" |
	edu-pgcopy "${EDU_LOAD[@]}"
edu_stages "${PIPESTATUS[*]}" edu-csv2tsv edu-normalize edu-pgcopy
edu_refresh lycees_indicateurs
