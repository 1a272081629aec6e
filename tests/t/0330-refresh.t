#!/bin/bash
# edu-refresh: the materialized views depending on a table, found in the catalog two levels
# deep through a plain view and another materialized view, refreshed in dependency order,
# CONCURRENTLY only where possible; a failure keeps the previous contents readable.
. "${EDU_ROOT:-.}/tests/lib.sh"

schema_db t0330
sql "create view v_communes as select * from communes;
	create materialized view m_a as select code_insee, nom from v_communes;
	create unique index on m_a (code_insee);
	create materialized view m_b as select count(*) as n from m_a;
	create materialized view m_unrelated as select 1 as x;
	create materialized view m_empty as select code_insee from communes with no data;
	create unique index on m_empty (code_insee)" >/dev/null
sql "insert into communes (code_insee, nom) values ('35238', 'Rennes'), ('01001', 'A')" >/dev/null

run edu-refresh -t communes
is_status 0 "refresh every view depending on communes"
cut -d' ' -f1,2 "$OUT" >"$T/views"
printf '%s\n' "view=m_empty mode=plain" "view=mv_colleges_with_metrics mode=concurrently" \
	"view=mv_lycees_with_metrics mode=concurrently" "view=m_a mode=concurrently" "view=m_b mode=plain" >"$T/want"
same_file "$T/views" "$T/want" "found through the plain view, two levels deep, in dependency order"
like_out "^view=m_b mode=plain seconds=[0-9]+\.[0-9]{2}$" "a timing line per view"
empty_err "silent on stderr"
is "$(sql "select n from m_b")" 2 "the second-level view sees the first's new rows"
if grep -q m_unrelated "$OUT"; then ok 1 "unrelated view untouched"; else ok 0 "unrelated view untouched"; fi

run edu-refresh -n -t communes
is_status 0 "dry run"
is "$(grep -c 'dry_run=1$' "$OUT")" 5 "dry run lists the plan"

run edu-refresh m_b m_a
is_status 0 "named views"
is "$(cut -d' ' -f1 "$OUT" | tr '\n' ' ')" "view=m_b view=m_a " "named views in the order given"

run edu-refresh -t onisep_etablissements
is_status 0 "-t onisep_etablissements"
is "$(cut -d' ' -f1 "$OUT" | tr '\n' ' ')" "view=mv_colleges_with_metrics view=mv_lycees_with_metrics " \
	"the app's views depend on onisep_etablissements"

run edu-refresh m_a nope
is_status 78 "an unknown view"
like_err "^edu-refresh: nope: no such materialized view$" "named"
empty_out "nothing refreshed when one name is wrong"
run edu-refresh -t nope
is_status 78 "an unknown table"
run edu-refresh
is_status 64 "neither views nor -t"
run edu-refresh -t communes m_a
is_status 64 "both views and -t"

# A failing refresh: the previous contents stay readable.
sql "create table src (x int); insert into src values (1), (2);
	create materialized view m_fail as select 10 / x as y from src;
	create unique index on m_fail (y)" >/dev/null
before=$(table_sum m_fail)
sql "insert into src values (0)" >/dev/null
run edu-refresh -t src
is_status 65 "a refresh that fails (division by zero is a data error)"
like_err "^edu-refresh: m_fail: refresh failed, previous contents kept: division by zero" "says so"
is "$(table_sum m_fail)" "$before" "previous contents still readable"

# Lock timeout: a reader holding a lock that a plain refresh needs.
psql -X -q -c "begin; select count(*) from m_b; select pg_sleep(4); commit" >/dev/null 2>&1 &
holder=$!
for _ in $(seq 1 50); do
	[ "$(sql "select count(*) from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 'm_b' and l.granted")" -ge 1 ] && break
	sleep 0.1
done
start=$(date +%s)
run edu-refresh -T 1 m_b
is_status 75 "lock timeout is retryable"
like_err "m_b: refresh failed, previous contents kept: canceling statement due to lock timeout" "lock timeout said"
ok $(($(date +%s) - start > 3)) "gave up after the lock timeout"
wait "$holder"

# A name that does not even parse (unquoted space) is a wrong name, said as such.
run edu-refresh 'm a'
is_status 78 "a view name that does not parse"
like_err "^edu-refresh: m a: no such materialized view: invalid name syntax$" "the name is given back"
run edu-refresh -t 'com munes'
is_status 78 "a table name that does not parse"
like_err "^edu-refresh: com munes: no such table or view" "the table name is given back"
