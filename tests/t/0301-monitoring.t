#!/bin/bash
# The freshness protocol of sql/005-monitoring-protocol.sql, called as the tools call it: units
# ('ivac', 'dvf:2023'), a download pending until a load promotes it, checks and loads written
# to the history with their outcome, a failed load remembered without touching what is known,
# the cool-off deadline as a column, bounded history, and partitions made on demand.
. "${EDU_ROOT:-.}/tests/lib.sh"

schema_db t0301

run sql "select monitoring.fetched('dvf:2023', 'DVF 2023', 'http://h/2023.csv.gz', '\"e1\"',
	'2024-01-02 03:04:05+00', 'abc', 123)"
is_status 0 "edu-fetch's record of a download"
is "$(sql "select concat_ws('|', source, year, pending_sha256, pending_size, known_sha256 is null)
	from monitoring.data_sources where id = 'dvf:2023'")" "dvf|2023|abc|123|t" \
	"a per-year unit: source and year split, the download pending, nothing known yet"
is "$(sql "select imported from monitoring.known('dvf:2023')")" f "not imported before a load"
is "$(sql "select count(*) from monitoring.known('never')")" 0 "an unknown unit has no row"

sql "select monitoring.checked('dvf:2023', null, 'http://h/2023.csv.gz', 'changed', 0, null, null,
	now() - interval '2 seconds', 'job-1')" >/dev/null
is "$(sql "select concat_ws('|', last_status, last_checked_ok is not null, last_changed is not null)
	from monitoring.data_sources where id = 'dvf:2023'")" "changed|t|t" "a check that saw a change"

run sql "select monitoring.imported('dvf:2023', now(), 10, 2, 1, 5, 1.5, 'job-1',
	array['0350001A Lycée A'], array['0350002B Collège B'])"
is_status 0 "edu-pgcopy's record of a load"
is "$(sql "select concat_ws('|', etag, last_modified = '2024-01-02 03:04:05+00', sha256, size, url, imported)
	from monitoring.known('dvf:2023')")" '"e1"|t|abc|123|http://h/2023.csv.gz|t' "the download is now the known one"
is "$(sql "select concat_ws('|', last_status, rows_imported, pending_at is null)
	from monitoring.data_sources where id = 'dvf:2023'")" "imported|17|t" \
	"rows now in the unit (inserted + updated + unchanged), pending cleared"
is "$(sql "select string_agg(concat_ws('|', kind, outcome, job, bytes, sha256, rows_inserted,
	rows_deleted, new_keys[1], removed_keys[1]), ' / ' order by id) from monitoring.runs where unit = 'dvf:2023'")" \
	"check|changed|job-1 / load|loaded|job-1|123|abc|10|1|0350001A Lycée A|0350002B Collège B" \
	"the history holds the check and the load, with the download's size and hash"

sql "select monitoring.imported('dvf:2023', now(), 0, 0, 0, 17, 1, null, null, null)" >/dev/null
is "$(sql "select outcome from monitoring.runs where unit = 'dvf:2023' order by id desc limit 1")" unchanged \
	"a load that changed no row is 'unchanged'"
is "$(sql "select sha256 from monitoring.known('dvf:2023')")" abc "a load by hand (nothing pending) keeps the known values"

# A load inside a transaction that rolls back leaves neither its history nor its promotion.
sql "select monitoring.fetched('ivac', 'IVAC', 'http://h/ivac.csv', null, null, 'new', 9)" >/dev/null
psql -X -q -c "begin" -c "select monitoring.imported('ivac', now(), 1, 0, 0, 0, 1, null, null, null)" \
	-c "rollback" >/dev/null
is "$(sql "select count(*) from monitoring.runs where unit = 'ivac'")" 0 "a rolled-back load leaves no history"
is "$(sql "select concat_ws('|', pending_sha256, known_sha256 is null) from monitoring.data_sources where id = 'ivac'")" \
	"new|t" "nor a promotion"
run sql "select monitoring.attempt('ivac', 'normalize', now(), 'failed', 65,
	'edu-normalize: stdin:3: column UAI: ''x'': not a UAI', null, null, null, null, 'job-2', null, null)"
is_status 0 "a failure recorded after the rollback"
is "$(sql "select concat_ws('|', kind, stage, outcome, exit_status, sha256, diagnostic) from monitoring.runs where unit = 'ivac'")" \
	"load|normalize|failed|65|new|edu-normalize: stdin:3: column UAI: 'x': not a UAI" "its history row"
is "$(sql "select concat_ws('|', last_status, pending_sha256, known_sha256 is null) from monitoring.data_sources where id = 'ivac'")" \
	"failed|new|t" "the unit says failed, the download stays pending, nothing is promoted"
sql "select monitoring.attempt('ivac', 'load', now(), 'dry-run', 0, null, 4, 0, 0, 0, null, null, null)" >/dev/null
is "$(sql "select concat_ws('|', outcome, rows_inserted) from monitoring.runs where unit = 'ivac' order by id desc limit 1")" \
	"dry-run|4" "a rehearsal is history, with the counts it would make"

sql "select monitoring.checked('onisep', 'ONISEP', 'http://h/o.csv', 'cooloff', 75, 'HTTP 429 Too Many Requests',
	now() + interval '1 hour', now(), null)" >/dev/null
is "$(sql "select cooloff_until > now() + interval '59 minutes' from monitoring.known('onisep')")" t \
	"a running cool-off is read from its column"
sql "update monitoring.data_sources set cooloff_until = now() - interval '1 second' where id = 'onisep'"
is "$(sql "select cooloff_until is null from monitoring.known('onisep')")" t "an expired cool-off is not returned"
sql "select monitoring.checked('onisep', 'ONISEP', 'http://h/o.csv', 'failed', 69, 'HTTP 404 Not Found', null, now(), null)" >/dev/null
is "$(sql "select concat_ws('|', last_status, last_error, last_checked_ok is null) from monitoring.data_sources where id = 'onisep'")" \
	"error|HTTP 404 Not Found|t" "a failed check: status error, no successful check"

for bad in "../x" "Ivac" "dvf:23" "dvf:2023:1" ""; do
	run sql "select monitoring.fetched('$bad', null, null, null, null, null, null)"
	is_status 1 "unit '$bad' refused"
	like_err "not a source id, or id:YYYY" "unit '$bad': says why"
done
run sql "select monitoring.checked('ivac', null, null, 'maybe', 0, null, null, now(), null)"
is_status 1 "an unknown check outcome is refused"

# Bounded history: old rows go, the newest of each unit stay.
sql "update monitoring.runs set finished = now() - interval '400 days'" >/dev/null
is "$(sql "select monitoring.prune_runs(365, 1)")" 3 "rows older than the retention go..."
is "$(sql "select string_agg(unit || ':' || kind, ' ' order by unit, kind) from monitoring.runs")" \
	"dvf:2023:check dvf:2023:load ivac:load onisep:check" "...except the newest of each unit and kind"

# Partitions on demand.
sql "create table t_part (annee integer not null, v text) partition by list (annee);
	create index t_part_v on t_part (v)" >/dev/null
is "$(sql "select edu_ensure_partition('t_part', '2023')")" t_part_2023 "a missing partition is created"
is "$(sql "select edu_ensure_partition('t_part', '2023')")" t_part_2023 "an existing one is returned"
is "$(sql "select count(*) from pg_indexes where tablename = 't_part_2023'")" 1 "it has the parent's indexes"
sql "create table t_part_old partition of t_part for values in (2019)" >/dev/null
is "$(sql "select edu_ensure_partition('t_part', '2019')")" t_part_old "a partition of another name is found"
run sql "select edu_ensure_partition('t_part', '2020; drop table t_part')"
is_status 1 "a value that cannot name a partition is refused"
run sql "select edu_ensure_partition('monitoring.runs', '1')"
is_status 1 "a table that is not list-partitioned is refused"
like_err "not partitioned by a list of one column" "says why"
sql "grant select, insert on t_part to edu_pipeline; create role t0301_loader login in role edu_pipeline" >/dev/null
run psql -X -q -U t0301_loader -tAc "select edu_ensure_partition('t_part', '2031')"
is_status 0 "edu_pipeline may create a partition without DDL rights"
run psql -X -q -U t0301_loader -tAc "insert into t_part values (2031, 'x') returning tableoid::regclass"
is "$(head -n 1 "$OUT")" t_part_2031 "and load it through the parent"
run psql -X -q -U t0301_loader -tAc "select monitoring.imported('ivac', now(), 0, 0, 0, 0, 0, null, null, null)"
is_status 0 "edu_pipeline may write the history"
sql "drop owned by t0301_loader; drop role t0301_loader" >/dev/null
