#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# One year of geolocated DVF (Etalab geo-dvf full.csv.gz) into its partition of dvf_mutations,
# recorded as the unit dvf:YEAR. Only that year's rows are replaced: id_mutation is not stable
# between releases, so rows cannot be upserted. A year the publisher stops publishing is kept
# unless -D drops it.
#   pipelines/dvf.sh [-DhnR] [YEAR] YEAR defaults to the year of the file's first mutation
#   -D  delete YEAR (then required) from dvf_mutations instead of loading it; nothing is downloaded
# The archive is fully decompressed (and its CRC checked) before anything reads it.
# shellcheck disable=SC2034 # read by lib.sh's edu_getopts
EDU_OPTS=D EDU_ARGS='[YEAR]'
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/lib.sh"
edu_getopts "$@"
shift $((OPTIND - 1))
edu_drop_opt dvf dvf_mutations "$@"

edu_fetch dvf "$EDU_WORK/dvf.csv.gz" ${1:+-y "$1"}
gzip -dc "$EDU_WORK/dvf.csv.gz" >"$EDU_WORK/dvf.csv" || edu_fail 65 "dvf.csv.gz: not a valid gzip file"
year=${1:-$(edu_year_of "$EDU_WORK/dvf.csv" , date_mutation 1)}
[ -n "$year" ] || edu_fail 65 "dvf.csv: schema drift: no date in a date_mutation column to take the year from"
edu_load_args dvf "$year"
edu-csv2tsv "$EDU_WORK/dvf.csv" |
	edu-normalize -M "$EDU_MAPS/dvf.map" |
	edu-pgcopy -W "${EDU_LOAD[@]}"
edu_stages "${PIPESTATUS[*]}" edu-csv2tsv edu-normalize edu-pgcopy
edu_refresh dvf_mutations
