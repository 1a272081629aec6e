#!/bin/bash
# The fault matrix, HTTP family (docs/RELIABILITY.md): a publisher that answers 404, 410, 429,
# 5xx, too slowly or not at all, cuts or lies about its body, loops, serves an error page with
# 200, a truncated archive, an empty body or a self-signed certificate. edu-fetch runs with the
# database configured, so that a download it wrongly accepted would be recorded; the previous
# download stays in place; the table and the known validators are unchanged. The faults that
# only a later stage can see run through the source's own script.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/httpd.sh"
. "$EDU_ROOT/tests/faults.sh"

good=$GOOD
faults_db t0820 -R
cp "$good" "$T/ivac-good.csv"
echo '{}' >"$T/script.json"
httpd_start "$T/script.json"
FAULT_TABLES=colleges_indicateurs

# fetch [OPTION...]: edu-fetch ivac over the file of the previous download.
fetch() {
	cp "$good" "$T/ivac.csv"
	run edu-fetch -R 0 -T 1 "$@" -o "$T/ivac.csv" ivac
}
kept() {
	same_file "$T/ivac.csv" "$good" "$FAULT: the previous download is kept"
	is "$(find "$T" -maxdepth 1 -name '.ivac.csv*' | wc -l)" 0 "$FAULT: no temporary file left"
}

fault H01 69 "HTTP 404 Not Found"
serve ivac '{"status": 404, "body": "no such file\n"}'
state_save
fetch
expect "^edu-fetch: ivac: HTTP 404 Not Found\$"
kept

fault H02 69 "HTTP 410 Gone"
serve ivac '{"status": 410, "body": "gone\n"}'
state_save
fetch
expect "^edu-fetch: ivac: HTTP 410 Gone\$"
kept

fault H03 75 "HTTP 429 with Retry-After: 3600 (more than edu-fetch waits)"
serve ivac '{"status": 429, "headers": {"Retry-After": "3600"}, "body": "slow down\n"}'
log_clear
state_save
fetch -R 3
expect "HTTP 429 Too Many Requests \(Retry-After 3600s is more than 120s: not waiting\)\$"
is "$(requests /ivac)" 1 "$FAULT: asked once, not retried against the server's wish"
kept

fault H04 75 "HTTP 503, retried, still 503"
serve ivac '{"status": 503, "body": "maintenance\n"}'
log_clear
state_save
fetch -R 1
expect "^edu-fetch: ivac: HTTP 503 Service Unavailable\$"
is "$(requests /ivac)" 2 "$FAULT: retried once (-R 1)"
kept

fault H05 75 "no answer within the timeout"
serve ivac '{"delay": 10, "body_file": "ivac-good.csv"}'
state_save
fetch
expect "^edu-fetch: ivac: Operation too slow"
kept

fault H06 75 "slow drip: 64 bytes every half second"
serve ivac '{"trickle": [64, 0.5], "body_file": "ivac-good.csv"}'
state_save
fetch
expect "^edu-fetch: ivac: Operation too slow"
kept

fault H07 75 "connection closed mid-body (Content-Length longer than what came)"
serve ivac '{"cut": 40000, "body_file": "ivac-good.csv"}'
state_save
fetch
expect "^edu-fetch: ivac: transfer closed with [0-9]+ bytes remaining to read\$"
kept

# A Content-Length shorter than the body ends the body there, as HTTP says: only the data can
# tell. Cut inside a row, the row has too few fields.
size=$(wc -c <"$good")
fault H08 65 "Content-Length shorter than the body, cut inside a row"
serve ivac "{\"length\": $((size - 40)), \"body_file\": \"ivac-good.csv\"}"
state_save
pl_run ivac -R
expect "^edu-csv2tsv: .*ivac.csv:501: .*(fields|columns)"
recorded ivac convert

fault H09 0 "Content-Length shorter than the body, cut inside the last value (known limitation)"
serve ivac "{\"length\": $((size - 3)), \"body_file\": \"ivac-good.csv\"}"
state_save
pl_run ivac -R
is_status 0 "$FAULT: exit status"
like_out "^table=colleges_indicateurs inserted=0 updated=1 deleted=0 unchanged=499 " \
	"$FAULT: one row updated"
is "$(sql "select nb_mentions_global_g from colleges_indicateurs
	where (uai, session) = ('$(tail -n 1 "$good" | cut -d';' -f3)', $(tail -n 1 "$good" | cut -d';' -f2))")" 1 \
	"$FAULT: the last row's last value is loaded cut (17 became 1)"
# The good file back, for the next cases.
pl_source ivac "$good"
pl_run ivac -R
like_out "updated=1 " "$FAULT: the good file repairs it"

fault H10 69 "redirect loop"
serve ivac '{"status": 302, "location": "@BASE@/ivac"}'
state_save
fetch
expect "^edu-fetch: ivac: Maximum \(10\) redirects followed\$"
kept

fault H11 69 "redirect to a file:// URL"
serve ivac "{\"status\": 302, \"location\": \"file://$good\"}"
state_save
fetch
expect "^edu-fetch: ivac: HTTP 302 redirect to 'file://$good' refused: only http and https are followed\$"
kept

fault H12 69 "an HTML maintenance page with status 200, through the source's script"
serve ivac '{"headers": {"Content-Type": "text/html; charset=utf-8"},
	"body": "<!DOCTYPE html><html><body>Maintenance en cours</body></html>\n"}'
state_save
pl_run ivac -R
expect "^edu-fetch: ivac: the server sent an HTML page \(Content-Type text/html\), not csv\$"
recorded ivac fetch

fault H13 69 "an HTML page with status 200 labelled text/csv"
serve ivac '{"headers": {"Content-Type": "text/csv"}, "body": "\n  <html><body>Erreur</body></html>\n"}'
state_save
fetch
expect "^edu-fetch: ivac: the body is an HTML or XML page, not csv\$"
kept

fault H14 69 "an empty body"
serve ivac '{"body": ""}'
state_save
fetch
expect "^edu-fetch: ivac: empty body, not csv\$"
kept

fault H15 75 "connection refused (nothing listens)"
jq '.sources |= map(if .id == "ivac" then .url = "http://127.0.0.1:1/ivac.csv" else . end)' "$EDU_SOURCES" \
	>"$T/s.json" && mv "$T/s.json" "$EDU_SOURCES"
state_save
fetch
expect "^edu-fetch: ivac: .*(Couldn't connect|Connection refused)"
kept

fault H16 69 "a self-signed TLS certificate"
tls_start
url=$TLS_BASE/ivac
jq --arg u "$url" '.sources |= map(if .id == "ivac" then .url = $u else . end)' "$EDU_SOURCES" \
	>"$T/s.json" && mv "$T/s.json" "$EDU_SOURCES"
jq '.["/ivac"] = {"body_file": "ivac-good.csv"}' "$T/script.json" >"$T/s.json" && mv "$T/s.json" "$T/script.json"
state_save
fetch
expect "^edu-fetch: ivac: SSL certificate problem: self-signed certificate\$"
kept

# A URL, not a source: the format its extension names is expected (issue 10's point 7).
fault H17 69 "a URL ending in .csv answered with an HTML page and status 200"
jq '.["/files/etablissements.csv"] = {"headers": {"Content-Type": "text/html"}, "body": "<html><body>Maintenance</body></html>\n"}' \
	"$T/script.json" >"$T/s.json" && mv "$T/s.json" "$T/script.json"
cp "$good" "$T/ivac.csv"
state_save
run edu-fetch -R 0 -T 1 -o "$T/ivac.csv" "$BASE/files/etablissements.csv"
expect "^edu-fetch: $BASE/files/etablissements.csv: the server sent an HTML page \(Content-Type text/html\), not csv\$"
kept

# Archives cut by the publisher arrive whole as far as HTTP can tell (their Content-Length is
# theirs): their own checks refuse them before anything reads them.
FAULT_TABLES=dvf_mutations
mkdir -p "$T/geo/2025" "$T/raw"
pl_gzip "$FIX/dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv" "$T/geo/2025/full.csv.gz"
pl_zip "$FIX/dvf/valeursfoncieres-2020_excerpt-172rows.txt" "$T/raw/valeursfoncieres-2020.txt.zip" \
	valeursfoncieres-2020.txt
pl_source dvf "$T/geo/{year}/full.csv.gz"
pl_source dvf_raw "$T/raw/valeursfoncieres-{year}.txt.zip"
# Without both years loaded, H18 and H19 would compare an empty table with itself: bail out.
pl_run dvf -R 2025
[ "$status" -eq 0 ] || { echo "Bail out! dvf 2025 does not load"; sed 's/^/# /' "$ERR"; exit 1; }
pl_run dvf_raw -R 2020
[ "$status" -eq 0 ] || { echo "Bail out! dvf_raw 2020 does not load"; sed 's/^/# /' "$ERR"; exit 1; }
years=$(sql "select string_agg(distinct annee::text, ' ' order by annee::text) from dvf_mutations")
[ "$years" = "2020 2025" ] || { echo "Bail out! the DVF years did not load (years in the table: '$years')"; exit 1; }

fault H18 65 "a truncated gzip file (geo-dvf)"
f=$T/geo/2025/full.csv.gz
head -c $(($(wc -c <"$f") / 2)) "$f" >"$T/cut.gz" && mv "$T/cut.gz" "$f"
state_save
pl_run dvf -R 2025
expect "^pipelines/dvf.sh: dvf.csv.gz: not a valid gzip file\$"
recorded dvf:2025 convert

fault H19 65 "a truncated zip file (DGFiP)"
f=$T/raw/valeursfoncieres-2020.txt.zip
head -c $(($(wc -c <"$f") / 2)) "$f" >"$T/cut.zip" && mv "$T/cut.zip" "$f"
state_save
pl_run dvf_raw -R 2020
expect "^pipelines/dvf_raw.sh: dvf_raw: not a valid zip file\$"
recorded dvf_raw:2020 convert
