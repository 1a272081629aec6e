#!/bin/bash
# TAP helpers sourced by tests/t/*.t. A test runs a command with `run`, then asserts on what a
# user sees: $status, the stdout file $OUT, the stderr file $ERR, and rows in the database.
# Each helper the tests share is defined here once (or in the file beside it that its kind of
# test sources: httpd.sh, pipelines.sh, faults.sh, ops.sh):
#   run, run_in, run_sh         a command, its status and output
#   ok, skip, is, is_status, like_err, like_out, empty_err, empty_out, same_file, golden
#   on_exit CMD                 CMD runs when the test ends (servers, mounts), newest first
#   wait_for CMD..., at_least N CMD...  until CMD succeeds, 10 s at most; CMD prints N or more
#   freeport, port_open PORT    a free loopback TCP port; true once PORT accepts connections
#   newdb NAME, schema_db NAME  a fresh database; the same with the project's migrations
#   sql, table_sum, tuples      a query's result; a checksum of a table; where its rows lie
#   contract, summary_re        a contract file; the regex of edu-pgcopy's summary line
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
# on_exit CMD: the test's one exit trap runs CMD (a server to stop, a mount to undo, a cluster to
# remove), newest first, then ends the TAP output and removes $T.
_on_exit=
on_exit() { _on_exit="$1; $_on_exit"; }
trap 'eval "$_on_exit"; echo "1..$_n"; rm -rf "$T"' EXIT

# wait_for CMD...: until CMD succeeds (its stderr silenced), polled every 50 ms for 10 s at most;
# false when it never did.
wait_for() {
	local i
	for i in $(seq 200); do
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# at_least N CMD...: CMD prints a number of N or more (wait_for at_least 2 temporaries).
at_least() {
	local n=$1
	shift
	[ "$("$@")" -ge "$n" ]
}
# freeport: a TCP port free on the loopback interface; port_open PORT: something listens on it.
freeport() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port_open() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

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
# schema_db NAME: newdb NAME with the project's schema (sql/migrate.sh); bails out on failure.
schema_db() {
	if ! newdb "$1" || ! sh "$EDU_ROOT/sql/migrate.sh" >/dev/null; then
		echo "Bail out! database $1 with sql/migrate.sh failed"
		exit 1
	fi
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
# summary_re TABLE INSERTED UPDATED DELETED UNCHANGED: edu-pgcopy's summary line, as an ERE.
summary_re() { echo "^table=$1 inserted=$2 updated=$3 deleted=$4 unchanged=$5 seconds=[0-9.]+$"; }
# tuples [-x] TABLE [CONDITION]: where each row of TABLE lies and which transaction wrote it
# (ctid:xmin), one word a row: equal before and after means no row was written again. -x adds
# xmax, the transaction that last locked or deleted it: equal means not even locked.
tuples() {
	local x=
	[ "$1" != -x ] || { x=" || ':' || xmax"; shift; }
	sql "select string_agg(ctid || ':' || xmin$x, ' ' order by ctid) from $1 where ${2:-true}"
}
