#!/bin/bash
# The fault matrix, process family (docs/RELIABILITY.md): SIGTERM, SIGINT and SIGKILL to each
# stage of a source's pipeline (download, conversion, normalization, load), each at a known
# point: the download held by the server in the middle of its body; the other stages held by a
# lock on the table, which keeps edu-pgcopy waiting before it reads while the stages before it
# block on full pipes. Then SIGPIPE, two production jobs at once, and the signals a whole job
# gets (systemd's stop, Ctrl-C, the OOM killer's SIGKILL). The table and the validators stay as
# they were, and the failure is in the history when a process is left to write it.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/httpd.sh"
. "$EDU_ROOT/tests/faults.sh"
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"

good=$GOOD
faults_db t0850 -R
# The same establishments over 20 sessions (1.6 MB): more than the pipes between the stages hold.
{
	head -n 1 "$good"
	for k in $(seq 0 19); do tail -n +2 "$good" | awk -F';' -v OFS=';' -v k="$k" '{ $2 += 100 * k; print }'; done
} >"$T/big.csv"
cp "$good" "$T/ivac-good.csv"
echo '{}' >"$T/script.json"
httpd_start "$T/script.json"
release_transfers() { touch "$T/release"; }
on_exit release_transfers
FAULT_TABLES=colleges_indicateurs

# start CMD...: CMD in the background, in a process group of its own with SIGINT at its default
# (a background job of a script ignores it otherwise), as a terminal or a service manager runs it.
start() {
	set -m
	"$@" >"$OUT" 2>"$ERR" &
	JOB=$!
	set +m
}
finish() {
	wait "$JOB"
	status=$?
}
no_workdir() {
	is "$(find "$TMPDIR" -mindepth 1 -maxdepth 1 | wc -l)" 0 "$FAULT: no work directory or temporary file left"
}

# stage SIGNAL STAGE-NAME PROGRAM STATUS: the case, for a stage held behind the table's lock.
stage() {
	local sig=$1 name=$2 prog=$3 pid
	state_save
	hold_table colleges_indicateurs
	start bash "$PIPE/ivac.sh" -R
	pid=$(stage_pid "$JOB" "$prog")
	wait_for waiting_on_lock
	ok $? "$FAULT: $prog is at its known point"
	kill -s "$sig" "$pid"
	release
	finish
	expect "^pipelines/ivac.sh: $prog failed \(exit $FAULT_STATUS\); nothing was loaded\$"
	recorded ivac "$name"
	no_workdir
}

downloading() { asked /ivac && [ -n "$(find "$TMPDIR" -name '.ivac.csv*')" ]; }
no_load_session() { [ "$(sql "select count(*) from pg_stat_activity where application_name = 'edu-pgcopy'")" = 0 ]; }

# fetch_stage SIGNAL: the case, for the download held in the middle of its body.
fetch_stage() {
	local pid
	rm -f "$T/release"
	serve ivac "{\"hold\": [2000, \"$T/release\"], \"body_file\": \"ivac-good.csv\"}"
	log_clear
	state_save
	start bash "$PIPE/ivac.sh" -R
	pid=$(stage_pid "$JOB" edu-fetch)
	wait_for downloading
	ok $? "$FAULT: edu-fetch is in the middle of the body"
	kill -s "$1" "$pid"
	finish
	touch "$T/release"
	expect "^pipelines/ivac.sh: edu-fetch ivac failed \(exit $FAULT_STATUS\)\$"
	recorded ivac fetch
	no_workdir
}

fault P01 143 "SIGTERM to edu-fetch in the middle of the download"
fetch_stage TERM
fault P02 130 "SIGINT to edu-fetch in the middle of the download"
fetch_stage INT
fault P03 137 "SIGKILL to edu-fetch in the middle of the download"
fetch_stage KILL

pl_source ivac "$T/big.csv"
fault P04 143 "SIGTERM to edu-csv2tsv in the middle of its input"
stage TERM convert edu-csv2tsv
fault P05 130 "SIGINT to edu-csv2tsv in the middle of its input"
stage INT convert edu-csv2tsv
fault P06 137 "SIGKILL to edu-csv2tsv in the middle of its input"
stage KILL convert edu-csv2tsv
fault P07 143 "SIGTERM to edu-normalize in the middle of its input"
stage TERM normalize edu-normalize
fault P08 130 "SIGINT to edu-normalize in the middle of its input"
stage INT normalize edu-normalize
fault P09 137 "SIGKILL to edu-normalize in the middle of its input"
stage KILL normalize edu-normalize
fault P10 143 "SIGTERM to edu-pgcopy in its transaction"
stage TERM load edu-pgcopy
fault P11 130 "SIGINT to edu-pgcopy in its transaction"
stage INT load edu-pgcopy
fault P12 137 "SIGKILL to edu-pgcopy in its transaction"
stage KILL load edu-pgcopy

fault P13 65 "SIGPIPE: a later stage fails, the earlier one's reader is gone"
sed '1s/;UAI;/;Code UAI;/' "$T/big.csv" >"$T/drift.csv"
pl_source ivac "$T/drift.csv"
state_save
pl_run ivac -R
expect "^edu-normalize: stdin:1: schema drift: "
recorded ivac normalize
is "$(grep -c 'edu-csv2tsv' "$ERR")" 0 "$FAULT: edu-csv2tsv, killed by SIGPIPE, says nothing"

fault P14 75 "two production jobs at once"
rm -f "$T/release"
serve ivac "{\"hold\": [2000, \"$T/release\"], \"body_file\": \"ivac-good.csv\"}"
log_clear
start bash "$PIPE/refresh.sh" ivac
cp "$OUT" "$T/first.out"
wait_for asked /ivac
ok $? "$FAULT: the first job is checking ivac"
state_save
run bash "$PIPE/refresh.sh" ivac
expect "^pipelines/refresh.sh: another refresh holds $EDU_LOCK: try again later\$"
touch "$T/release"
finish
is "$status" 0 "$FAULT: the first job ends well"

fault P15 143 "SIGTERM to every process of the production job (systemd stop) during a load"
serve ivac '{"body_file": "big.csv"}'
cp "$T/big.csv" "$T/big-served.csv"
jq '.["/ivac"].body_file = "big-served.csv"' "$T/script.json" >"$T/s.json" && mv "$T/s.json" "$T/script.json"
state_save
hold_table colleges_indicateurs
start bash "$PIPE/refresh.sh" ivac
wait_for waiting_on_lock
ok $? "$FAULT: the job's load waits for the table"
# shellcheck disable=SC2046 # one pid per word
kill -TERM "$JOB" $(descendants "$JOB") 2>/dev/null
release
finish
is_status 143 "$FAULT: exit status"
same_state
wait_for no_load_session
ok $? "$FAULT: the load's session is gone, its transaction rolled back"
is "$(last_load ivac | cut -d'|' -f2-)" "failed|143" "$FAULT: the source's script recorded its failure"
no_workdir

fault P16 130 "Ctrl-C (SIGINT to the process group) on a source script during its load"
serve ivac '{"body_file": "big-served.csv"}'
state_save
hold_table colleges_indicateurs
start bash "$PIPE/ivac.sh" -R
wait_for waiting_on_lock
kill -INT -- "-$JOB"
release
finish
is_status 130 "$FAULT: exit status"
same_state
is "$(last_load ivac | cut -d'|' -f2-)" "failed|130" "$FAULT: recorded in monitoring.runs as failed"
no_workdir

fault P17 137 "SIGKILL to a source script's process group during its load (known limitation)"
before=$(sql "select count(*) from monitoring.runs")
state_save
hold_table colleges_indicateurs
start bash "$PIPE/ivac.sh" -R
wait_for waiting_on_lock
kill -KILL -- "-$JOB"
release
finish
is_status 137 "$FAULT: exit status"
same_state
is "$(sql "select count(*) from monitoring.runs")" "$before" "$FAULT: nothing recorded: no process was left to do it"
is "$(find "$TMPDIR" -mindepth 1 -maxdepth 1 -name 'edu-pipeline.*' | wc -l)" 1 "$FAULT: its work directory is left in TMPDIR"
rm -rf "${TMPDIR:?}"/edu-pipeline.*

# A tool writing -o removes its temporary file on SIGTERM (issue 10's point 5: edu-csv2tsv left
# .FILE.XXXXXX behind), here held in the middle of its input.
fault P18 143 "SIGTERM to edu-csv2tsv -o FILE in the middle of its input"
edu-csv2tsv -o "$T/out.tsv" "$good"
cp "$T/out.tsv" "$T/out.tsv.good"
rm -f "$T/in.fifo"
mkfifo "$T/in.fifo"
edu-csv2tsv -o "$T/out.tsv" <"$T/in.fifo" >"$OUT" 2>"$ERR" &
c2t=$!
exec {IN_FD}>"$T/in.fifo"
head -c 500000 "$T/big.csv" >&"$IN_FD"
temporary() { [ -n "$(find "$T" -maxdepth 1 -name '.out.tsv.*')" ]; }
wait_for temporary
ok $? "$FAULT: its temporary file is open"
kill -TERM "$c2t"
wait "$c2t"
status=$?
exec {IN_FD}>&-
is_status 143 "$FAULT: exit status"
same_file "$T/out.tsv" "$T/out.tsv.good" "$FAULT: the previous file is kept"
is "$(find "$T" -maxdepth 1 -name '.out.tsv*' | wc -l)" 0 "$FAULT: no temporary file left"
