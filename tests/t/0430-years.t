#!/bin/bash
# Sources published one file per year, against the loopback server: the years are read from
# the publisher at each check (geo-DVF's directory index, the raw files' dataset API), each year
# is a unit of its own with its own validators (dvf:2024), only the changed years are printed,
# the fallback source is checked only for the years its primary lacks (never the same year from
# both), a year that disappears upstream is not listed and its row is kept, an index that lists
# no year (an error page) is a failure, and every check is a row of monitoring.runs.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/httpd.sh"

geo=$FIX/dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv
mkdir -p "$T/www/geo-dvf/2023" "$T/www/geo-dvf/2024"
head -n 40 "$geo" | gzip -9nc >"$T/www/geo-dvf/2023/full.csv.gz"
gzip -9nc "$geo" >"$T/www/geo-dvf/2024/full.csv.gz"
# The raw files' dataset: a half year (2022-s2), 2023 and 2024, shaped like data.gouv.fr's answer.
jq '.resources |= map(select(.title | test("2023|2024")))
	| .resources = [.resources[0] | .title = "valeursfoncieres-2022-s2.txt.zip"
		| .url = "@BASE@/vf/valeursfoncieres-2022-s2.txt.zip"] + .resources' \
	"$FIX/http/dataset-dvf.json" >"$T/dataset.json"
cat >"$T/script.json" <<'EOF'
{
  "/api/1/datasets/vf/": {"body_file": "dataset.json", "headers": {"Content-Type": "application/json"}},
  "/maintenance/": {"body": "<!DOCTYPE html><html><body><h1>Maintenance</h1><p>Back soon.</p></body></html>",
                    "headers": {"Content-Type": "text/html"}},
  "/down/": {"status": 503},
  "/busy/": {"status": 429, "headers": {"Retry-After": "120"}},
  "/huge/": {"body_file": "huge.html", "headers": {"Content-Type": "text/html"}},
  "/absolute/": {"body": "<html><body><a href='https://files.example/geo-dvf/latest/csv/2021/'>2021/</a> <A HREF = \"/geo-dvf/latest/csv/2022/\">2022/</a> <a href=\"/x/2019.csv\">2019.csv</a> <a href=\"../\">..</a></body></html>",
                 "headers": {"Content-Type": "text/html"}}
}
EOF
# An index of 5 MiB that links a year: a directory index is small, so this is none.
{
	echo '<html><body><a href="2024/">2024/</a>'
	head -c 5242880 /dev/zero | tr '\0' 'x'
	echo '</body></html>'
} >"$T/huge.html"
httpd_start "$T/script.json" "$T/www"
# year_src ID INDEX-PATH: a geo-DVF-like source whose years are the links of INDEX-PATH.
year_src() {
	jq -n --arg id "$1" --arg b "$BASE" --arg i "$2" '{id: $id, name: "test \($id)",
		url: ($b + "/geo-dvf/{year}/full.csv.gz"), format: "gzip", change: "conditional",
		years: {from: "index", url: ($b + $i), match: "^([0-9]{4})/$"}}'
}
# raw_src ID PRIMARY: a raw-DVF-like source, its years from the dataset API, fallback of PRIMARY.
raw_src() {
	jq -n --arg id "$1" --arg p "$2" --arg b "$BASE" '{id: $id, name: "test \($id)", url: null,
		resolve: {api: ($b + "/api/1/datasets/vf/"), resource: "valeursfoncieres-{year}.txt.zip"},
		years: {from: "resolve", match: "^valeursfoncieres-([0-9]{4})(-s[12])?\\.txt\\.zip$"},
		fallback_for: $p, format: "zip", change: "datagouv"}'
}
{
	year_src dvf /geo-dvf/
	raw_src dvf_raw dvf
	year_src t_maint /maintenance/
	raw_src t_maint_raw t_maint
	year_src t_down /down/
	year_src t_busy /busy/
	year_src t_abs /absolute/
	year_src t_huge /huge/
} | jq -s '{sources: .}' >"$T/sources.json"
sed -i "s|@BASE@|$BASE|g" "$T/dataset.json"
EDU_SOURCES=$T/sources.json
export EDU_SOURCES
schema_db edu_t0430

# What edu-pgcopy -s UNIT does after a successful load: the pending download becomes known.
loaded() {
	sql "select monitoring.imported('$1', now(), 1, 0, 0, 0, 0.1, null, null, null)" >/dev/null
}
fetched_and_loaded() { # fetched_and_loaded SOURCE YEAR
	edu-fetch -q -y "$2" "$1" >/dev/null && loaded "$1:$2"
}
state() {
	sql "select concat_ws('|', last_status, coalesce(last_error, '-')) from monitoring.data_sources
	     where id = '$1'"
}
checks() { # checks UNIT: its check rows in monitoring.runs, oldest first
	sql "select string_agg(concat_ws('/', outcome, exit_status, coalesce(job, '-')), ' ' order by id)
	     from monitoring.runs where unit = '$1' and kind = 'check'"
}
known() {
	sql "select md5(concat_ws('|', known_etag, known_sha256, known_size, known_url,
		last_known_modified)) from monitoring.data_sources where id = '$1'"
}

# ---- never imported: every published year is changed, found from the index ----
EDU_RUN_ID=job-1
export EDU_RUN_ID
run edu-ifmodified -v dvf
is_status 0 "two years published, never imported: changed"
is "$(tr '\n' ' ' <"$OUT")" "dvf:2023 dvf:2024 " "each year is printed as its unit, oldest first"
like_err '^edu-ifmodified: dvf: years published: 2023 2024$' "-v: the years read from the index"
is "$(requests /geo-dvf/)" 1 "one request for the list of years"
is "$(requests /geo-dvf/2023/full.csv.gz)$(requests /geo-dvf/2024/full.csv.gz)" 00 \
	"no request for a year never imported"
is "$(state dvf:2023)|$(state dvf:2024)" "changed|-|changed|-" "each year has its own row"
is "$(checks dvf:2024)" "changed/0/job-1" "the check is a row of monitoring.runs, with EDU_RUN_ID as its job"
is "$(sql "select concat_ws('|', source, year) from monitoring.runs where unit = 'dvf:2023'")" \
	"dvf|2023" "the history row names the source and the year"
is "$(checks dvf)" "changed/0/job-1" "the listing itself is recorded under the source id"
unset EDU_RUN_ID
log_clear

# ---- each year imported: its own validators; nothing changed ----
fetched_and_loaded dvf 2023
fetched_and_loaded dvf 2024
is "$(sql "select count(distinct known_etag) from monitoring.data_sources where id in ('dvf:2023', 'dvf:2024')")" \
	2 "each year keeps its own ETag"
log_clear
run edu-ifmodified -v dvf
is_status 1 "both years imported, none changed"
empty_out "nothing printed"
is "$(requests /geo-dvf/2023/full.csv.gz)$(requests /geo-dvf/2024/full.csv.gz)" 11 "one request per year"
is "$(req_header /geo-dvf/2024/full.csv.gz if-none-match)" \
	"$(sql "select known_etag from monitoring.data_sources where id = 'dvf:2024'")" \
	"the 2024 request carries the 2024 ETag"
is "$(checks dvf:2024 | cut -d' ' -f2)" "unchanged/1/-" "unchanged: a row with status 1, no job outside a run"

# ---- one year changes upstream: only that year is printed ----
{ cat "$geo"; tail -n 1 "$geo"; } | gzip -9nc >"$T/www/geo-dvf/2024/full.csv.gz"
before=$(known dvf:2024)
log_clear
run edu-ifmodified dvf
is_status 0 "2024 changed"
is "$(cat "$OUT")" "dvf:2024" "only the changed year is printed"
is "$(state dvf:2023)" "unchanged|-" "2023 recorded unchanged"
is "$(known dvf:2024)" "$before" "the check does not touch what is known"

# ---- one unit asked by name: that year only, without the index ----
log_clear
run edu-ifmodified dvf:2023
is_status 1 "dvf:2023 alone: unchanged"
is "$(requests /geo-dvf/)$(requests /geo-dvf/2023/full.csv.gz)$(requests /geo-dvf/2024/full.csv.gz)" 010 \
	"dvf:2023: no index request, no request for 2024"
run edu-ifmodified -y 2024 dvf
is_status 0 "-y 2024 dvf is the unit dvf:2024"
is "$(cat "$OUT")" "dvf:2024" "-y: the unit printed"
run edu-ifmodified dvf dvf:2024
is "$(cat "$OUT")" "dvf:2024" "a unit also listed by its source is checked once"

# ---- edu-fetch -y records under the year's unit ----
run edu-fetch -y 2024 -o "$T/2024.csv.gz" dvf
is_status 0 "edu-fetch -y 2024 dvf"
is "$(sql "select pending_sha256 from monitoring.data_sources where id = 'dvf:2024'")" \
	"$(sha256sum <"$T/www/geo-dvf/2024/full.csv.gz" | cut -d' ' -f1)" "recorded as pending under dvf:2024"
loaded dvf:2024

# ---- the fallback source: only for the years its primary does not publish ----
log_clear
run edu-ifmodified -v dvf dvf_raw
is_status 0 "dvf and its fallback dvf_raw"
is "$(cat "$OUT")" "dvf_raw:2022" "dvf_raw lists only 2022, the year geo-DVF lacks (a half year)"
like_err '^edu-ifmodified: dvf_raw:2023: published by dvf: not checked$' "-v: 2023 is left to dvf"
is "$(requests /geo-dvf/)$(requests /api/1/datasets/vf/)" 11 "the index once, the dataset API once"
is "$(sql "select count(*) from monitoring.data_sources where id in ('dvf_raw:2023', 'dvf_raw:2024')")" 0 \
	"no row for a raw year geo-DVF publishes"
log_clear
run edu-ifmodified dvf_raw
is "$(cat "$OUT")" "dvf_raw:2022" "dvf_raw alone still reads dvf's years"
is "$(requests /geo-dvf/)" 1 "dvf_raw alone: dvf's index read"
# Asked by unit, the fallback is checked for a year geo-DVF has; that year is not listed twice.
run edu-ifmodified dvf_raw:2024
is_status 0 "dvf_raw:2024 asked by name is checked"
is "$(cat "$OUT")" "dvf_raw:2024" "dvf_raw:2024 printed"
{ cat "$geo"; tail -n 2 "$geo"; } | gzip -9nc >"$T/www/geo-dvf/2024/full.csv.gz"
run edu-ifmodified dvf_raw:2024 dvf
is_status 0 "a raw year asked by name, and the same geo year changed"
is "$(tr '\n' ' ' <"$OUT")" "dvf_raw:2024 " "the year is listed once, from the source asked first"
like_err '^edu-ifmodified: dvf:2024: year 2024 already listed from another source: not listed twice$' \
	"the other source's year is said, not listed"

# ---- the oldest year disappears upstream: not listed, its row kept ----
before=$(known dvf:2023)
n=$(sql "select count(*) from monitoring.runs where unit = 'dvf:2023'")
rm -r "$T/www/geo-dvf/2023"
jq '.resources |= map(select(.title | test("2023") | not))' "$T/dataset.json" >"$T/d.json" &&
	mv "$T/d.json" "$T/dataset.json"
edu-fetch -q -y 2024 dvf >/dev/null && loaded dvf:2024
log_clear
run edu-ifmodified dvf dvf_raw
is_status 0 "2023 gone from both publishers"
is "$(tr '\n' ' ' <"$OUT")" "dvf_raw:2022 " "2023 is listed by neither"
is "$(requests /geo-dvf/2023/full.csv.gz)" 0 "no request for a year no longer published"
is "$(known dvf:2023)" "$before" "the row of dvf:2023 is kept as it was"
is "$(sql "select count(*) from monitoring.runs where unit = 'dvf:2023'")" "$n" \
	"its history is kept, and not added to"
# A year that DGFiP publishes and geo-DVF does not comes from the fallback.
jq '.resources += [.resources[-1] | .title = "valeursfoncieres-2021.txt.zip"]' "$T/dataset.json" >"$T/d.json" &&
	mv "$T/d.json" "$T/dataset.json"
run edu-ifmodified -q dvf_raw
is "$(tr '\n' ' ' <"$OUT")" "dvf_raw:2021 dvf_raw:2022 " "a year only DGFiP publishes comes from dvf_raw"

# ---- an index that lists no year is a failure, never "no year changed" ----
run edu-ifmodified t_maint
is_status 69 "a maintenance page served 200 as the index: permanent failure"
empty_out "nothing printed"
like_err "^edu-ifmodified: t_maint: $BASE/maintenance/: no year listed \(no entry matches \^\(\[0-9\]\{4\}\)/\\$\): not the list of years$" \
	"the message names the index and says it lists no year"
is "$(checks t_maint)" "failed/69/-" "recorded as a failed check of the source"
is "$(state t_maint)" "error|$BASE/maintenance/: no year listed (no entry matches ^([0-9]{4})/\$): not the list of years" \
	"last_error says why"
run edu-ifmodified t_maint_raw
is_status 69 "a fallback whose primary's index is an error page fails too"
like_err "^edu-ifmodified: t_maint_raw: the years of t_maint are unknown: $BASE/maintenance/: no year listed" \
	"the fallback says its primary's years are unknown"
empty_out "no raw year is listed when the primary's years are unknown"
run edu-ifmodified t_huge
is_status 69 "an index of more than 4 MiB: permanent failure"
like_err "^edu-ifmodified: t_huge: $BASE/huge/: more than 4 MiB: not a directory index$" \
	"the message names the index and the limit"
empty_out "no year is taken from it"
run edu-ifmodified t_down
is_status 75 "an index answering 503: temporary failure"
like_err "^edu-ifmodified: t_down: $BASE/down/: HTTP 503 Service Unavailable$" "503: the message"
is "$(checks t_down)" "failed/75/-" "503: recorded"
run edu-ifmodified dvf t_maint
is_status 69 "a failure and a change together: the failure's status"
is "$(cat "$OUT")" "" "dvf has nothing changed"

# ---- 429 on the index: the source cools off, from the column ----
log_clear
run edu-ifmodified t_busy
is_status 75 "index 429: temporary failure"
is "$(sql "select concat_ws('|', last_status, (cooloff_until - now()) between interval '115 seconds'
	and interval '121 seconds') from monitoring.data_sources where id = 't_busy'")" "cooloff|t" \
	"index 429: the source cools off for Retry-After"
is "$(checks t_busy)" "cooloff/75/-" "index 429: a cooloff row in the history"
run edu-ifmodified t_busy
is_status 1 "during the cool-off: skipped"
like_err '^edu-ifmodified: t_busy: rate-limited, cooling off until .*: skipped$' "skipped: said"
is "$(requests /busy/)" 1 "during the cool-off: no request"

# ---- 429 on one year: that year cools off, the next years wait ----
mkdir -p "$T/www/geo-dvf/2023" && cp "$T/www/geo-dvf/2024/full.csv.gz" "$T/www/geo-dvf/2023/"
jq '. + {"/geo-dvf/2023/full.csv.gz": {"status": 429}}' "$T/script.json" >"$T/s.json" && mv "$T/s.json" "$T/script.json"
log_clear
run edu-ifmodified dvf
is_status 75 "a year answering 429"
is "$(state dvf:2023 | cut -d'|' -f1)" cooloff "that year cools off (an hour without Retry-After)"
is "$(sql "select cooloff_until > now() + interval '59 minutes' from monitoring.data_sources where id = 'dvf:2023'")" \
	t "an hour without Retry-After"
is "$(requests /geo-dvf/2024/full.csv.gz)" 0 "the server asked to slow down: 2024 waits for the next check"
like_err '^edu-ifmodified: dvf: rate-limited: its other years wait for the next check$' "said"

# ---- -f, -n ----
rows=$(table_sum monitoring.runs)
log_clear
run edu-ifmodified -f dvf
is_status 0 "-f: every year printed"
is "$(tr '\n' ' ' <"$OUT")" "dvf:2023 dvf:2024 " "-f: the years come from the index"
is "$(requests /geo-dvf/)$(requests /geo-dvf/2024/full.csv.gz)" 10 "-f: the index only"
run edu-ifmodified -n dvf:2024 dvf_raw t_maint
is "$(table_sum monitoring.runs)" "$rows" "-f and -n write no history"

# ---- links with absolute URLs, other hosts, odd spacing and case ----
run edu-ifmodified -fv t_abs
is_status 0 "an index with absolute links"
like_err '^edu-ifmodified: t_abs: years published: 2021 2022$' "years from absolute links, files ignored"

# ---- the configuration of a per-year source ----
bad() { # bad NAME JQ-EDIT: a config whose dvf entry is edited
	jq "(.sources[] | select(.id == \"dvf\")) |= ($2)" "$T/sources.json" >"$T/$1.json"
}
bad from '.years.from = "list"'
run edu-ifmodified -c "$T/from.json" dvf
is_status 78 "years.from unknown"
like_err "^edu-ifmodified: $T/from.json: dvf: years.from 'list': not one of index, resolve$" "years.from: the message"
bad nogroup '.years.match = "^[0-9]{4}/$"'
run edu-ifmodified -c "$T/nogroup.json" dvf
is_status 78 "years.match without a group"
like_err "years.match '\^\[0-9\]\{4\}/\\$': not an extended regular expression with a group for the year$" \
	"years.match: the message"
bad noyears 'del(.years)'
run edu-fetch -c "$T/noyears.json" -n dvf_raw
is_status 78 "a fallback whose primary is not published by year"
like_err "^edu-fetch: $T/noyears.json: dvf_raw: fallback_for 'dvf': no source of that id published by year$" \
	"fallback_for: the message"
run edu-fetch -c "$T/noyears.json" -n dvf
is_status 78 "{year} in a URL without years"
like_err "dvf: \{year\} in its URL but no \"years\" saying where the years are listed$" "{year}: the message"
run edu-ifmodified ivac:2024
is_status 66 "a unit of a source not in the config"
printf '{"sources": [{"id": "plain", "url": "%s/x.csv", "format": "csv"}]}' "$BASE" >"$T/plain.json"
run edu-ifmodified -c "$T/plain.json" plain:2024
is_status 66 "a year of a source not published by year"
like_err '^edu-ifmodified: plain:2024: unknown unit: plain is not published by year$' "the message"
