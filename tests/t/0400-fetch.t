#!/bin/bash
# edu-fetch against a real HTTP server on loopback (tests/httpd.py) that misbehaves like the
# real sources: every case checks the exit status, the message, the output or file, the requests
# the server received (count and headers) and the pending values in monitoring.data_sources.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/httpd.sh"

IVAC=$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv
mkdir -p "$T/www" "$T/out"
cp "$IVAC" "$T/www/ivac.csv"
cp "$FIX/http/script.json" "$T/"
cp "$FIX/insee-communes/geo-api-communes_fields-code-nom-centre_first500.json" "$T/www/communes.json"
gzip -9nc "$FIX/dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv" >"$T/www/full.csv.gz"
http_world
schema_db edu_t0400

sha() { sha256sum "$1" | cut -d' ' -f1; }
# no_temporary WHAT: edu-fetch left no temporary file in $T/out; kept FILE WHAT: and the previous
# good file $T/out/FILE is still there, as it was.
no_temporary() { is "$(find "$T/out" -name '.*' | wc -l | tr -d ' ')" 0 "$1: no temporary file left"; }
kept() {
	is "$(cat "$T/out/$1")" "previous good file" "$2: the previous file is kept"
	no_temporary "$2"
}
size() { wc -c <"$1" | tr -d ' '; }
pending() { # pending ID: what edu-fetch recorded
	sql "select concat_ws('|', pending_url, pending_size, pending_sha256, pending_etag,
		to_char(pending_last_modified at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
		pending_at is not null, coalesce(known_sha256, 'no-known'))
	     from monitoring.data_sources where id = '$1'"
}
UA='^eduinfo-pipeline/0\.1\.0 \(edu-fetch\)$'

# ---- a good CSV, to a file ----
run edu-fetch -o "$T/out/ivac.csv" t_csv
is_status 0 "t_csv: a plain 200 is downloaded"
empty_err "t_csv: silent on success"
same_file "$T/out/ivac.csv" "$IVAC" "t_csv: the file is the body"
no_temporary "t_csv"
is "$(requests /ivac.csv)" 1 "t_csv: one request"
[[ $(req_header /ivac.csv user-agent) =~ $UA ]]
ok $? "t_csv: User-Agent names the project and version"
like_h=$(req_header /ivac.csv accept-encoding)
[[ $like_h == *gzip* ]]
ok $? "t_csv: Accept-Encoding offers gzip ($like_h)"
is "$(req_header /ivac.csv if-none-match)$(req_header /ivac.csv if-modified-since)" "" \
	"t_csv: a download sends no condition"
etag=$(curl -sI "$BASE/ivac.csv" | tr -d '\r' | sed -n 's/^ETag: //p')
lm=$(date -u -r "$T/www/ivac.csv" '+%Y-%m-%d %H:%M:%S')
is "$(pending t_csv)" "$BASE/ivac.csv|$(size "$IVAC")|$(sha "$IVAC")|$etag|$lm|t|no-known" \
	"t_csv: url, size, sha256, ETag, Last-Modified recorded as pending, known untouched"
log_clear

# ---- -v summary, stdout, file mode ----
run edu-fetch -v t_csv
is_status 0 "t_csv -v to stdout"
same_file "$OUT" "$IVAC" "t_csv: stdout is the body"
like_err "^edu-fetch: t_csv: HTTP 200, $(size "$IVAC") bytes, sha256 $(sha "$IVAC"), 1 attempt$" \
	"t_csv -v: one summary line with status, size and sha256"
log_clear

# ---- 404: permanent, no retry ----
echo "previous good file" >"$T/out/keep.csv"
run edu-fetch -o "$T/out/keep.csv" t_missing
is_status 69 "t_missing: 404 is a permanent failure"
like_err '^edu-fetch: t_missing: HTTP 404 Not Found$' "t_missing: the message names source and status"
is "$(requests /missing)" 1 "t_missing: a 4xx is never retried"
kept keep.csv "t_missing"
is "$(sql "select count(*) from monitoring.data_sources where id = 't_missing'")" 0 \
	"t_missing: nothing recorded"
log_clear

# ---- 500 then 200: retried ----
run edu-fetch -v -o "$T/out/flaky.csv" t_flaky
is_status 0 "t_flaky: a 500 then a 200 succeeds"
like_err 'HTTP 500 Internal Server Error; retrying in [0-9.]+s \(attempt 2 of 4\)' \
	"t_flaky -v: says why and when it retries"
is "$(requests /flaky)" 2 "t_flaky: two requests"
same_file "$T/out/flaky.csv" "$IVAC" "t_flaky: the file is the second answer's body"
is "$(pending t_flaky | cut -d'|' -f2,3)" "$(size "$IVAC")|$(sha "$IVAC")" \
	"t_flaky: size and sha256 of the good body recorded"
log_clear

# ---- 429 with Retry-After: honoured ----
run edu-fetch -o "$T/out/busy.csv" t_busy
is_status 0 "t_busy: a 429 then a 200 succeeds"
empty_err "t_busy: retries are silent without -v"
is "$(requests /busy)" 2 "t_busy: two requests"
gap=$(jq -rs '[.[] | select(.path == "/busy") | .time] | (.[1] - .[0]) >= 1' "$HTTPD_LOG")
is "$gap" true "t_busy: the second request waited Retry-After: 1 second"
log_clear
run edu-fetch -o "$T/out/busy.csv" t_busy_long
is_status 75 "t_busy_long: Retry-After 3600 is not waited for: temporary failure"
like_err 'HTTP 429 Too Many Requests \(Retry-After 3600s is more than 120s: not waiting\)' \
	"t_busy_long: says it did not wait"
is "$(requests /busy-long)" 1 "t_busy_long: one request"
log_clear

# ---- a server too slow ----
run edu-fetch -T 1 -R 1 -o "$T/out/slow.csv" t_slow
is_status 75 "t_slow: a timeout is a temporary failure"
like_err '^edu-fetch: t_slow: Operation (too slow|timed out)' "t_slow: the message says timeout"
is "$(requests /slow)" 2 "t_slow: retried once (-R 1)"
[ ! -e "$T/out/slow.csv" ]
ok $? "t_slow: no file created"
log_clear

# ---- a server that crawls (10 bytes every 0.2 s) without ever stalling outright ----
cp "$T/out/keep.csv" "$T/out/trickle.csv"
run edu-fetch -T 1 -R 0 -o "$T/out/trickle.csv" t_trickle
is_status 75 "t_trickle: a crawl below 1 KiB/s for the timeout is given up"
like_err '^edu-fetch: t_trickle: Operation too slow' "t_trickle: the message says too slow"
same_file "$T/out/trickle.csv" "$T/out/keep.csv" "t_trickle: the previous file is kept"
log_clear

# ---- a connection cut mid-body ----
cp "$T/out/keep.csv" "$T/out/cut.csv"
run edu-fetch -R 1 -o "$T/out/cut.csv" t_cut
is_status 75 "t_cut -o: a cut transfer is a temporary failure"
like_err '^edu-fetch: t_cut: transfer closed with [0-9]+ bytes remaining to read$' \
	"t_cut -o: the message says the body was cut"
is "$(requests /cut)" 2 "t_cut -o: retried (a file can be rewritten)"
kept cut.csv "t_cut -o"
is "$(sql "select count(*) from monitoring.data_sources where id = 't_cut'")" 0 \
	"t_cut -o: nothing recorded"
log_clear
run edu-fetch -R 2 t_cut
is_status 75 "t_cut to a pipe: exit 75"
is "$(requests /cut)" 1 "t_cut to a pipe: no retry once bytes were written"
head -c 3000 "$IVAC" >"$T/cut.expect"
printf '\0EDU-ABORT: upstream transfer failed\n' >>"$T/cut.expect"
same_file "$OUT" "$T/cut.expect" "t_cut to a pipe: the bytes received, then the abort mark"
log_clear
if [ -x "$EDU_ROOT/bin/edu-csv2tsv" ]; then
	run_sh "edu-fetch -R 0 t_cut | edu-csv2tsv"
	is_status 79 "t_cut | edu-csv2tsv: the consumer fails (truncated input)"
	like_err 'edu-csv2tsv: .*abort mark' "t_cut | edu-csv2tsv: the consumer names the abort mark"
	is "$(tail -n 1 "$OUT")" "$(tail -n 1 "$OUT" | grep -v '^\\\.$')" \
		"t_cut | edu-csv2tsv: no end-of-data line"
fi
log_clear

# ---- redirects ----
run edu-fetch -o "$T/out/redirect.csv" t_redirect
is_status 0 "t_redirect: a chain of 302, 301, 307 is followed"
same_file "$T/out/redirect.csv" "$IVAC" "t_redirect: the body of the last hop"
is "$(requests /r1)$(requests /r2)$(requests /r3)$(requests /ivac.csv)" 1111 \
	"t_redirect: each hop requested once"
[[ $(req_header /ivac.csv user-agent) =~ $UA ]]
ok $? "t_redirect: the last hop still gets the User-Agent"
is "$(pending t_redirect | cut -d'|' -f1)" "$BASE/r1" "t_redirect: the source URL is recorded"
log_clear
run edu-fetch -o "$T/out/loop.csv" t_loop
is_status 69 "t_loop: a redirect loop is a permanent failure"
like_err '^edu-fetch: t_loop: Maximum \(10\) redirects followed$' "t_loop: the message says so"
is "$(requests /loop)" 11 "t_loop: bounded: 1 + 10 redirects, no retry"
[ ! -e "$T/out/loop.csv" ]
ok $? "t_loop: no file"
log_clear

# ---- an HTML error page with status 200 ----
run edu-fetch -o "$T/out/html.csv" t_html
is_status 69 "t_html: an HTML page for a CSV source is refused"
like_err '^edu-fetch: t_html: the server sent an HTML page \(Content-Type text/html\), not csv$' \
	"t_html: the message says why"
is "$(requests /html)" 1 "t_html: not retried"
[ ! -e "$T/out/html.csv" ]
ok $? "t_html: no file"
run edu-fetch t_html
is_status 69 "t_html to a pipe: refused"
empty_out "t_html to a pipe: nothing written before the body was checked"
run edu-fetch t_html_sniff
is_status 69 "t_html_sniff: an HTML body sent as application/json is refused"
like_err 'the body is an HTML or XML page, not json$' "t_html_sniff: found by sniffing"
empty_out "t_html_sniff: nothing written"
is "$(sql "select count(*) from monitoring.data_sources where id like 't_html%'")" 0 \
	"t_html: nothing recorded"
log_clear

# ---- gzip transfer encoding ----
run edu-fetch -o "$T/out/gz.csv" t_gz
is_status 0 "t_gz: a gzip Content-Encoding is decoded"
same_file "$T/out/gz.csv" "$IVAC" "t_gz: the file is the decoded body"
[[ $(req_header /gz accept-encoding) == *gzip* ]]
ok $? "t_gz: Accept-Encoding offered gzip"
is "$(pending t_gz | cut -d'|' -f2,3)" "$(size "$IVAC")|$(sha "$IVAC")" \
	"t_gz: size and sha256 of the decoded body"
log_clear

# ---- file:// ----
run edu-fetch -o "$T/out/file.csv" t_file
is_status 0 "t_file: a file:// URL"
same_file "$T/out/file.csv" "$IVAC" "t_file: copied"
is "$(pending t_file | cut -d'|' -f1-3)" "file://$T/www/ivac.csv|$(size "$IVAC")|$(sha "$IVAC")" \
	"t_file: recorded"
run edu-fetch "file://$T/www/nope.csv"
is_status 66 "file:// of a missing file"
like_err "^edu-fetch: file://$T/www/nope.csv: Couldn't open file" "file:// missing: message"

# ---- a gzip file source, {year} ----
run edu-fetch -n -y 2024 t_year
is_status 0 "t_year -n: dry run"
is "$(cat "$OUT")" "$BASE/geo-dvf/2024/full.csv.gz" "t_year -n: prints the URL with {year}"
is "$(requests /geo-dvf/2024/full.csv.gz)" 0 "t_year -n: no request"
run edu-fetch -y 2024 -o "$T/out/full.csv.gz" t_year
is_status 0 "t_year: a gzip file"
same_file "$T/out/full.csv.gz" "$T/www/full.csv.gz" "t_year: kept compressed"
run edu-fetch -F json "$BASE/geo-dvf/2024/full.csv.gz"
is_status 69 "-F json on gzip data is refused"
like_err 'the body is not JSON, not json$|the body is not JSON' "-F json: the message"
log_clear

# ---- DVF raw: the URL comes from the data.gouv.fr dataset API ----
run edu-fetch -n -y 2024 dvf_raw
is_status 0 "dvf_raw -n: resolved"
is "$(cat "$OUT")" \
	"$BASE/resources/demandes-de-valeurs-foncieres/20251018-234857/valeursfoncieres-2024.txt.zip" \
	"dvf_raw -n: the 2024 resource's URL"
is "$(requests /api/1/datasets/dvf/)" 1 "dvf_raw -n: one request, to the API"
run edu-fetch -y 2024 -o "$T/out/vf2024.zip" dvf_raw
is_status 0 "dvf_raw: downloaded"
same_file "$T/out/vf2024.zip" "$T/www/vf2024.zip" "dvf_raw: the zip"
is "$(pending dvf_raw:2024)" \
	"$BASE/resources/demandes-de-valeurs-foncieres/20251018-234857/valeursfoncieres-2024.txt.zip|$(size "$T/www/vf2024.zip")|$(sha "$T/www/vf2024.zip")|\"vf2024\"|2025-10-18 23:48:57|t|no-known" \
	"dvf_raw: the resolved URL and the API's last_modified recorded under the unit dvf_raw:2024"
is "$(sql "select count(*) from monitoring.data_sources where id = 'dvf_raw'")" 0 \
	"dvf_raw: nothing recorded under the source id of a per-year source"
run edu-fetch -y 2019 dvf_raw
is_status 69 "dvf_raw: no resource for that year"
like_err "^edu-fetch: dvf_raw: $BASE/api/1/datasets/dvf/: no resource named valeursfoncieres-2019.txt.zip, nor one of 2019 matching " \
	"dvf_raw: the message names the missing resource"
run edu-fetch -n -y 2020 dvf_raw
is_status 0 "dvf_raw -y 2020: a year published as a half year"
is "$(cat "$OUT")" \
	"$BASE/resources/demandes-de-valeurs-foncieres/20251018-234831/valeursfoncieres-2020-s2.txt.zip" \
	"dvf_raw -y 2020: the resource valeursfoncieres-2020-s2.txt.zip, found by years.match"
log_clear

# ---- Retry-After as an HTTP date ----
run edu-fetch -o "$T/out/busy.csv" t_busy_date
is_status 0 "t_busy_date: a 429 then a 200 succeeds"
is "$(requests /busy-date)" 2 "t_busy_date: two requests"
gap=$(jq -rs '[.[] | select(.path == "/busy-date") | .time] | (.[1] - .[0]) >= 1.9' "$HTTPD_LOG")
is "$gap" true "t_busy_date: the second request waited for the Retry-After date, 3 s away"
log_clear

# ---- 5xx every time: retried, bounded ----
run edu-fetch -R 2 -o "$T/out/down.csv" t_down
is_status 75 "t_down: a 503 every time is a temporary failure"
like_err '^edu-fetch: t_down: HTTP 503 Service Unavailable$' "t_down: the message names the status"
is "$(requests /down)" 3 "t_down: one request and -R 2 retries, no more"
[ ! -e "$T/out/down.csv" ]
ok $? "t_down: no file"
log_clear

# ---- a redirect to another scheme ----
run edu-fetch -o "$T/out/to-file.csv" t_to_file
is_status 69 "t_to_file: a redirect to a file:// URL is a permanent failure, not a usage error"
like_err "^edu-fetch: t_to_file: HTTP 302 redirect to 'file:///etc/passwd' refused: only http and https are followed$" \
	"t_to_file: the message names the refused target"
is "$(requests /to-file)" 1 "t_to_file: not retried"
[ ! -e "$T/out/to-file.csv" ]
ok $? "t_to_file: no file"
log_clear

# ---- sniffing: markup, not a bare '<' ----
run edu-fetch -o "$T/out/lt.csv" t_lt
is_status 0 "t_lt: a CSV whose first field starts with '<' is not an HTML page"
empty_err "t_lt: silent"
printf '<5 ans;effectif\n12;34\n' >"$T/lt.expect"
same_file "$T/out/lt.csv" "$T/lt.expect" "t_lt: the file is the body"
run edu-fetch t_bom_html
is_status 69 "t_bom_html: a BOM, blank lines, then an upper-case <!DOCTYPE HTML is refused"
like_err '^edu-fetch: t_bom_html: the body is an HTML or XML page, not csv$' "t_bom_html: the message"
empty_out "t_bom_html: nothing written"
log_clear

# ---- an empty 200 never replaces a file, even unchecked ----
echo "previous good file" >"$T/out/empty.csv"
run edu-fetch -o "$T/out/empty.csv" "$BASE/empty"
is_status 69 "empty body to a URL (format any): refused"
like_err "^edu-fetch: $BASE/empty: empty body$" "empty body: the message"
kept empty.csv "empty body"
log_clear

# ---- interrupted while the body streams (the server stalls after 5000 bytes) ----
printf '\0EDU-ABORT: upstream transfer failed\n' >"$T/mark"
mark_len=$(wc -c <"$T/mark")
stalled() { # stalled: wait until the body of /stall started, then a little more
	wait_for asked /stall
	sleep 0.5
}
cp "$T/out/keep.csv" "$T/out/stall.csv"
edu-fetch -o "$T/out/stall.csv" t_stall >"$OUT" 2>"$ERR" &
pid=$!
stalled
kill -TERM "$pid"
wait "$pid"
status=$?
is_status 143 "t_stall -o: killed by SIGTERM"
kept stall.csv "t_stall -o, SIGTERM"
log_clear
edu-fetch t_stall >"$OUT" 2>"$ERR" &
pid=$!
stalled
kill -TERM "$pid"
wait "$pid"
status=$?
is_status 143 "t_stall to a pipe: killed by SIGTERM"
same_file <(tail -c "$mark_len" "$OUT") "$T/mark" "t_stall to a pipe, SIGTERM: the output ends with the abort mark"
n=$(($(wc -c <"$OUT") - mark_len))
[ "$n" -ge 0 ] && cmp -s <(head -c "$n" "$OUT") <(head -c "$n" "$IVAC")
ok $? "t_stall to a pipe, SIGTERM: before it, a prefix of the body ($n bytes)"
log_clear
(
	trap '' HUP
	exec edu-fetch -o "$T/out/stall.csv" t_stall >"$OUT" 2>"$ERR"
) &
pid=$!
stalled
kill -HUP "$pid"
sleep 0.3
kill -0 "$pid" 2>/dev/null
ok $? "t_stall -o, SIGHUP ignored at start (nohup): not caught, the download goes on"
kill -TERM "$pid"
wait "$pid"
no_temporary "t_stall -o, then SIGTERM"
log_clear

# ---- the database cannot be reached: found out before downloading anything ----
run env DATABASE_URL="postgresql://edu:s3cretpw@/edu?host=$T/nopg" edu-fetch t_csv
is_status 75 "pipe, database unreachable: temporary failure"
like_err '^edu-fetch: database: cannot connect: ' "pipe, database unreachable: the message"
grep -q s3cret "$ERR"
ok $((!$?)) "pipe, database unreachable: the password is not printed"
empty_out "pipe, database unreachable: nothing is streamed"
is "$(wc -l <"$HTTPD_LOG" | tr -d " ")" 0 "database unreachable: no request is made"
log_clear

# ---- a config entry that cannot be fetched as written ----
jq '.sources += [{"id": "t_typo", "url": "127.0.0.1/ivac.csv", "format": "csv"}]' \
	"$T/sources.json" >"$T/typo.json"
run edu-fetch -c "$T/typo.json" t_typo
is_status 78 "a URL without a scheme is a config error"
like_err "^edu-fetch: $T/typo.json: t_typo: url '127.0.0.1/ivac.csv': not an http, https or file URL$" \
	"URL without a scheme: the message"
is "$(wc -l <"$HTTPD_LOG" | tr -d ' ')" 0 "URL without a scheme: no request"

# ---- usage and config errors ----
run edu-fetch nosuch
is_status 66 "an unknown source"
like_err "^edu-fetch: nosuch: unknown source \(not in $T/sources.json\)$" "unknown source: message"
echo '{"sources": [' >"$T/bad.json"
run edu-fetch -c "$T/bad.json" t_csv
is_status 78 "-c: a broken config"
like_err "^edu-fetch: $T/bad.json: not a valid sources file" "broken config: message"
run edu-fetch -c "$T/none.json" t_csv
is_status 78 "-c: a missing config"
run edu-fetch -R x t_csv
is_status 64 "-R: not a number"
run edu-fetch -F xml t_csv
is_status 64 "-F: an unknown format"
run edu-fetch --insecure -o "$T/out/k.csv" t_csv
is_status 0 "--insecure still downloads"
like_err '^edu-fetch: WARNING: .*TLS certificate NOT verified' "--insecure warns loudly"

log_clear
# ---- a URL's extension names the format the body must be, when -F does not ----
jq '. + {"/maint.csv": {"body": "<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>\n",
		"headers": {"Content-Type": "text/html; charset=utf-8"}},
	"/UPPER.CSV": {"body": "<html><body>Maintenance</body></html>\n", "headers": {"Content-Type": "text/html"}},
	"/page.json": {"body": "<html><body>busy</body></html>\n", "headers": {"Content-Type": "application/json"}},
	"/text.gz": {"body": "not compressed\n"}, "/text.zip": {"body": "not an archive\n"}}' \
	"$T/script.json" >"$T/script.new" && mv "$T/script.new" "$T/script.json"
echo "previous good file" >"$T/out/maint.csv"
run edu-fetch -o "$T/out/maint.csv" "$BASE/maint.csv"
is_status 69 "a .csv URL answered by an HTML page (200, text/html): refused"
like_err "^edu-fetch: $BASE/maint.csv: the server sent an HTML page \(Content-Type text/html\), not csv$" \
	".csv URL: the message says an HTML page came instead of csv"
kept maint.csv ".csv URL"
is "$(requests /maint.csv)" 1 ".csv URL: not retried"
run edu-fetch "$BASE/maint.csv?version=2&x=.json#top"
is_status 69 "a .csv URL with a query string: the path's extension counts"
like_err 'the server sent an HTML page \(Content-Type text/html\), not csv$' "query string ignored"
empty_out "query string: nothing written"
run edu-fetch "$BASE/UPPER.CSV"
is_status 69 "the extension in upper case"
run edu-fetch -F any -o "$T/out/maint.csv" "$BASE/maint.csv"
is_status 0 "-F any accepts the page"
grep -q Maintenance "$T/out/maint.csv"
ok $? "-F any: the page is written"
run edu-fetch "$BASE/page.json"
is_status 69 "a .json URL answered by markup"
like_err 'the body is an HTML or XML page, not json$' ".json URL: the message"
run edu-fetch "$BASE/text.gz"
is_status 69 "a .gz URL answered by text"
like_err 'the body is not gzip data, not gzip$' ".gz URL: the message"
run edu-fetch "$BASE/text.zip"
is_status 69 "a .zip URL answered by text"
like_err 'the body is not a zip archive, not zip$' ".zip URL: the message"
run edu-fetch -o "$T/out/ivac-url.csv" "$BASE/ivac.csv"
is_status 0 "a .csv URL with CSV: downloaded"
same_file "$T/out/ivac-url.csv" "$IVAC" ".csv URL: the body"
log_clear

# ---- -D: download without recording anything in the database (the rehearsal) ----
rows=$(table_sum monitoring.data_sources)
run edu-fetch -D -o "$T/out/d.csv" t_flaky
is_status 0 "-D: downloaded"
same_file "$T/out/d.csv" "$IVAC" "-D: the file"
is "$(table_sum monitoring.data_sources)" "$rows" "-D: monitoring untouched"
run env DATABASE_URL="postgresql://edu:pw@/edu?host=$T/nopg" edu-fetch -D t_csv
is_status 0 "-D: the database is not even connected to"
same_file "$OUT" "$IVAC" "-D: the body on stdout"
log_clear

# ---- source ids: one pattern, checked where the config is read ----
for bad in '"../x"' '"Ivac"' '"a b"' '"a\nb"' '"1a"' '""' 5 null; do
	jq --argjson id "$bad" '.sources += [{"id": $id, "url": "http://127.0.0.1:1/x", "format": "csv"}]' \
		"$T/sources.json" >"$T/badid.json"
	shown=$(jq -r --argjson id "$bad" -n '$id | if type == "string" then gsub("\n"; "\\n")
		else "\(tojson) (\(type))" end')
	run edu-fetch -c "$T/badid.json" -o "$T/out/badid.csv" t_csv
	is_status 78 "source id $bad: a configuration error, whichever source is asked"
	is "$(cat "$ERR")" \
		"edu-fetch: $T/badid.json: source id '$shown': not a valid id (^[a-z][a-z0-9_]*\$)" \
		"source id $bad: the message names the config and the id"
done
[ ! -e "$T/out/badid.csv" ] && [ "$(wc -l <"$HTTPD_LOG" | tr -d ' ')" -eq 0 ]
ok $? "bad ids: no file, no request"

# ---- the real config: every source resolves to an https URL ----
for id in onisep ival ivac communes dvf annuaire; do
	run edu-fetch -c "$EDU_ROOT/config/sources.json" -n -y 2024 "$id"
	is_status 0 "config/sources.json: $id -n"
	like_out '^https://' "config/sources.json: $id has an https URL"
done
