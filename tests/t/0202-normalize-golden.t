#!/bin/bash
# The real excerpts through `edu-csv2tsv | edu-normalize -M pipelines/<source>.map`, in the C and
# the UTF-8 locale: each run succeeds silently and equals its golden file in
# tests/golden/normalize/; then values the maps exist for are checked in the output (decimal
# commas, dd/mm/yyyy, padded INSEE and postal codes, UAI letters, Corsica, DOM, only=).
. "${EDU_ROOT:-.}/tests/lib.sh"
MAPS=$EDU_ROOT/pipelines

# through FIXTURE MAP GOLDEN [WARNING]: converts and normalizes a fixture in both locales;
# stderr is empty, or WARNING alone (the optional columns the fixture lacks).
through() {
	for loc in C C.UTF-8; do
		run_sh "LC_ALL=$loc edu-csv2tsv '$FIX/$1' | LC_ALL=$loc edu-normalize -M '$MAPS/$2'"
		is_status 0 "[$loc] $1 through $2"
		if [ -z "${4:-}" ]; then
			empty_err "[$loc] $1: nothing on stderr"
		else
			is "$(cat "$ERR")" "$4" "[$loc] $1: the expected warnings on stderr"
		fi
		golden "normalize/$3" "[$loc] $1 equals normalize/$3"
	done
}
# value GOLDEN KEYCOL KEY COL EXPECTED: the field COL of the row whose KEYCOL is KEY.
value() {
	local got
	got=$(awk -F'\t' -v kc="$2" -v k="$3" -v c="$4" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col[kc] == k { print $col[c]; exit }' "$GOLD/normalize/$1")
	is "$got" "$5" "$1: $4 of $2=$3 is '$5'"
}
rows() { # rows GOLDEN N: data rows between the header and the end line
	is "$(($(wc -l <"$GOLD/normalize/$1") - 2))" "$2" "$1 has $2 rows"
	is "$(tail -n 1 "$GOLD/normalize/$1")" '\.' "$1 ends with the end-of-data line"
}

through ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv \
	ivac.map ivac.tsv
rows ivac.tsv 500
value ivac.tsv uai 0150018N nom 'COLLEGE DES PORTES DU MIDI'
value ivac.tsv uai 0150018N session 2022
value ivac.tsv uai 0150018N va_taux_reussite_g '-4.0'
value ivac.tsv uai 0150018N nb_candidats_p '\N'
value ivac.tsv uai 0672194W code_departement 67
value ivac.tsv uai 0740071A part_presents_3e_ord_total 96.0

through dvf/valeursfoncieres-2020_excerpt-172rows.txt dvf-raw.map dvf-raw.tsv
rows dvf-raw.tsv 172
# First row: 8000,00 in CEYZERIAT, Code postal 1250, Code commune 72 in département 01.
value dvf-raw.tsv adresse_nom_voie FORTUNAT valeur_fonciere 8000.00
value dvf-raw.tsv adresse_nom_voie FORTUNAT date_mutation 2020-01-07
value dvf-raw.tsv adresse_nom_voie FORTUNAT annee 2020
value dvf-raw.tsv adresse_nom_voie FORTUNAT code_postal 01250
value dvf-raw.tsv adresse_nom_voie FORTUNAT code_commune 01072
value dvf-raw.tsv adresse_nom_voie FORTUNAT numero_disposition 1
value dvf-raw.tsv adresse_nom_voie 'DE LA CHARTREUSE' code_commune 01289
value dvf-raw.tsv adresse_nom_voie 'COLIGNY LE BAS' surface_reelle_bati 50
is "$(head -n 1 "$GOLD/normalize/dvf-raw.tsv" | tr '\t' '\n' | grep -c -e '^Code service CH$' -e '^Identifiant de document$')" 0 \
	"dvf-raw.tsv: the drifting first column is not mapped"
# The newer header (first column renamed) loads with the same map.
run_sh "sed '1s/^Code service CH|/Identifiant de document|/' '$FIX/dvf/valeursfoncieres-2020_excerpt-172rows.txt' |
	edu-csv2tsv | edu-normalize -M '$MAPS/dvf-raw.map'"
is_status 0 "raw DVF with the 'Identifiant de document' header"
same_file "$OUT" "$GOLD/normalize/dvf-raw.tsv" "both raw DVF headers give the same rows"

through dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv dvf.map dvf.tsv
rows dvf.tsv 70
value dvf.tsv id_parcelle 011580000B0910 adresse_numero 454
value dvf.tsv id_parcelle 011580000B0910 code_commune 01158
value dvf.tsv id_parcelle 011580000B0910 longitude 5.907186
value dvf.tsv id_parcelle 011580000B0910 annee 2025
is "$(head -n 1 "$GOLD/normalize/dvf.tsv" | tr '\t' '\n' | sort | tr '\n' ' ')" \
	"$(head -n 1 "$GOLD/normalize/dvf-raw.tsv" | tr '\t' '\n' | grep -v '^raw_' |
		cat - <(printf '%s\n' id_mutation id_parcelle nature_culture nature_culture_speciale \
			ancien_code_commune ancien_nom_commune ancien_id_parcelle longitude latitude) |
		sort | tr '\n' ' ')" \
	"geo-dvf and raw DVF map to the same columns, raw lacking what pipelines/dvf_raw.sh builds from its raw_* columns and what geo-dvf takes from other files"

through insee-communes/commune_2022_first500.csv communes-cog.map communes-cog.tsv
rows communes-cog.tsv 458
is "$(cut -f 1 "$GOLD/normalize/communes-cog.tsv" | sort -u | tr '\n' ' ')" 'COM \. typecom ' \
	"only= keeps the COM rows and drops COMD and COMA"
value communes-cog.tsv code_insee 01001 nom "L'Abergement-Clémenciat"
through insee-communes/commune_2022_selected-lines_corse-arm-dom.csv communes-cog.map \
	communes-cog-corse-arm-dom.tsv
rows communes-cog-corse-arm-dom.tsv 78
value communes-cog-corse-arm-dom.tsv code_insee 2A004 code_departement 2A
value communes-cog-corse-arm-dom.tsv code_insee 2A004 nom Ajaccio
value communes-cog-corse-arm-dom.tsv code_insee 13201 code_parent 13055
value communes-cog-corse-arm-dom.tsv code_insee 13201 typecom ARM
value communes-cog-corse-arm-dom.tsv code_insee 97101 code_departement 971
value communes-cog-corse-arm-dom.tsv code_insee 97209 code_region 02

# The 2023 export lacks the three columns 2026 added, optional in the map: each said once.
through annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv annuaire.map \
	annuaire-2023.tsv "$(for c in code_circonscription code_zone_animation_pedagogique \
		libelle_zone_animation_pedagogique; do
		echo "edu-normalize: stdin:1: optional column '$c' is absent: NULL in $c"
	done)"
rows annuaire-2023.tsv 996
value annuaire-2023.tsv uai 0350122T code_postal 35580
value annuaire-2023.tsv uai 0350122T code_departement 35
value annuaire-2023.tsv uai 0350122T nombre_eleves 143
value annuaire-2023.tsv uai 0350122T epsg 2154
value annuaire-2023.tsv uai 0350122T coord_x 332503.4
value annuaire-2023.tsv uai 0350122T restauration t
value annuaire-2023.tsv uai 0350122T hebergement f
value annuaire-2023.tsv uai 0350122T date_ouverture 1965-10-01
# The 2026 export dropped Nombre_d_eleves, optional in the map: said once, loaded as NULL.
through annuaire-education/fr-en-annuaire-education_dept94-ecoles_2026-07.csv annuaire.map \
	annuaire-2026.tsv "edu-normalize: stdin:1: optional column 'Nombre_d_eleves' is absent: NULL in nombre_eleves"
rows annuaire-2026.tsv 613
value annuaire-2026.tsv uai 0940176F code_postal 94260
value annuaire-2026.tsv uai 0940176F nombre_eleves '\N'
value annuaire-2026.tsv uai 0940176F coord_y 6850327.2
value annuaire-2026.tsv uai 0940176F epsg 2154
value annuaire-2026.tsv uai 0940176F date_maj_ligne 2026-05-27
is "$(head -n 1 "$GOLD/normalize/annuaire-2023.tsv")" \
	"$(head -n 1 "$GOLD/normalize/annuaire-2026.tsv")" \
	"one map gives the same columns for the 2023 and the 2026 schema"

# Built fixtures (no real rows exist): the maps must still read them.
# ONISEP in its two header shapes (docs/DATA_SOURCE_ONISEP.md): French labels (2024) and the
# API's keys (2026), the same establishments, the same columns out; each shape lacks the columns
# of the other (the 2024 label, the 2026 dates), said once each.
through onisep/ideo-structures-secondaire_built.csv onisep.map onisep.tsv \
	"edu-normalize: stdin:1: optional column 'date_creation' is absent: NULL in date_creation
edu-normalize: stdin:1: optional column 'date_de_modification' is absent: NULL in date_modification"
through onisep/ideo-structures-secondaire_2026-keys_built.csv onisep.map onisep-2026.tsv \
	"edu-normalize: stdin:1: optional column 'label génération 2024' is absent: NULL in label_generation_2024"
rows onisep.tsv 63
rows onisep-2026.tsv 63
value onisep.tsv uai 0352069J code_commune 35238
value onisep.tsv uai 0352069J longitude -1.6651100452186143
value onisep.tsv uai 0352069J siret 33889603800019
value onisep.tsv uai 0350795Z langues '{"Allemand","Anglais","Espagnol","Italien"}'
value onisep.tsv uai 0350795Z etablissements_lies \
	'{"Section professionnelle du Lycée polyvalent privé Jean-Baptiste de La Salle"}'
value onisep.tsv uai 0352069J label_generation_2024 oui
value onisep-2026.tsv uai 0352069J date_creation 1980-09-01
value onisep-2026.tsv uai 0352069J date_modification 2023-06-08
# shape_cols GOLDEN: the file without the columns only one shape has.
shape_cols() {
	awk -F'\t' -v OFS='\t' 'NR == 1 { for (i = 1; i <= NF; i++) skip[i] = $i ~ /^(label_generation_2024|date_creation|date_modification)$/ }
		{ out = ""; for (i = 1; i <= NF; i++) if (!skip[i]) out = out (out == "" ? "" : OFS) $i; print out }' "$GOLD/normalize/$1"
}
is "$(shape_cols onisep-2026.tsv)" "$(shape_cols onisep.tsv)" \
	"the 2024 labels and the 2026 keys give the same header and rows but for their own columns"
is "$(head -n 1 "$GOLD/normalize/onisep-2026.tsv")" "$(head -n 1 "$GOLD/normalize/onisep.tsv")" \
	"both shapes give the same columns, in the same order"
through ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_export_built.csv ival.map \
	ival.tsv
rows ival.tsv 150
value ival.tsv uai 0530048P annee 2024
value ival.tsv uai 0530048P code_commune 53130
value ival.tsv uai 0530048P taux_acces_1ere 96
