#!/bin/bash
# The fault matrix, database family (docs/RELIABILITY.md), on a throwaway cluster of the test's
# own, which it stops, crashes and fills: the server down, stopped and crash-restarted in the
# middle of a COPY, lock and statement timeouts, concurrent loads, a reader during a refresh, the
# app's role trying to write, full disks on the server and under the tools, a wrong password,
# no such database. Every failed load leaves the table (rows and xmin) and the validators as
# they were.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/faults.sh"

pg=$T/pg
sh "$EDU_ROOT/tests/pg.sh" start "$pg" fast || { echo "Bail out! cannot start a cluster"; exit 1; }
remove_cluster() { sh "$EDU_ROOT/tests/pg.sh" remove "$pg"; }
on_exit remove_cluster
eval "$(sh "$EDU_ROOT/tests/pg.sh" env "$pg")"
pgreal=$(cd "$pg" && pwd -P)
good=$GOOD
faults_db t0840
edu-csv2tsv "$good" | edu-normalize -M "$EDU_ROOT/pipelines/ivac.map" >"$T/ivac.tsv"
FAULT_TABLES="colleges_indicateurs mv_colleges_with_metrics"

# copy_held FILE OPTION...: edu-pgcopy loads the contract FILE, held in the middle of its COPY:
# every row but the end-of-data line reached the server, the rest is held by the test.
copy_held() {
	local f=$1
	shift
	rm -f "$T/copy.fifo"
	mkfifo "$T/copy.fifo"
	edu-pgcopy "$@" <"$T/copy.fifo" >"$OUT" 2>"$ERR" &
	COPY_PID=$!
	exec {COPY_FD}>"$T/copy.fifo"
	head -n -1 "$f" >&"$COPY_FD"
	wait_for copying
}
copying() { [ "$(sql "select coalesce(max(tuples_processed), 0) >= 50 from pg_stat_progress_copy")" = t ]; }
# copy_end: the rest of the input (its end-of-data line), then the load's status.
copy_end() {
	printf '\\.\n' >&"$COPY_FD"
	exec {COPY_FD}>&-
	wait "$COPY_PID"
	status=$?
}
restart() { sh "$EDU_ROOT/tests/pg.sh" start "$pg" fast; }

fault B01 75 "the database server is down"
state_save
sh "$EDU_ROOT/tests/pg.sh" stop "$pg"
pl_run ivac -R
restart
expect "^edu-fetch: database: cannot connect: .*(No such file or directory|Connection refused)"
like_err "^pipelines/ivac.sh: the failure could not be recorded in monitoring.runs" "$FAULT: says it could not be recorded"

fault B02 75 "the server stopped (fast shutdown) in the middle of a COPY"
state_save
copy_held "$T/ivac.tsv" -k uai,session -L nom -s ivac colleges_indicateurs
ok $? "$FAULT: the rows reached the server's COPY"
sh "$EDU_ROOT/tests/pg.sh" stop "$pg"
copy_end
restart
expect "^edu-pgcopy: .*terminating connection due to administrator command"

fault B03 75 "the server crashed (immediate shutdown) in the middle of a COPY, then recovered"
state_save
copy_held "$T/ivac.tsv" -k uai,session -L nom -s ivac colleges_indicateurs
ok $? "$FAULT: the rows reached the server's COPY"
sh "$EDU_ROOT/tests/pg.sh" stop "$pg" immediate
copy_end
restart
expect "^edu-pgcopy: .*(server closed the connection unexpectedly|terminating connection)"
empty_out "$FAULT: no summary line"
ok "$(grep -q 'database system was not properly shut down' "$pgreal/server.log"; echo $?)" \
	"$FAULT: the server recovered from a crash"

fault B04 75 "the table locked by another session, with lock_timeout"
state_save
hold_table colleges_indicateurs
PGOPTIONS='-c lock_timeout=1s' pl_run ivac -R
release
expect "^edu-pgcopy: .*canceling statement due to lock timeout"
recorded ivac load

fault B05 75 "a statement running past statement_timeout"
state_save
hold_table colleges_indicateurs
PGOPTIONS='-c statement_timeout=1s' pl_run ivac -R
release
expect "^edu-pgcopy: .*canceling statement due to statement timeout"
recorded ivac load

fault B06 75 "a table a materialized view reads locked past edu-refresh's lock timeout"
state_save
hold_table colleges_indicateurs
run edu-refresh -T 1 -t colleges_indicateurs
release
expect "^edu-refresh: mv_colleges_with_metrics: refresh failed, previous contents kept: canceling statement due to lock timeout"

fault B16 75 "the table locked by another session, edu-pgcopy's own lock timeout (-T 1)"
state_save
hold_table colleges_indicateurs
run_in "$T/ivac.tsv" edu-pgcopy -T 1 -k uai,session -s ivac colleges_indicateurs
release
expect "^edu-pgcopy: .*canceling statement due to lock timeout"
recorded ivac load
# -T 0 waits as long as it takes: the load goes on once the other session lets go.
hold_table colleges_indicateurs
edu-pgcopy -T 0 -k uai,session colleges_indicateurs <"$T/ivac.tsv" >"$T/t0.out" 2>"$T/t0.err" &
t0=$!
for _ in $(seq 1 50); do waiting_on_lock && break; sleep 0.1; done
sleep 1.5
ok "$(kill -0 "$t0" 2>/dev/null; echo $?)" "$FAULT: -T 0 still waits after 1.5 s"
release
wait "$t0"
is "$?" 0 "$FAULT: -T 0 loads once the table is free"

fault B07 75 "another load of the same table running"
hold "select pg_advisory_xact_lock(hashtext('\"public\".\"colleges_indicateurs\"'))"
state_save
pl_run ivac -R
release
expect "^edu-pgcopy: table colleges_indicateurs: another load of this table is running \(-W waits for it\)\$"
recorded ivac load

fault B08 0 "two years of one table loaded at once"
dvf=$FIX/dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv
edu-csv2tsv "$dvf" | edu-normalize -M "$EDU_ROOT/pipelines/dvf.map" >"$T/dvf2025.tsv"
sed 's/\t2025-\([0-9][0-9]-[0-9][0-9]\)\t/\t2024-\1\t/; s/^2025\t/2024\t/' "$T/dvf2025.tsv" >"$T/dvf2024.tsv"
sql "select edu_ensure_partition('dvf_mutations', '2024'), edu_ensure_partition('dvf_mutations', '2025')" >/dev/null
copy_held "$T/dvf2025.tsv" -w annee=2025 -s dvf:2025 dvf_mutations
run_in "$T/dvf2024.tsv" edu-pgcopy -w annee=2024 -s dvf:2024 dvf_mutations
is_status 0 "$FAULT: the year 2024 loads while 2025 is in its COPY"
copy_end
is_status 0 "$FAULT: then 2025 ends its load"
is "$(sql 'select annee, count(*) from dvf_mutations group by 1 order by 1' | tr '\n' ' ')" \
	"2024|70 2025|70 " "$FAULT: both years are loaded"

fault B09 0 "the app reads a materialized view while edu-refresh refreshes it"
hold_table colleges_indicateurs
edu-refresh -t colleges_indicateurs >"$OUT" 2>"$ERR" &
refresher=$!
wait_for waiting_on_lock
ok $? "$FAULT: the refresh has the view and waits for its table"
is "$(sql 'select count(*) from mv_colleges_with_metrics')" 500 "$FAULT: a reader reads the view meanwhile"
release
wait "$refresher"
status=$?
is_status 0 "$FAULT: exit status"
like_out "^view=mv_colleges_with_metrics mode=concurrently " "$FAULT: refreshed CONCURRENTLY"

fault B10 69 "the app's role (edu_app) trying to load"
sql "create role webapp login in role edu_app" >/dev/null
state_save
PGUSER=webapp run_in "$T/ivac.tsv" edu-pgcopy -k uai,session colleges_indicateurs
expect "^edu-pgcopy: .*permission denied for table colleges_indicateurs"

fault B11 75 "the server's disk full (temp_tablespaces on a 64 KiB file system)"
if mkdir -p "$pgreal/tiny" && mount -t tmpfs -o "size=64k,uid=$(stat -c %u "$pgreal/data"),mode=700" tmpfs "$pgreal/tiny" 2>/dev/null; then
	umount_tiny() { umount "$pgreal/tiny"; }
	on_exit umount_tiny
	sql "create tablespace tiny location '$pgreal/tiny'" >/dev/null
	drop_tiny() { sql "drop tablespace if exists tiny" >/dev/null 2>&1; }
	on_exit drop_tiny
	state_save
	PGOPTIONS='-c temp_tablespaces=tiny' run_in "$T/ivac.tsv" edu-pgcopy -k uai,session -s ivac colleges_indicateurs
	expect "^edu-pgcopy: .*could not extend file .*No space left on device"
	recorded ivac load
else
	skip_case 4 "no tmpfs can be mounted here (needs root)"
fi

fault B12 74 "the disk full under the work directory (TMPDIR on a 32 KiB file system)"
mkdir -p "$T/small"
if mount -t tmpfs -o size=32k tmpfs "$T/small" 2>/dev/null; then
	umount_small() { umount "$T/small"; }
	on_exit umount_small
	state_save
	TMPDIR=$T/small pl_run ivac -R
	expect "^edu-fetch: .*No space left on device"
	recorded ivac fetch
	is "$(find "$T/small" -mindepth 1 | wc -l)" 0 "$FAULT: nothing left behind"
else
	skip_case 5 "no tmpfs can be mounted here (needs root)"
fi

fault B13 74 "standard output on a full disk (/dev/full)"
run sh -c 'edu-csv2tsv "$1" >/dev/full' sh "$good"
is_status 74 "$FAULT: exit status"
like_err "^edu-csv2tsv: stdout: write error: No space left on device\$" "$FAULT: the message"

# A password the server checks: the throwaway cluster asks it of the role loader.
sql "create role loader login password 'Right-pw1' in role edu_pipeline" >/dev/null
sed -i '1i local all loader scram-sha-256' "$pgreal/data/pg_hba.conf"
sql 'select pg_reload_conf()' >/dev/null
db_url() { printf 'postgresql://loader:%s@/%s?host=%s&port=%s' "$1" "$2" "$PGHOST" "$PGPORT"; }

fault B14 78 "a wrong password"
state_save
DATABASE_URL=$(db_url Wrong-pw2 t0840) pl_run ivac -R
expect "^edu-fetch: database: cannot connect: .*password authentication failed for user \"loader\""
is "$(grep -c 'Wrong-pw2' "$ERR")" 0 "$FAULT: the password is not printed"

fault B15 78 "no such database"
state_save
DATABASE_URL=$(db_url Right-pw1 nosuchdb) pl_run ivac -R
expect "^edu-fetch: database: cannot connect: .*database \"nosuchdb\" does not exist"
