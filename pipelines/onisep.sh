#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# ONISEP Idéo-Structures d'enseignement secondaire (CSV: BOM, ';', labels as header) into
# onisep_etablissements, replaced whole: the file lists every establishment, so a closed one
# disappears (the shrink guard refuses a file far smaller than the table). A renamed column is
# schema drift: edu-normalize refuses it before anything is written. Exits with the first failing
# stage's status.
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/lib.sh"
edu_getopts "$@"

edu_load_args onisep
edu_fetch onisep "$EDU_WORK/onisep.csv"
edu-csv2tsv "$EDU_WORK/onisep.csv" |
	edu-normalize -M "$EDU_MAPS/onisep.map" |
	edu-pgcopy "${EDU_LOAD[@]}"
edu_stages "${PIPESTATUS[*]}" edu-csv2tsv edu-normalize edu-pgcopy
edu_refresh onisep_etablissements
