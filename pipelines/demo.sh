#!/bin/sh
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# `make demo`: the whole job on the bundled real data. Without a configured database (no PGHOST,
# PGDATABASE, PGSERVICE or DATABASE_URL) it starts a PostgreSQL + PostGIS kept in .demo/pg and
# reused by the next run; it applies the migrations, serves the data from a loopback HTTP server
# so that change detection is real, runs the production job (pipelines/refresh.sh: the sources
# that changed, in parallel, then the views they feed) and prints a report. A second run loads nothing; edit one file under
# .demo/www (or its original in tests/fixtures) and only that source reloads.
#   pipelines/demo.sh [-d dir] [stop | clean]
set -u
# The sources config: EDU_SOURCES, else config/sources.json; a relative path is the caller's.
case ${EDU_SOURCES:-} in '' | /*) ;; *) EDU_SOURCES=$(pwd)/$EDU_SOURCES ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 71
PATH=$root/bin:$PATH
export PATH
demo=$root/.demo
while getopts :d: o; do
	case $o in
	d) demo=$OPTARG ;;
	*) echo "usage: pipelines/demo.sh [-d dir] [stop | clean]" >&2; exit 64 ;;
	esac
done
shift $((OPTIND - 1))
mkdir -p "$demo" || exit 71
demo=$(cd "$demo" && pwd)

say() { printf '%s\n' "$@"; }
die() { # die STATUS MESSAGE
	printf 'demo: %s\n' "$2" >&2
	exit "$1"
}

if [ "${1:-}" = stop ]; then
	sh tests/pg.sh stop "$demo/pg"
	say "demo: database in $demo/pg stopped"
	exit 0
fi
# As root the cluster may live in /var/tmp behind the pg link (tests/pg.sh): removing the
# directory alone would leave it there, about 100 MB a checkout.
if [ "${1:-}" = clean ]; then
	{ sh tests/pg.sh remove "$demo/pg" && rm -rf "$demo"; } || die 74 "cannot remove $demo"
	say "demo: database and files in $demo removed"
	exit 0
fi

# ---- the database: the configured one, else our own under .demo/pg ----
if [ -z "${PGHOST:-}${PGDATABASE:-}${PGSERVICE:-}${DATABASE_URL:-}" ]; then
	say "demo: no database configured: starting PostgreSQL + PostGIS in $demo/pg"
	sh tests/pg.sh start "$demo/pg" || die 71 "cannot start PostgreSQL (log: $demo/pg/server.log)"
	eval "$(sh tests/pg.sh env "$demo/pg")"
	PGDATABASE=eduinfo
	export PGDATABASE
	if [ -z "$(psql -X -d postgres -tAc "select 1 from pg_database where datname = 'eduinfo'")" ]; then
		createdb -T edu_template eduinfo || die 71 "cannot create the database eduinfo"
	fi
fi
if [ -n "${DATABASE_URL:-}" ]; then
	connect="psql \"\$DATABASE_URL\""
else
	connect="psql${PGSERVICE:+ service=$PGSERVICE}${PGHOST:+ -h $PGHOST}${PGPORT:+ -p $PGPORT}${PGUSER:+ -U $PGUSER}${PGDATABASE:+ -d $PGDATABASE}"
fi
# The pipelines' tools take DATABASE_URL or libpq's environment; psql below needs one of them,
# given as the pipelines give it (edu_psql, pipelines/env.sh: the password never in argv).
psqlq() {
	bash "$root/pipelines/env.sh" --psql "$@"
}
sh sql/migrate.sh >/dev/null || die $? "the migrations failed"

# ---- the upstream: each source's bundled real data (its "fixture" in the sources config), packed
# as its publisher packs it (its "format") into .demo/www/ID.EXT when an original is newer than
# the served file or the list of originals changed, so an edit on either side is seen as a
# publisher update. The list of sources is the config's: nothing here names one. ----
config=${EDU_SOURCES:-config/sources.json}
www=$demo/www
mkdir -p "$www"
tab=$(printf '\t')
jq -r '.sources[] | [.id, .format, (.fixture | if type == "array" then .[] else . // empty end)]
	| map(tostring) | join("\t")' "$config" >"$demo/fixtures.tsv" ||
	die 78 "$config: cannot read the sources"
# ext FORMAT: the served file's extension.
ext() {
	case $1 in
	csv | json | zip) echo "$1" ;;
	gzip) echo gz ;;
	*) return 1 ;;
	esac
}
# stale DEST FILE...: DEST is missing, older than one of the FILEs, or was made from other files.
stale() {
	dest=$1
	shift
	[ -f "$dest" ] && [ "$(cat "$dest.from" 2>/dev/null)" = "$*" ] || return 0
	for f; do [ -z "$(find "$f" -newer "$dest")" ] || return 0; done
	return 1
}
# pack FORMAT DEST FILE...: DEST.tmp, the FILEs packed as the publisher packs them.
pack() {
	format=$1 dest=$2
	shift 2
	case $format in
	json) jq -c -s add "$@" >"$dest.tmp" ;; # one array, as an API answers
	csv) cat "$1" >"$dest.tmp" ;;
	# -n: no name or time in the header, so the same rows always give the same bytes.
	gzip) gzip -9nc "$1" >"$dest.tmp" ;;
	# Zipped as DGFiP publishes, with a fixed member date so the same rows give the same zip.
	zip) /usr/bin/python3 -c '
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo(os.path.basename(sys.argv[2]), (2021, 5, 17, 0, 0, 0)),
               open(sys.argv[2], "rb").read(), zipfile.ZIP_DEFLATED)
' "$dest.tmp" "$1" ;;
	esac
}
# served: "ID<tab>EXT" a line, each source's extension as ext gives it, for the URLs below.
served=
while IFS=$tab read -r id format files; do
	e=$(ext "$format") || die 78 "$config: source $id: the demo cannot serve the format $format"
	served="$served$id$tab$e
"
	[ -n "$files" ] || die 78 "$config: source $id has no fixture: the demo has nothing to serve for it"
	# shellcheck disable=SC2086 # the fixtures, one per tab-separated field
	set -- $files
	[ $# -eq 1 ] || [ "$format" = json ] || die 78 "$config: source $id: one fixture for the format $format"
	for f; do [ -f "$f" ] || die 66 "$config: source $id: fixture $f: no such file"; done
	if stale "$www/$id.$e" "$@"; then
		pack "$format" "$www/$id.$e" "$@" || die 74 "cannot pack the fixture of $id"
		{ printf '%s\n' "$*" >"$www/$id.$e.from" && mv "$www/$id.$e.tmp" "$www/$id.$e"; } ||
			die 74 "cannot write $www/$id.$e"
	fi
done <"$demo/fixtures.tsv"

# ---- the loopback server, on the port of the previous run so the URLs stay the same ----
port=0
[ -s "$demo/port" ] && port=$(cat "$demo/port")
rm -f "$demo/port.new"
/usr/bin/python3 tests/httpd.py --root "$www" --port "$port" --port-file "$demo/port.new" \
	--log "$demo/httpd.log" >/dev/null 2>"$demo/httpd.err" &
httpd=$!
trap 'kill "$httpd" 2>/dev/null; wait "$httpd" 2>/dev/null' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE
i=0
while [ ! -s "$demo/port.new" ]; do
	if ! kill -0 "$httpd" 2>/dev/null; then
		[ "$port" -ne 0 ] || die 71 "the loopback HTTP server did not start: $(cat "$demo/httpd.err")"
		# The previous port is taken: any free one (the sources then reload once).
		port=0
		/usr/bin/python3 tests/httpd.py --root "$www" --port 0 --port-file "$demo/port.new" \
			--log "$demo/httpd.log" >/dev/null 2>"$demo/httpd.err" &
		httpd=$!
	fi
	i=$((i + 1))
	[ "$i" -le 100 ] || die 71 "the loopback HTTP server did not start"
	sleep 0.1
done
mv "$demo/port.new" "$demo/port"
base=http://127.0.0.1:$(cat "$demo/port")

# The demo's sources: the config with each URL pointing at its file on the loopback server (a
# per-year source serves its one fixture, resolved by no API).
jq --arg b "$base" --arg served "$served" '
	($served | split("\n") | map(select(. != "") | split("\t") | {(.[0]): .[1]}) | add) as $ext
	| .sources |= map(.url = $b + "/" + .id + "." + $ext[.id]
	| del(.resolve, .years, .fallback_for))' "$config" >"$demo/sources.json.tmp" ||
	die 78 "cannot write $demo/sources.json"
mv "$demo/sources.json.tmp" "$demo/sources.json" || die 74 "cannot write $demo/sources.json"
EDU_SOURCES=$demo/sources.json
export EDU_SOURCES

# ---- the production job itself: what changed is loaded, the views it feeds refreshed ----
# Never with the settings file (.env may name a real database), logging under the demo's directory.
EDU_ENV='' EDU_LOG_DIR=$demo/logs bash pipelines/refresh.sh
failed=$?

# ---- the report ----
say "" "== rows per table"
# The sources' tables, then the views they feed, in the config's order.
rows=$(jq -r 'reduce ([.sources[].table] + [.sources[].views[]?])[] as $t ([];
		if index([$t]) then . else . + [$t] end)
	| map(if test("^[a-z_][a-z0-9_]*$") then "select \u0027\(.)\u0027 as table, count(*) as rows from \(.)"
		else error("table name \(tojson)") end) | join(" union all ")' "$config") ||
	die 78 "$config: cannot read the tables"
psqlq -c "$rows"
say "== freshness (monitoring.data_sources)"
psqlq -c "select id, last_status as status,
		to_char(last_imported, 'YYYY-MM-DD HH24:MI:SS') as last_imported,
		to_char(last_checked, 'YYYY-MM-DD HH24:MI:SS') as last_checked,
		rows_imported as rows, round(last_duration_seconds::numeric, 2) as seconds
	from monitoring.data_sources order by id"
say "== a few lycées with their indicators (mv_lycees_with_metrics, 2024)"
psqlq -c "select uai, left(nom_etablissement, 36) as nom, libelle_commune as commune,
		taux_reu_total as reussite, va_reu_total as va, taux_men_total as mentions
	from mv_lycees_with_metrics where annee = 2024
	order by type_etablissement is null, taux_reu_total desc nulls last, uai limit 5"
say "== connect" "    $connect" "    stop the demo database with: make demo-stop (remove it: make demo-clean)"
[ "$failed" -eq 0 ] || die "$failed" "a source failed to load (exit $failed): see its line above"
