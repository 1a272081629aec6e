#!/bin/bash
# pipelines/onisep.sh on the built Idéo-Structures fixture (ONISEP's BOM, ';' and quote-iff-space
# conventions): row count, values checked against the file, points inside France, idempotency,
# an optional column absent loads with a warning, the UAI or the name absent is refused with the
# table unchanged.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"

raw=$FIX/onisep/ideo-structures-secondaire_built.csv
# field UAI LABEL: a value of the raw file, read by Python's csv module (quoted cells, BOM).
field() {
	/usr/bin/python3 -c '
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline=""), delimiter=";"):
    if r["code UAI"] == sys.argv[2]:
        print(r[sys.argv[3]])' "$raw" "$1" "$2"
}
pl_db t0501
pl_source onisep "$raw"

pl_run onisep
is_status 0 "onisep loads the built Idéo export"
is "$(pl_summary)" "63/0/0/0" "summary line: 63 rows inserted"
is "$(sql 'select count(*) from onisep_etablissements')" "$(($(wc -l <"$raw") - 1))" \
	"one row per data line"
is "$(sql "select nom || '|' || telephone || '|' || adresse || '|' || code_postal || '|' || code_commune
	from onisep_etablissements where uai = '0352069J'")" \
	"$(field 0352069J nom)|$(field 0352069J 'téléphone')|$(field 0352069J adresse)|$(field 0352069J CP)|$(field 0352069J cog)" \
	"quoted cells with spaces come back without their quotes"
is "$(sql "select concat_ws('|', sigle, tutelle, boite_postale, region, code_region, url_onisep)
	from onisep_etablissements where uai = '0350031U'")" \
	"$(field 0350031U sigle)|$(field 0350031U tutelle)|$(field 0350031U 'boîte postale')|$(field 0350031U 'région')|$(field 0350031U 'région (COG)')|$(field 0350031U 'URL et ID Onisep')" \
	"every column of the file is loaded"
is "$(sql "select type_etablissement || '|' || statut from onisep_etablissements where uai = '0351047Y'")" \
	"$(field 0351047Y "type d'établissement")|$(field 0351047Y statut)" "labels with an apostrophe in the header map"
is "$(sql "select round(st_x(geom)::numeric, 6) || ' ' || round(st_y(geom)::numeric, 6)
	from onisep_etablissements where uai = '0352069J'")" \
	"$(printf '%.6f %.6f' "$(field 0352069J 'longitude (X)')" "$(field 0352069J 'latitude (Y)')")" \
	"the database computes the point from longitude (X) and latitude (Y)"
is "$(pl_outside_france onisep_etablissements)" 0 "every point lies in France"
is "$(sql "select count(*) from onisep_etablissements where geom is null")" \
	"$(awk -F';' 'NR > 1 && $17 == ""' "$raw" | wc -l)" "a row without coordinates has no point"
is "$(sql "select count(*) from onisep_etablissements where uai !~ '^[0-9]{7}[A-Z]\$'")" 0 \
	"every UAI is 7 digits and a check letter"

before=$(table_sum onisep_etablissements)
pl_run onisep
is_status 0 "a second load of the same file"
is "$(pl_summary)" "0/0/0/63" "the second load inserts and updates nothing"
is "$(table_sum onisep_etablissements)" "$before" "the table is unchanged"

# Only the UAI and the name are required (docs/DATA_SOURCE_ONISEP.md). A file without an optional
# column loads, that column NULL, with one warning naming it.
without() { # without COLUMN OUT: a copy of the file without COLUMN, in ONISEP's conventions
	/usr/bin/python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline=""), delimiter=";"))
i = rows[0].index(sys.argv[2])
with open(sys.argv[3], "w", encoding="utf-8") as f:
    f.write("\ufeff" + "".join(";".join(c if " " not in c else "\"" + c + "\"" for c in r[:i] + r[i + 1:]) + "\n"
                               for r in rows))' "$raw" "$1" "$2"
}
without sigle "$T/nosigle.csv"
pl_source onisep "$T/nosigle.csv"
pl_run onisep
is_status 0 "a file without the optional column sigle loads"
is "$(pl_summary)" "0/$(awk -F';' 'NR > 1 && $3 != ""' "$raw" | wc -l)/0/$(awk -F';' 'NR > 1 && $3 == ""' "$raw" | wc -l)" \
	"the rows that had a sigle are updated, the others unchanged"
is "$(sql 'select count(*) from onisep_etablissements where sigle is not null')" 0 "sigle is NULL in every row"
is "$(cat "$ERR")" "edu-normalize: stdin:1: optional column 'sigle' is absent: NULL in sigle" \
	"one warning, naming sigle"
pl_source onisep "$raw"
pl_run onisep
before=$(table_sum onisep_etablissements)

# Without the UAI or the name, the file is refused and the table unchanged.
for col in "code UAI" nom; do
	without "$col" "$T/drift.csv"
	pl_source onisep "$T/drift.csv"
	pl_run onisep
	is_status 65 "a file without $col is refused"
	like_err "schema drift: mapped columns missing from the input: '$col'" "the missing column is named"
	is "$(table_sum onisep_etablissements)" "$before" "without $col: the table is unchanged"
done

# The config entry says how the source loads: replace (the file is the whole list), so an
# establishment missing from a new file is deleted; switched to upsert, it would stay.
head -n 62 "$raw" >"$T/short.csv" # the header and 61 of the 63 establishments
pl_source onisep "$T/short.csv"
pl_run onisep
is_status 0 "replace: a file two establishments shorter"
is "$(pl_summary)" "0/0/2/61" "replace (the config's mode): the two missing establishments are deleted"
pl_source onisep "$raw"
pl_run onisep
jq '.sources |= map(if .id == "onisep" then .mode = "upsert" else . end)' "$EDU_SOURCES" >"$T/cfg" &&
	cp "$T/cfg" "$EDU_SOURCES"
pl_source onisep "$T/short.csv"
pl_run onisep
is "$(pl_summary)" "0/0/0/61" "upsert (the config changed): nothing is deleted"
is "$(sql 'select count(*) from onisep_etablissements')" 63 "the two establishments stay"

before=$(table_sum onisep_etablissements)
jq '.sources |= map(if .id == "onisep" then .mode = "merge" else . end)' "$EDU_SOURCES" >"$T/cfg" &&
	cp "$T/cfg" "$EDU_SOURCES"
pl_run onisep
is_status 78 "an unknown mode in the config"
like_err "cannot tell how to load onisep: .*unknown mode merge" "the message names the source and the mode"
is "$(table_sum onisep_etablissements)" "$before" "unknown mode: the table is unchanged"
