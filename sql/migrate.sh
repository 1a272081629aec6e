#!/bin/sh
# Applies sql/NNN-name.sql in order, each file once, in its own transaction together with its
# row in monitoring.schema_migrations (version, sha256). Running it again applies nothing; a
# file changed after it was applied is refused (write a new file instead). Connection: the
# argument, else $DATABASE_URL, else libpq's environment (PGHOST, PGDATABASE, ...).
#   sh sql/migrate.sh [conninfo]
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
conn=${1:-${DATABASE_URL:-}}
PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
export PGOPTIONS

db() {
	if [ -n "$conn" ]; then
		psql -X -q -v ON_ERROR_STOP=1 -d "$conn" "$@"
	else
		psql -X -q -v ON_ERROR_STOP=1 "$@"
	fi
}

db -c "CREATE SCHEMA IF NOT EXISTS monitoring" \
	-c "CREATE TABLE IF NOT EXISTS monitoring.schema_migrations (
		version text PRIMARY KEY,
		sha256 text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())" ||
	{ echo "migrate: cannot reach the database or create monitoring.schema_migrations" >&2; exit 75; }

for f in "$dir"/[0-9][0-9][0-9]-*.sql; do
	[ -f "$f" ] || continue
	v=$(basename "$f" .sql)
	sum=$(sha256sum "$f" | cut -d' ' -f1)
	known=$(db -tA -c "SELECT sha256 FROM monitoring.schema_migrations WHERE version = '$v'")
	if [ -n "$known" ]; then
		if [ "$known" != "$sum" ]; then
			echo "migrate: sql/$v.sql changed after it was applied; add a new migration instead" >&2
			exit 78
		fi
		continue
	fi
	# The lock serializes two runners; the second then fails on the version's primary key.
	{
		echo "SELECT pg_advisory_xact_lock(hashtext('eduinfo-pipeline migrations')) \\gset"
		cat "$f"
		echo
		echo "INSERT INTO monitoring.schema_migrations (version, sha256) VALUES ('$v', '$sum');"
	} | db -1 -f - >/dev/null || { echo "migrate: sql/$v.sql failed; nothing of it was applied" >&2; exit 69; }
	echo "applied $v"
done
