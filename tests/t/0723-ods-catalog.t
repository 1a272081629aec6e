#!/bin/bash
# Publisher metadata first (change "opendatasoft"): the check reads the dataset's catalog record
# (GET /api/explore/v2.1/catalog/datasets/ID: metas.default.data_processed, records_count,
# modified), a few hundred bytes; when data_processed and records_count are those of the last
# import (or of the last check that proved the content unchanged), nothing else is asked.
# Otherwise the export is downloaded and hashed as before, and the hash judges. The metadata is
# recorded with each import and on each check's run. The loopback stand-in serves the real
# config's URLs: catalog records, and exports in no stable order unless asked.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/httpd.sh"
pl_job t0723
export EDU_STATUS_FILE=$T/status/STATUS.md
ods=/api/explore/v2.1/catalog/datasets
ivac_ds=fr-en-indicateurs-valeur-ajoutee-colleges
ival_ds=fr-en-indicateurs-de-resultat-des-lycees-gt_v2
ivac_fx=$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv
cp "$ivac_fx" "$T/ivac.csv"
cp "$FIX/ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_export_built.csv" "$T/ival.csv"
catalog() { # catalog NAME DATASET DATA_PROCESSED RECORDS: the catalog record the stand-in serves
	jq -n --arg id "$2" --arg dp "$3" --argjson n "$4" '{dataset_id: $id, has_records: true,
		metas: {default: {title: $id, modified: "2025-04-02T07:19:22+00:00", data_processed: $dp,
		records_count: $n, publisher: "DEPP"}}, fields: []}' >"$T/$1.json.tmp" && mv "$T/$1.json.tmp" "$T/$1.json"
}
catalog ivac-cat "$ivac_ds" 2025-09-01T04:00:00+00:00 500
catalog ival-cat "$ival_ds" 2025-04-02T07:19:22+00:00 150
jq -n --arg p "$ods" --arg c "$ivac_ds" --arg l "$ival_ds" '{
	($p + "/" + $c): {body_file: "ivac-cat.json", headers: {"Content-Type": "application/json"}},
	($p + "/" + $c + "/exports/csv"): {body_file: "ivac.csv", unordered: true},
	($p + "/" + $l): {body_file: "ival-cat.json", headers: {"Content-Type": "application/json"}},
	($p + "/" + $l + "/exports/csv"): {body_file: "ival.csv", unordered: true}}' >"$T/script.json"
httpd_start "$T/script.json"
. "$EDU_ROOT/tests/ops.sh"
ops_only ival ivac
sed "s#https://data.education.gouv.fr#$BASE#" "$EDU_SOURCES" >"$T/s.json" && mv "$T/s.json" "$EDU_SOURCES"
is "$(jq -r '[.sources[].change] | unique | join(" ")' "$EDU_SOURCES")" opendatasoft "the real config's change mode"
exports() { jq -r 'select(.path | test("/exports/")) | .path' "$HTTPD_LOG" | wc -l | tr -d ' '; }
records() { jq -r 'select(.path | test("/exports/") | not) | .path' "$HTTPD_LOG" | wc -l | tr -d ' '; }
job() { log_clear; run bash "$EDU_ROOT/pipelines/refresh.sh"; }
known() { sql "select to_char(known_data_processed at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' ' || known_records_count
	from monitoring.data_sources where id = '$1'"; }
last_check() { sql "select outcome || ' ' || coalesce(to_char(data_processed at time zone 'UTC', 'YYYY-MM-DD HH24:MI'), '-')
	|| ' ' || coalesce(records_count::text, '-') from monitoring.runs where unit = '$1' and kind = 'check' order by id desc limit 1"; }

job
is_status 0 "the first run loads both"
is "$(grep -c ': loaded: ' "$OUT")" 2 "two loads"
is "$(known ivac)/$(known ival)" "2025-09-01 04:00 500/2025-04-02 07:19 150" \
	"the catalog record read by edu-fetch is known after the import"
is "$(sql "select to_char(data_processed at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' ' || records_count
	|| ' ' || to_char(modified at time zone 'UTC', 'YYYY-MM-DD') from monitoring.runs
	where unit = 'ivac' and kind = 'load'")" "2025-09-01 04:00 500 2025-04-02" "and on the load's run"

# Nothing changed: the catalog records, and no export.
job
is_status 0 "nothing changed"
is "$(cat "$OUT")" "refresh: no source changed since its last import" "nothing loaded"
is "$(records)/$(exports)" 2/0 "one catalog record per source, no export downloaded"
bytes=$(($(wc -c <"$T/ivac-cat.json") + $(wc -c <"$T/ival-cat.json")))
ok "$([ "$bytes" -lt 2048 ]; echo $?)" "a nothing-changed night costs $bytes bytes here"
is "$(last_check ivac)" "unchanged 2025-09-01 04:00 500" "the check's run has the metadata it read"

# The publisher reprocesses with new rows: data_processed and records_count move.
head -n 481 "$ivac_fx" >"$T/ivac.csv.tmp" && mv "$T/ivac.csv.tmp" "$T/ivac.csv"
catalog ivac-cat "$ivac_ds" 2025-10-01T04:00:00+00:00 480
job
is_status 0 "new rows"
like_out '^ivac: loaded: table=colleges_indicateurs inserted=0 updated=0 deleted=0 unchanged=480 ' \
	"caught the same night: downloaded and loaded (upsert: the 20 rows gone stay)"
is "$(records)/$(exports)" 3/2 "the changed export downloaded twice (check, load) and its record read again before the download; the other export not at all"
is "$(last_check ivac)" "changed 2025-10-01 04:00 480" "the check recorded what it read"
is "$(known ivac)" "2025-10-01 04:00 480" "the import recorded the new metadata"
sql "delete from colleges_indicateurs" >/dev/null
cp "$ivac_fx" "$T/ivac.csv"
catalog ivac-cat "$ivac_ds" 2025-10-02T04:00:00+00:00 500
job
is_status 0 "the next release"
like_out '^ivac: loaded: table=colleges_indicateurs inserted=500 ' "loaded"

# Reprocessed without a change in the rows: data_processed moves, the hash judges.
catalog ival-cat "$ival_ds" 2025-11-03T02:00:00+00:00 150
job
is_status 0 "reprocessed, rows unchanged"
is "$(cat "$OUT")" "refresh: no source changed since its last import" "nothing loaded"
is "$(exports)" 1 "the export downloaded once, to hash it"
is "$(last_check ival)" "unchanged 2025-11-03 02:00 150" "the check proved it unchanged"
is "$(known ival)" "2025-11-03 02:00 150" "and the new metadata is now the known one"
job
is "$(records)/$(exports)" 2/0 "the next night: the catalog records only"

# Rows changed without data_processed moving: not seen by the check (documented), until the
# weekly forced reload.
head -n 140 "$T/ival.csv" >"$T/ival-less.csv" && mv "$T/ival-less.csv" "$T/ival.csv"
job
is_status 0 "rows changed, metadata not"
is "$(cat "$OUT")" "refresh: no source changed since its last import" "undetectable by the check"
log_clear
run bash "$EDU_ROOT/pipelines/refresh.sh" -f ival
is_status 0 "the weekly forced reload"
like_out '^ival: loaded: table=lycees_indicateurs .*unchanged=139 ' "catches it"

# The catalog record cannot be read: the check fails, retried next night.
jq --arg p "$ods/$ival_ds" '.[$p] = {status: 503, body: "maintenance"}' "$T/script.json" >"$T/s.json" &&
	mv "$T/s.json" "$T/script.json"
job
is_status 75 "the catalog answers 503"
like_out "^ival: check FAILED \(exit 75\): .*$ods/$ival_ds: HTTP 503" "the job says so"
is "$(exports)" 0 "nothing downloaded"

# A failed load, then the imported file put back: the catalog record moved each time, the
# hash finds the imported content, and the status is true again.
jq --arg p "$ods/$ival_ds" '.[$p] = {body_file: "ival-cat.json", headers: {"Content-Type": "application/json"}}' \
	"$T/script.json" >"$T/s.json" && mv "$T/s.json" "$T/script.json"
run bash "$EDU_ROOT/pipelines/refresh.sh" -f ival
cp "$T/ival.csv" "$T/ival-imported.csv"
pl_rename_header "$T/ival-imported.csv" uai code_etab "$T/ival.csv"
catalog ival-cat "$ival_ds" 2025-12-01T02:00:00+00:00 139
job
is_status 65 "a renamed column: refused"
run make -s -C "$EDU_ROOT" status
like_out '^ival +FAILING ' "make status: FAILING"
cp "$T/ival-imported.csv" "$T/ival.csv"
catalog ival-cat "$ival_ds" 2025-12-02T02:00:00+00:00 139
job
is_status 0 "the imported file put back"
is "$(cat "$OUT")" "refresh: no source changed since its last import" "nothing loaded"
is "$(last_check ival)" "unchanged 2025-12-02 02:00 139" "the hash proved it the imported one"
run make -s -C "$EDU_ROOT" status
is_status 0 "make status"
like_out '^ival +OK ' "OK again"
job
is "$(records)/$(exports)" 2/0 "and the next night costs the catalog records only"

# edu-ifmodified -v says what it compared.
catalog ivac-cat "$ivac_ds" 2025-10-02T04:00:00+00:00 500
run edu-ifmodified -v ivac
is_status 1 "edu-ifmodified: unchanged"
like_err '^edu-ifmodified: ivac: unchanged \(catalog: data_processed 2025-10-02T04:00:00\+00:00, records_count 500\)$' \
	"-v names the metadata"
