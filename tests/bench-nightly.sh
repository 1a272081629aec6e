#!/bin/sh
# The nightly cost: the production job (pipelines/refresh.sh) run twice against loopback
# stand-ins of the real publishers, with the real config's URLs (hosts replaced), at their
# national sizes: generated files of the real shapes (tests/gen-nightly.py, tests/gen-dvf.py):
# the annuaire 68k rows, IVAL 30k, IVAC 40k, ONISEP 15k, communes 35k, DVF five years (served with
# ETags; DVF_ROWS rows a year, 20000 by default: a nothing-changed night asks each year with its
# ETag and gets a 304, so a year's size does not change the second run's numbers). Opendatasoft's
# stand-in serves catalog records and exports (in no stable order unless asked); data.gouv.fr's
# dataset API lists the raw DVF files. It prints, for the second, nothing-changed run, the bytes
# downloaded and the requests made per source, and the wall seconds; and the issue's budget:
# at most ONISEP's file plus 200 KB in all; then, for comparison, the same night with the
# Opendatasoft sources on change "sha256", as before the catalog record was read.
#   sh tests/bench-nightly.sh        (make bench runs it with the others)
set -u
# shellcheck source=tests/benchlib.sh
. "$(dirname "$0")/benchlib.sh"
dvf_rows=${DVF_ROWS:-20000}
w=$root/.bench/nightly
rm -rf "$w"
mkdir -p "$w/www/downloads/5fa5816ac6a6e" "$w/www/geo-dvf/latest/csv" "$w/logs"
fx=$root/tests/fixtures

# The publishers' files.
"$py" tests/gen-nightly.py csv "$fx/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv" \
	Identifiant_de_l_etablissement 68000 >"$w/annuaire.csv" || exit 71
"$py" tests/gen-nightly.py csv "$fx/ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_export_built.csv" \
	uai 30000 >"$w/ival.csv" || exit 71
"$py" tests/gen-nightly.py csv "$fx/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv" \
	UAI 40000 >"$w/ivac.csv" || exit 71
"$py" tests/gen-nightly.py csv "$fx/onisep/ideo-structures-secondaire_built.csv" "code UAI" 15000 \
	>"$w/www/downloads/5fa5816ac6a6e/5fa5816ac6a6e.csv" || exit 71
"$py" tests/gen-nightly.py communes "$fx/insee-communes/geo-api-communes_fields-code-nom-centre_first500.json" \
	"$fx/insee-communes/geo-api-communes_fields-code-nom-centre_last60.json" 35000 >"$w/www/communes" || exit 71
for y in 2021 2022 2023 2024 2025; do
	mkdir -p "$w/www/geo-dvf/latest/csv/$y"
	gzip -9nc "$(gen "$dvf_rows" "$y")" >"$w/www/geo-dvf/latest/csv/$y/full.csv.gz"
done
jq -n '{id: "5c4ae55a634f4117716d5656", resources: [range(2021; 2026) | tostring
	| {title: "valeursfoncieres-\(.).txt.zip", url: "https://static.data.gouv.fr/vf-\(.).txt.zip",
	   last_modified: "2026-04-05T00:22:51+00:00"}]}' >"$w/dataset.json"
ods=/api/explore/v2.1/catalog/datasets
catalog() { # catalog DATASET ROWS: its catalog record
	jq -n --arg id "$1" --argjson n "$2" '{dataset_id: $id, has_records: true, metas: {default:
		{title: $id, modified: "2026-09-01T06:00:00+00:00", data_processed: "2026-12-06T03:12:45.131000+00:00",
		records_count: $n}}, fields: []}' >"$w/$1.json"
}
set -- fr-en-annuaire-education annuaire 68000 fr-en-indicateurs-de-resultat-des-lycees-gt_v2 ival 30000 \
	fr-en-indicateurs-valeur-ajoutee-colleges ivac 40000
echo '{}' >"$w/script.json"
while [ $# -gt 0 ]; do
	catalog "$1" "$3"
	jq --arg p "$ods/$1" --arg f "$2.csv" --arg c "$1.json" \
		'.[$p] = {body_file: $c, headers: {"Content-Type": "application/json"}}
		| .[$p + "/exports/csv"] = {body_file: $f, unordered: true, headers: {"Content-Type": "text/csv; charset=utf-8"}}' \
		"$w/script.json" >"$w/s.json" && mv "$w/s.json" "$w/script.json"
	shift 3
done
jq '.["/api/1/datasets/5c4ae55a634f4117716d5656/"] = {body_file: "dataset.json", headers: {"Content-Type": "application/json"}}' \
	"$w/script.json" >"$w/s.json" && mv "$w/s.json" "$w/script.json"

# The stand-ins on one loopback port, and the real config with its hosts replaced.
rm -f "$w/port"
"$py" tests/httpd.py --root "$w/www" --script "$w/script.json" --sent "$w/sent.log" --port-file "$w/port" \
	>/dev/null 2>"$w/httpd.err" &
httpd=$!
for _ in $(seq 100); do [ -s "$w/port" ] && break; sleep 0.05; done
[ -s "$w/port" ] || { echo "bench: tests/httpd.py did not start" >&2; cat "$w/httpd.err" >&2; exit 71; }
base=http://127.0.0.1:$(cat "$w/port")
sed -e "s#https://data.education.gouv.fr#$base#; s#https://geo.api.gouv.fr#$base#" \
	-e "s#https://files.data.gouv.fr#$base#g; s#https://www.data.gouv.fr#$base#" \
	-e "s#https://api.opendata.onisep.fr#$base#" config/sources.json >"$w/sources.json"

bench_db nightly
trap 'kill "$httpd" 2>/dev/null; sh tests/pg.sh stop "$pg"' EXIT
sh sql/migrate.sh >/dev/null || exit 71
EDU_SOURCES=$w/sources.json EDU_ENV='' EDU_LOG_DIR=$w/logs EDU_LOCK=$w/lock
export EDU_SOURCES EDU_ENV EDU_LOG_DIR EDU_LOCK
unset EDU_SLACK_WEBHOOK EDU_SMTP_URL EDU_SENDGRID_API_KEY EDU_RUN_ID

# night RUN: the production job; its wall seconds in secs.
night() {
	: >"$w/sent.log"
	t0=$(date +%s%N)
	bash pipelines/refresh.sh >"$w/run$1.out" 2>"$w/run$1.err"
	s=$?
	t1=$(date +%s%N)
	secs=$(echo "$t0 $t1" | awk '{printf "%.2f", ($2 - $1) / 1e9}')
	cp "$w/sent.log" "$w/sent$1.log"
}
night 1
[ "$s" -eq 0 ] || { echo "bench: the first run failed (exit $s):" >&2; cat "$w/run1.out" "$w/run1.err" >&2; exit 70; }
echo "first run (loads everything): $secs s, $(jq -s 'map(.bytes) | add' "$w/sent1.log") bytes in $(wc -l <"$w/sent1.log" | tr -d ' ') requests"
for t in annuaire_sites lycees_indicateurs colleges_indicateurs onisep_etablissements communes dvf_mutations; do
	printf '%s %s rows; ' "$t" "$(q "select count(*) from $t")"
done
echo
echo "files: annuaire $(wc -c <"$w/annuaire.csv"), ival $(wc -c <"$w/ival.csv"), ivac $(wc -c <"$w/ivac.csv"), onisep $(wc -c <"$w/www/downloads/5fa5816ac6a6e/5fa5816ac6a6e.csv"), communes $(wc -c <"$w/www/communes"), dvf $(cat "$w"/www/geo-dvf/latest/csv/*/full.csv.gz | wc -c) bytes (gzip, $dvf_rows rows a year)"
night 2
[ "$s" -eq 0 ] || { echo "bench: the second run failed (exit $s):" >&2; cat "$w/run2.out" "$w/run2.err" >&2; exit 70; }
sed 's/^/  /' "$w/run2.out"
echo "second run (nothing changed): $secs s wall"
printf '%-10s %9s %12s  %s\n' source requests bytes "what was asked"
onisep_bytes=$(wc -c <"$w/www/downloads/5fa5816ac6a6e/5fa5816ac6a6e.csv" | tr -d ' ')
jq -rs --arg ods "$ods/" 'def src: if startswith($ods + "fr-en-annuaire-education") then "annuaire"
		elif startswith($ods + "fr-en-indicateurs-de-resultat") then "ival"
		elif startswith($ods + "fr-en-indicateurs-valeur-ajoutee") then "ivac"
		elif startswith("/communes") then "communes" elif startswith("/geo-dvf/") then "dvf"
		elif startswith("/api/1/datasets/") then "dvf_raw" elif startswith("/downloads/") then "onisep"
		else "other" end;
	group_by(.path | src) | .[] | [(.[0].path | src), length, (map(.bytes) | add),
		(map("\(.path | sub("\\?.*"; "?…")) \(.status)") | unique | join(", ") | .[0:90])] | @tsv' \
	"$w/sent2.log" | awk -F '\t' '{ printf "%-10s %9d %12d  %s\n", $1, $2, $3, $4 }'
total=$(jq -s 'map(.bytes) | add' "$w/sent2.log")
reqs=$(wc -l <"$w/sent2.log" | tr -d ' ')
budget=$((onisep_bytes + 204800))
printf '%-10s %9d %12d  budget: ONISEP %d + 200 KB = %d bytes: %s\n' total "$reqs" "$total" "$onisep_bytes" \
	"$budget" "$([ "$total" -le "$budget" ] && echo ok || echo MISSED)"

# For comparison: the same nothing-changed night, the Opendatasoft exports hashed.
jq '.sources |= map(if .change == "opendatasoft" then .change = "sha256" else . end)' "$w/sources.json" \
	>"$w/s.json" && mv "$w/s.json" "$w/sources.json"
night 3
echo "the same night with change sha256 for the Opendatasoft exports: $secs s wall, \
$(jq -s 'map(.bytes) | add' "$w/sent3.log") bytes in $(wc -l <"$w/sent3.log" | tr -d ' ') requests (exit $s)"
