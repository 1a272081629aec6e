#!/bin/sh
# Applies sql/NNN-name.sql in order, each file once, in its own transaction together with its
# row in monitoring.schema_migrations (version, sha256). Running it again applies nothing; a
# file changed after it was applied is refused (write a new file instead). Connection: the
# argument, else $DATABASE_URL, else libpq's environment (PGHOST, PGDATABASE, ...); an
# argument is on this script's own command line: put a password in DATABASE_URL or ~/.pgpass.
#   sh sql/migrate.sh [conninfo]
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
conn=${1:-${DATABASE_URL:-}}
PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
export PGOPTIONS

# psql, quiet and stopping at the first error, through edu_psql (pipelines/env.sh, bash): a
# password in the connection string reaches psql in PGPASSWORD, never on its command line,
# where ps(1) shows it to every user. A copy of sql/ without pipelines/ beside it takes only a
# connection string that holds no password.
envsh=$dir/../pipelines/env.sh
if [ ! -f "$envsh" ]; then
	case $conn in
	*password* | *://*:*@*)
		echo "migrate: a password in the connection string needs pipelines/env.sh beside sql/; or put it in ~/.pgpass or PGPASSWORD" >&2
		exit 78
		;;
	esac
fi
db() {
	if [ -f "$envsh" ]; then
		DATABASE_URL=$conn bash "$envsh" --psql "$@"
	elif [ -n "$conn" ]; then
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
	# A COMMIT inside would end the file's transaction early: a failure after it would leave
	# half the file applied and unrecorded.
	if grep -Eiq '^[[:space:]]*(begin|commit|rollback|abort|start[[:space:]]+transaction)[[:space:]]*(work|transaction)?[[:space:]]*;' "$f"; then
		echo "migrate: sql/$v.sql: transaction control (BEGIN, COMMIT...) in a migration; each file already runs in one transaction" >&2
		exit 78
	fi
	# The lock serializes two runners; the second then fails on the version's primary key.
	# psql -1 runs the three in one transaction; its errors name the file and its line.
	db -1 -c "SELECT pg_advisory_xact_lock(hashtext('eduinfo-pipeline migrations'))" -f "$f" \
		-c "INSERT INTO monitoring.schema_migrations (version, sha256) VALUES ('$v', '$sum')" >/dev/null ||
		{ echo "migrate: sql/$v.sql failed; nothing of it was applied" >&2; exit 69; }
	echo "applied $v"
done
