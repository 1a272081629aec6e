#!/bin/bash
# The rehearsal, refresh.sh -n: each changed source is downloaded, converted, normalized and
# loaded with edu-pgcopy -n, and the counts a real run would make are printed; the tables, the
# known validators (and the pending ones) are the same before and after, nobody is told, and the
# real run that follows makes exactly the counts rehearsed. A source script takes -n by hand too.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/httpd.sh"
pl_job t0711
fx=$EDU_ROOT/tests/fixtures
ivac=$fx/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv
onisep=$fx/onisep/ideo-structures-secondaire_built.csv

echo '{"/hook/x": {"status": 200, "body": "ok"}}' >"$T/script.json"
httpd_start "$T/script.json" "$T/www"
. "$EDU_ROOT/tests/ops.sh"
ops_only ivac onisep communes
ops_serve ivac "$ivac"
ops_serve onisep "$onisep"
run bash "$EDU_ROOT/pipelines/refresh.sh" ivac onisep
is_status 0 "the first real run"

tables="colleges_indicateurs onisep_etablissements communes"
state() {
	for t in $tables; do table_sum "$t"; done
	# (a rehearsal may create a unit's row, with nothing known)
	sql "select id, known_etag, known_sha256, known_size, known_url, last_known_modified, last_imported,
		rows_imported, pending_sha256, pending_at from monitoring.data_sources
		where coalesce(known_etag, known_sha256, known_url, pending_sha256, last_imported::text) is not null
		order by id"
}
# The publisher's update: one collège's success rate in IVAC, the first establishment of ONISEP
# gone; and the communes, never loaded.
awk -F';' -v OFS=';' '$3 == "0150018N" && $2 == "2022" { $14 = "91.0" } { print }' "$ivac" >"$T/ivac.csv"
ops_serve ivac "$T/ivac.csv"
sed '2d' "$onisep" >"$T/onisep.csv"
ops_serve onisep "$T/onisep.csv"
geo=$fx/insee-communes/geo-api-communes_fields-code-nom-centre
jq -c -s add "${geo}_first500.json" "${geo}_last60.json" >"$T/communes.json"
ops_serve communes "$T/communes.json"
before=$(state)
last=$(sql 'select coalesce(max(id), 0) from monitoring.runs')
export EDU_SLACK_WEBHOOK=$BASE/hook/x
log_clear

# make check-updates: what changed, nothing downloaded nor loaded.
run make -s -C "$EDU_ROOT" check-updates
is_status 0 "make check-updates"
is "$(sort "$OUT")" "$(printf '%s: changed upstream\n' communes ivac onisep)" "says what changed"
is "$(state)" "$before" "and changes nothing"
ok "$(grep -q "stage=job outcome=ok status=0 changed=3 " "$EDU_LOG_DIR/check.log"; echo $?)" "the check is in the check log"

run bash "$EDU_ROOT/pipelines/refresh.sh" -n
is_status 0 "the rehearsal"
like_out '^ivac: would load: table=colleges_indicateurs inserted=0 updated=1 deleted=0 unchanged=499 ' \
	"ivac: the one row a real run would update"
like_out '^onisep: would load: table=onisep_etablissements inserted=0 updated=0 deleted=1 unchanged=62 ' \
	"onisep: the one row a real run would delete"
like_out '^communes: would load: table=communes inserted=560 ' "communes: every row would be new"
is "$(grep -c ': loaded: ' "$OUT")" 0 "nothing loaded"
is "$(grep -c '^views: ' "$OUT")" 0 "no view refreshed"
is "$(state)" "$before" "tables, known and pending validators unchanged"
is "$(jq -r 'select(.method == "POST") | .path' "$HTTPD_LOG" | wc -l)" 0 "nobody is told"
is "$(sql "select count(*) from monitoring.runs where id > $last and kind = 'load' and outcome <> 'dry-run'")" 0 \
	"the history has no load"
is "$(sql "select string_agg(unit, ' ' order by unit) from monitoring.runs where id > $last and outcome = 'dry-run'")" \
	"communes ivac onisep" "but each rehearsed load, as a dry run"
cp "$OUT" "$T/rehearsal"

run bash "$EDU_ROOT/pipelines/refresh.sh"
is_status 0 "the real run"
for id in ivac onisep communes; do
	is "$(sed -n "s/^$id: loaded: \(table=.* unchanged=[0-9]*\) .*/\1/p" "$OUT")" \
		"$(sed -n "s/^$id: would load: \(table=.* unchanged=[0-9]*\) .*/\1/p" "$T/rehearsal")" \
		"$id: the counts rehearsed"
done
ok "$([ "$(state)" != "$before" ]; echo $?)" "the real run changed the tables and validators"

# By hand: a source script's -n.
after=$(state)
run bash "$EDU_ROOT/pipelines/ivac.sh" -n
is_status 0 "ivac.sh -n"
like_out '^table=colleges_indicateurs inserted=0 updated=0 deleted=0 unchanged=500 .* dry_run=1$' \
	"prints the counts of a load that would change nothing"
is "$(state)" "$after" "and changes nothing"
