#!/bin/sh
# Shared by the tests/bench-*.sh scripts (sourced): the project root as working directory, the
# fresh binaries first in PATH, the two sizes from the arguments, gen, which makes (once) the
# deterministic geo-DVF-shaped CSVs the benchmarks read, and bench_db, their database.
# shellcheck disable=SC2034 # rows, big and py are used by the sourcing scripts
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 71
PATH=$root/bin:$PATH
rows=${1:-1000000}
big=${2:-4000000}
py=/usr/bin/python3
mkdir -p .bench
[ -x /usr/bin/time ] || sh tests/deps.sh time || exit 71

gen() { # gen ROWS [YEAR [CHANGED% [RENUMBER]]]: prints the path of the cached generated file
	_gen=.bench/dvf-$1${2:+-$2}${3:+-c$3}${4:+-r$4}.csv
	if [ ! -s "$_gen" ]; then
		"$py" tests/gen-dvf.py "$@" >"$_gen.tmp" && mv "$_gen.tmp" "$_gen" || exit 71
	fi
	echo "$_gen"
}

# bench_db NAME: the throwaway cluster .bench/pg (fsync off, like the tests), stopped at exit, and
# a fresh database NAME with PostGIS as the current one; q runs one statement in it.
bench_db() {
	pg=$root/.bench/pg
	sh tests/pg.sh start "$pg" fast || exit 71
	eval "$(sh tests/pg.sh env "$pg")"
	trap 'sh tests/pg.sh stop "$pg"' EXIT
	dropdb --if-exists "$1" >/dev/null 2>&1
	createdb -T edu_template "$1" || exit 71
	PGDATABASE=$1
	PGOPTIONS="-c client_min_messages=warning"
	export PGDATABASE PGOPTIONS
}
q() { psql -X -q -v ON_ERROR_STOP=1 -tAc "$1"; }
