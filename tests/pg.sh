#!/bin/sh
# A throwaway PostgreSQL 15 + PostGIS cluster in a directory: no TCP, a Unix socket in the
# directory itself, trust authentication for the role "edu". Used by the tests and `make demo`.
#   pg.sh start DIR [fast]   initdb if needed, start, create the template database edu_template
#   pg.sh stop DIR           stop (fast shutdown)
#   pg.sh env DIR            print the libpq environment to eval
# initdb refuses to run as root, so as root the cluster belongs to the postgres system user.
set -eu
cmd=$1
dir=$2
mode=${3:-}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
port=5432

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case $cmd in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$dir"
		# The postgres user must be able to reach the directory.
		d=$dir
		while [ "$d" != / ]; do
			chmod o+x "$d" 2>/dev/null || true
			d=$(dirname "$d")
		done
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_owner "$PGBIN/initdb" -D "$dir/data" -U edu --auth=trust -E UTF8 \
			--locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; exit 71; }
	fi
	opts="-c listen_addresses='' -k $dir -p $port"
	if [ "$mode" = fast ]; then
		opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	fi
	if ! as_owner "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w -t 60 \
			start >/dev/null || { cat "$dir/server.log" >&2; exit 71; }
	fi
	if ! psql -X -q -h "$dir" -p $port -U edu -d postgres -tAc \
		"select 1 from pg_database where datname = 'edu_template'" | grep -q 1; then
		psql -X -q -h "$dir" -p $port -U edu -d postgres -v ON_ERROR_STOP=1 \
			-c "create database edu_template" >/dev/null
		psql -X -q -h "$dir" -p $port -U edu -d edu_template -v ON_ERROR_STOP=1 \
			-c "create extension if not exists postgis" >/dev/null
	fi
	;;
stop)
	if [ -f "$dir/data/PG_VERSION" ]; then
		as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	;;
env)
	dir=$(cd "$dir" && pwd)
	printf 'PGHOST=%s; PGPORT=%s; PGUSER=edu; export PGHOST PGPORT PGUSER\n' "$dir" "$port"
	;;
*)
	echo "usage: pg.sh start|stop|env DIR" >&2
	exit 64
	;;
esac
