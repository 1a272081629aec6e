#!/bin/bash
# DVF by year end to end, with the real config's dvf and dvf_raw entries pointed at the loopback
# server: the production job reads the years from the publishers (geo-DVF's directory index, the
# raw files' dataset API), loads each year from one source only (geo-DVF where it has the year,
# the raw file only for a year geo-DVF lacks), reloads only the year that changed, and keeps a
# year the publishers stop publishing.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/httpd.sh"
pl_job t0713

geo=$FIX/dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv
raw=$FIX/dvf/valeursfoncieres-2020_excerpt-172rows.txt
geo_year() { # geo_year YEAR [LINES]: the geo-DVF fixture moved to YEAR, published
	mkdir -p "$T/www/geo/$1"
	head -n "${2:-1000}" "$geo" | sed "s/^2025-\([0-9]*\),2025-/$1-\1,$1-/" |
		pl_gzip /dev/stdin "$T/www/geo/$1/full.csv.gz"
}
raw_year() { # raw_year YEAR: the raw fixture moved to YEAR, zipped as the DGFiP publishes it
	mkdir -p "$T/www/vf"
	sed "s#/2020|#/$1|#g" "$raw" >"$T/raw$1.txt"
	pl_zip "$T/raw$1.txt" "$T/www/vf/valeursfoncieres-$1.txt.zip" "valeursfoncieres-$1.txt"
}
dataset() { # dataset YEAR...: the raw files' dataset API lists these years
	local y
	for y in "$@"; do
		jq -n --arg b "$BASE" --arg y "$y" --arg s "$(sha1sum <"$T/www/vf/valeursfoncieres-$y.txt.zip" | cut -c1-40)" \
			'{title: "valeursfoncieres-\($y).txt.zip", url: "\($b)/www/vf/valeursfoncieres-\($y).txt.zip",
			  last_modified: "2025-10-18T23:48:51.000000+00:00", checksum: {type: "sha1", value: $s}}'
	done | jq -s '{id: "vf", resources: .}' >"$T/www/dataset.json"
}
geo_year 2023
geo_year 2024
raw_year 2022
raw_year 2023
echo '{"/api/1/datasets/vf/": {"body_file": "www/dataset.json", "headers": {"Content-Type": "application/json"}}}' \
	>"$T/script.json"
httpd_start "$T/script.json" "$T"
dataset 2022 2023
. "$EDU_ROOT/tests/ops.sh"
ops_only dvf dvf_raw
jq --arg b "$BASE" '.sources |= map(if .id == "dvf"
	then .url = $b + "/www/geo/{year}/full.csv.gz" | .years.url = $b + "/www/geo/"
	else .resolve.api = $b + "/api/1/datasets/vf/" end)' "$EDU_SOURCES" >"$T/s.json" &&
	mv "$T/s.json" "$EDU_SOURCES"
geo_rows=$(($(wc -l <"$geo") - 1))
raw_rows=$(awk 'END { print NR - 1 }' "$raw")
years() { sql "select string_agg(annee || ':' || n, ' ' order by annee) from
	(select annee, count(*) n from dvf_mutations group by 1) x"; }
loads() { sql "select string_agg(unit, ' ' order by unit) from monitoring.runs where kind = 'load'
	and outcome <> 'failed' and job = (select job from monitoring.runs where kind = 'load' order by id desc limit 1)"; }

run bash "$EDU_ROOT/pipelines/refresh.sh"
is_status 0 "the first run loads every published year"
is "$(loads)" "dvf:2023 dvf:2024 dvf_raw:2022" "geo-DVF's years from geo-DVF, only the year it lacks from the raw files"
is "$(years)" "2022:$raw_rows 2023:$geo_rows 2024:$geo_rows" "each year once, from one source"
is "$(sql "select count(*) from dvf_mutations where annee = 2023 and id_mutation is null")" 0 \
	"2023 came from geo-DVF (the raw file has no id_mutation), although the raw files publish it too"
like_out "^dvf:2023: loaded: " "the report names the year's unit"

nloads=$(sql "select count(*) from monitoring.runs where kind = 'load'")
run bash "$EDU_ROOT/pipelines/refresh.sh"
is_status 0 "a second run"
is "$(cat "$OUT")" "refresh: no source changed since its last import" "nothing changed, says so"
is "$(sql "select count(*) from monitoring.runs where kind = 'load'")" "$nloads" "nothing loaded: no new load row"
is "$(years)" "2022:$raw_rows 2023:$geo_rows 2024:$geo_rows" "the table as it was"

# geo-DVF republishes 2024 with fewer sales: only 2024 reloads.
geo_year 2024 41
run bash "$EDU_ROOT/pipelines/refresh.sh"
is_status 0 "a republished year"
is "$(loads)" "dvf:2024" "only the changed year reloads"
is "$(years)" "2022:$raw_rows 2023:$geo_rows 2024:40" "its rows replaced, the other years untouched"

# The oldest year leaves the publishers' window: it stays in the table.
rm -r "$T/www/geo/2023"
dataset 2023
run bash "$EDU_ROOT/pipelines/refresh.sh"
is_status 0 "2022 no longer published, 2023 only by the raw files"
is "$(sql "select count(*) from dvf_mutations where annee = 2022")" "$raw_rows" \
	"a year the publishers stopped publishing is kept"
is "$(loads)" "dvf_raw:2023" "2023 now comes from the raw files, geo-DVF no longer having it"
is "$(sql "select count(*) from dvf_mutations where annee = 2023")" "$raw_rows" "2023 replaced as one year"
