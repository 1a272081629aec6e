#!/bin/sh
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# `make demo`: the whole job on the bundled real data. Without a configured database (no PGHOST,
# PGDATABASE, PGSERVICE or DATABASE_URL) it starts a PostgreSQL + PostGIS kept in .demo/pg and
# reused by the next run; it applies the migrations, serves the data from a loopback HTTP server
# so that change detection is real, runs the production job (pipelines/refresh.sh: the sources
# that changed, in parallel, then the views they feed) and prints a report. A second run loads nothing; edit one file under
# .demo/www (or its original in tests/fixtures) and only that source reloads.
#   pipelines/demo.sh [-d dir] [stop]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 71
PATH=$root/bin:$PATH
export PATH
demo=$root/.demo
while getopts :d: o; do
	case $o in
	d) demo=$OPTARG ;;
	*) echo "usage: pipelines/demo.sh [-d dir] [stop]" >&2; exit 64 ;;
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
# The pipelines' tools take DATABASE_URL or libpq's environment; psql below needs one of them.
psqlq() {
	if [ -n "${DATABASE_URL:-}" ]; then
		psql -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" "$@"
	else
		psql -X -q -v ON_ERROR_STOP=1 "$@"
	fi
}
sh sql/migrate.sh >/dev/null || die $? "the migrations failed"

# ---- the upstream: the bundled real data, copied (or packed as the publisher packs it) into
# .demo/www when the original is newer, so an edit on either side is seen as a publisher update ----
www=$demo/www
mkdir -p "$www"
fx=tests/fixtures
# stale SOURCE DEST: DEST is missing or older than SOURCE.
stale() { [ ! -f "$2" ] || [ -n "$(find "$1" -newer "$2")" ]; }
# put DEST: moves DEST.tmp into place, so a run cut half-way never serves half a file.
put() { mv "$www/$1.tmp" "$www/$1" || die 74 "cannot write $www/$1"; }
publish() { # publish SOURCE-FILE DEST-NAME
	if stale "$1" "$www/$2"; then
		cp "$1" "$www/$2.tmp" || die 74 "cannot copy $1"
		put "$2"
	fi
}
publish $fx/onisep/ideo-structures-secondaire_built.csv onisep.csv
publish $fx/ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_export_built.csv ival.csv
publish $fx/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv ivac.csv
publish $fx/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv annuaire.csv
geo=$fx/insee-communes/geo-api-communes_fields-code-nom-centre
if stale "${geo}_first500.json" "$www/communes.json"; then
	# One array, as geo.api.gouv.fr answers: the first 500 communes and the last 60.
	jq -c -s add "${geo}_first500.json" "${geo}_last60.json" >"$www/communes.json.tmp" ||
		die 74 "cannot build communes.json"
	put communes.json
fi
gdvf=$fx/dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv
if stale "$gdvf" "$www/geo-dvf-2025-full.csv.gz"; then
	# -n: no name or time in the header, so the same rows always give the same bytes.
	gzip -9nc "$gdvf" >"$www/geo-dvf-2025-full.csv.gz.tmp" || die 74 "cannot compress $gdvf"
	put geo-dvf-2025-full.csv.gz
fi
raw=$fx/dvf/valeursfoncieres-2020_excerpt-172rows.txt
if stale "$raw" "$www/valeursfoncieres-2020.txt.zip"; then
	# Zipped as DGFiP publishes it, with a fixed member date so the same rows give the same zip.
	/usr/bin/python3 -c '
import sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo("valeursfoncieres-2020.txt", (2021, 5, 17, 0, 0, 0)),
               open(sys.argv[1], "rb").read(), zipfile.ZIP_DEFLATED)
' "$raw" "$www/valeursfoncieres-2020.txt.zip.tmp" || die 74 "cannot zip $raw"
	put valeursfoncieres-2020.txt.zip
fi

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

# The demo's sources: config/sources.json with each URL pointing at the loopback server.
EDU_SOURCES=$demo/sources.json
export EDU_SOURCES
jq --arg b "$base" '.sources |= map(
	.url = $b + "/" + {onisep: "onisep.csv", ival: "ival.csv", ivac: "ivac.csv",
		communes: "communes.json", dvf: "geo-dvf-2025-full.csv.gz",
		dvf_raw: "valeursfoncieres-2020.txt.zip", annuaire: "annuaire.csv"}[.id]
	| del(.resolve))' config/sources.json >"$EDU_SOURCES.tmp" || die 78 "cannot write $EDU_SOURCES"
mv "$EDU_SOURCES.tmp" "$EDU_SOURCES" || die 74 "cannot write $EDU_SOURCES"

# ---- the production job itself: what changed is loaded, the views it feeds refreshed ----
bash pipelines/refresh.sh
failed=$?

# ---- the report ----
say "" "== rows per table"
psqlq -c "select 'communes' as table, count(*) as rows from communes
	union all select 'onisep_etablissements', count(*) from onisep_etablissements
	union all select 'annuaire_etablissements', count(*) from annuaire_etablissements
	union all select 'lycees_indicateurs', count(*) from lycees_indicateurs
	union all select 'colleges_indicateurs', count(*) from colleges_indicateurs
	union all select 'dvf_mutations', count(*) from dvf_mutations
	union all select 'mv_lycees_with_metrics', count(*) from mv_lycees_with_metrics
	union all select 'mv_colleges_with_metrics', count(*) from mv_colleges_with_metrics"
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
say "== connect" "    $connect" "    stop the demo database with: make demo-stop"
[ "$failed" -eq 0 ] || die "$failed" "a source failed to load (exit $failed): see its line above"
