#!/bin/sh
# A throwaway PostgreSQL 15 + PostGIS cluster in a directory: no TCP, a Unix socket in the
# directory itself, trust authentication for the role "edu". Used by the tests and `make demo`.
#   pg.sh start DIR [fast]   initdb if needed, start, create the template database edu_template
#   pg.sh stop DIR [immediate]  stop (fast shutdown; immediate: as a crash, recovery at start)
#   pg.sh remove DIR         stop and delete the cluster
#   pg.sh env DIR            print the libpq environment to eval
# initdb refuses to run as root, so as root the cluster belongs to the postgres system user; when
# that user cannot reach DIR, the cluster is kept in /var/tmp and DIR is made a link to it.
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
	dir=$(cd "$dir" && pwd -P)
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$dir"
		if ! runuser -u postgres -- test -x "$dir"; then
			# The postgres user cannot reach DIR (a project under /root, say). Loosening
			# the parents' permissions is not ours to do: the cluster lives in /var/tmp
			# instead, and DIR becomes a link to it, so DIR still names it.
			real=/var/tmp/eduinfo-pg-$(printf '%s' "$dir" | md5sum | cut -c1-16)
			mkdir -p "$real" && chown postgres "$real" && chmod 700 "$real"
			if ! rmdir "$dir" || ! ln -s "$real" "$dir"; then
				echo "pg.sh: $dir: not empty and not reachable by the postgres user" >&2
				exit 71
			fi
			dir=$real
		fi
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
		# The physical path: postgres may not be able to follow the one we were given.
		real=$(cd "$dir" && pwd -P)
		as_owner "$PGBIN/pg_ctl" -D "$real/data" -m "${mode:-fast}" -w stop >/dev/null 2>&1 || true
	fi
	;;
remove)
	# Stops the cluster and deletes it, wherever it lives (DIR may be a link to /var/tmp).
	if [ -e "$dir" ]; then
		real=$(cd "$dir" && pwd -P)
		if [ -f "$real/data/PG_VERSION" ]; then
			as_owner "$PGBIN/pg_ctl" -D "$real/data" -m fast -w stop >/dev/null 2>&1 || true
		fi
		rm -rf "$real" "$dir"
	fi
	;;
env)
	dir=$(cd "$dir" && pwd -P)
	printf 'PGHOST=%s; PGPORT=%s; PGUSER=edu; export PGHOST PGPORT PGUSER\n' "$dir" "$port"
	;;
*)
	echo "usage: pg.sh start|stop|remove|env DIR [fast|immediate]" >&2
	exit 64
	;;
esac
