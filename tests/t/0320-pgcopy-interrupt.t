#!/bin/bash
# edu-pgcopy interrupted: SIGTERM and SIGKILL in the middle of COPY, the server stopped in the
# middle of a load (on a throwaway cluster of its own), and two loads of one table (the
# advisory lock). In every case the table is proven unchanged by a checksum of its rows.
. "${EDU_ROOT:-.}/tests/lib.sh"

schema_db t0320
sql "insert into communes (code_insee, nom) select lpad(g::text, 5, '0'), 'c' || g from generate_series(1, 100) g" >/dev/null

slow() { # a producer that writes a header then a row every 50 ms for minutes, never the end line:
	# it must outlive whatever the test does to the load, however slow the machine
	printf 'code_insee\tnom\n'
	for i in $(seq 1 4000); do
		printf '%05d\tslow %d\n' "$i" "$i" || return
		sleep 0.05
	done
}
copying() { # a COPY on the server has received rows (wait_for copying)
	[ "$(sql "select coalesce(max(tuples_processed), 0) > 0 from pg_stat_progress_copy")" = t ]
}
gone() { # no edu-pgcopy session is left on the server (wait_for gone)
	[ "$(sql "select count(*) from pg_stat_activity where application_name = 'edu-pgcopy'")" = 0 ]
}
# slow_load: edu-pgcopy -k code_insee communes in the background ($pid), fed through a fifo by
# slow ($gen); true once its rows reached the server's COPY.
slow_load() {
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	slow >"$T/fifo" &
	gen=$!
	edu-pgcopy -k code_insee communes <"$T/fifo" >"$OUT" 2>"$ERR" &
	pid=$!
	wait_for copying
}

for sig in TERM KILL; do
	sum=$(table_sum communes)
	slow_load
	ok $? "SIG$sig: rows reached the server's COPY before the signal"
	kill -s "$sig" "$pid"
	wait "$pid"
	status=$?
	kill "$gen" 2>/dev/null
	wait "$gen" 2>/dev/null
	case $sig in TERM) want=143 ;; KILL) want=137 ;; esac
	is_status "$want" "SIG$sig ends edu-pgcopy"
	empty_out "SIG$sig: no summary line"
	wait_for gone
	ok $? "SIG$sig: the server ended the session"
	is "$(table_sum communes)" "$sum" "SIG$sig mid-COPY: table unchanged"
	is "$(sql "select count(*) from pg_locks where locktype = 'advisory'")" 0 "SIG$sig: no lock left"
done

# ---- the advisory lock: fail fast by default, -W waits
printf 'code_insee\tnom\n00001\tlocked\n\\.\n' >"$T/one"
psql -X -q -c "begin; select pg_advisory_xact_lock(hashtext('\"public\".\"communes\"')); select pg_sleep(3); commit" \
	>/dev/null 2>&1 &
holder=$!
for i in $(seq 1 50); do
	[ "$(sql "select count(*) from pg_locks where locktype = 'advisory' and granted")" = 1 ] && break
	sleep 0.1
done
sum=$(table_sum communes)
start=$(date +%s)
run_in "$T/one" edu-pgcopy -k code_insee communes
is_status 75 "a second load of the same table fails fast"
like_err "^edu-pgcopy: table communes: another load of this table is running \(-W waits for it\)$" \
	"says why and how to wait"
ok $(($(date +%s) - start > 2)) "it did not wait"
is "$(table_sum communes)" "$sum" "table unchanged by the refused load"
run_in "$T/one" edu-pgcopy -W -k code_insee communes
is_status 0 "-W waits for the other load"
like_out "^table=communes inserted=0 updated=1 " "then loads"
wait "$holder"

# ---- the server stops in the middle of a load: a cluster of our own, not the shared one
pg2=$T/pg2
if sh "$EDU_ROOT/tests/pg.sh" start "$pg2" fast; then
	(
		eval "$(sh "$EDU_ROOT/tests/pg.sh" env "$pg2")"
		schema_db t0320b
		sql "insert into communes (code_insee, nom) values ('00001', 'before')" >/dev/null
		sum=$(table_sum communes)
		slow_load
		ok $? "rows reached the COPY before the server stopped"
		sh "$EDU_ROOT/tests/pg.sh" stop "$pg2"
		wait "$pid"
		status=$?
		kill "$gen" 2>/dev/null
		is_status 75 "server stopped mid-load: retryable"
		like_err "^edu-pgcopy: .*(terminating connection|server closed the connection|connection)" \
			"the error says the connection went"
		is "$(wc -l <"$ERR")" 1 "one diagnostic line"
		empty_out "no summary line"
		sh "$EDU_ROOT/tests/pg.sh" start "$pg2" fast
		is "$(table_sum communes)" "$sum" "after restart, the table is unchanged"
		sh "$EDU_ROOT/tests/pg.sh" remove "$pg2"
		echo "$_n" >"$T/n2"
	)
	_n=$(cat "$T/n2" 2>/dev/null || echo "$_n")
else
	ok 1 "cannot start a second cluster"
fi
