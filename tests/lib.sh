#!/bin/bash
# TAP helpers sourced by tests/t/*.t. A test runs a command with `run`, then asserts on what a
# user sees: $status, the stdout file $OUT, the stderr file $ERR, and rows in the database.
# shellcheck disable=SC2034 # variables are used by the sourcing scripts
set -u
EDU_ROOT=${EDU_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PATH=$EDU_ROOT/bin:$PATH
FIX=$EDU_ROOT/tests/fixtures
GOLD=$EDU_ROOT/tests/golden
T=$(mktemp -d "${EDU_TESTTMP:-/tmp}/t.XXXXXX")
# The pipelines never read the developer's .env (it may name a real database) and log here.
EDU_ENV=
EDU_LOG_DIR=$T/logs
export EDU_ENV EDU_LOG_DIR
OUT=$T/stdout
ERR=$T/stderr
status=0
_n=0
_fail=0
trap 'echo "1..$_n"; rm -rf "$T"' EXIT

# run CMD...: runs a command, stdin from /dev/null unless redirected by the caller.
run() {
	"$@" >"$OUT" 2>"$ERR"
	status=$?
}
# run_in FILE CMD...: same with stdin from FILE.
run_in() {
	local in=$1
	shift
	"$@" <"$in" >"$OUT" 2>"$ERR"
	status=$?
}
# run_sh 'pipeline': runs a shell pipeline with pipefail.
run_sh() {
	bash -o pipefail -c "$1" >"$OUT" 2>"$ERR"
	status=$?
}

ok() { # ok CONDITION-STATUS DESCRIPTION
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_fail=$((_fail + 1))
	fi
}
# skip N WHY: N checks skipped, each counted in the plan like any other.
skip() {
	local i
	for ((i = 0; i < $1; i++)); do
		_n=$((_n + 1))
		echo "ok $_n # skip $2"
	done
}
diag() { printf '# %s\n' "$@"; }
show_io() {
	diag "exit status: $status"
	sed 's/^/# stdout: /' "$OUT" | head -n 20
	sed 's/^/# stderr: /' "$ERR" | head -n 20
}

is() { # is GOT EXPECTED DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:      '$1'" "expected: '$2'"
	fi
}
is_status() { # is_status N DESCRIPTION
	if [ "$status" -eq "$1" ]; then
		ok 0 "$2 (exit $1)"
	else
		ok 1 "$2 (exit $1)"
		show_io
	fi
}
like_err() { # like_err ERE DESCRIPTION: stderr matches
	if grep -Eq -- "$1" "$ERR"; then
		ok 0 "$2"
	else
		ok 1 "$2"
		diag "stderr does not match /$1/"
		show_io
	fi
}
like_out() {
	if grep -Eq -- "$1" "$OUT"; then
		ok 0 "$2"
	else
		ok 1 "$2"
		diag "stdout does not match /$1/"
		show_io
	fi
}
empty_err() {
	if [ ! -s "$ERR" ]; then ok 0 "$1"; else
		ok 1 "$1"
		show_io
	fi
}
empty_out() {
	if [ ! -s "$OUT" ]; then ok 0 "$1"; else
		ok 1 "$1"
		show_io
	fi
}
# same_file GOT EXPECTED DESCRIPTION: byte comparison with a diff on failure.
same_file() {
	if cmp -s "$1" "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diff -u "$2" "$1" | head -n 40 | sed 's/^/# /'
	fi
}
# golden NAME DESCRIPTION: stdout equals tests/golden/NAME (EDU_UPDATE_GOLDEN=1 rewrites it).
golden() {
	if [ -n "${EDU_UPDATE_GOLDEN:-}" ]; then
		cp "$OUT" "$GOLD/$1"
	fi
	same_file "$OUT" "$GOLD/$1" "$2"
}

# ---- database helpers (the runner exports PGHOST/PGPORT/PGUSER) ----
# newdb NAME: a fresh database with PostGIS, made the current PGDATABASE.
newdb() {
	dropdb --if-exists "$1" >/dev/null 2>&1
	createdb -T edu_template "$1" || return 1
	PGDATABASE=$1
	export PGDATABASE
}
# sql 'query': one result, unaligned, no header.
sql() {
	psql -X -q -v ON_ERROR_STOP=1 -tAc "$1"
}
# table_sum TABLE: a checksum of every row, to prove a table unchanged.
table_sum() {
	sql "select count(*) || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '')
	     from $1 t"
}
# contract FILE HEADER ROW...: a contract file of HEADER and ROWs, each with ':' between its
# fields (so values hold no ':'), then the end-of-data line.
contract() {
	local f=$1 r
	shift
	for r in "$@"; do printf '%s\n' "$r" | tr ':' '\t'; done >"$f"
	printf '\\.\n' >>"$f"
}
