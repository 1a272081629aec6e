#!/bin/bash
# edu-pgcopy's partition swap on dvf_mutations, loading as edu_pipeline: a renumbered year takes
# the old partition's place, with its name, owner, rights and indexes, and edu_app reads it
# through the table, the partition and a view; readers of the year during a swap see the old
# count or the new, and when a long reader keeps the swap from its lock, the other readers wait
# at most about the bound (-P) and the load rewrites the year in place, saying so. Then the load
# killed at each step of the swap, held there by an event trigger or a row lock: the old year
# is left, whole, and no shadow.
. "${EDU_ROOT:-.}/tests/lib.sh"

newdb t0314 || exit 1
sh "$EDU_ROOT/sql/migrate.sh" >/dev/null || exit 1

year() { # year FILE YEAR PREFIX N: N rows of YEAR, id_mutation PREFIX1 ... PREFIXN
	{
		printf 'annee\tid_mutation\tcode_commune\tlongitude\tlatitude\n'
		seq 1 "$4" | awk -v y="$2" -v p="$3" \
			'{ printf "%s\t%s%d\t75%03d\t2.%05d\t48.%05d\n", y, p, $1, $1 % 1000, $1, $1 }'
		printf '\\.\n'
	} >"$1"
}
pipeline() { PGOPTIONS="${PGOPTIONS:-} -c role=edu_pipeline" "$@"; }
count() { sql "select count(*) from dvf_mutations where annee = $1"; }
ids() { sql "select count(*) from dvf_mutations where annee = 2023 and id_mutation like '$1%'"; }
# part: what must survive a swap, the partition of 2023's name, owner, rights and indexes.
part() {
	sql "select c.relname, c.relowner::regrole, c.relacl, (select string_agg(i.indexrelid::regclass
		|| ':' || i.indisvalid || ':' || (select count(*) from pg_inherits h where h.inhrelid = i.indexrelid),
		' ' order by i.indexrelid::regclass::text) from pg_index i where i.indrelid = c.oid)
		from pg_class c where c.oid = 'dvf_mutations_2023'::regclass"
}
oid() { sql "select 'dvf_mutations_2023'::regclass::oid"; }
no_shadow() {
	is "$(sql "select count(*) from pg_class where relname like '%\_swap'") $(sql "select count(*)
		from pg_constraint where conname = 'edu_swap_bound'")" "0 0" "$1: no shadow table or check left"
}
wait_for() { # wait_for COMMAND...: until it succeeds, 20 s at most
	local i
	for i in $(seq 1 400); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
# hold SQL: another session runs SQL in a transaction that stays open until release.
hold() {
	rm -f "$T/hold"
	mkfifo "$T/hold"
	psql -X -q -v ON_ERROR_STOP=1 <"$T/hold" >/dev/null 2>"$T/hold.err" &
	holder=$!
	exec 7>"$T/hold"
	echo "begin; $1" >&7
}
release() {
	echo "commit;" >&7
	exec 7>&-
	wait "$holder"
}
held() { [ "$(sql "select count(*) from pg_locks where pid <> pg_backend_pid() and granted and $1")" -gt 0 ]; }
# reader FILE: counts 2023 in a loop, one line each, waiting at most 1.5 s for a lock (5 times
# the bound the loads below give the swap), until $T/stop.
reader() {
	{
		echo "set lock_timeout = '1500ms';"
		while [ ! -e "$T/stop" ]; do
			echo "select count(*) from dvf_mutations where annee = 2023;"
			sleep 0.02
		done
	} | psql -X -qAt -v ON_ERROR_STOP=1 >"$1" 2>"$1.err"
}
start_reader() {
	rm -f "$T/stop" "$T/counts"
	touch "$T/counts"
	reader "$T/counts" 7>&- &
	rpid=$!
	wait_for test -s "$T/counts"
}
last_is() { [ "$(tail -n 1 "$T/counts")" = "$1" ]; }
# stop_reader OLD NEW WHAT: the reader saw only OLD or NEW, never failed, and sees NEW at the end.
stop_reader() {
	wait_for last_is "$2"
	ok $? "$3: the reader sees the new count after the commit"
	touch "$T/stop"
	wait "$rpid"
	is "$?:$(cat "$T/counts.err")" "0:" "$3: no reader's query waited past its lock timeout"
	is "$(grep -cvxE "$1|$2" "$T/counts")" 0 "$3: every count the reader saw is the old or the new"
}

year "$T/a" 2023 a 20000
year "$T/b" 2023 b 20600
year "$T/y24" 2024 c 2000
run_in "$T/a" pipeline edu-pgcopy -s dvf:2023 -w annee=2023 dvf_mutations
is_status 0 "first load of 2023, as edu_pipeline"
run_in "$T/y24" pipeline edu-pgcopy -s dvf:2024 -w annee=2024 dvf_mutations
is_status 0 "first load of 2024"
sql "create view app_dvf_years as select annee, count(*) as n from dvf_mutations group by annee" >/dev/null
sum24=$(table_sum "(select * from dvf_mutations where annee = 2024)")
before=$(part)
old=$(oid)
acl=$(sql "select md5(string_agg(defaclacl::text, ' ' order by oid)) from pg_default_acl")

# ---- a renumbered year, 3% bigger: swapped
start_reader
run_in "$T/b" pipeline edu-pgcopy -v -s dvf:2023 -w annee=2023 dvf_mutations
is_status 0 "a renumbered 2023 loads"
stop_reader 20000 20600 "swap"
like_err "about 0\.0% unchanged, rewritten" "-v: the sample says rewrite"
like_err "^edu-pgcopy: partition swapped \(try 1 of 4, " "-v: the partition was swapped"
like_out "^table=dvf_mutations inserted=20600 updated=0 deleted=20000 unchanged=0 seconds=" "the counts"
is "$(sql "select concat_ws(' ', outcome, rows_inserted, rows_deleted, rows_unchanged) from monitoring.runs
	where unit = 'dvf:2023' order by id desc limit 1")" "loaded 20600 20000 0" "the history row, as for any load"
is "$(ids b) $(count 2023)" "20600 20600" "2023 holds exactly the new rows"
is "$(table_sum "(select * from dvf_mutations where annee = 2024)")" "$sum24" "2024 untouched"
[ "$(oid)" != "$old" ]
ok $? "2023 is a new partition"
is "$(part)" "$before" "same name, owner, rights, and indexes (names, valid, attached)"
no_shadow "swap"
is "$(sql "select md5(string_agg(defaclacl::text, ' ' order by oid)) from pg_default_acl")" "$acl" \
	"default privileges unchanged"
is "$(sql "select count(*) from dvf_mutations_2023 where geom is null")" 0 "the computed point is computed"

# ---- the app's role reads the new partition
is "$(sql "set role edu_app; select count(*) from dvf_mutations where annee = 2023")" 20600 \
	"edu_app reads the year through the table"
is "$(sql "set role edu_app; select count(*) from dvf_mutations_2023")" 20600 "edu_app reads the partition"
is "$(sql "set role edu_app; select n from app_dvf_years where annee = 2023")" 20600 "edu_app reads it through a view"
psql -X -q -c "set role edu_app; delete from dvf_mutations_2023" >/dev/null 2>"$T/deny"
like() { grep -Eq "$1" "$2"; }
like "permission denied for table dvf_mutations_2023" "$T/deny"
ok $? "edu_app still cannot write it"

# ---- a long reader of another year keeps the swap from its lock: in place, said so
hold "select count(*) from dvf_mutations where annee = 2024;"
wait_for held "relation = 'dvf_mutations'::regclass"
ok $? "a reader of 2024 holds the table"
old=$(oid)
start_reader
run_in "$T/a" pipeline edu-pgcopy -P 300,2 -s dvf:2023 -w annee=2023 dvf_mutations
is_status 0 "the load of a renumbered 2023 commits all the same"
stop_reader 20600 20000 "blocked swap"
like_err "^edu-pgcopy: table dvf_mutations: -w annee=2023: no partition swap \(its lock on the table not had in 3 tries of 300 ms\): rewriting the partition in place$" \
	"says that the swap gave up and the year was rewritten in place"
is "$(wc -l <"$ERR")" 1 "one line"
like_out "^table=dvf_mutations inserted=20000 updated=0 deleted=20600 unchanged=0 seconds=" "the same counts"
release
is "$(ids a) $(count 2023) $(oid)" "20000 20000 $old" "2023 rewritten in place, in the same partition"
no_shadow "blocked swap"

# ---- -P 0: never a swap
old=$(oid)
run_in "$T/b" pipeline edu-pgcopy -P 0 -w annee=2023 dvf_mutations
is_status 0 "-P 0 loads"
empty_err "-P 0: nothing said"
is "$(ids b) $(oid)" "20600 $old" "-P 0: rewritten in place"
run_in "$T/b" edu-pgcopy -P 2000,x -w annee=2023 dvf_mutations
is_status 64 "-P with a bad retry count"

# ---- killed at each step. An event trigger holds the load at a DDL command of the swap, on an
# advisory lock the test holds: "TAG IDENTITY N" holds at the Nth command TAG on an object whose
# identity is like IDENTITY, in the load's session.
sql "create table t_hold (tag text, ident text, nth integer)" >/dev/null
sql "create function t_hold() returns event_trigger language plpgsql as \$\$
declare
	r record;
	n integer;
begin
	for r in select h.tag, h.ident, h.nth from t_hold h, pg_event_trigger_ddl_commands() c
		where c.command_tag = h.tag and c.object_identity like h.ident
	loop
		n := coalesce(nullif(current_setting('t_hold.n', true), ''), '0')::integer + 1;
		perform set_config('t_hold.n', n::text, false);
		if n = r.nth then
			perform pg_advisory_xact_lock(4242);
		end if;
	end loop;
end
\$\$" >/dev/null
sql "create event trigger t_hold on ddl_command_end execute function t_hold()" >/dev/null
waiting() { [ "$(sql "select count(*) from pg_stat_activity where application_name = 'edu-pgcopy'
	and wait_event_type = 'Lock' and query like '%$1%'")" = 1 ]; }
gone() { [ "$(sql "select count(*) from pg_stat_activity where application_name = 'edu-pgcopy'")" = 0 ]; }
# killed WHAT SIGNAL QUERY: the load of a renumbered 2023, held in QUERY by what was set up,
# killed by SIGNAL; then the old year is whole, in its old partition.
killed() {
	local sum pid want
	sum=$(table_sum dvf_mutations)
	old=$(oid)
	before=$(part)
	# edu-pgcopy itself, not a shell around it, is the process killed
	PGOPTIONS="${PGOPTIONS:-} -c role=edu_pipeline" edu-pgcopy -s dvf:2023 -w annee=2023 \
		dvf_mutations <"$T/a" >"$OUT" 2>"$ERR" 7>&- &
	pid=$!
	wait_for waiting "$3"
	ok $? "$1: the load is held there"
	kill -s "$2" "$pid"
	wait "$pid"
	status=$?
	release
	case $2 in TERM) want=143 ;; KILL) want=137 ;; esac
	is_status "$want" "$1: SIG$2 ends the load"
	wait_for gone
	ok $? "$1: the server ended the session"
	is "$(table_sum dvf_mutations)" "$sum" "$1: the table holds the old year, whole"
	is "$(oid) $(part)" "$old $before" "$1: in its old partition, as it was"
	no_shadow "$1"
}
at() { # at TAG IDENTITY N: the trigger holds there
	sql "delete from t_hold; insert into t_hold values ('$1', '$2', $3)" >/dev/null
	hold "select pg_advisory_xact_lock(4242);"
	wait_for held "locktype = 'advisory' and objid = 4242"
}
at "CREATE TABLE" "%_swap" 1
killed "shadow made, empty" KILL edu_partition_shadow
at "CREATE INDEX" "%" 1
killed "shadow filled, being indexed" KILL edu_partition_index
at "ALTER TABLE" "public.dvf_mutations" 1
killed "old partition detached" KILL edu_partition_swap
at "ALTER TABLE" "public.dvf_mutations" 1
killed "old partition detached" TERM edu_partition_swap
at "ALTER TABLE" "public.dvf_mutations" 2
killed "new partition attached" KILL edu_partition_swap
at "ALTER INDEX" "%" 3
killed "indexes renamed" KILL edu_partition_swap
sql "delete from t_hold" >/dev/null
hold "select 1 from monitoring.data_sources where id = 'dvf:2023' for update;"
killed "swapped, recording the run" KILL monitoring.imported

run_in "$T/a" pipeline edu-pgcopy -v -s dvf:2023 -w annee=2023 dvf_mutations
is_status 0 "then the load runs to its end"
like_err "^edu-pgcopy: partition swapped \(try 1 of 4, " "swapped"
is "$(ids a) $(count 2023)" "20000 20000" "2023 holds the new rows"
no_shadow "after the kills"

# ---- two years at once (refresh.sh -j 2): the load of 2023 held with its shadow indexed, in its
# transaction; 2024 swaps meanwhile, and 2023 after it, neither waiting for the other
year "$T/y24b" 2024 d 2100
at "CREATE INDEX" "%dvf_mutations_2023_swap%" 1
PGOPTIONS="${PGOPTIONS:-} -c role=edu_pipeline" edu-pgcopy -v -s dvf:2023 -w annee=2023 dvf_mutations \
	<"$T/b" >"$T/out23" 2>"$T/err23" 7>&- &
pid=$!
wait_for waiting edu_partition_index
ok $? "the load of 2023 is held, its shadow indexed"
run_in "$T/y24b" pipeline edu-pgcopy -v -P 500,0 -s dvf:2024 -w annee=2024 dvf_mutations
is_status 0 "meanwhile 2024 loads"
like_err "^edu-pgcopy: partition swapped \(try 1 of 1, " "by a swap, at the first try"
release
wait "$pid"
is "$?" 0 "then 2023 loads"
grep -q "^edu-pgcopy: partition swapped (try 1 of 4, " "$T/err23"
ok $? "by a swap, at the first try"
is "$(ids b) $(count 2023) $(count 2024)" "20600 20600 2100" "both years hold their new rows"
sql "delete from t_hold" >/dev/null

# ---- the setting: the pipelines give a scoped load -P EDU_SWAP_LOCK, when it is set
loadargs() {
	EDU_ENV='' bash -c '. "$EDU_ROOT/pipelines/lib.sh" && edu_load_args "$@" && echo "${EDU_LOAD[*]}"' \
		loadargs "$@"
}
run env EDU_SWAP_LOCK=700,1 bash -c "$(declare -f loadargs); loadargs dvf 2023; loadargs ivac"
is_status 0 "edu_load_args with EDU_SWAP_LOCK"
is "$(cat "$OUT")" "-P 700,1 -w annee=2023 -s dvf:2023 dvf_mutations
-k uai,session -L nom -s ivac colleges_indicateurs" "-P for a year of DVF, nothing for a load without a scope"
run bash -c "$(declare -f loadargs); loadargs dvf 2023"
is "$(cat "$OUT")" "-w annee=2023 -s dvf:2023 dvf_mutations" "no -P when the setting is not given"

# ---- through pipelines/dvf.sh: a renumbered year swapped; kept from its lock, the import log
# says that it was rewritten in place
. "$EDU_ROOT/tests/pipelines.sh"
schema_db t0314b
geo=$FIX/dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv
mkdir -p "$T/geo/2025"
pl_source dvf "$T/geo/{year}/full.csv.gz"
renumber() { # renumber SHIFT: the fixture with every id_mutation shifted, published
	awk -F, -v OFS=, -v k="$1" 'NR > 1 { split($1, p, "-"); $1 = p[1] "-" p[2] + k } { print }' "$geo" |
		pl_gzip /dev/stdin "$T/geo/2025/full.csv.gz"
}
ids25() { # the year's ids in the table, then in the published file
	sql "select string_agg(id_mutation, ' ' order by id_mutation collate \"C\") from dvf_mutations where annee = 2025"
	gzip -dc "$T/geo/2025/full.csv.gz" | awk -F, 'NR > 1 { print $1 }' | LC_ALL=C sort | paste -sd' '
}
renumber 0
pl_run dvf -R 2025
is_status 0 "dvf.sh: a first load of 2025"
renumber 1
old=$(sql "select 'dvf_mutations_2025'::regclass::oid")
pl_run dvf -R 2025
is_status 0 "dvf.sh: 2025 renumbered"
is "$(pl_summary)" "70/0/70/0" "every row replaced"
is "$(ids25 | sed -n 1p)" "$(ids25 | sed -n 2p)" "by the renumbered rows"
[ "$(sql "select 'dvf_mutations_2025'::regclass::oid")" != "$old" ]
ok $? "by a swap"
grep -q "unit=dvf:2025 stage=load outcome=loaded .* script=pipelines/dvf.sh$" "$EDU_LOG_DIR/import.log"
ok $? "the import log's line, as for any load"
hold "select count(*) from dvf_mutations where annee = 2024;"
wait_for held "relation = 'dvf_mutations'::regclass"
renumber 2
EDU_SWAP_LOCK=200,1 pl_run dvf -R 2025
release
is_status 0 "dvf.sh: 2025 renumbered again while a reader holds the table"
is "$(pl_summary)" "70/0/70/0" "every row replaced"
is "$(ids25 | sed -n 1p)" "$(ids25 | sed -n 2p)" "by the renumbered rows"
like_err "^edu-pgcopy: table dvf_mutations: -w annee=2025: no partition swap \(its lock on the table not had in 2 tries of 200 ms\): rewriting the partition in place$" \
	"stderr says so"
is "$(tail -n 1 "$EDU_LOG_DIR/import.log" | grep -o ' outcome=loaded .* note=.*$')" \
	" outcome=loaded status=0 inserted=70 updated=0 deleted=70 unchanged=0 $(tail -n 1 "$EDU_LOG_DIR/import.log" |
		grep -o 'seconds=.* script=pipelines/dvf.sh') note=\"edu-pgcopy: table dvf_mutations: -w annee=2025: no partition swap (its lock on the table not had in 2 tries of 200 ms): rewriting the partition in place\"" \
	"so does its line in the import log"
