#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# One year of the raw DGFiP "valeurs foncières" file ('|', decimal commas, dd/mm/yyyy, codes not
# zero-padded; published as .txt.zip) into dvf_mutations, replacing only that year's rows. The
# first header column was renamed (Code service CH, then Identifiant de document); the mapping
# does not use it, so both headers load.
#   pipelines/dvf_raw.sh [-R] [YEAR]  YEAR defaults to the year of the file's first mutation
# shellcheck disable=SC2034 # read by lib.sh's usage
EDU_ARGS='[YEAR]'
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/lib.sh"
edu_getopts "$@"
shift $((OPTIND - 1))

# The raw file splits the street into "Type de voie" (RUE) and "Voie" (DE LA PAIX); geo-dvf, built
# by Etalab from this file, joins them with a space. Joined here too, so that both formats give the
# same adresse_nom_voie. A header without both columns passes as is (edu-normalize names the drift).
join_voie() {
	awk -F '\t' -v OFS='\t' '
		NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "Type de voie") t = i; if ($i == "Voie") v = i }
			print; next }
		t && v && $0 != "\\." && $t != "\\N" { $v = $v == "\\N" ? $t : $t " " $v }
		{ print }'
}

edu_fetch dvf_raw "$EDU_WORK/dvf_raw.download" ${1:+-y "$1"}
# A zip is extracted whole (and its CRC checked) before anything reads it; a plain .txt is used as is.
if [ "$(head -c 2 "$EDU_WORK/dvf_raw.download")" = PK ]; then
	unzip -p "$EDU_WORK/dvf_raw.download" >"$EDU_WORK/dvf_raw.txt" || edu_fail 65 "dvf_raw: not a valid zip file"
else
	mv "$EDU_WORK/dvf_raw.download" "$EDU_WORK/dvf_raw.txt"
fi
year=${1:-$(edu_year_of "$EDU_WORK/dvf_raw.txt" '|' 'Date mutation' 7)}
[ -n "$year" ] || edu_fail 65 "dvf_raw.txt: schema drift: no date in a 'Date mutation' column to take the year from"
edu_load_args dvf_raw "$year"
edu-csv2tsv -d '|' "$EDU_WORK/dvf_raw.txt" |
	join_voie |
	edu-normalize -M "$EDU_MAPS/dvf-raw.map" |
	edu-pgcopy -W "${EDU_LOAD[@]}"
edu_stages "${PIPESTATUS[*]}" edu-csv2tsv join_voie edu-normalize edu-pgcopy
edu_refresh dvf_mutations
