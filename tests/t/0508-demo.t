#!/bin/bash
# The full demo end to end on the runner's PostgreSQL (PGHOST is set, so the demo starts none):
# the first run loads every source of the config through the loopback HTTP server, the second
# detects that nothing changed and loads nothing, a touched but unchanged file loads nothing, an
# edited file reloads only its source; the HTTP server is gone after each run; a source without
# a fixture, or a fixture that does not exist, stops the demo with the source named.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"

demo=$T/demo
schema_db t0508
# The sources and their tables, read from the config as the demo reads them.
ids=$(jq -r '.sources[].id' "$EDU_SOURCES")
n=$(echo "$ids" | wc -l)
tables=$(jq -r '[.sources[].table] | unique | .[]' "$EDU_SOURCES")
sums() { for t in $tables; do table_sum "$t"; done; }
server_gone() { ! curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$(cat "$demo/port")/onisep.csv"; }

run sh "$EDU_ROOT/pipelines/demo.sh" -d "$demo"
is_status 0 "the first demo run"
for id in $ids; do
	like_out "^$id(:[0-9]{4})?: loaded: table=[a-z_]+ inserted=[1-9]" "$id is new and loaded (a per-year source: the year it loaded)"
done
is "$(grep -c ': loaded: table=.* inserted=[1-9]' "$OUT")" "$n" "one load per source of the config ($n), each inserting rows"
like_out '^views: .*mv_lycees_with_metrics' "the lycées view is refreshed once, after the loads"
is "$(sql 'select count(*) from monitoring.data_sources where last_status = '"'imported'"' and rows_imported > 0')" "$n" \
	"every source's freshness is recorded"
for t in $tables; do
	is "$(sql "select count(*) > 0 from $t")" t "$t is filled"
done
is "$(sql 'select count(*) from mv_lycees_with_metrics')" "$(sql 'select count(*) from lycees_indicateurs')" \
	"the lycées view is refreshed"
like_out '^== rows per table' "the report lists rows per table"
like_out '^ *0530[0-9]{3}[A-Z] \| LYCEE [^|]*\| (LAVAL|MAYENNE|EVRON|CHATEAU) .*\| +[0-9.]+ \| +-?[0-9.]+ \|' \
	"the report shows lycées known to ONISEP, with their indicators"
like_out "^ +psql -h $PGHOST -p $PGPORT -U $PGUSER -d $PGDATABASE\$" "the report says how to connect"
ok "$(server_gone; echo $?)" "the HTTP server is stopped at the end"
first=$(sums)

run sh "$EDU_ROOT/pipelines/demo.sh" -d "$demo"
is_status 0 "the second demo run"
like_out '^refresh: no source changed since its last import$' "nothing changed"
is "$(grep -c 'table=' "$OUT")" 0 "nothing loaded"
is "$(sums)" "$first" "every table unchanged"

touch "$demo/www/onisep.csv"
run sh "$EDU_ROOT/pipelines/demo.sh" -d "$demo"
is_status 0 "a run after touching a file without changing it"
like_out '^refresh: no source changed since its last import$' "same bytes, new date: nothing changed"

# A publisher update: one collège's success rate in the IVAC file.
uai=0150018N
awk -F';' -v OFS=';' -v u=$uai '$3 == u && $2 == "2022" { $14 = "91.0" } { print }' \
	"$demo/www/ivac.csv" >"$T/ivac.csv" && cp "$T/ivac.csv" "$demo/www/ivac.csv"
run grep -c "^45;2022;$uai;.*;91.0;" "$demo/www/ivac.csv"
is "$(cat "$OUT")" 1 "the edit is in the served file"
run sh "$EDU_ROOT/pipelines/demo.sh" -d "$demo"
is_status 0 "a run after editing the IVAC file"
is "$(grep -c ': loaded: ' "$OUT")" 1 "only one load"
like_out '^ivac: loaded: table=colleges_indicateurs inserted=0 updated=1 deleted=0 unchanged=499 ' \
	"only the edited row is updated"
is "$(sql "select taux_reussite_g from mv_colleges_with_metrics where uai = '$uai' and session = 2022")" \
	"91.0" "the collèges view shows the new value"
ok "$(server_gone; echo $?)" "the HTTP server is stopped at the end"

# The demo serves what the config names, and says so when it cannot.
before=$(sums)
jq '.sources += [{"id": "nofixture", "format": "csv", "table": "communes", "mode": "replace", "key": ["code_insee"]}]' \
	"$EDU_SOURCES" >"$T/extra.json"
run env EDU_SOURCES="$T/extra.json" sh "$EDU_ROOT/pipelines/demo.sh" -d "$demo"
is_status 78 "a source without a fixture"
like_err '^demo: .*/extra.json: source nofixture has no fixture: the demo has nothing to serve for it$' \
	"the source is named"
jq '(.sources[] | select(.id == "ivac") | .fixture) = "tests/fixtures/nowhere.csv"' "$EDU_SOURCES" >"$T/gone.json"
run env EDU_SOURCES="$T/gone.json" sh "$EDU_ROOT/pipelines/demo.sh" -d "$demo"
is_status 66 "a fixture that does not exist"
like_err '^demo: .*/gone.json: source ivac: fixture tests/fixtures/nowhere.csv: no such file$' "the file is named"
is "$(sums)" "$before" "nothing loaded"

run sh "$EDU_ROOT/pipelines/demo.sh" -Z
is_status 64 "an unknown option"
like_err '^usage: pipelines/demo.sh' "usage on stderr"

# make demo-clean: the cluster removed wherever the pg link points (as root, /var/tmp), then the
# demo's directory; make clean leaves both alone. A stand-in cluster: no server to stop.
mkdir -p "$T/clean" "$T/elsewhere/data" && ln -s "$T/elsewhere" "$T/clean/pg" && : >"$T/clean/port"
run sh "$EDU_ROOT/pipelines/demo.sh" -d "$T/clean" clean
is_status 0 "demo.sh clean"
ok "$([ ! -e "$T/elsewhere" ] && [ ! -e "$T/clean" ]; echo $?)" "the cluster behind the link and the demo's directory are removed"
like_out "^demo: database and files in $T/clean removed\$" "it says what it removed"
run make -n -C "$EDU_ROOT" demo-clean
like_out '^sh pipelines/demo.sh clean$' "make demo-clean runs it"
run make -n -C "$EDU_ROOT" clean
ok "$(! grep -q -e demo -e '/var/tmp' "$OUT"; echo $?)" "make clean leaves the demo alone"
