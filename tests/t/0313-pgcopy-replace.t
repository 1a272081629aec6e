#!/bin/bash
# edu-pgcopy's replace without a key on scopes larger than its sample (1000 rows): the sample of
# both sides rewrites a scope whose rows nearly all changed (a renumbered republication) and
# compares every row otherwise, so a mostly changed scope keeps its unchanged rows untouched;
# repeated rows stay a multiset on both paths. Then the -w value as its column's type reads it:
# one lock and one partition for annee=2022 and annee=02022.
. "${EDU_ROOT:-.}/tests/lib.sh"

schema_db t0313
sql "create table py (annee integer not null, v text, n numeric) partition by list (annee)" >/dev/null

rows() { # rows FILE PREFIX FROM TO [PREFIX FROM TO]...: year 2023, v PREFIX i, n i (i.0 for odd i)
	local f=$1
	shift
	{
		printf 'annee\tv\tn\n'
		while [ "$#" -ge 3 ]; do
			seq "$2" "$3" | awk -v p="$1" '{ printf "2023\t%s%d\t%s\n", p, $1, $1 % 2 ? $1 ".0" : $1 }'
			shift 3
		done
		printf '\\.\n'
	} >"$f"
}
repeat() { # repeat FILE V N: N rows of v = V, n NULL, before the end of FILE
	sed -i '$d' "$1"
	yes "$(printf '2023\t%s\t\\N' "$2")" | head -n "$3" >>"$1"
	printf '\\.\n' >>"$1"
}
# holds FILE: the year holds exactly the rows of FILE, repeated rows as often.
holds() {
	local want got
	want=$(sed '1d;$d' "$1" | cut -f 2,3 | LC_ALL=C sort | md5sum)
	got=$(sql "select v || E'\t' || coalesce(n::text, '\N') from py where annee = 2023" | LC_ALL=C sort | md5sum)
	is "$got" "$want" "the year holds exactly the input"
}
# replace FILE WAY INSERTED DELETED UNCHANGED WHAT: FILE loads into 2023 (-v, recorded as py:2023)
# the WAY the sample chose ("every row compared", "rewritten"), with these counts in its summary
# and its history row, and the year ends holding exactly FILE.
replace() {
	run_in "$1" edu-pgcopy -v -s py:2023 -w annee=2023 py
	is_status 0 "$6"
	like_err "unchanged, $2 \(" "-v: $2"
	like_out "$(summary_re py "$3" 0 "$4" "$5")" "inserted $3, deleted $4, unchanged $5"
	is "$(sql "select concat_ws(' ', rows_inserted, rows_deleted, rows_unchanged) from monitoring.runs
		where unit = 'py:2023' order by id desc limit 1")" "$3 $4 $5" "the history row has the same counts"
	holds "$1"
}

rows "$T/r" r 1 5000
run_in "$T/r" edu-pgcopy -w annee=2023 py
is_status 0 "a first load of 5000 rows"

# ---- nothing changed: the sample finds the rows in both, every row is compared, none written
before=$(tuples py_2023 "v like 'r%'")
run_in "$T/r" edu-pgcopy -v -w annee=2023 py
is_status 0 "an identical reload"
like_out "$(summary_re py 0 0 0 5000)" "all unchanged"
like_err "^edu-pgcopy: sample: [0-9]+ of [0-9]+ input rows among [0-9]+ rows of the scope: about (9[5-9]|100)\.[0-9]% unchanged, every row compared" \
	"-v: the sample says nearly all rows are unchanged"
is "$(tuples py_2023 "v like 'r%'")" "$before" "no tuple written"

# ---- a quarter kept: compared row by row; the kept rows are not written
rows "$T/q" r 1 1250 s 1251 5000
replace "$T/q" "every row compared" 3750 3750 1250 "three quarters of the rows changed"
run_in "$T/r" edu-pgcopy -w annee=2023 py
is_status 0 "back to the first version"
before=$(tuples py_2023 "v like 'r%' and substr(v, 2)::int <= 1250")
run_in "$T/q" edu-pgcopy -w annee=2023 py
is_status 0 "three quarters changed again"
is "$(tuples py_2023 "v like 'r%'")" "$before" "the 1250 unchanged rows keep their tuples (same ctid, same xmin)"

# ---- renumbered: one row in 5000 kept: the scope is rewritten, and the counts say so
rows "$T/s" r 1 1 t 2 5000
replace "$T/s" rewritten 5000 5000 0 "all rows but one changed"
like_err "^edu-pgcopy: sample: [0-9]+ of [0-9]+ input rows among [0-9]+ rows of the scope: about [0-4]\.[0-9]% unchanged, rewritten" \
	"-v: the sample says nearly nothing is kept"

# ---- repeated rows past the sample: the multiset difference, both ways
rows "$T/m1" u 1 1500
repeat "$T/m1" a 1500
run_in "$T/m1" edu-pgcopy -w annee=2023 py
is_status 0 "1500 rows and one row 1500 times"
rows "$T/m2" u 1 1499 w 1500 1500
repeat "$T/m2" a 1499
repeat "$T/m2" b 2
replace "$T/m2" "every row compared" 3 2 2998 "one repeat fewer (a), a new row twice (b), one row changed (u1500)"
replace "$T/m2" "every row compared" 0 0 3001 "the same again: repeated rows match as often as they repeat"

rows "$T/m3" x 1 1
repeat "$T/m3" c 3000
replace "$T/m3" rewritten 3001 3001 0 "every row replaced by one other row repeated"

# ---- the -w value as the column reads it: 02022 is 2022, one lock, one partition
printf 'annee\tv\tn\n2022\ta\t1\n\\.\n' >"$T/y22"
run_in "$T/y22" edu-pgcopy -w annee=2022 py
is_status 0 "a load of 2022"
run_in "$T/y22" edu-pgcopy -v -w annee=02022 py
is_status 0 "a load of 02022"
like_err "^edu-pgcopy: partition py_2022 ready" "takes the partition of 2022"
like_out "$(summary_re py 0 0 0 1)" "and finds its rows"
is "$(sql "select string_agg(c.relname, ' ' order by c.relname) from pg_inherits i
	join pg_class c on c.oid = i.inhrelid where i.inhparent = 'py'::regclass")" "py_2022 py_2023" \
	"no second partition"
rm -f "$T/go" "$T/fifo"
mkfifo "$T/fifo"
(printf 'annee\tv\tn\n2022\tslow\t1\n'
	while [ ! -e "$T/go" ]; do sleep 0.1; done
	printf '\\.\n') >"$T/fifo" &
edu-pgcopy -w annee=2022 py <"$T/fifo" >"$T/slow.out" 2>"$T/slow.err" &
slow=$!
for _ in $(seq 1 100); do
	[ "$(sql "select count(*) from pg_locks where locktype = 'advisory' and granted")" = 2 ] && break
	sleep 0.1
done
run_in "$T/y22" edu-pgcopy -w annee=02022 py
is_status 75 "a load of 02022 while 2022 loads"
like_err "^edu-pgcopy: table py: another load of this table is running, of the scope -w annee=02022 or of the whole table \(-W waits for it\)$" \
	"is a load of the same scope"
run_in "$T/y22" edu-pgcopy -w 'annee= 2022' py
is_status 75 "so is ' 2022'"
touch "$T/go"
wait "$slow"
is "$?" 0 "the load of 2022 commits"
is "$(sql "select string_agg(v, ' ') from py where annee = 2022")" slow "2022 holds its rows"
