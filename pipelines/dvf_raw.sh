#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# One year of the raw DGFiP "valeurs foncières" file ('|', decimal commas, dd/mm/yyyy, codes not
# zero-padded; published as .txt.zip) into its partition of dvf_mutations, recorded as the unit
# dvf_raw:YEAR, replacing only that year's rows. The columns geo-dvf adds to this file are built
# as Etalab builds them (etalab_columns below), so that a year loads the same from either source.
# The first header column was renamed (Code service CH, then Identifiant de document); the
# mapping does not use it, so both headers load. A year is kept unless -D drops it.
#   pipelines/dvf_raw.sh [-DhnR] [YEAR] YEAR defaults to the year of the file's first mutation
#   -D  delete YEAR (then required) from dvf_mutations instead of loading it; nothing is downloaded
# shellcheck disable=SC2034 # read by lib.sh's edu_getopts
EDU_OPTS=D EDU_ARGS='[YEAR]'
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/lib.sh"
edu_getopts "$@"
shift $((OPTIND - 1))
edu_drop_opt dvf_raw dvf_mutations "$@"

# What geo-dvf has and the raw file only implies, built from edu-normalize's output (codes padded,
# values trimmed, commune code complete) as Etalab's datagouv/dvf builds it:
#   adresse_nom_voie   the street type and name joined with a space (RUE + DE LA PAIX)
#   adresse_code_voie  zero-padded to 4 characters
#   id_parcelle        commune (5) + section prefix padded to 3 (000 when empty) + section padded
#                      to 2 + plan number padded to 4; NULL when a part is missing or too long
#                      (where Etalab would write a wrong identifier)
#   nature_culture, nature_culture_speciale  the labels of the codes (pipelines/dvf-cultures.tsv)
# The raw_* helper columns of dvf-raw.map are consumed here. A row whose code has no label is
# counted on stderr. A stream cut before its end line stays cut: edu-pgcopy then loads nothing.
etalab_columns() {
	awk -F '\t' -v OFS='\t' -v prog="$EDU_SCRIPT" -v labels="$EDU_MAPS/dvf-cultures.tsv" '
		function pad(s, n) { while (length(s) < n) s = "0" s; return s }
		function get(name) { return $col[name] == "\\N" ? "" : $col[name] }
		function label(kind, code) {
			if (code == "") return "\\N"
			if ((kind, code) in lab) return lab[kind, code]
			unknown[kind]++
			return "\\N"
		}
		BEGIN {
			while ((getline line < labels) > 0)
				if (line !~ /^#/) { split(line, f, "\t"); lab[f[1], f[2]] = f[3] }
			close(labels)
		}
		NR == 1 {
			for (i = 1; i <= NF; i++) col[$i] = i
			split("raw_type_voie raw_prefixe_section raw_section raw_no_plan adresse_nom_voie " \
				"adresse_code_voie code_commune code_nature_culture code_nature_culture_speciale", need, " ")
			for (i in need) if (!(need[i] in col)) {
				print prog ": etalab_columns: no column " need[i] " in the input" > "/dev/stderr"
				exit 65
			}
			n = 0
			for (i = 1; i <= NF; i++) if ($i !~ /^raw_/) keep[++n] = i
			out = ""
			for (i = 1; i <= n; i++) out = out $keep[i] OFS
			print out "id_parcelle" OFS "nature_culture" OFS "nature_culture_speciale"
			next
		}
		$0 == "\\." {
			if (unknown["nature_culture"] + unknown["nature_culture_speciale"] + badid)
				printf "%s: %d culture codes, %d special culture codes without a label, %d parcels " \
					"without a complete identifier: NULL\n", prog, unknown["nature_culture"],
					unknown["nature_culture_speciale"], badid > "/dev/stderr"
			print
			next
		}
		{
			t = get("raw_type_voie"); v = get("adresse_nom_voie")
			if (t != "") $col["adresse_nom_voie"] = v == "" ? t : t " " v
			c = get("adresse_code_voie")
			if (c != "") $col["adresse_code_voie"] = pad(c, 4)
			commune = get("code_commune"); p = get("raw_prefixe_section")
			s = get("raw_section"); plan = get("raw_no_plan")
			id = "\\N"
			if (commune != "" && s != "" && plan != "") {
				id = commune (p == "" ? "000" : pad(p, 3)) pad(s, 2) pad(plan, 4)
				if (length(id) != 14) id = "\\N"
			}
			if (id == "\\N" && (commune s plan) != "") badid++
			out = ""
			for (i = 1; i <= n; i++) out = out $keep[i] OFS
			print out id OFS label("nature_culture", get("code_nature_culture")) OFS \
				label("nature_culture_speciale", get("code_nature_culture_speciale"))
		}'
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
	edu-normalize -M "$EDU_MAPS/dvf-raw.map" |
	etalab_columns |
	edu-pgcopy -W "${EDU_LOAD[@]}"
edu_stages "${PIPESTATUS[*]}" edu-csv2tsv edu-normalize etalab_columns edu-pgcopy
edu_refresh dvf_mutations
