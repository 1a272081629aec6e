#!/bin/bash
# pipelines/dvf.sh (geo-dvf, gzipped CSV) and pipelines/dvf_raw.sh (raw DGFiP '|' file, zipped):
# every row's date, codes and price checked against the raw file (decimal commas, dd/mm/yyyy,
# postal codes and commune numbers padded), points in France, both raw headers (Code service CH
# and Identifiant de document) load, replacement by year leaves other years alone, idempotency,
# schema drift and a wrong year refused with the table unchanged.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"

geo=$FIX/dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv
raw=$FIX/dvf/valeursfoncieres-2020_excerpt-172rows.txt
pl_gzip "$geo" "$T/full.csv.gz"
pl_zip "$raw" "$T/valeursfoncieres-2020.txt.zip" valeursfoncieres-2020.txt
pl_db t0505
pl_source dvf "$T/full.csv.gz"
pl_source dvf_raw "$T/valeursfoncieres-2020.txt.zip"
rows() { # rows YEAR: date, commune, postal code, price of every row, sorted
	sql "select string_agg(r, ';' order by r) from (select concat_ws(' ', date_mutation, code_commune,
		code_postal, coalesce(valeur_fonciere::text, '-')) r from dvf_mutations where annee = $1) x"
}
year() { echo "(select * from dvf_mutations where annee = $1)"; }

pl_run dvf
is_status 0 "dvf loads a gzipped geo-dvf year"
is "$(pl_summary)" "70/0/0/0" "summary line: 70 rows inserted"
is "$(sql 'select count(*) from dvf_mutations where annee = 2025')" "$(($(wc -l <"$geo") - 1))" \
	"one row per line, all in 2025 (the year of the first mutation)"
is "$(rows 2025)" "$(awk -F, 'NR > 1 { print $2 " " $11 " " $10 " " ($5 == "" ? "-" : $5) }' "$geo" |
	LC_ALL=C sort | paste -sd';')" "every row's date, commune, postal code and price as in the file"
is "$(sql "select count(*) from dvf_mutations where annee = 2025 and
	abs(st_x(geom) - longitude) + abs(st_y(geom) - latitude) < 1e-9")" \
	"$(awk -F, 'NR > 1 && $39 != ""' "$geo" | wc -l)" "a point for every row with coordinates"
is "$(pl_outside_france dvf_mutations)" 0 "every point lies in France"

pl_run dvf_raw
is_status 0 "dvf_raw loads a zipped DGFiP year (Code service CH header)"
is "$(pl_summary)" "172/0/0/0" "summary line: 172 rows inserted"
# The raw file's conventions, undone by awk here and by the mapping in the pipeline.
awk -F'|' 'NR > 1 { split($9, d, "/"); v = $11; sub(",", ".", v)
	printf "%s-%s-%s %s%03d %05d %s\n", d[3], d[2], d[1], $19, $20, $17, (v == "" ? "-" : v) }' "$raw" |
	LC_ALL=C sort | paste -sd';' >"$T/raw.want"
is "$(rows 2020)" "$(cat "$T/raw.want")" \
	"every row: dd/mm/yyyy → ISO, decimal comma → point, commune = dept + 3 digits, postal code padded"
is "$(sql "select code_postal || ' ' || code_commune || ' ' || valeur_fonciere || ' ' || numero_disposition
	from dvf_mutations where annee = 2020 and adresse_nom_voie = 'FORTUNAT' and date_mutation = '2020-01-07'")" \
	"01250 01072 8000.00 1" "the first raw row: 1250 → 01250, 72 → 01072, 8000,00 → 8000.00, 000001 → 1"
# geo-dvf's adresse_nom_voie is "Type de voie" and "Voie" joined (RUE DE LA CHARTREUSE): so is the raw one.
is "$(sql "select string_agg(distinct adresse_nom_voie, ';') from dvf_mutations where annee = 2020 and
	code_commune = '01289' and date_mutation in ('2020-01-07', '2020-01-10') and valeur_fonciere in (75000, 64000)")" \
	"RUE DE LA CHARTREUSE" "the street type of the raw file is kept, as geo-dvf does"
is "$(sql "select string_agg(v, ';' order by v collate \"C\") from (select coalesce(adresse_nom_voie, '-') v from dvf_mutations where annee = 2020) x")" \
	"$(awk -F'|' 'NR > 1 { v = $14 == "" ? $16 : $16 == "" ? $14 : $14 " " $16; gsub(/  +/, " ", v); print v == "" ? "-" : v }' "$raw" |
		LC_ALL=C sort | paste -sd';')" "every row's street: type and name joined"
is "$(sql 'select count(*) from dvf_mutations where annee = 2020 and geom is not null')" 0 \
	"the raw file has no coordinates: no point"
sum2025=$(table_sum "$(year 2025)")
sum2020=$(table_sum "$(year 2020)")

pl_run dvf_raw
is_status 0 "a second load of the same raw year"
is "$(pl_count inserted)/$(pl_count deleted)" "0/0" "the second load inserts and deletes nothing"
is "$(table_sum "$(year 2020)")" "$sum2020" "2020 unchanged"

# The newer header: only the first (unmapped) column's name differs.
pl_rename_header "$raw" '^Code service CH|' 'Identifiant de document|' "$T/new-header.txt"
pl_zip "$T/new-header.txt" "$T/new.zip" valeursfoncieres-2020.txt
pl_source dvf_raw "$T/new.zip"
pl_run dvf_raw
is_status 0 "the Identifiant de document header loads too"
is "$(table_sum "$(year 2020)")" "$sum2020" "both headers give the same 2020 rows"
is "$(table_sum "$(year 2025)")" "$sum2025" "replacing 2020 leaves 2025 alone"

before=$(table_sum dvf_mutations)
pl_rename_header "$raw" '|Valeur fonciere|' '|Valeur fonciere (EUR)|' "$T/drift.txt"
pl_zip "$T/drift.txt" "$T/drift.zip" valeursfoncieres-2020.txt
pl_source dvf_raw "$T/drift.zip"
pl_run dvf_raw
is_status 65 "raw: any other renamed column is refused"
like_err "schema drift: mapped columns missing from the input: 'Valeur fonciere'" "the missing column is named"
is "$(table_sum dvf_mutations)" "$before" "raw drift: the table is unchanged"

pl_rename_header "$geo" ',valeur_fonciere,' ',valeur,' "$T/drift.csv"
pl_gzip "$T/drift.csv" "$T/drift.csv.gz"
pl_source dvf "$T/drift.csv.gz"
pl_run dvf
is_status 65 "geo-dvf: a renamed column is refused"
like_err "schema drift: mapped columns missing from the input: 'valeur_fonciere'" "the missing column is named"
is "$(table_sum dvf_mutations)" "$before" "geo-dvf drift: the table is unchanged"

pl_source dvf "$T/full.csv.gz"
pl_run dvf 2024
is_status 65 "a file of another year than the one asked is refused"
like_err 'row outside the scope -w annee=2024' "edu-pgcopy names the scope"
is "$(table_sum dvf_mutations)" "$before" "wrong year: the table is unchanged"

head -c 1000 "$T/full.csv.gz" >"$T/cut.csv.gz"
pl_source dvf "$T/cut.csv.gz"
pl_run dvf
is_status 65 "a truncated gzip file is refused before anything reads it"
is "$(table_sum dvf_mutations)" "$before" "truncated gzip: the table is unchanged"
