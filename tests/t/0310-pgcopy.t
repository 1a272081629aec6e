#!/bin/bash
# edu-pgcopy against a real PostgreSQL: every mode, every refusal (with the table proven
# unchanged by a checksum of its rows), dry run, monitoring record, zero tuples written for an
# unchanged upsert, and geometry computed by the database from real directory rows.
. "${EDU_ROOT:-.}/tests/lib.sh"

schema_db t0310

communes() { # communes FILE NAME...: a contract file of communes named 01001.. with NAMEs
	local f=$1 i=1
	shift
	printf 'code_insee\tnom\tlongitude\tlatitude\n' >"$f"
	for name in "$@"; do
		printf '%05d\t%s\t4.%d\t46.%d\n' $((1000 + i)) "$name" "$i" "$i" >>"$f"
		i=$((i + 1))
	done
	printf '\\.\n' >>"$f"
}

# ---- replace (default): into an empty table, then equal, changed, smaller input
communes "$T/c5" A B C D E
run_in "$T/c5" edu-pgcopy communes
is_status 0 "replace into an empty table"
like_out "$(summary_re communes 5 0 0 0)" "summary line counts 5 inserted"
empty_err "silent on success"
is "$(sql "select count(*) from communes where geom is not null")" 5 "geometry computed for every row"

before=$(tuples -x communes)
run_in "$T/c5" edu-pgcopy communes
is_status 0 "replace with identical input"
like_out "$(summary_re communes 0 0 0 5)" "identical input: all unchanged"
is "$(tuples -x communes)" "$before" "identical input writes no tuple (same ctid, xmin, xmax)"

communes "$T/c5b" A B Cx D E
run_in "$T/c5b" edu-pgcopy communes
is_status 0 "replace with one changed row"
like_out "$(summary_re communes 0 1 0 4)" "one row updated, four unchanged"
is "$(sql "select nom from communes where code_insee = '01003'")" Cx "the changed value landed"

communes "$T/c4" A B Cx D
run_in "$T/c4" edu-pgcopy communes
is_status 0 "replace with one row fewer"
like_out "$(summary_re communes 0 0 1 4)" "one row deleted"
is "$(sql "select count(*) from communes")" 4 "table now equals the input"

# ---- shrink guard
sum=$(table_sum communes)
communes "$T/c1" A
run_in "$T/c1" edu-pgcopy communes
is_status 80 "shrink guard refuses 1 row replacing 4"
like_err "^edu-pgcopy: table communes: refusing to replace 4 rows with only 1 \(below 50%" \
	"shrink guard says why and how to override"
empty_out "nothing on stdout when refused"
is "$(table_sum communes)" "$sum" "table unchanged after the shrink guard"
run_in "$T/c1" edu-pgcopy -g 20 communes
is_status 0 "-g 20 lets 1 of 4 (25%) through"
like_out "$(summary_re communes 0 0 3 1)" "three rows deleted"
run_in "$T/c4" edu-pgcopy communes
is_status 0 "growing back is never refused"
communes "$T/c0"
run_in "$T/c0" edu-pgcopy communes
is_status 80 "an empty input never wipes a table"
run_in "$T/c0" edu-pgcopy -f communes
is_status 0 "-f forces it"
is "$(sql "select count(*) from communes")" 0 "forced replace emptied the table"
run_in "$T/c5" edu-pgcopy communes
is_status 0 "reload"

# ---- dry run
sum=$(table_sum communes)
communes "$T/c6" A B C D E F
run_in "$T/c6" edu-pgcopy -n communes
is_status 0 "dry run"
like_out "^table=communes inserted=1 updated=0 deleted=0 unchanged=5 seconds=[0-9.]+ dry_run=1$" \
	"dry run prints the counts a real run would make"
is "$(table_sum communes)" "$sum" "dry run changes nothing"

# ---- upsert
communes "$T/u" A Bx
before=$(sql "select count(*) from communes")
run_in "$T/u" edu-pgcopy -k code_insee communes
is_status 0 "upsert"
like_out "$(summary_re communes 0 1 0 1)" "upsert: one updated, one unchanged"
is "$(sql "select count(*) from communes")" "$before" "upsert deletes nothing"
is "$(sql "select nom from communes where code_insee = '01002'")" Bx "upsert updated the row"

# Zero tuples for an unchanged upsert, from the statistics collector too: an unchanged load
# then a load changing one row must add exactly one update and no insert.
stat() { sql "select pg_stat_clear_snapshot(); select n_tup_ins || ' ' || n_tup_upd
	from pg_stat_user_tables where relname = 'communes'" | tail -n 1; }
wait_stat() { # wait_stat OLD: until the counters move (a backend flushes them when it exits)
	local i
	for i in $(seq 1 50); do
		[ "$(stat)" != "$1" ] && break
		sleep 0.1
	done
}
sleep 0.5
s0=$(stat)
before=$(tuples -x communes)
run_in "$T/c5" edu-pgcopy -k code_insee communes
is_status 0 "upsert of an unchanged table"
like_out "$(summary_re communes 0 1 0 4)" "only the row changed earlier is updated back"
run_in "$T/c5" edu-pgcopy -k code_insee communes
like_out "$(summary_re communes 0 0 0 5)" "second identical upsert: all unchanged"
after=$(tuples -x communes)
communes "$T/c5c" A B C D Ex
run_in "$T/c5c" edu-pgcopy -k code_insee communes
wait_stat "$s0"
sleep 0.5
read -r ins0 upd0 <<<"$s0"
read -r ins1 upd1 <<<"$(stat)"
is "$((ins1 - ins0)) $((upd1 - upd0))" "0 2" \
	"n_tup_ins/n_tup_upd: the identical upsert wrote nothing (one update before, one after)"
is "$(sql "select count(*) from communes where ctid || ':' || xmin || ':' || xmax
	not in (select unnest(string_to_array('$after', ' ')))")" 1 \
	"only the changed row has a new tuple"

# ---- errors leave the table unchanged
sum=$(table_sum communes)
printf 'code_insee\tnom\tlongitude\n01001\tA\t4.1\n01002\tB\tabc\n\\.\n' >"$T/bad"
run_in "$T/bad" edu-pgcopy communes
is_status 65 "a value PostgreSQL rejects"
like_err "^edu-pgcopy: stdin:3: column longitude: 'abc': invalid input syntax for type double precision" \
	"bad value reported as input line, column, value"
is "$(table_sum communes)" "$sum" "table unchanged after a bad value"

printf 'code_insee\tnom\tpopulation\n01001\tA\t12\n\\.\n' >"$T/drift"
run_in "$T/drift" edu-pgcopy communes
is_status 65 "schema drift"
like_err "stdin:1: column 3 'population': no such column in table communes \(schema drift" \
	"drift names the column"
is "$(wc -l <"$ERR")" 1 "one diagnostic line, nothing from the server after it"
is "$(table_sum communes)" "$sum" "table unchanged after drift"

# A hostile header costs no CPU: names are sorted once and looked up, never compared pairwise.
for n in 1600 100000; do
	seq -f 'c%g' 1 "$n" | paste -sd '\t' >"$T/wide"
	printf '\\.\n' >>"$T/wide"
	run_in "$T/wide" bash -c 'ulimit -t 2; exec edu-pgcopy communes'
	is_status 65 "a header of $n columns is refused within 2 s of CPU"
done
like_err "^edu-pgcopy: stdin:1: 100000 columns: more than 4096 in the header$" "the widest, before any name is compared"

printf 'code_insee\tgeom\n01001\t\\N\n\\.\n' >"$T/gen"
run_in "$T/gen" edu-pgcopy communes
is_status 65 "a generated column in the input"
like_err "column 2 'geom': computed by the database" "says geom is computed"

printf 'code_insee\tnom\n01001\tA\n01002\tB\n01001\tC\n01003\tD\n01002\tE\n\\.\n' >"$T/dup"
for mode in "" "-k code_insee"; do
	# shellcheck disable=SC2086
	run_in "$T/dup" edu-pgcopy $mode communes
	is_status 65 "duplicate keys ${mode:-replace}"
	like_err "^edu-pgcopy: stdin: duplicate keys in the input: \(code_insee\)=\(01001\) on lines 2, 4; \(code_insee\)=\(01002\) on lines 3, 6$" \
		"duplicates listed with their lines (${mode:-replace})"
	if grep -q 'cannot affect row a second time' "$ERR"; then ok 1 "no PostgreSQL ON CONFLICT message"; else ok 0 "no PostgreSQL ON CONFLICT message"; fi
	is "$(table_sum communes)" "$sum" "table unchanged after duplicates (${mode:-replace})"
done

createdb -T t0310 t0310e && PGDATABASE=t0310e sql "truncate communes" >/dev/null
run_in "$T/dup" env PGDATABASE=t0310e edu-pgcopy -k code_insee communes
is_status 65 "duplicate keys into an empty table (COPY straight into it)"
like_err "^edu-pgcopy: stdin:4: duplicate keys in the input: \(code_insee\)=\(01001\) repeats an earlier line$" \
	"the first duplicate named with its line"
is "$(PGDATABASE=t0310e sql "select count(*) from communes")" 0 "the empty table stays empty"

printf 'code_insee\tnom\n01001\tA\n\\N\tB\n\\.\n' >"$T/nullkey"
run_in "$T/nullkey" edu-pgcopy -k code_insee communes
is_status 65 "NULL key"
like_err "^edu-pgcopy: stdin:3: null value in column \"code_insee\" of table communes" "NULL key line"
is "$(table_sum communes)" "$sum" "table unchanged after a NULL key"

printf 'code_insee\tnom\n01001\tA\n01002\tB\n' >"$T/trunc"
run_in "$T/trunc" edu-pgcopy communes
is_status 79 "no end-of-data line"
like_err "input ends without the end-of-data line" "truncation explained"
is "$(table_sum communes)" "$sum" "table unchanged after a truncated stream"
printf 'code_insee\tnom\n01001\tA\n0100' >"$T/trunc2"
run_in "$T/trunc2" edu-pgcopy -k code_insee communes
is_status 79 "stream cut mid-line"
is "$(table_sum communes)" "$sum" "table unchanged after a stream cut mid-line"

run_in "$T/c5" edu-pgcopy -k nom communes
is_status 64 "-k without a unique index"
like_err "-k nom: table communes has no unique index on exactly these columns" "-k checked against the catalog"
run_in "$T/c5" edu-pgcopy -k code_insee,nope communes
is_status 64 "-k with an unknown column"
run_in "$T/c5" edu-pgcopy no_such_table
is_status 78 "unknown table"
like_err "table no_such_table: no such table" "unknown table named"
run_in "$T/c5" edu-pgcopy 'communes; drop table communes'
is_status 78 "a table name is never SQL"
is "$(table_sum communes)" "$sum" "table unchanged after all refusals"
run_in "$T/c5" edu-pgcopy -a -k code_insee communes
is_status 64 "-a with -k is a usage error"

# ---- connection: no password in messages, retryable when unreachable
run_in "$T/c5" edu-pgcopy -d 'password=s3cr3t bogus' communes
is_status 78 "unparsable connection string"
if grep -q s3cr3t "$ERR"; then ok 1 "password never printed"; else ok 0 "password never printed"; fi
run_in "$T/c5" edu-pgcopy -d "host=$T/nowhere password=s3cr3t" communes
is_status 75 "unreachable server is retryable"
like_err "^edu-pgcopy: database: cannot connect: " "connection failure on one line"
is "$(wc -l <"$ERR")" 1 "one diagnostic line"
if grep -q s3cr3t "$ERR"; then ok 1 "password not in the connection error"; else ok 0 "password not in the connection error"; fi
run_in "$T/c5" edu-pgcopy -d "host=$PGHOST dbname=no_such_database" communes
is_status 78 "a database the server says does not exist is a configuration error, not a retry"
like_err 'database "no_such_database" does not exist' "the server's refusal is shown"
run_in "$T/c5" edu-pgcopy -d "host=$PGHOST dbname=t0310 user=no_such_role" communes
is_status 78 "an unknown role is a configuration error"
run_in "$T/c5" env DATABASE_URL="postgresql:///t0310?host=$PGHOST" PGDATABASE=postgres edu-pgcopy communes
is_status 0 "DATABASE_URL is used"

# ---- replace within a scope, on a table without a key
dvf() { # dvf FILE YEAR ID...
	local f=$1 y=$2
	shift 2
	printf 'annee\tid_mutation\tvaleur_fonciere\n' >"$f"
	for id in "$@"; do printf '%s\t%s\t%s\n' "$y" "$id" "${#id}00.5" >>"$f"; done
	printf '\\.\n' >>"$f"
}
dvf "$T/d22" 2022 a b c
dvf "$T/d23" 2023 a a b
# dvf_mutations is partitioned by year (sql/007): the years' partitions, as a load creates them.
sql "select edu_ensure_partition('dvf_mutations', y) from unnest(array['2022', '2023']) y" >/dev/null
run_in "$T/d22" edu-pgcopy -w annee=2022 dvf_mutations
is_status 0 "scoped replace into an empty table"
run_in "$T/d23" edu-pgcopy -w annee=2023 dvf_mutations
is_status 0 "scoped replace of another year"
like_out "$(summary_re dvf_mutations 3 0 0 0)" "2023 inserted"
y22=$(sql "select count(*) || md5(string_agg(t::text, '' order by t::text)) from dvf_mutations t where annee = 2022")
dvf "$T/d23b" 2023 a c b
run_in "$T/d23b" edu-pgcopy -w annee=2023 dvf_mutations
is_status 0 "scoped replace, multiset difference"
like_out "$(summary_re dvf_mutations 1 0 1 2)" "one duplicate row replaced by a new one, two kept"
is "$(sql "select string_agg(id_mutation, '' order by id_mutation) from dvf_mutations where annee = 2023")" abc \
	"2023 equals the input"
is "$(sql "select count(*) || md5(string_agg(t::text, '' order by t::text)) from dvf_mutations t where annee = 2022")" "$y22" \
	"2022 untouched by the 2023 replace"
sum=$(table_sum dvf_mutations)
printf 'annee\tid_mutation\n2023\ta\n2022\tz\n\\.\n' >"$T/dout"
run_in "$T/dout" edu-pgcopy -w annee=2023 dvf_mutations
is_status 65 "a row outside the scope"
like_err "^edu-pgcopy: stdin:3: column annee: row outside the scope -w annee=2023$" "scope error names the line"
is "$(table_sum dvf_mutations)" "$sum" "table unchanged after a scope error"
dvf "$T/d23s" 2023 a
run_in "$T/d23s" edu-pgcopy -w annee=2023 dvf_mutations
is_status 80 "shrink guard within the scope"
like_err "refusing to replace 3 rows in scope annee=2023 with only 1" "guard counts the scope only"
run_in "$T/d23" edu-pgcopy -w nope=1 dvf_mutations
is_status 64 "-w with an unknown column"

# ---- append
run_in "$T/d22" edu-pgcopy -a dvf_mutations
is_status 0 "append"
like_out "$(summary_re dvf_mutations 3 0 0 0)" "append inserts every row"
is "$(sql "select count(*) from dvf_mutations where annee = 2022")" 6 "appended rows are there"

# ---- -s: the freshness record moves with the data, in the same transaction
sql "insert into monitoring.data_sources (id, name, pending_etag, pending_sha256, pending_size,
	pending_last_modified, pending_url, pending_at, known_etag)
	values ('communes', 'Communes', '\"e2\"', 'abc123', 42, '2026-01-02 03:04:05+00', 'http://x/c', now(),
	'\"e1\"')" >/dev/null
printf 'code_insee\tnom\n01001\tA\n01002\tB\n01003\tC\n01004\tD\n01005\tE\n01006\t\\N\n' >"$T/strunc"
run_in "$T/strunc" edu-pgcopy -s communes communes
is_status 79 "truncated load with -s"
is "$(sql "select known_etag || ' ' || coalesce(last_status, 'null') from monitoring.data_sources where id = 'communes'")" \
	'"e1" null' "a failed load leaves the freshness record alone"
run_in "$T/c6" edu-pgcopy -s communes communes
is_status 0 "load with -s"
is "$(sql "select known_etag || ' ' || known_sha256 || ' ' || known_size || ' ' || known_url || ' ' ||
	(last_known_modified = '2026-01-02 03:04:05+00') || ' ' || last_status || ' ' || rows_imported || ' ' ||
	(last_imported > now() - interval '1 minute') || ' ' || (last_duration_seconds >= 0) || ' ' ||
	coalesce(last_error, 'null') from monitoring.data_sources where id = 'communes'")" \
	'"e2" abc123 42 http://x/c true imported 6 true true null' "pending validators became the known ones"
is "$(sql "select count(*) from monitoring.data_sources where id = 'communes' and pending_at is null
	and pending_etag is null and pending_sha256 is null and pending_url is null")" 1 "pending values are cleared"
run_in "$T/c6" edu-pgcopy -s communes communes
is_status 0 "a second load by hand, with no download before it"
is "$(sql "select known_etag || ' ' || known_sha256 || ' ' || known_size || ' ' || known_url
	from monitoring.data_sources where id = 'communes'")" '"e2" abc123 42 http://x/c' \
	"a load without a download keeps the known validators"
run_in "$T/c6" edu-pgcopy -s newsource communes
is_status 0 "-s with an unknown source id"
is "$(sql "select id || ' ' || rows_imported from monitoring.data_sources where id = 'newsource'")" \
	"newsource 6" "the source row is created"

# ---- geometry from real directory rows: WGS84 as given, Lambert-93 transformed by PostGIS
run_in "$FIX/pgcopy/annuaire-35.tsv" edu-pgcopy annuaire_sites
is_status 0 "load real annuaire rows"
is "$(sql "select count(*) from annuaire_etablissements
	where st_x(geom) between -5.5 and 10 and st_y(geom) between 41 and 51.5 and st_srid(geom) = 4326")" 6 \
	"every point inside France's bounding box, in EPSG:4326"
src=$FIX/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv
for uai in 0350053T 0352069J 0350031U; do
	lat=$(awk -F';' -v u="$uai" '$1 ~ u {print $52}' "$src")
	lon=$(awk -F';' -v u="$uai" '$1 ~ u {print $53}' "$src")
	is "$(sql "select st_distance(geom::geography, st_setsrid(st_makepoint($lon, $lat), 4326)::geography) < 5
		from annuaire_etablissements where uai = '$uai'")" t \
		"$uai: Lambert-93 transformed within 5 m of the directory's own WGS84"
done

# ---- replace within a scope never touches another scope
# A partitioned table repeats ctids in each partition: rows are named by (tableoid, ctid).
sql "create table pt (annee int, v text) partition by list (annee);
	create table pt22 partition of pt for values in (2022);
	create table pt23 partition of pt for values in (2023);
	insert into pt values (2022, 'a'), (2022, 'b'), (2023, 'x'), (2023, 'y')" >/dev/null
y22=$(table_sum pt22)
printf 'annee\tv\n2023\tx\n2023\tz\n\\.\n' >"$T/pt"
run_in "$T/pt" edu-pgcopy -w annee=2023 pt
is_status 0 "scoped replace on a partitioned table"
like_out "$(summary_re pt 1 0 1 1)" "one row deleted, the one of the scope"
is "$(table_sum pt22)" "$y22" "the other partition is untouched"
is "$(sql "select string_agg(v, '' order by v) from pt")" abxz "the table is the old 2022 and the new 2023"
printf 'annee\tv\n2023\tx\n2022\tb\n2022\tc\n\\.\n' >"$T/pt2"
run_in "$T/pt2" edu-pgcopy pt
is_status 0 "replace of a whole partitioned table"
is "$(sql "select string_agg(annee || v, ' ' order by v) from pt")" "2022b 2022c 2023x" \
	"a partitioned table ends equal to the input"

# With a key that does not include the scope column, an input row may name a row of another scope.
sql "create table sc (id int primary key, grp int, v text);
	insert into sc values (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c'), (4, 2, 'd')" >/dev/null
sum=$(table_sum sc)
printf 'id\tgrp\tv\n1\t1\ta\n3\t1\tX\n\\.\n' >"$T/sc"
run_in "$T/sc" edu-pgcopy -w grp=1 sc
is_status 65 "scoped replace whose input holds the key of a row of another scope"
like_err "^edu-pgcopy: stdin:3: column grp: its key belongs to a row outside the scope -w grp=1 " \
	"the line is named"
is "$(table_sum sc)" "$sum" "table unchanged: the other scope's row was not moved"
printf 'id\tgrp\tv\n1\t1\ta\n2\t1\tB\n5\t1\tn\n\\.\n' >"$T/sc2"
run_in "$T/sc2" edu-pgcopy -w grp=1 sc
is_status 0 "scoped replace on a keyed table"
like_out "$(summary_re sc 1 1 0 1)" "one inserted, one updated"
is "$(sql "select string_agg(id || v, ' ' order by id) from sc")" "1a 2B 3c 4d 5n" "the other scope is untouched"

sum=$(table_sum dvf_mutations)
run_in "$T/d23" edu-pgcopy -w annee=abc dvf_mutations
is_status 64 "a -w value its column rejects is a usage error"
like_err "^edu-pgcopy: -w annee=abc: invalid input syntax for type integer" "says which option"
is "$(table_sum dvf_mutations)" "$sum" "table unchanged after a bad -w"

# ---- a CHECK constraint or a required column, named before or during COPY, not in the merge
sql "create table ck (id int primary key, v int check (v > 0), w int not null);
	insert into ck values (1, 1, 1)" >/dev/null
sum=$(table_sum ck)
printf 'id\tv\tw\n1\t1\t1\n2\t-1\t1\n\\.\n' >"$T/ck"
run_in "$T/ck" edu-pgcopy ck
is_status 65 "a value a CHECK constraint rejects"
like_err "^edu-pgcopy: stdin:3: new row for table ck violates check constraint \"ck_v_check\"$" \
	"CHECK violation reported with its input line"
is "$(table_sum ck)" "$sum" "table unchanged after a CHECK violation"
printf 'id\tv\n1\t1\n2\t3\n\\.\n' >"$T/ck2"
run_in "$T/ck2" edu-pgcopy -k id ck
is_status 65 "a NOT NULL column without a default missing from the input"
like_err "^edu-pgcopy: stdin:1: column w: NOT NULL without a default in table ck, missing from the input" \
	"the missing column is named as schema drift"
is "$(table_sum ck)" "$sum" "table unchanged after a missing required column"
