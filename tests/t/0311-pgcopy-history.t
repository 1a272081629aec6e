#!/bin/bash
# edu-pgcopy -s UNIT and the run history (sql/005's monitoring.imported and monitoring.attempt):
# a load writes its row in its own transaction, a failure after the rollback (but not exit 79,
# recorded by the pipeline script), a dry run with the counts it would make; -L names the keys
# that appeared and disappeared, in the history and with -v; EDU_RUN_ID is the job.
. "${EDU_ROOT:-.}/tests/lib.sh"

schema_db t0311

communes() { # communes FILE CODE:NAME...: a contract file of communes
	local f=$1
	shift
	contract "$f" code_insee:nom "$@"
}
runs() { # runs UNIT: the unit's history, oldest first, one line a run
	sql "select string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', outcome, stage, exit_status,
		rows_inserted, rows_updated, rows_deleted, rows_unchanged, job,
		array_to_string(new_keys, ','), array_to_string(removed_keys, ','), diagnostic),
		E'\n' order by id) from monitoring.runs where unit = '$1'"
}

# ---- a load commits its history row with its data; job from EDU_RUN_ID
sql "select monitoring.fetched('communes', 'Communes', 'http://h/c.json', '\"e1\"', null, 'abc', 42)" >/dev/null
communes "$T/c3" 01001:Ambérieu 01002:Bourg 01003:Ceyzériat
run_in "$T/c3" env EDU_RUN_ID=job-7 edu-pgcopy -s communes -L nom communes
is_status 0 "a first load with -s"
like_out "$(summary_re communes 3 0 0 0)" "the summary line is unchanged"
is "$(wc -l <"$OUT")" 1 "one line on stdout"
empty_err "silent without -v"
is "$(runs communes)" "loaded|load|0|3|0|0|0|job-7|01001 Ambérieu,01002 Bourg,01003 Ceyzériat||" \
	"history: loaded, counts, job, the new keys with their names (a first load: all new)"
is "$(sql "select concat_ws('|', known_sha256, last_status, rows_imported) from monitoring.data_sources
	where id = 'communes'")" "abc|imported|3" "the download is promoted in the same transaction"

communes "$T/c3b" 01001:Ambérieu 01002:Bourg-en-Bresse 01004:Chalamont
run_in "$T/c3b" edu-pgcopy -v -s communes -L nom communes
is_status 0 "a replace on the primary key, with -v"
like_out "$(summary_re communes 1 1 1 1)" "one new, one changed, one removed, one unchanged"
is "$(wc -l <"$OUT")" 1 "still one line on stdout with -v"
like_err "^edu-pgcopy: new key: 01004 Chalamont$" "-v names the new key"
like_err "^edu-pgcopy: removed key: 01003 Ceyzériat$" "-v names the removed key"
is "$(runs communes | tail -n 1)" "loaded|load|0|1|1|1|1||01004 Chalamont|01003 Ceyzériat|" \
	"history: the keys that appeared and disappeared; no job by hand"

run_in "$T/c3b" edu-pgcopy -s communes -k code_insee communes
is_status 0 "an identical upsert"
is "$(runs communes | tail -n 1)" "unchanged|load|0|0|0|0|3||||" "history: unchanged, no keys"

# ---- a failure: the data rolls back, its history row stays
sum=$(table_sum communes)
sql "select monitoring.fetched('communes', 'Communes', 'http://h/c.json', '\"e2\"', null, 'def', 43)" >/dev/null
printf 'code_insee\tnom\tlongitude\n01001\tA\t4.1\n01002\tB\tabc\n\\.\n' >"$T/bad"
run_in "$T/bad" env EDU_RUN_ID=job-8 edu-pgcopy -s communes communes
is_status 65 "a bad value with -s"
is "$(table_sum communes)" "$sum" "table unchanged"
first=$(head -n 1 "$ERR")
is "$(runs communes | tail -n 1)" "failed|load|65|||||job-8|||$first" \
	"history: failed, its status, the first diagnostic as printed; no counts"
is "$(sql "select count(*) from monitoring.runs where unit = 'communes' and outcome = 'loaded'")" 2 \
	"no loaded row from the rolled-back load"
is "$(sql "select concat_ws('|', last_status, known_sha256, pending_sha256) from monitoring.data_sources
	where id = 'communes'")" "failed|abc|def" "the unit says failed; the download stays pending"

communes "$T/c1" 01001:A
run_in "$T/c1" edu-pgcopy -s communes communes
is_status 80 "the shrink guard with -s"
is "$(runs communes | tail -n 1 | cut -d'|' -f1-3)" "failed|load|80" "a refusal is a failed load"
run_in "$T/c3" edu-pgcopy -s communes -k nope communes
is_status 64 "a usage error found in the catalog"
is "$(runs communes | tail -n 1 | cut -d'|' -f1-3,11)" \
	"failed|load|64|edu-pgcopy: -k nope: no such column in table communes" "is recorded too"

n=$(sql "select count(*) from monitoring.runs")
printf 'code_insee\tnom\n01001\tA\n' >"$T/trunc"
run_in "$T/trunc" edu-pgcopy -s communes communes
is_status 79 "a truncated input with -s"
is "$(sql "select count(*) from monitoring.runs")" "$n" "exit 79 is left to the pipeline script: no row"
run_in "$T/c3" edu-pgcopy -s communes -d "host=$T/nowhere" communes
is_status 75 "no server"
is "$(sql "select count(*) from monitoring.runs")" "$n" "no connection, no row"

# ---- a dry run: rolled back, recorded with the counts a real run would make
sum=$(table_sum communes)
communes "$T/c4" 01001:Ambérieu 01002:Bourg-en-Bresse 01004:Chalamont 01005:Dagneux
run_in "$T/c4" edu-pgcopy -n -s communes -L nom communes
is_status 0 "a dry run with -s"
like_out "^table=communes inserted=1 updated=0 deleted=0 unchanged=3 seconds=[0-9.]+ dry_run=1$" "its summary"
is "$(table_sum communes)" "$sum" "the table is unchanged"
is "$(runs communes | tail -n 1)" "dry-run|load|0|1|0|0|3||01005 Dagneux||" \
	"history: dry-run, with its counts and keys"
is "$(sql "select concat_ws('|', known_sha256, pending_sha256) from monitoring.data_sources
	where id = 'communes'")" "abc|def" "nothing promoted by a dry run"

# ---- units and -L are checked
for bad in Communes dvf:23 'dvf:2023:1' ../x; do
	run_in "$T/c3" edu-pgcopy -s "$bad" communes
	is_status 64 "-s $bad is not a unit"
done
like_err "^edu-pgcopy: -s \.\./x: not a unit \(a source id, or id:YYYY\)$" "says what a unit is"
run_in "$T/c3" edu-pgcopy -s dvf:2023 -k code_insee communes
is_status 0 "a per-year unit"
is "$(sql "select source || ' ' || year from monitoring.runs where unit = 'dvf:2023'")" "dvf 2023" \
	"its source and year"
run_in "$T/c3" edu-pgcopy -L nope communes
is_status 64 "-L with an unknown column"
like_err "^edu-pgcopy: -L nope: no such column in table communes$" "says so"
printf 'annee\tid_mutation\n2022\ta\n\\.\n' >"$T/d"
run_in "$T/d" edu-pgcopy -L id_mutation -w annee=2022 dvf_mutations
is_status 64 "-L on a table without a key"
like_err "^edu-pgcopy: -L id_mutation: only a load on a key" "says why"
