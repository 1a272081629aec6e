#!/bin/bash
# Hashes that change only when the data does. Opendatasoft documents that "by default, the records
# of a dataset export are not ordered": the loopback stand-in (tests/httpd.py, "unordered") serves
# an export's rows in a new order at each request unless the query asks for an order_by. Every
# Opendatasoft export URL of config/sources.json asks for order_by on the key, so the production
# job, with the real URLs pointed at the stand-in, loads each export once and then finds it
# unchanged; without order_by the same rows would hash differently and reload every night.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/httpd.sh"
pl_job t0722
ods=/api/explore/v2.1/catalog/datasets
cp "$FIX/ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_export_built.csv" "$T/ival.csv"
cp "$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv" "$T/ivac.csv"
cp "$FIX/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv" "$T/annuaire.csv"
jq -n --arg p "$ods" '{
	($p + "/fr-en-indicateurs-de-resultat-des-lycees-gt_v2/exports/csv"): {body_file: "ival.csv", unordered: true},
	($p + "/fr-en-indicateurs-valeur-ajoutee-colleges/exports/csv"): {body_file: "ivac.csv", unordered: true},
	($p + "/fr-en-annuaire-education/exports/csv"): {body_file: "annuaire.csv", unordered: true}}' >"$T/script.json"
httpd_start "$T/script.json"
. "$EDU_ROOT/tests/ops.sh"
ops_only ival ivac annuaire

# Every Opendatasoft export of the real config asks for an order on its key.
run jq -r '.sources[] | select(.url // "" | test("/api/explore/v2\\.1/catalog/datasets/[^/]+/exports/"))
	| .id + " " + (.url | capture("[?&]order_by=(?<o>[^&]*)").o // "none") + " " + (.key | join(","))' \
	"$EDU_ROOT/config/sources.json"
is "$(cut -d' ' -f1 "$OUT" | LC_ALL=C sort | tr '\n' ' ')" "annuaire ivac ival " "the three Opendatasoft exports"
is "$(awk '$2 == "none"' "$OUT")" "" "each asks for an order_by"
is "$(awk '$1 != "annuaire" && $2 != $3' "$OUT")" "" "ival and ivac: on their key"
like_out '^annuaire identifiant_de_l_etablissement,nom_etablissement,adresse_1 ' \
	"the annuaire's multi-site lines ordered by name and address within a UAI"

# The stand-in: without order_by, the same rows in another order at each request.
u=$BASE$ods/fr-en-indicateurs-valeur-ajoutee-colleges/exports/csv
curl -sS -o "$T/a" "$u?delimiter=%3B" && curl -sS -o "$T/b" "$u?delimiter=%3B"
ok "$(! cmp -s "$T/a" "$T/b"; echo $?)" "stand-in: two exports without order_by differ in bytes"
is "$(sort "$T/a" | md5sum)" "$(sort "$T/ivac.csv" | md5sum)" "but hold the same lines"
curl -sS -o "$T/a" "$u?delimiter=%3B&order_by=uai,session" && curl -sS -o "$T/b" "$u?delimiter=%3B&order_by=uai,session"
same_file "$T/a" "$T/b" "stand-in: with order_by, the same bytes each time"

# The production job with the real URLs (their queries kept) pointed at the stand-in, each
# export hashed at every check (change sha256: what "opendatasoft" does whenever the catalog
# record moved, tests/t/0723-ods-catalog.t).
sed "s#https://data.education.gouv.fr#$BASE#" "$EDU_SOURCES" | jq '.sources[].change = "sha256"' >"$T/s.json" &&
	mv "$T/s.json" "$EDU_SOURCES"
run bash "$EDU_ROOT/pipelines/refresh.sh"
is_status 0 "the first run loads the three exports"
is "$(grep -c ': loaded: ' "$OUT")" 3 "three loads"
run bash "$EDU_ROOT/pipelines/refresh.sh"
is_status 0 "the second run"
is "$(cat "$OUT")" "refresh: no source changed since its last import" "an unchanged export does not reload"
is "$(sql "select string_agg(unit || ':' || outcome, ' ' order by unit collate \"C\") from monitoring.runs
	where kind = 'check' and job = (select max(job) from monitoring.runs)")" \
	"annuaire:unchanged ivac:unchanged ival:unchanged" "each check found the imported hash"

# The same without order_by: the next night's check takes the same rows for a change.
sed 's#&order_by=[^"&]*##' "$EDU_SOURCES" >"$T/s.json" && mv "$T/s.json" "$EDU_SOURCES"
run bash "$EDU_ROOT/pipelines/refresh.sh" -f ivac
run bash "$EDU_ROOT/pipelines/refresh.sh" ivac
is_status 0 "without order_by"
like_out '^ivac: loaded: table=colleges_indicateurs inserted=0 updated=0 deleted=0 unchanged=500 ' \
	"the same rows in another order: downloaded, converted and loaded for nothing"
