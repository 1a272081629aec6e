#!/bin/bash
# Helpers for tests that talk to the loopback server tests/httpd.py; source after tests/lib.sh.
#   httpd_start SCRIPT [ROOT]  start it (scripted paths, files of ROOT); sets BASE and HTTPD_LOG
#   requests PATH              how many requests the server received for PATH (query included)
#   req_header PATH NAME       header NAME (lower case) of the last request for PATH, or ""
#   log_clear                  forget the requests logged so far
# The server is stopped when the test exits.
# shellcheck disable=SC2034 # BASE is used by the sourcing scripts

httpd_start() {
	HTTPD_LOG=$T/httpd.log
	: >"$HTTPD_LOG"
	rm -f "$T/httpd.port"
	/usr/bin/python3 "$EDU_ROOT/tests/httpd.py" --script "$1" ${2:+--root "$2"} \
		--log "$HTTPD_LOG" --port-file "$T/httpd.port" >/dev/null 2>"$T/httpd.err" &
	HTTPD_PID=$!
	for _ in $(seq 100); do
		[ -s "$T/httpd.port" ] && break
		sleep 0.05
	done
	[ -s "$T/httpd.port" ] || { echo "Bail out! tests/httpd.py did not start"; cat "$T/httpd.err"; exit 1; }
	BASE=http://127.0.0.1:$(cat "$T/httpd.port")
	# shellcheck disable=SC2154 # _n is the TAP counter of tests/lib.sh
	trap 'httpd_stop; echo "1..$_n"; rm -rf "$T"' EXIT
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
