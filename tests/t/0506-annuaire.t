#!/bin/bash
# pipelines/annuaire.sh on the real annuaire exports of 2023 (dept 35) and 2026 (dept 94, renamed
# columns): one mapping loads both schemas, every line and every column kept in annuaire_sites,
# multi-site UAIs give one row of annuaire_etablissements by the documented rule (0350852L,
# 0352072M), values checked against the files, WGS84 and Lambert-93 coordinates give the same
# point, idempotency, any other renamed column refused with the table unchanged.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"

a23=$FIX/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv
a26=$FIX/annuaire-education/fr-en-annuaire-education_dept94-ecoles_2026-07.csv
# col FILE NAME UAI: the value of column NAME on the row of UAI (first row), CR removed.
col() {
	awk -F';' -v name="$2" -v uai="$3" 'NR == 1 { sub(/^\xef\xbb\xbf/, ""); for (i = 1; i <= NF; i++)
		if ($i == name) c = i; next } $1 == uai { print $c; exit }' "$1" | tr -d '\r'
}
schema_db t0506
pl_source annuaire "$a23"

pl_run annuaire
is_status 0 "annuaire loads the 2023 schema"
lines=$(($(wc -l <"$a23") - 1))
ulines=$(tail -n +2 "$a23" | cut -d';' -f1 | sort -u | wc -l)
is "$(pl_summary)" "$lines/0/0/0" "every line of the file inserted into annuaire_sites"
is "$(sql 'select count(*) from annuaire_etablissements')" "$ulines" "annuaire_etablissements: one row per UAI"
# Every column of every line, read back by Python's csv module (position, which repeats latitude
# and longitude, aside; the 2023 schema lacks the three columns that 2026 added; text rules make
# runs of blanks one space).
/usr/bin/python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline=""), delimiter=";"))
keep = [i for i, h in enumerate(rows[0]) if h != "position"]
w = csv.writer(sys.stdout, lineterminator="\n")
for r in rows:
    w.writerow([" ".join(r[i].replace("EPSG:", "").split()) for i in keep])' "$a23" >"$T/a23.csv"
psql -X -q --csv -c "select $(sql "select string_agg(case when data_type = 'boolean' then
	format('%I::int', column_name) when column_name = 'code_departement' then format('lpad(%I, 3, \$\$0\$\$)',
	column_name) else quote_ident(column_name) end, ', ' order by ordinal_position)
	from information_schema.columns where table_name = 'annuaire_sites' and column_name not in ('site', 'geom',
	'code_circonscription', 'code_zone_animation_pedagogique', 'libelle_zone_animation_pedagogique')")
	from annuaire_sites" >"$T/sites.csv"
run pl_same_rows "$T/a23.csv" "$T/sites.csv"
is "$(head -n 1 "$OUT")" "$lines $lines $lines" "every column of every line is in annuaire_sites"

# Multi-site establishments: every site kept, one row per UAI by the rule of docs/schema.md.
sites() { sql "select string_agg(site || ' ' || nom || ' (' || nom_commune || ')', '; ' order by site)
	from annuaire_sites where uai = '$1'"; }
file_sites() { awk -F';' -v u="$1" '$1 == u { printf "%s%d %s (%s)", n++ ? "; " : "", n, $2, $10 }' "$a23"; }
for u in 0350852L 0352072M 0350778F; do
	is "$(sites $u)" "$(file_sites $u)" "$u: both sites kept, in file order"
done
is "$(sql "select concat_ws('|', nom, nom_commune, adresse_1, nombre_sites, site_principal, nombre_eleves)
	from annuaire_etablissements where uai = '0350852L'")" \
	"Collège Saint-Joseph|Bruz|3 avenue Alphonse Legault|2|2|$(col "$a23" Nombre_d_eleves 0350852L)" \
	"0350852L: the main Collège Saint-Joseph in Bruz, not its annexe in Saint-Erblon listed first"
is "$(sql "select concat_ws('|', nom, voie_generale, voie_technologique, voie_professionnelle, site_principal)
	from annuaire_etablissements where uai = '0352072M'")" \
	"Lycée polyvalent Institution Saint-Malo La Providence|t|t|t|2" \
	"0352072M: the lycée polyvalent line, with the general, technological and vocational tracks of both"
is "$(sql "select string_agg(concat_ws(' ', voie_generale, voie_technologique, voie_professionnelle), '; '
	order by site) from annuaire_sites where uai = '0352072M'")" "f f t; t t f" \
	"0352072M: each site keeps its own tracks"
is "$(sql "select nom || '|' || nom_commune from annuaire_etablissements where uai = '0350778F'")" \
	"Lycée Assomption|Rennes" "0350778F: the main line listed first stays"
is "$(sql "select count(*) from annuaire_etablissements a join annuaire_sites s using (uai)
	where s.site = 1 and a.nombre_sites = 1 and a.nom is not distinct from s.nom
	and a.voie_generale is not distinct from s.voie_generale and a.geom is not distinct from s.geom")" \
	"$((ulines - 3))" "a UAI with one line is that line"
is "$(sql "select nom || '|' || code_postal || '|' || code_commune || '|' || nombre_eleves || '|' ||
	date_ouverture || '|' || telephone from annuaire_etablissements where uai = '0350963G'")" \
	"$(col "$a23" Nom_etablissement 0350963G)|$(col "$a23" 'Code postal' 0350963G)|$(col "$a23" Code_commune 0350963G)|$(col "$a23" Nombre_d_eleves 0350963G)|$(col "$a23" date_ouverture 0350963G)|$(col "$a23" Telephone 0350963G)" \
	"2023: a collège's name, Code postal, commune, pupils, opening date, phone as in the file"
is "$(sql "select code_departement || ' ' || epsg || ' ' || voie_generale || ' ' || voie_professionnelle
	from annuaire_etablissements where uai = '0351962T'")" "35 2154 false true" \
	"035 → 35, EPSG:2154 → 2154, 0/1 → booleans"
is "$(sql "select count(*) from annuaire_etablissements where date_maj_ligne = '2023-06-08'")" \
	"$ulines" "ISO dates kept"
is "$(pl_outside_france annuaire_etablissements)" 0 "every point lies in France"
is "$(sql "select count(*) from annuaire_etablissements where st_distance(geom::geography,
	st_transform(st_setsrid(st_makepoint(coord_x, coord_y), epsg), 4326)::geography) > 1")" 0 \
	"the WGS84 point and the Lambert-93 coordinates agree within a metre on every row"

before=$(table_sum annuaire_etablissements)
pl_run annuaire
is "$(pl_summary)" "0/0/0/$lines" "the second load inserts and updates nothing"
is "$(table_sum annuaire_etablissements)" "$before" "the table is unchanged"

pl_source annuaire "$a26"
pl_run annuaire
is_status 0 "annuaire loads the 2026 schema with the same mapping"
is "$(pl_count inserted)" "$(($(wc -l <"$a26") - 1))" "every 2026 row inserted"
is "$(pl_count deleted)" "$lines" "replace: every site absent from the new export is deleted"
is "$(sql "select count(*) from annuaire_etablissements where code_departement = '35'")" 0 \
	"the table equals the latest export (no closed establishment lingers)"
u26=$(awk -F';' 'NR == 2 { print $1 }' "$a26")
is "$(sql "select code_postal || '|' || coord_x || '|' || coord_y || '|' || epsg || '|' ||
	coalesce(nombre_eleves::text, 'NULL') from annuaire_etablissements where uai = '$u26'")" \
	"$(col "$a26" Code_postal "$u26")|$(col "$a26" coordX_origine "$u26")|$(col "$a26" coordY_origine "$u26")|2154|NULL" \
	"2026: Code_postal, coordX_origine, coordY_origine, epsg_origine mapped; no pupils column"
is "$(sql "select count(*) from annuaire_etablissements where code_departement = '94'")" \
	"$(($(wc -l <"$a26") - 1))" "Val-de-Marne: 094 → 94"
is "$(pl_outside_france annuaire_etablissements)" 0 "every 2026 point lies in France"

# Without WGS84, the database transforms the Lambert-93 coordinates.
awk -F';' -v OFS=';' -v uai="$u26" '$1 == uai { $51 = ""; $52 = "" } { print }' "$a26" >"$T/lambert.csv"
want=$(sql "select round(st_x(geom)::numeric, 5) || ' ' || round(st_y(geom)::numeric, 5)
	from annuaire_etablissements where uai = '$u26'")
pl_source annuaire "$T/lambert.csv"
pl_run annuaire
is "$(pl_summary)" "0/1/0/$(($(wc -l <"$a26") - 2))" "the row without latitude/longitude is updated"
is "$(sql "select coalesce(latitude::text, 'NULL') || ' ' || round(st_x(geom)::numeric, 5) || ' ' ||
	round(st_y(geom)::numeric, 5) from annuaire_etablissements where uai = '$u26'")" "NULL $want" \
	"its point now comes from Lambert-93 and lands where the WGS84 one was"

before=$(table_sum annuaire_etablissements)
pl_rename_header "$a23" ';Nom_etablissement;' ';Nom_de_l_etablissement;' "$T/drift.csv"
pl_source annuaire "$T/drift.csv"
pl_run annuaire
is_status 65 "a column renamed otherwise is refused"
like_err "schema drift: mapped columns missing from the input: 'Nom_etablissement'" "the missing column is named"
is "$(table_sum annuaire_etablissements)" "$before" "schema drift: the table is unchanged"
