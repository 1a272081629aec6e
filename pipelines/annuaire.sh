#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# The annuaire de l'éducation (data.education.gouv.fr CSV export, label header) into
# annuaire_sites, one row per line of the file, replaced whole in one transaction (the export is
# the full directory, so an establishment that closed disappears; the shrink guard refuses a file
# far smaller than the table). A multi-site establishment is listed once per site under one UAI:
# each line is kept, numbered by number_sites below; the view annuaire_etablissements gives one
# row per UAI by the rule of docs/schema.md. One mapping file accepts both the 2023 and the 2026
# column names (Code postal / Code_postal, coordonnee_X / coordX_origine, ...); any other renamed
# column is refused. The database computes the point from WGS84, or from Lambert-93.
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/lib.sh"
edu_getopts "$@"

# number_sites: adds the column site, the line's rank among the lines of its UAI in file order
# (1, 2, ...), which with the UAI is the key of annuaire_sites.
number_sites() {
	awk -F '\t' -v OFS='\t' -v prog="$EDU_SCRIPT" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "uai") k = i
			if (!k) { print prog ": number_sites: no column uai in the input" > "/dev/stderr"; exit 65 }
			print $0, "site"; next }
		$0 == "\\." { print; next }
		{ print $0, ++n[$k] }'
}

edu_load_args annuaire
edu_fetch annuaire "$EDU_WORK/annuaire.csv"
edu-csv2tsv "$EDU_WORK/annuaire.csv" |
	edu-normalize -M "$EDU_MAPS/annuaire.map" |
	number_sites |
	edu-pgcopy "${EDU_LOAD[@]}"
edu_stages "${PIPESTATUS[*]}" edu-csv2tsv edu-normalize number_sites edu-pgcopy
edu_refresh annuaire_sites
