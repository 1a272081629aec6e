#!/bin/bash
# The schema in sql/: the migration runner applies every file once and a second run changes
# nothing; an app database whose migration 004 already made monitoring.data_sources keeps its
# rows and gains the columns; a migration edited after it ran is refused; the read-only role
# cannot write; the materialized views can refresh CONCURRENTLY.
. "${EDU_ROOT:-.}/tests/lib.sh"

newdb t0300 || exit 1
# The app's own migration 004, with a row, before ours.
sql "create schema monitoring; create table monitoring.data_sources (id text primary key,
	name text not null, last_checked timestamptz, last_imported timestamptz,
	last_known_modified timestamptz); insert into monitoring.data_sources values ('onisep', 'ONISEP')" >/dev/null

run sh "$EDU_ROOT/sql/migrate.sh"
is_status 0 "first migration"
is "$(cat "$OUT")" "$(for f in "$EDU_ROOT"/sql/[0-9]*.sql; do echo "applied $(basename "$f" .sql)"; done)" \
	"every sql/NNN-*.sql applied, in order"
empty_err "no notices on stderr"
is "$(sql "select string_agg(version, ' ' order by version) from monitoring.schema_migrations")" \
	"$(for f in "$EDU_ROOT"/sql/[0-9]*.sql; do basename "$f" .sql; done | tr '\n' ' ' | sed 's/ $//')" \
	"versions recorded"
is "$(sql "select name from monitoring.data_sources where id = 'onisep'")" ONISEP "the app's row is kept"
is "$(sql "select count(*) from information_schema.columns where table_schema = 'monitoring'
	and table_name = 'data_sources' and column_name in ('known_etag', 'pending_sha256', 'rows_imported',
	'last_duration_seconds', 'last_status', 'last_error', 'url', 'known_url', 'pending_at')")" 9 \
	"missing columns added to the app's table"

pg_dump -s t0300 | grep -Ev '^--|^.(un)?restrict ' >"$T/schema1"
sql "select version || sha256 || applied_at from monitoring.schema_migrations order by 1" >"$T/mig1"
run sh "$EDU_ROOT/sql/migrate.sh"
is_status 0 "second migration"
empty_out "second run applies nothing"
empty_err "second run is silent"
pg_dump -s t0300 | grep -Ev '^--|^.(un)?restrict ' >"$T/schema2"
same_file "$T/schema2" "$T/schema1" "second run leaves the schema identical"
sql "select version || sha256 || applied_at from monitoring.schema_migrations order by 1" >"$T/mig2"
same_file "$T/mig2" "$T/mig1" "second run records nothing"

# A fresh database, through DATABASE_URL (and a wrong PGDATABASE that must not be used).
createdb -T edu_template t0300b
run env DATABASE_URL="postgresql:///t0300b?host=$PGHOST" PGDATABASE=nope sh "$EDU_ROOT/sql/migrate.sh"
is_status 0 "migration through DATABASE_URL"
is "$(PGDATABASE=t0300b sql "select count(*) from monitoring.schema_migrations")" \
	"$(printf '%s\n' "$EDU_ROOT"/sql/[0-9]*.sql | wc -l)" "all versions in the fresh database"

# A database migrated before 006, with rows: the later migrations keep them.
createdb -T edu_template t0300c
mkdir "$T/sql005"
cp "$EDU_ROOT"/sql/migrate.sh "$EDU_ROOT"/sql/00[1-5]-*.sql "$T/sql005/"
PGDATABASE=t0300c sh "$T/sql005/migrate.sh" >/dev/null
PGDATABASE=t0300c sql "insert into dvf_mutations (annee, code_commune, valeur_fonciere, longitude, latitude)
	values (2020, '01001', 8000.00, 5.2, 46.2), (2021, '01002', 2175, null, null), (2021, '01003', 3.5, 5.1, 46.1);
	insert into monitoring.data_sources (id, known_sha256, source) values ('dvf:2021', 'x', 'dvf');
	insert into annuaire_etablissements (uai, nom, voie_generale, longitude, latitude)
	values ('0350001A', 'Lycée X', true, -1.68, 48.11), ('0350002B', 'Collège Y', null, null, null)" >/dev/null
dvf_rows="select string_agg(concat_ws(' ', annee, code_commune, valeur_fonciere, st_astext(geom)), ', '
	order by annee, code_commune) from dvf_mutations"
dvf_before=$(PGDATABASE=t0300c sql "$dvf_rows")
run env PGDATABASE=t0300c sh "$EDU_ROOT/sql/migrate.sh"
is_status 0 "the later migrations on a database with rows"
is "$(PGDATABASE=t0300c sql "$dvf_rows")" "$dvf_before" "007: every DVF row kept, with its point"
is "$(PGDATABASE=t0300c sql "select string_agg(distinct tableoid::regclass::text, ' ') from dvf_mutations")" \
	"dvf_mutations_2020 dvf_mutations_2021" "007: each year in its own partition"
is "$(PGDATABASE=t0300c sql "select string_agg(indexname, ' ' order by indexname) from pg_indexes
	where tablename = 'dvf_mutations'")" "dvf_mutations_annee dvf_mutations_code_commune dvf_mutations_geom" \
	"007: the indexes on annee, code_commune and the GiST on geom"
is "$(PGDATABASE=t0300c sql "select count(*) from pg_indexes where tablename = 'dvf_mutations_2021'")" 3 \
	"007: each partition carries them"
is "$(PGDATABASE=t0300c sql "select coalesce(known_sha256, 'NULL') from monitoring.data_sources where id = 'dvf:2021'")" \
	NULL "007: the loaded years are forgotten, so the next run fills their new columns"
is "$(PGDATABASE=t0300c sql "select string_agg(concat_ws(' ', uai, site, nom, voie_generale, st_astext(geom)), ', '
	order by uai) from annuaire_sites")" "0350001A 1 Lycée X t POINT(-1.68 48.11), 0350002B 1 Collège Y" \
	"009: each establishment loaded so far is the first site of its UAI"
is "$(PGDATABASE=t0300c sql "select string_agg(concat_ws(' ', uai, nom, voie_generale, nombre_sites), ', '
	order by uai) from annuaire_etablissements")" "0350001A Lycée X t 1, 0350002B Collège Y 1" \
	"009: annuaire_etablissements reads the same"

mkdir "$T/sql"
cp "$EDU_ROOT"/sql/* "$T/sql/"
echo "-- edited" >>"$T/sql/002-tables.sql"
run sh "$T/sql/migrate.sh"
is_status 78 "an applied migration that changed is refused"
like_err "sql/002-tables.sql changed after it was applied" "says which file"

# A broken migration: nothing of it applied nor recorded, psql names the file and its line.
rm "$T/sql/002-tables.sql"
cp "$EDU_ROOT/sql/002-tables.sql" "$T/sql/"
printf 'create table mig_half (x int);\ncreate table mig_bad (x no_such_type);\n' >"$T/sql/900-broken.sql"
run sh "$T/sql/migrate.sh"
is_status 69 "a broken migration fails"
like_err "900-broken.sql:2: ERROR: +type \"no_such_type\" does not exist" "the file and line are named"
like_err "^migrate: sql/900-broken.sql failed; nothing of it was applied$" "says nothing was applied"
is "$(sql "select to_regclass('mig_half') is null and not exists (select 1 from monitoring.schema_migrations
	where version = '900-broken')")" t "nothing of the broken file applied or recorded"
# A COMMIT inside would commit half the file before the error: refused before running.
printf 'create table mig_half (x int);\ncommit;\ncreate table mig_bad (x no_such_type);\n' >"$T/sql/900-broken.sql"
run sh "$T/sql/migrate.sh"
is_status 78 "a migration with a COMMIT inside is refused"
like_err "^migrate: sql/900-broken.sql: transaction control" "says why"
is "$(sql "select to_regclass('mig_half') is null")" t "nothing of it applied"
rm "$T/sql/900-broken.sql"

for t in communes onisep_etablissements annuaire_sites annuaire_etablissements lycees_indicateurs colleges_indicateurs \
	dvf_mutations aggregated_data_lycees_2024 metrics_colleges_2024 mv_lycees_with_metrics \
	mv_colleges_with_metrics; do
	is "$(sql "select to_regclass('$t') is not null")" t "$t exists"
done
is "$(sql "select count(*) from pg_indexes where indexname in ('mv_lycees_with_metrics_key', 'mv_colleges_with_metrics_key') and indexdef like 'CREATE UNIQUE%'")" \
	2 "both materialized views have a unique index"

# Year-generic tables behind the app's names.
sql "insert into lycees_indicateurs (uai, annee, taux_reu_total) values ('0350001A', 2023, 90), ('0350001A', 2024, 95);
	insert into colleges_indicateurs (uai, session) values ('0350002B', 2024), ('0350002B', 2025);
	insert into annuaire_sites (uai, site, nom, code_commune, longitude, latitude) values ('0350001A', 1, 'Lycée X', '35238', -1.68, 48.11)" >/dev/null
is "$(sql "select annee || ':' || taux_reu_total from aggregated_data_lycees_2024")" "2024:95" \
	"aggregated_data_lycees_2024 shows 2024 only"
is "$(sql "select string_agg(session::text, ',') from metrics_colleges_2024")" 2024 "metrics_colleges_2024 shows 2024 only"

# Roles: the app reads, never writes; the pipeline writes and refreshes.
is "$(sql "select rolcanlogin from pg_roles where rolname = 'edu_app'")" f "edu_app is NOLOGIN"
run psql -X -q -v ON_ERROR_STOP=1 -c "set role edu_app; select count(*) from mv_lycees_with_metrics, communes, monitoring.data_sources"
is_status 0 "edu_app reads the tables and views"
for stmt in "insert into communes (code_insee) values ('99999')" "delete from onisep_etablissements" \
	"update monitoring.data_sources set name = 'x'" "refresh materialized view mv_lycees_with_metrics"; do
	run psql -X -q -v ON_ERROR_STOP=1 -c "set role edu_app; $stmt"
	is_status 1 "edu_app cannot: $stmt"
	like_err "permission denied|must be owner" "refused by a privilege check: $stmt"
done
run psql -X -q -v ON_ERROR_STOP=1 -c "set role edu_pipeline; insert into communes (code_insee) values ('99999');
	refresh materialized view concurrently mv_lycees_with_metrics; refresh materialized view mv_colleges_with_metrics"
is_status 0 "edu_pipeline writes and refreshes"
is "$(sql "select nom_etablissement || ' ' || round(st_x(geom)::numeric, 2) from mv_lycees_with_metrics where annee = 2024")" \
	"Lycée X -1.68" "mv_lycees_with_metrics joins the directory and its geometry"

# Rights by a rule (006), not a list: every table a source of config/sources.json loads, and a
# table a later migration creates, are writable by edu_pipeline and readable, only, by edu_app.
for t in $(jq -r '.sources[].table' "$EDU_ROOT/config/sources.json" | sort -u) t0300_new; do
	[ "$t" = t0300_new ] && sql "create table t0300_new (x int)" >/dev/null
	is "$(sql "select has_table_privilege('edu_pipeline', '$t', 'INSERT, UPDATE, DELETE, TRUNCATE')
		|| ' ' || has_table_privilege('edu_app', '$t', 'SELECT')
		|| ' ' || has_table_privilege('edu_app', '$t', 'INSERT, UPDATE, DELETE, TRUNCATE')")" "true true false" \
		"$t: edu_pipeline writes, edu_app only reads"
done
is "$(sql "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
	where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm') and not c.relispartition
	and c.relname not in ('spatial_ref_sys', 'geometry_columns', 'geography_columns')
	and not has_table_privilege('edu_app', c.oid, 'SELECT')")" 0 "edu_app reads every relation of the schema"
