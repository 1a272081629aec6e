#!/bin/bash
# edu-pgcopy's scoped replace on a table partitioned by year, as DVF loads: the partition made
# on demand, the first load of a year straight into it (a row of another year still stops it at
# its line), loads of two years at once, a whole-table load excluding every scoped one, the
# multiset difference on row digests (repeated rows, a type without a hash function), and an
# identical reload that writes no tuple.
. "${EDU_ROOT:-.}/tests/lib.sh"

schema_db t0312
sql "create table py (annee integer not null, v text, n numeric, p point)
	partition by list (annee);
	create index on py (annee)" >/dev/null

years() { # years FILE YEAR:VALUE...: a contract file of rows
	local f=$1
	shift
	contract "$f" annee:v "$@"
}
parts() { sql "select string_agg(c.relname, ' ' order by c.relname) from pg_inherits i
	join pg_class c on c.oid = i.inhrelid where i.inhparent = 'py'::regclass"; }

# ---- a new year: its partition is made, the rows go straight in
years "$T/y23" 2023:a 2023:b 2023:b
run_in "$T/y23" edu-pgcopy -v -w annee=2023 py
is_status 0 "the first load of a year"
like_out "$(summary_re py 3 0 0 0)" "every row inserted"
like_err "^edu-pgcopy: partition py_2023 ready" "-v: the partition was made"
like_err "^edu-pgcopy: scope empty: COPY straight into the table" "-v: no staging for an empty scope"
is "$(parts)" "py_2023" "the partition exists"
is "$(sql "select count(*) from only py_2023")" 3 "the rows are in it"

years "$T/y24bad" 2024:a 2024:b 2023:c 2024:d
run_in "$T/y24bad" edu-pgcopy -w annee=2024 py
is_status 65 "a row of another year in the first load of a year"
like_err "^edu-pgcopy: stdin:4: column annee: row outside the scope -w annee=2024$" \
	"named with its line, as from a staging table"
is "$(sql "select count(*) from py where annee = 2024")" 0 "nothing of 2024 loaded"
is "$(sql "select count(*) from py_2023")" 3 "2023 untouched"
is "$(parts)" "py_2023 py_2024" "the partition made stays, empty"

run_in "$T/y23" edu-pgcopy -w annee=2023/x py
is_status 64 "a -w value its column rejects"
run_in "$T/y23" edu-pgcopy -a py
is_status 0 "append on a partitioned table"
is "$(parts)" "py_2023 py_2024" "takes the partitions there are"

# ---- the multiset difference of row digests
sql "truncate py" >/dev/null
years "$T/aaab" 2023:a 2023:a 2023:a 2023:b
run_in "$T/aaab" edu-pgcopy -w annee=2023 py
is_status 0 "a year with a repeated row"
years "$T/abb" 2023:a 2023:b 2023:b
run_in "$T/abb" edu-pgcopy -w annee=2023 py
is_status 0 "fewer of one repeated row, more of another"
like_out "$(summary_re py 1 0 2 2)" "exactly the surplus goes and the shortfall comes"
is "$(sql "select string_agg(v, '' order by v) from py")" abb "the year equals the input"
before=$(tuples py_2023)
run_in "$T/abb" edu-pgcopy -w annee=2023 py
is_status 0 "an identical reload"
like_out "$(summary_re py 0 0 0 3)" "all unchanged"
is "$(tuples py_2023)" "$before" "an identical reload writes no tuple (same ctid, same xmin)"

years "$T/none" 2023:x 2023:y 2023:z
run_in "$T/none" edu-pgcopy -w annee=2023 py
is_status 0 "every row changed"
like_out "$(summary_re py 3 0 3 0)" "all old rows go, all new rows come"
is "$(sql "select string_agg(v, '' order by v) from py")" xyz "the year equals the input"

# Values compare as their type does: 1.0 and 1.00 are one numeric; a point has no hash function
# and compares as its text.
printf 'annee\tv\tn\tp\n2023\ta\t1.0\t(1,2)\n2023\tb\t2\t(3,4)\n\\.\n' >"$T/np"
run_in "$T/np" edu-pgcopy -w annee=2023 py
is_status 0 "rows with a numeric and a point"
before=$(tuples py_2023)
printf 'annee\tv\tn\tp\n2023\ta\t1.00\t(1,2)\n2023\tb\t2\t(3,5)\n\\.\n' >"$T/np2"
run_in "$T/np2" edu-pgcopy -w annee=2023 py
is_status 0 "a reload with one point moved"
like_out "$(summary_re py 1 0 1 1)" "the moved point is a new row, the equal numeric is not"
is "$(sql "select p::text from py where v = 'b'")" "(3,5)" "the new point landed"

# ---- two years at once; a whole-table load excludes them
years "$T/y22" 2022:a 2022:b
run_in "$T/y22" edu-pgcopy -w annee=2022 py
is_status 0 "load 2022"
held() { # held N: N advisory locks are granted (wait_for held N)
	[ "$(sql "select count(*) from pg_locks where locktype = 'advisory' and granted")" = "$1" ]
}
slow_year() { # slow_year YEAR FIFO: a load of YEAR that holds its locks until $T/go exists
	rm -f "$T/go" "$2"
	mkfifo "$2"
	(printf 'annee\tv\n%s\tslow\n' "$1"
		while [ ! -e "$T/go" ]; do sleep 0.1; done
		printf '\\.\n') >"$2" &
	edu-pgcopy -w "annee=$1" py <"$2" >"$T/slow.out" 2>"$T/slow.err" &
	slow=$!
}
slow_year 2022 "$T/fifo"
wait_for held 2
ok $? "a load of 2022 holds the table (shared) and its year"
years "$T/y23b" 2023:c 2023:d
run_in "$T/y23b" edu-pgcopy -w annee=2023 py
is_status 0 "meanwhile, a load of 2023 runs and commits"
like_out "$(summary_re py 2 0 2 0)" "2023 replaced"
run_in "$T/y22" edu-pgcopy -w annee=2022 py
is_status 75 "a second load of 2022 is refused"
like_err "^edu-pgcopy: table py: another load of this table is running, of the scope -w annee=2022 or of the whole table \(-W waits for it\)$" \
	"says which scope and how to wait"
years "$T/all" 2022:a 2023:c
run_in "$T/all" edu-pgcopy -g 0 py
is_status 75 "a whole-table load is refused while a year loads"
like_err "^edu-pgcopy: table py: another load of this table is running \(-W waits for it\)$" "says so"
touch "$T/go"
wait "$slow"
is "$?" 0 "the load of 2022 then commits"
is "$(sql "select string_agg(annee || v, ' ' order by annee, v) from py")" "2022slow 2023c 2023d" \
	"both years landed"

# A whole-table load holds the table alone: a scoped load fails fast, or waits with -W.
rm -f "$T/go" "$T/fifo"
mkfifo "$T/fifo"
(printf 'annee\tv\n2022\tslow\n'
	while [ ! -e "$T/go" ]; do sleep 0.1; done
	printf '2023\tc\n\\.\n') >"$T/fifo" &
edu-pgcopy py <"$T/fifo" >"$T/slow.out" 2>"$T/slow.err" &
slow=$!
wait_for held 1
ok $? "a whole-table load holds the table"
run_in "$T/y23b" edu-pgcopy -w annee=2023 py
is_status 75 "a scoped load is refused while the whole table loads"
(sleep 1; touch "$T/go") &
run_in "$T/y23b" edu-pgcopy -W -w annee=2023 py
is_status 0 "-W waits for the whole-table load"
wait "$slow"
is "$?" 0 "the whole-table load committed first"
is "$(sql "select string_agg(annee || v, ' ' order by annee, v) from py")" "2022slow 2023c 2023d" \
	"then the 2023 load replaced its year"

# A value that cannot name a partition is a bad -w.
sql "create table pk (k text, v text) partition by list (k)" >/dev/null
printf 'k\tv\na-b\tx\n\\.\n' >"$T/pk"
run_in "$T/pk" edu-pgcopy -w k=a-b pk
is_status 64 "a -w value that cannot name a partition"
like_err "^edu-pgcopy: -w k=a-b: partition value 'a-b': only letters, digits and _ make a partition name$" \
	"says why"
is "$(sql "select count(*) from pg_inherits where inhparent = 'pk'::regclass")" 0 "no partition made"
