#!/bin/bash
# make install puts everything a run needs under PREFIX and DATADIR: with the project directory
# gone (a copy of it, installed from, then removed), the installed suite migrates a database,
# loads a source served by the loopback HTTP server end to end, logs it and reports its status,
# finding its tools through the path `make install` wrote into lib.sh.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/httpd.sh"
unset EDU_SLACK_WEBHOOK EDU_SMTP_URL EDU_SENDGRID_API_KEY EDU_RUN_ID EDU_SOURCES

# The project without its tests and history, built already (timestamps kept: nothing rebuilds).
src=$T/project
mkdir -p "$src"
(cd "$EDU_ROOT" && tar cf - --exclude=./tests --exclude=./.git --exclude=./.demo --exclude=./data \
	--exclude=./docs/DATA_SOURCES_STATUS.md --exclude=./docs/DATA_SOURCES_STATUS.svg .) | (cd "$src" && tar xpf -)
run make -C "$src" install DESTDIR="$T/stage" PREFIX=/opt/edu
is_status 0 "make install from the project"
ok "$(grep -q -- '-o bin/' "$OUT"; [ $? -eq 1 ]; echo $?)" "nothing was rebuilt"
rm -rf "$src"
root=$T/stage/opt/edu
data=$root/share/eduinfo-pipeline
for f in bin/edu-fetch bin/edu-pgcopy share/man/man1/edu-pgcopy.1 share/man/man7/edu.7; do
	ok "$([ -f "$root/$f" ]; echo $?)" "$f installed"
done
for f in pipelines/lib.sh pipelines/env.sh pipelines/refresh.sh pipelines/status.sh pipelines/ivac.sh \
	pipelines/ivac.map config/sources.json sql/migrate.sh sql/001-monitoring.sql deploy/crontab .env.example; do
	ok "$([ -f "$data/$f" ]; echo $?)" "$f installed in DATADIR"
done
ok "$([ ! -e "$data/pipelines/demo.sh" ]; echo $?)" "not the demo, which needs the tests' servers"
is "$(grep '^EDU_BINDIR=' "$data/pipelines/lib.sh")" "EDU_BINDIR=/opt/edu/bin" "lib.sh knows where the tools are"

mkdir -p "$T/www"
cp "$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv" "$T/www/ivac.csv"
echo '{}' >"$T/script.json"
httpd_start "$T/script.json" "$T/www"

# Run it as installed: no checkout on PATH nor in the environment, from another directory. The
# staged tools stand where /opt/edu/bin would be.
ok "$([ ! -e "$src" ]; echo $?)" "the project directory is gone"
export PATH="$root/bin:/usr/bin:/bin" EDU_LOG_DIR=$T/logs
unset EDU_ROOT FIX GOLD
cd "$T" || exit 1
newdb t0740
run sh "$data/sql/migrate.sh"
is_status 0 "the installed migrations"
jq --arg u "$BASE/ivac.csv" '.sources |= map(select(.id == "ivac") | .url = $u)' \
	"$data/config/sources.json" >"$T/sources.json"
export EDU_SOURCES=$T/sources.json
export EDU_LOCK=$T/refresh.lock
run bash "$data/pipelines/refresh.sh"
is_status 0 "the installed production job"
like_out '^ivac: loaded: table=colleges_indicateurs inserted=500 ' "ivac loaded"
like_out '^views: view=mv_colleges_with_metrics ' "its view refreshed"
is "$(sql 'select count(*) from mv_colleges_with_metrics')" 500 "the rows are in the database"
ok "$(grep -q 'source=ivac unit=ivac stage=load outcome=loaded status=0 inserted=500' "$T/logs/import.log"; echo $?)" \
	"and in the import log"
run bash "$data/pipelines/status.sh" -o "$T/STATUS.md"
is_status 0 "the installed status report"
like_out '^ivac +OK ' "ivac is OK"
run bash "$data/pipelines/ivac.sh"
is_status 0 "a source script by hand"
like_out '^table=colleges_indicateurs inserted=0 updated=0 deleted=0 unchanged=500 ' "nothing to change"

