#!/bin/bash
# Per-year units in the production job: dvf:2024 and dvf:2025 are checked and loaded each on its
# own (pipelines/dvf.sh -R YEAR, in parallel, each in its own transaction); when one year changes
# upstream only that year reloads; the report and the history speak of the unit; a rehearsal of
# one year changes nothing.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/httpd.sh"
pl_job t0712
geo=$FIX/dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv
mkdir -p "$T/www/dvf/2024" "$T/www/dvf/2025"
pl_gzip "$geo" "$T/www/dvf/2025/full.csv.gz"
sed 's/^2025-\([0-9]*\),2025-/2024-\1,2024-/' "$geo" >"$T/geo2024.csv"
pl_gzip "$T/geo2024.csv" "$T/www/dvf/2024/full.csv.gz"
echo '{}' >"$T/script.json"
httpd_start "$T/script.json" "$T/www"
. "$EDU_ROOT/tests/ops.sh"
ops_only dvf
jq --arg u "$BASE/dvf/{year}/full.csv.gz" '.sources |= map(.url = $u)' "$EDU_SOURCES" >"$T/s.json" &&
	mv "$T/s.json" "$EDU_SOURCES"
rows=$(($(wc -l <"$geo") - 1))

run bash "$EDU_ROOT/pipelines/refresh.sh" dvf:2024 dvf:2025
is_status 0 "two years, new"
like_out "^dvf:2024: loaded: table=dvf_mutations inserted=$rows " "2024 loaded"
like_out "^dvf:2025: loaded: table=dvf_mutations inserted=$rows " "2025 loaded"
is "$(sql 'select annee, count(*) from dvf_mutations group by 1 order by 1' | tr '\n' ' ')" \
	"2024|$rows 2025|$rows " "each year in the table"
# The job the run logged (EDU_RUN_ID, made by refresh.sh: UTC time, then its pid) holds one load
# row per year, each under its own unit.
job=$(sed -n 's/^[^ ]* job=\([^ ]*\) stage=job .*/\1/p' "$EDU_LOG_DIR/check.log" | tail -n 1)
like_job=$(printf '%s' "$job" | grep -Ec '^[0-9]{8}T[0-9]{6}Z-[0-9]+$')
is "$like_job" 1 "the run's job id is in the check log (got '$job')"
is "$(sql "select string_agg(unit || '|' || source || '|' || year || '|' || outcome || '|' || rows_inserted, ' '
	order by unit) from monitoring.runs where kind = 'load' and job = '$job'")" \
	"dvf:2024|dvf|2024|loaded|$rows dvf:2025|dvf|2025|loaded|$rows" "each year's load in the history under its unit"

# 2025 republished with one sale less: only 2025 reloads.
{ head -n "$rows" "$geo"; } | pl_gzip /dev/stdin "$T/www/dvf/2025/full.csv.gz"
before=$(sql "select count(*) from dvf_mutations where annee = 2024")
# 2024's rows with their xmin (a rewrite with equal values is caught), and its load rows in the
# history (an identical reload adds one).
sum2024() {
	sql "select count(*) || ':' || md5(string_agg(r::text || ':' || r.xmin::text, '|' order by r::text, r.xmin::text))
		from dvf_mutations r where annee = 2024"
}
loads2024() { sql "select count(*) from monitoring.runs where unit = 'dvf:2024' and kind = 'load'"; }
sum_before=$(sum2024)
loads_before=$(loads2024)
run bash "$EDU_ROOT/pipelines/refresh.sh" -n dvf:2024 dvf:2025
is_status 0 "the rehearsal of the changed year"
like_out "^dvf:2025: would load: table=dvf_mutations inserted=0 updated=0 deleted=1 " "it would delete one sale"
is "$(grep -c '^dvf:2024' "$OUT")" 0 "2024 unchanged upstream"
is "$(sql "select count(*) from dvf_mutations where annee = 2025")" "$rows" "the rehearsal changed nothing"
run bash "$EDU_ROOT/pipelines/refresh.sh" dvf:2024 dvf:2025
is_status 0 "the real run"
like_out "^dvf:2025: loaded: table=dvf_mutations inserted=0 updated=0 deleted=1 " "only 2025 reloads"
is "$(grep -c '^dvf:2024' "$OUT")" 0 "2024 is left alone"
is "$(sql "select count(*) from dvf_mutations where annee = 2024")" "$before" "2024's rows untouched"
is "$(sum2024)" "$sum_before" "2024's rows not rewritten (rows and xmin), by the rehearsal or the run"
is "$(loads2024)" "$loads_before" "no load of 2024 in the history since"
