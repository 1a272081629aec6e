#!/bin/bash
# Helpers for the fault matrix, tests/t/08*.t, whose table is docs/RELIABILITY.md; sourced after
# tests/lib.sh and tests/pipelines.sh. A case is declared by `fault ID STATUS TITLE` and every
# check it makes is named after ID, so that tests/t/0890-faults-doc.t finds each row of the table
# here, with the same exit status. "Unchanged" is proven by a checksum of the rows of the tables
# a case could touch and of their xmin (a rewrite with equal values is caught), and of the known
# validators of every unit.
#   faults_db DB [ARG...]     no channel, a lock of the test's own, the database DB migrated,
#                             ivac loaded from GOOD by pipelines/ivac.sh ARG...
#   fault ID STATUS TITLE     starts case ID, whose command must exit STATUS
#   state_save                remembers the state: the tables of FAULT_TABLES, the validators
#   expect ERE                exit status, stderr matching ERE, the state unchanged
#   same_state, same_rows     the state unchanged; the tables only (validators may move on)
#   last_load UNIT            stage|outcome|status of UNIT's last load row in monitoring.runs
#   serve ID JSON             the source ID answered by the loopback server's scripted JSON
#   stage_pid PID NAME        the pid of the child of PID that runs NAME (a pipeline's stage)
#   descendants PID           the pids of every process under PID (what a service manager stops)
#   hold SQL, hold_table TABLE  another session keeps SQL's locks (TABLE's) until release
#   tls_start                 the loopback server's script over HTTPS (a throwaway self-signed
#                             certificate) at TLS_BASE
#   skip_case N WHY           N checks skipped (a case this machine cannot set up)
# shellcheck disable=SC2034 # variables are used by the sourcing scripts

FAULT=
FAULT_STATUS=0
FAULT_TABLES=
GOOD=$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv
faults_db() {
	pl_job "$1"
	pl_source ivac "$GOOD"
	pl_run ivac "${@:2}"
	# shellcheck disable=SC2154 # status: set by run (tests/lib.sh)
	[ "$status" -eq 0 ] || { echo "Bail out! ivac does not load"; cat "$ERR"; exit 1; }
}
fault() {
	FAULT=$1
	FAULT_STATUS=$2
	diag "$1: $3"
}

# state_sum [validators]: one line per table of FAULT_TABLES, then the known validators.
state_sum() {
	local t q=
	for t in $FAULT_TABLES; do
		q+="select '$t ' || count(*) || ' ' || coalesce(md5(string_agg(r::text || ':' || r.xmin::text,
			'|' order by r::text, r.xmin::text)), '') from $t r union all "
	done
	if [ "${1:-}" = validators ]; then
		q+="select 'validators ' || count(*) || ' ' || coalesce(md5(string_agg(v::text, '|' order by v::text)), '')
			from (select id, known_etag, known_sha256, known_size, known_url, last_known_modified,
				last_imported, rows_imported from monitoring.data_sources) v union all "
	fi
	sql "${q% union all }"
}
state_save() {
	FAULT_ROWS=$(state_sum)
	FAULT_STATE=$(state_sum validators)
}
same_state() { is "$(state_sum validators)" "$FAULT_STATE" "$FAULT: tables (rows and xmin) and known validators unchanged"; }
same_rows() { is "$(state_sum)" "$FAULT_ROWS" "$FAULT: tables unchanged (rows and xmin)"; }
expect() {
	is_status "$FAULT_STATUS" "$FAULT: exit status"
	like_err "$1" "$FAULT: the message"
	same_state
}
# recorded UNIT STAGE: the failure is in the history, at STAGE, with the case's status.
recorded() {
	is "$(last_load "$1")" "$2|failed|$FAULT_STATUS" "$FAULT: recorded in monitoring.runs as failed at $2"
}
last_load() {
	sql "select coalesce(stage, '') || '|' || outcome || '|' || coalesce(exit_status::text, '')
		from monitoring.runs where unit = '$1' and kind = 'load' order by id desc limit 1"
}

serve() {
	jq --arg p "/$1" --argjson r "$2" '.[$p] = $r' "$T/script.json" >"$T/script.tmp" &&
		mv "$T/script.tmp" "$T/script.json"
	pl_source "$1" "$BASE/$1"
}

stage_pid() {
	local i p
	for i in $(seq 200); do
		p=$(ps -o pid=,comm= --ppid "$1" | awk -v n="$2" '$2 == n { print $1; exit }')
		[ -z "$p" ] || { echo "$p"; return 0; }
		sleep 0.05
	done
	return 1
}
descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" '{ parent[$1] = $2 }
		END { for (p in parent) { q = parent[p]; while (q != "" && q != root && q > 1) q = parent[q]
			if (q == root) print p } }'
}

# hold SQL: another session runs SQL in a transaction it keeps open until release; hold_table
# TABLE holds TABLE that way (ACCESS EXCLUSIVE): a load then waits at its first statement on the
# table, before it reads its input, so that every stage of the pipeline is at a known point:
# edu-pgcopy waits, the stages before it are blocked writing to a full pipe. The session reads
# its statements from a fifo the test holds open: if the test dies, the session ends too.
hold() {
	rm -f "$T/hold.fifo"
	mkfifo "$T/hold.fifo"
	psql -X -q -tA -v ON_ERROR_STOP=1 <"$T/hold.fifo" >"$T/hold.out" 2>&1 &
	HOLD_PID=$!
	exec {HOLD_FD}>"$T/hold.fifo"
	printf 'begin;\n%s;\nselect 1;\n' "$1" >&"$HOLD_FD"
	wait_for held_or_gone
	grep -qx 1 "$T/hold.out" || { diag "hold: $1: $(cat "$T/hold.out")"; return 1; }
}
held_or_gone() { grep -qx 1 "$T/hold.out" || ! kill -0 "$HOLD_PID"; }
hold_table() { hold "lock table $1 in access exclusive mode"; }
release() {
	! kill -0 "$HOLD_PID" 2>/dev/null || printf 'commit;\n' >&"$HOLD_FD"
	exec {HOLD_FD}>&-
	wait "$HOLD_PID"
}
# waiting_on_lock: true once a session waits for a relation lock (the held table).
waiting_on_lock() {
	[ "$(sql "select count(*) from pg_locks where not granted and locktype = 'relation'")" -gt 0 ]
}

skip_case() { skip "$1" "$FAULT: $2"; }

tls_start() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout "$T/tls.pem" \
		-out "$T/cert.pem" 2>/dev/null
	cat "$T/cert.pem" >>"$T/tls.pem"
	/usr/bin/python3 "$EDU_ROOT/tests/httpd.py" --script "$T/script.json" --tls "$T/tls.pem" \
		--port-file "$T/tls.port" >/dev/null 2>"$T/tls.err" &
	TLS_PID=$!
	on_exit tls_stop
	wait_for test -s "$T/tls.port"
	TLS_BASE=https://127.0.0.1:$(cat "$T/tls.port")
}
tls_stop() { kill "$TLS_PID" 2>/dev/null; }
