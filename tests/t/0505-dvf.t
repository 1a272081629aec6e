#!/bin/bash
# pipelines/dvf.sh (geo-dvf, gzipped CSV) and pipelines/dvf_raw.sh (raw DGFiP '|' file, zipped):
# every row's date, codes and price checked against the raw file (decimal commas, dd/mm/yyyy,
# postal codes and commune numbers padded), every geo-dvf column loaded, the lots and Carrez
# surfaces of both, each year in its own partition and recorded as its own unit, points in
# France, both raw headers (Code service CH and Identifiant de document) load, a raw year loads
# the same as Etalab's geo-dvf of it, replacement by year leaves other years alone, idempotency,
# schema drift and a wrong year refused with the table unchanged, -D drops a year.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"

geo=$FIX/dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv
raw=$FIX/dvf/valeursfoncieres-2020_excerpt-172rows.txt
pl_gzip "$geo" "$T/full.csv.gz"
mkdir -p "$T/geo/2025" "$T/raw"
cp "$T/full.csv.gz" "$T/geo/2025/full.csv.gz"
pl_zip "$raw" "$T/raw/valeursfoncieres-2020.txt.zip" valeursfoncieres-2020.txt
schema_db t0505
# Per-year URLs, as published: the year given to the script (as the production job gives it)
# picks the file and makes the unit dvf:YEAR.
pl_source dvf "$T/geo/{year}/full.csv.gz"
pl_source dvf_raw "$T/raw/valeursfoncieres-{year}.txt.zip"
rows() { # rows YEAR: date, commune, postal code, price of every row, sorted
	sql "select string_agg(r, ';' order by r) from (select concat_ws(' ', date_mutation, code_commune,
		code_postal, coalesce(valeur_fonciere::text, '-')) r from dvf_mutations where annee = $1) x"
}
year() { echo "(select * from dvf_mutations where annee = $1)"; }

pl_run dvf 2025
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
# Every one of the 40 columns, read back and compared with the file by Python's csv module:
# numbers as numbers, empty as NULL, nothing dropped.
psql -X -q --csv -c "select $(head -n 1 "$geo") from dvf_mutations where annee = 2025" >"$T/geo-db.csv"
run pl_same_rows "$geo" "$T/geo-db.csv"
is "$(head -n 1 "$OUT")" "70 70 70" "every column of every geo-dvf row is in the table, lots and Carrez surfaces included"
is "$(sql "select string_agg(distinct tableoid::regclass::text, ' ') from dvf_mutations")" dvf_mutations_2025 \
	"the year has its own partition, created at load time"
is "$(sql "select count(*) from monitoring.data_sources where id = 'dvf:2025' and last_status = 'imported'")" 1 \
	"the load is recorded as the unit dvf:2025"

pl_run dvf_raw 2020
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
# Raw line 62: a flat with its first lot and that lot's Carrez surface (48,48).
IFS='|' read -r -a l62 < <(sed -n 62p "$raw")
is "$(sql "select lot1_numero || ' ' || lot1_surface_carrez || ' ' || surface_reelle_bati from dvf_mutations
	where annee = 2020 and date_mutation = '2020-01-08' and adresse_nom_voie = 'RUE EDGAR QUINET'")" \
	"${l62[24]} ${l62[25]/,/.} ${l62[38]}" "raw line 62: lot ${l62[24]}, Carrez ${l62[25]} m², built ${l62[38]} m²"
is "$(sql "select count(*) from dvf_mutations where annee = 2020 and lot1_numero is not null")" \
	"$(awk -F'|' 'NR > 1 && $25 != ""' "$raw" | wc -l)" "every raw row with a first lot keeps it"

# The same rows as Etalab publishes them: the raw excerpt converted to geo-dvf by an independent
# reading of Etalab's rules (datagouv/dvf improve-csv.js and lib/parse.js; the labels of the codes
# the excerpt uses, typed from its table-cultures*.csv), loaded through dvf.map. Both sources
# give the same 2020, column for column, but for what Etalab takes from other files (id_mutation,
# coordinates, ancien_*) and the scale of numbers (8000 against 8000,00).
/usr/bin/python3 - "$raw" >"$T/etalab-2020.csv" <<'PY'
import csv, sys
cult = {"AB": "terrains a bâtir", "AG": "terrains d'agrément", "BS": "taillis sous futaie",
        "BT": "taillis simples", "J": "jardins", "L": "landes", "P": "prés", "S": "sols", "T": "terres"}
spec = {"JARD": "Jardin d'agrément"}
num = lambda v: ("%.15g" % float(v.replace(",", "."))) if v else ""
out = csv.writer(sys.stdout, lineterminator="\n")
cols = ("id_mutation,date_mutation,numero_disposition,nature_mutation,valeur_fonciere,adresse_numero,"
        "adresse_suffixe,adresse_nom_voie,adresse_code_voie,code_postal,code_commune,nom_commune,"
        "code_departement,ancien_code_commune,ancien_nom_commune,id_parcelle,ancien_id_parcelle,"
        "numero_volume,lot1_numero,lot1_surface_carrez,lot2_numero,lot2_surface_carrez,lot3_numero,"
        "lot3_surface_carrez,lot4_numero,lot4_surface_carrez,lot5_numero,lot5_surface_carrez,nombre_lots,"
        "code_type_local,type_local,surface_reelle_bati,nombre_pieces_principales,code_nature_culture,"
        "nature_culture,code_nature_culture_speciale,nature_culture_speciale,surface_terrain,longitude,"
        "latitude").split(",")
out.writerow(cols)
seq, last = 0, None
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"), delimiter="|"):
    d = r["Date mutation"]
    date = d[6:10] + "-" + d[3:5] + "-" + d[0:2]
    if (r["Valeur fonciere"], date) != last:
        seq, last = seq + 1, (r["Valeur fonciere"], date)
    commune = r["Code departement"].zfill(2) + r["Code commune"].zfill(3)
    lots = []
    for n in ("1er", "2eme", "3eme", "4eme", "5eme"):
        lots += [r[n + " lot"], num(r["Surface Carrez du " + n + " lot"])]
    out.writerow(["2020-%d" % seq, date, r["No disposition"], r["Nature mutation"],
        num(r["Valeur fonciere"]), r["No voie"], r["B/T/Q"],
        " ".join(x for x in (r["Type de voie"], r["Voie"]) if x), r["Code voie"].zfill(4) if r["Code voie"] else "",
        r["Code postal"].zfill(5), commune, r["Commune"], commune[:2], "", "",
        commune + (r["Prefixe de section"].zfill(3) or "000") + r["Section"].zfill(2) + r["No plan"].zfill(4), "",
        r["No Volume"]] + lots + [r["Nombre de lots"], r["Code type local"], r["Type local"],
        num(r["Surface reelle bati"]), r["Nombre pieces principales"], r["Nature culture"],
        cult.get(r["Nature culture"], ""), r["Nature culture speciale"], spec.get(r["Nature culture speciale"], ""),
        num(r["Surface terrain"]), "", ""])
PY
comparable() { # comparable YEAR: the year's rows, every column but Etalab's additions, sorted
	psql -X -q -tA -c "select $(sql "select string_agg(case when data_type = 'numeric'
		then format('trim_scale(%I)', column_name) else quote_ident(column_name) end, ', '
		order by ordinal_position) from information_schema.columns where table_name = 'dvf_mutations'
		and column_name not in ('id_mutation', 'longitude', 'latitude', 'geom', 'ancien_code_commune',
		'ancien_nom_commune', 'ancien_id_parcelle')") from dvf_mutations where annee = $1 order by 1" |
		LC_ALL=C sort
}
comparable 2020 >"$T/from-raw"
is "$(sql "select count(*) from dvf_mutations where annee = 2020 and (id_parcelle is null
	or (code_nature_culture is not null and nature_culture is null))")" 0 \
	"every raw row gets its id_parcelle, and a label for its culture code"
sum2025=$(table_sum "$(year 2025)")
sum2020=$(table_sum "$(year 2020)")

pl_run dvf_raw 2020
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

# Etalab's geo-dvf of the same raw rows (above), loaded through dvf.map: the same 2020.
pl_gzip "$T/etalab-2020.csv" "$T/etalab-2020.csv.gz"
pl_source dvf "$T/etalab-2020.csv.gz"
pl_run dvf
is_status 0 "the raw excerpt as Etalab publishes it loads through dvf.map"
comparable 2020 >"$T/from-geo"
is "$(wc -l <"$T/from-geo")" 172 "172 rows"
same_file "$T/from-raw" "$T/from-geo" "a year loads the same from the raw file and from geo-dvf, column for column"
is "$(table_sum "$(year 2025)")" "$sum2025" "2025 untouched"

# A raw Code voie shorter than 4 characters is zero-padded; a culture code outside the table has
# no label, and is counted on stderr.
awk -F'|' -v OFS='|' 'NR == 2 { $15 = "90"; $41 = "ZZ" } { print }' "$raw" >"$T/codes.txt"
pl_zip "$T/codes.txt" "$T/codes.zip" valeursfoncieres-2020.txt
pl_source dvf_raw "$T/codes.zip"
pl_run dvf_raw
is_status 0 "a raw year with a short Code voie and an unknown culture code"
is "$(sql "select adresse_code_voie || ' ' || code_nature_culture || ' ' || coalesce(nature_culture, 'NULL')
	from dvf_mutations where annee = 2020 and adresse_nom_voie = 'FORTUNAT'")" "0090 ZZ NULL" \
	"Code voie 90 → 0090; the unknown code ZZ is kept, its label NULL"
like_err "^pipelines/dvf_raw.sh: 1 culture codes, 0 special culture codes without a label, 0 parcels" \
	"the code without a label is reported"

# A year the publisher no longer publishes stays until -D drops it.
pl_run dvf_raw -D
is_status 64 "-D needs a year"
like_err "^pipelines/dvf_raw.sh: -D: which year to drop\?" "says so"
pl_run dvf -h
is "$(cat "$OUT")" "usage: pipelines/dvf.sh [-DhnR] [YEAR]" "usage names -D"
pl_source dvf_raw "$T/nowhere/{year}.zip"
sql "update monitoring.data_sources set known_sha256 = 'seen' where id = 'dvf_raw:2020'" >/dev/null
pl_run dvf_raw -D 2020
is_status 0 "-D 2020: the year is dropped, nothing downloaded"
like_out "^table=dvf_mutations inserted=0 updated=0 deleted=172 unchanged=0 " "its 172 rows deleted"
is "$(sql 'select count(*) from dvf_mutations where annee = 2020')" 0 "2020 is gone"
is "$(table_sum "$(year 2025)")" "$sum2025" "2025 untouched"
is "$(sql "select concat_ws(' ', last_status, rows_imported, coalesce(known_sha256, 'forgotten'))
	from monitoring.data_sources where id = 'dvf_raw:2020'")" "imported 0 forgotten" \
	"the drop is recorded for the unit dvf_raw:2020, no row left, and its validators are forgotten"
