#!/bin/bash
# Helpers for tests that talk to the loopback server tests/httpd.py; source after tests/lib.sh.
#   httpd_start SCRIPT [ROOT]  start it (scripted paths, files of ROOT); sets BASE and HTTPD_LOG
#   requests PATH              how many requests the server received for PATH (query included)
#   req_header PATH NAME       header NAME (lower case) of the last request for PATH, or ""
#   log_clear                  forget the requests logged so far
#   asked PATH                 the server received a request for PATH
#   http_world                 the world of tests/fixtures/http (edu-fetch's and edu-ifmodified's
#                              tests) served from $T/www by the script $T/script.json
# The server is stopped when the test exits (on_exit, tests/lib.sh).
# shellcheck disable=SC2034 # BASE is used by the sourcing scripts

httpd_start() {
	HTTPD_LOG=$T/httpd.log
	: >"$HTTPD_LOG"
	rm -f "$T/httpd.port"
	/usr/bin/python3 "$EDU_ROOT/tests/httpd.py" --script "$1" ${2:+--root "$2"} \
		--log "$HTTPD_LOG" --port-file "$T/httpd.port" >/dev/null 2>"$T/httpd.err" &
	HTTPD_PID=$!
	on_exit httpd_stop
	wait_for test -s "$T/httpd.port" || { echo "Bail out! tests/httpd.py did not start"; cat "$T/httpd.err"; exit 1; }
	BASE=http://127.0.0.1:$(cat "$T/httpd.port")
}
httpd_stop() {
	kill "$HTTPD_PID" 2>/dev/null
	wait "$HTTPD_PID" 2>/dev/null
}
requests() {
	jq -r --arg p "$1" 'select(.path == $p) | .path' "$HTTPD_LOG" | wc -l | tr -d ' '
}
req_header() {
	jq -rs --arg p "$1" --arg h "$2" '[.[] | select(.path == $p)] | last | .headers[$h] // ""' \
		"$HTTPD_LOG"
}
log_clear() {
	: >"$HTTPD_LOG"
}
asked() { [ "$(requests "$1")" -ge 1 ]; }
# http_world: adds the 2024 DVF zip to $T/www and the dataset API's answer that describes it
# truly (size and SHA-1, as data.gouv.fr does: edu-fetch checks the bytes against them) as
# $T/dataset-dvf.json; starts the server; makes $EDU_SOURCES the config of tests/fixtures/http
# pointed at it.
http_world() {
	(cd "$T/www" && cp "$FIX/dvf/valeursfoncieres-2020_excerpt-172rows.txt" valeursfoncieres-2024.txt &&
		/usr/bin/python3 -m zipfile -c vf2024.zip valeursfoncieres-2024.txt)
	jq --argjson n "$(wc -c <"$T/www/vf2024.zip")" --arg s "$(sha1sum <"$T/www/vf2024.zip" | cut -c1-40)" \
		'(.resources[] | select(.title == "valeursfoncieres-2024.txt.zip")) |= (.filesize = $n | .checksum.value = $s)' \
		"$FIX/http/dataset-dvf.json" >"$T/dataset-dvf.json"
	httpd_start "$T/script.json" "$T/www"
	sed "s|@BASE@|$BASE|g; s|@T@|$T|g" "$FIX/http/sources.json" >"$T/sources.json"
	EDU_SOURCES=$T/sources.json
	export EDU_SOURCES
}
