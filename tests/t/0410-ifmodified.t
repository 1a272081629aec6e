#!/bin/bash
# edu-ifmodified against the loopback server: 304 by ETag and by Last-Modified, servers that
# ignore conditions (same validators, or no validators and the same body), lying Last-Modified
# (sha256 method), changed bodies, errors, 429 cool-off, the data.gouv.fr dataset API, -n, -f,
# ids on stdin. Each case checks the exit status, the ids printed, the requests and headers the
# server received, and monitoring.data_sources (last_* written, known_* never).
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/httpd.sh"

IVAC=$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv
mkdir -p "$T/www"
cp "$IVAC" "$T/www/ivac.csv"
head -n 50 "$IVAC" >"$T/www/lying.csv"
head -n 80 "$IVAC" >"$T/www/nocond.csv"
cp "$FIX/insee-communes/geo-api-communes_fields-code-nom-centre_first500.json" "$T/www/communes.json"
cp "$FIX/http/script.json" "$T/"
http_world
schema_db edu_t0410

# What edu-pgcopy -s does after a successful load: pending becomes known.
promote() {
	sql "update monitoring.data_sources set known_etag = pending_etag,
		known_sha256 = pending_sha256, known_size = pending_size, known_url = pending_url,
		last_known_modified = pending_last_modified, last_imported = now(),
		last_status = 'imported', last_error = null where id = '$1'" >/dev/null
}
imported() { # imported ID [edu-fetch options]: download and "load" a source
	local id=$1
	shift
	edu-fetch -q "$@" "$id" >/dev/null && promote "$id"
}
known() {
	sql "select md5(concat_ws('|', known_etag, known_sha256, known_size, known_url,
		last_known_modified)) from monitoring.data_sources where id = '$1'"
}
state() {
	sql "select concat_ws('|', last_status, coalesce(last_error, '-'),
		last_checked > now() - interval '1 minute')
	     from monitoring.data_sources where id = '$1'"
}

# ---- never imported: changed, without a request ----
run edu-ifmodified t_csv
is_status 0 "never imported: changed"
is "$(cat "$OUT")" t_csv "never imported: the id is printed"
empty_err "never imported: silent"
is "$(requests /ivac.csv)" 0 "never imported: no request"
is "$(state t_csv)" "changed|-|t" "never imported: last_status changed, last_checked set"

# ---- downloaded but never loaded: only pending values, which are never compared ----
edu-fetch -q t_gz >/dev/null
log_clear
run edu-ifmodified t_gz
is_status 0 "pending values only: changed"
is "$(cat "$OUT")" t_gz "pending values only: the id is printed"
is "$(requests /gz)" 0 "pending values only: no conditional request built from them"

# ---- ETag: 304 ----
imported t_csv
before=$(known t_csv)
etag=$(sql "select known_etag from monitoring.data_sources where id = 't_csv'")
log_clear
run edu-ifmodified -v t_csv
is_status 1 "ETag unchanged: exit 1"
empty_out "ETag unchanged: nothing printed"
like_err '^edu-ifmodified: t_csv: HTTP 304, unchanged \(304\)$' "ETag unchanged: -v says 304"
is "$(requests /ivac.csv)" 1 "ETag unchanged: one request"
is "$(req_header /ivac.csv if-none-match)" "$etag" "ETag unchanged: If-None-Match is the known ETag"
is "$(req_header /ivac.csv if-modified-since)" "$(date -u -r "$T/www/ivac.csv" '+%a, %d %b %Y %H:%M:%S GMT')" \
	"ETag unchanged: If-Modified-Since is the known Last-Modified"
[[ $(req_header /ivac.csv user-agent) == "eduinfo-pipeline/0.1.0 (edu-ifmodified)" ]]
ok $? "ETag unchanged: User-Agent"
is "$(state t_csv)" "unchanged|-|t" "ETag unchanged: last_status unchanged"
is "$(known t_csv)" "$before" "ETag unchanged: known values untouched"

# ---- the file changes: new ETag ----
printf '0;2030;0000000X;test;;;;;;;;;;;;;;;;;;;;;;;;;\r\n' >>"$T/www/ivac.csv"
log_clear
run edu-ifmodified -v t_csv
is_status 0 "content changed: exit 0"
is "$(cat "$OUT")" t_csv "content changed: the id is printed"
like_err 't_csv: HTTP 200, changed \(validators\)' "content changed: decided by the ETag"
is "$(requests /ivac.csv)" 1 "content changed: one request"
is "$(state t_csv)" "changed|-|t" "content changed: last_status changed"
is "$(known t_csv)" "$before" "content changed: known values untouched"

# ---- Last-Modified only: 304 ----
imported t_lm
log_clear
run edu-ifmodified t_lm
is_status 1 "Last-Modified unchanged: exit 1"
is "$(req_header /lm if-modified-since)" "Tue, 14 Oct 2025 08:00:00 GMT" \
	"Last-Modified unchanged: If-Modified-Since sent"
is "$(req_header /lm if-none-match)" "" "Last-Modified unchanged: no If-None-Match without an ETag"
is "$(state t_lm)" "unchanged|-|t" "Last-Modified unchanged: recorded"

# ---- a server that ignores conditions but keeps its (weak) ETag ----
imported t_ignores
log_clear
run edu-ifmodified -v t_ignores
is_status 1 "ignored conditions, same ETag: unchanged"
like_err 't_ignores: HTTP 200, unchanged \(validators\)' "ignored conditions: decided by the ETag"
is "$(req_header /ignores if-none-match)" 'W/"c-1"' "ignored conditions: If-None-Match was sent"
is "$(requests /ignores)" 1 "ignored conditions: one request"

# ---- a server without validators, 200 every time: the body's hash decides ----
imported t_nocond
log_clear
run edu-ifmodified -v t_nocond
is_status 1 "no validators, same body: unchanged by hash"
like_err 't_nocond: HTTP 200, unchanged \(sha256\)' "no validators: decided by SHA-256"
is "$(req_header /nocond if-none-match)$(req_header /nocond if-modified-since)" "" \
	"no validators: no condition to send"
is "$(state t_nocond)" "unchanged|-|t" "no validators: recorded unchanged"
echo "one more line" >>"$T/www/nocond.csv"
run edu-ifmodified -v t_nocond
is_status 0 "no validators, changed body: changed"
like_err 't_nocond: HTTP 200, changed \(sha256\)' "changed body: decided by SHA-256"

# ---- a lying Last-Modified (sha256 method) ----
imported t_lying
log_clear
run edu-ifmodified -v t_lying
is_status 1 "lying Last-Modified, same body: unchanged"
like_err 't_lying: HTTP 200, unchanged \(sha256\)' "lying Last-Modified: decided by SHA-256"
is "$(req_header /lying if-modified-since)" "" "sha256 method: no condition sent"
echo "new row" >>"$T/www/lying.csv"
run edu-ifmodified t_lying
is_status 0 "lying Last-Modified, changed body: changed"
is "$(cat "$OUT")" t_lying "changed body: printed"

# ---- a compressed answer with only a Last-Modified, conditions ignored ----
imported t_gzlm
before=$(known t_gzlm)
log_clear
run edu-ifmodified -v t_gzlm
is_status 1 "gzip, same Last-Modified: unchanged (Content-Length is the compressed size)"
like_err '^edu-ifmodified: t_gzlm: HTTP 200, unchanged \(validators\)$' "gzip: decided by Last-Modified"
is "$(req_header /gzlm if-modified-since)" "Tue, 14 Oct 2025 08:00:00 GMT" "gzip: If-Modified-Since sent"
[[ $(req_header /gzlm accept-encoding) == *gzip* ]]
ok $? "gzip: Accept-Encoding offered gzip"
is "$(requests /gzlm)" 1 "gzip: one request"
is "$(state t_gzlm)" "unchanged|-|t" "gzip: recorded unchanged"
is "$(known t_gzlm)" "$before" "gzip: known values untouched"

# ---- a broken entry fails even for a source never imported ----
jq '.sources += [{"id": "t_etag", "url": "http://127.0.0.1:1/x", "format": "csv", "change": "etag"}]' \
	"$T/sources.json" >"$T/bad-change.json"
run edu-ifmodified -c "$T/bad-change.json" t_etag
is_status 78 "an unknown change method is a config error"
like_err "^edu-ifmodified: $T/bad-change.json: t_etag: change 'etag': not one of conditional, sha256, datagouv, opendatasoft$" \
	"unknown change method: the message"
empty_out "unknown change method: nothing printed"
is "$(sql "select count(*) from monitoring.data_sources where id = 't_etag'")" 0 \
	"unknown change method: nothing recorded"

# ---- -n writes nothing ----
checked=$(sql "select last_checked from monitoring.data_sources where id = 't_lying'")
run edu-ifmodified -n t_lying
is_status 0 "-n: still checks"
is "$(cat "$OUT")" t_lying "-n: prints"
is "$(sql "select last_checked from monitoring.data_sources where id = 't_lying'")" "$checked" \
	"-n: last_checked untouched"
sql "insert into monitoring.data_sources (id, name, known_sha256) values ('t_busy_long', 'test', 'f00')" \
	>/dev/null
rows=$(table_sum monitoring.data_sources)
run edu-ifmodified -n t_lying t_missing t_busy_long
is_status 75 "-n: the 429 still fails"
is "$(tr '\n' ' ' <"$OUT")" "t_lying t_missing " "-n: the changed and the never-imported printed"
is "$(table_sum monitoring.data_sources)" "$rows" \
	"-n: a change, a never-imported source and a 429 write nothing at all"

# ---- -f: everything changed, no request ----
log_clear
run edu-ifmodified -f t_lm t_ignores
is_status 0 "-f: exit 0"
is "$(tr '\n' ' ' <"$OUT")" "t_lm t_ignores " "-f: every id printed"
is "$(wc -l <"$HTTPD_LOG" | tr -d ' ')" 0 "-f: no request"

# ---- ids on stdin, comments, duplicates ----
log_clear
printf 't_lm\n# a comment\nt_ignores t_lm\n' >"$T/ids"
run_in "$T/ids" edu-ifmodified
is_status 1 "stdin: nothing changed"
is "$(requests /lm)$(requests /ignores)" 11 "stdin: one request per source, duplicates ignored"

# ---- errors: recorded, never retried, known values kept ----
for id in t_missing t_flaky t_ratelimited; do
	sql "insert into monitoring.data_sources (id, name, known_sha256, known_size)
	     values ('$id', 'test', 'f00', 1)" >/dev/null
done
log_clear
run edu-ifmodified t_missing
is_status 69 "404: permanent failure"
like_err "^edu-ifmodified: t_missing: $BASE/missing: HTTP 404 Not Found$" "404: message"
is "$(requests /missing)" 1 "404: one request"
is "$(state t_missing)" "error|HTTP 404 Not Found|t" "404: last_status error, last_error"
run edu-ifmodified t_flaky
is_status 75 "500: temporary failure"
is "$(requests /flaky)" 1 "500: not retried (the next check is the retry)"
is "$(state t_flaky)" "error|HTTP 500 Internal Server Error|t" "500: recorded"
is "$(sql "select known_sha256 || known_size from monitoring.data_sources where id = 't_flaky'")" \
	"f001" "500: known values kept"

# ---- 429: cool-off ----
run edu-ifmodified t_ratelimited
is_status 75 "429: temporary failure"
like_err 't_ratelimited: .*HTTP 429 Too Many Requests; cooling off until 20[0-9-]+T[0-9:]+Z$' \
	"429: the message says until when"
is "$(sql "select last_status, (cooloff_until - now()) between interval '55 seconds' and
	interval '61 seconds', last_error = 'HTTP 429 Too Many Requests; cooling off until '
	|| to_char(cooloff_until at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
	from monitoring.data_sources where id = 't_ratelimited'" | tr '|' ' ')" "cooloff t t" \
	"429: cool-off until now + Retry-After (60 s), in its column and said in last_error"
log_clear
run edu-ifmodified t_ratelimited
is_status 1 "during the cool-off: skipped, not changed"
like_err '^edu-ifmodified: t_ratelimited: rate-limited, cooling off until .*: skipped$' \
	"during the cool-off: a warning"
is "$(requests /ratelimited)" 0 "during the cool-off: no request"
run edu-ifmodified -q t_ratelimited
empty_err "-q: no warning for a skipped source"
# The deadline is read from its column, never from the message.
sql "update monitoring.data_sources set cooloff_until = now() - interval '1 second'
     where id = 't_ratelimited'" >/dev/null
run edu-ifmodified t_ratelimited
is_status 75 "after the cool-off: asked again"
is "$(requests /ratelimited)" 1 "after the cool-off: one request"

# ---- changed and failed together: the changed ids are still printed ----
run edu-ifmodified t_missing t_nocond
is_status 69 "a failure and a change: the failure's status"
is "$(cat "$OUT")" t_nocond "a failure and a change: the changed id printed"

# ---- every check is a row of the history, monitoring.runs ----
last_check() { # last_check UNIT: its newest check row
	sql "select concat_ws('|', outcome, exit_status, coalesce(job, '-'), coalesce(diagnostic, '-'),
		url, source, coalesce(year::text, '-'), started <= finished and finished <= now())
	     from monitoring.runs where unit = '$1' and kind = 'check' order by id desc limit 1"
}
run env EDU_RUN_ID=run-7 edu-ifmodified t_lm
is_status 1 "EDU_RUN_ID: a check in a production run"
is "$(last_check t_lm)" "unchanged|1|run-7|-|$BASE/lm|t_lm|-|t" \
	"unchanged: a row with status 1, the run's id as job, the URL and the times"
run env EDU_RUN_ID= edu-ifmodified t_missing t_nocond
is "$(last_check t_missing)" "failed|69|-|HTTP 404 Not Found|$BASE/missing|t_missing|-|t" \
	"failed: the status and the diagnostic; an empty EDU_RUN_ID is no job"
is "$(last_check t_nocond)" "changed|0|-|-|$BASE/nocond|t_nocond|-|t" "changed: status 0"
is "$(sql "select count(*) from monitoring.runs where unit = 't_ratelimited' and outcome = 'cooloff'
	and exit_status = 75 and diagnostic ~ '^HTTP 429 Too Many Requests; cooling off until '")" 2 \
	"two requests answered 429: two cooloff rows; the two checks skipped meanwhile wrote none"
runs=$(table_sum monitoring.runs)
run edu-ifmodified -n t_lm t_missing t_nocond
is "$(table_sum monitoring.runs)" "$runs" "-n: no history row"

# ---- a bad source id anywhere in the config ----
jq '.sources += [{"id": "../../tmp/x", "url": "http://127.0.0.1:1/x", "format": "csv"}]' \
	"$T/sources.json" >"$T/badid.json"
log_clear
run edu-ifmodified -c "$T/badid.json" t_lm
is_status 78 "a bad source id is a configuration error"
like_err "^edu-ifmodified: $T/badid.json: source id '../../tmp/x': not a valid id \(\^\[a-z\]\[a-z0-9_\]\*\\$\)$" \
	"bad id: the message names the config and the id"
is "$(wc -l <"$HTTPD_LOG" | tr -d ' ')" 0 "bad id: no request"

# ---- data.gouv.fr dataset API (one year of a per-year source: the unit dvf_raw:2024) ----
edu-fetch -q -y 2024 dvf_raw >/dev/null && promote dvf_raw:2024
log_clear
run edu-ifmodified -v -y 2024 dvf_raw
is_status 1 "datagouv: same URL, date and size: unchanged"
is "$(requests /api/1/datasets/dvf/)" 1 "datagouv: one request, to the API"
is "$(requests /resources/demandes-de-valeurs-foncieres/20251018-234857/valeursfoncieres-2024.txt.zip)" \
	0 "datagouv: the file itself is not downloaded"
is "$(state dvf_raw:2024)" "unchanged|-|t" "datagouv: recorded unchanged"
sed -i 's/20251018-234857/20260405-002306/; s/2025-10-18T23:48:57/2026-04-05T00:23:06/' \
	"$T/dataset-dvf.json"
run edu-ifmodified dvf_raw:2024
is_status 0 "datagouv: a new release (URL and date moved): changed"
is "$(cat "$OUT")" dvf_raw:2024 "datagouv: the unit is printed"
run edu-fetch -n -y 2024 dvf_raw
is "$(cat "$OUT")" \
	"$BASE/resources/demandes-de-valeurs-foncieres/20260405-002306/valeursfoncieres-2024.txt.zip" \
	"datagouv: edu-fetch follows the new URL"

# ---- no database: everything changed ----
log_clear
run env -u PGHOST -u PGDATABASE -u PGSERVICE -u DATABASE_URL edu-ifmodified -v t_lm
is_status 0 "no database: changed"
like_err 'no database configured: every source counts as changed' "no database: -v says so"
is "$(requests /lm)" 0 "no database: no request"

# ---- usage ----
run edu-ifmodified t_lm nosuch
is_status 66 "an unknown source"
like_err '^edu-ifmodified: nosuch: unknown source' "unknown source: message"
run edu-ifmodified -T 0 t_lm
is_status 64 "-T 0 is out of range"
