#!/bin/sh
# Benchmark of edu-pgcopy on a throwaway PostgreSQL (.bench/pg, fsync off like the tests):
# 1M geo-DVF-shaped rows (tests/gen-dvf.py) through `edu-csv2tsv | edu-pgcopy` into an empty
# table, against `psql \copy ... csv header` (the floor) and pgloader on the same file and table;
# then an upsert of the same rows with 1% changed against a hand-written staging + ON CONFLICT
# script, checking that only the changed rows got new tuples; then edu-pgcopy's peak RSS at 1M
# and 4M rows. The table has the CSV's 40 columns as text, so that all three loaders read the
# same file with no per-tool casting rules. Targets (issue 3): <= 1.3x the floor, >= 10x faster
# than pgloader, upsert <= 1.2x the script, peak RSS <= 32 MB and the same at both sizes.
#   sh tests/bench-pgcopy.sh [ROWS [BIG_ROWS]]     (defaults 1000000 4000000)
set -u
# shellcheck source=tests/benchlib.sh
. "$(dirname "$0")/benchlib.sh"

bench_db bench

# timed NAME CMD: runs the shell command CMD; sets secs; fails loudly on error.
timed() {
	name=$1
	t0=$(date +%s%N)
	if ! sh -c "$2" >.bench/out 2>.bench/err; then
		echo "bench: $name failed:" >&2
		cat .bench/err >&2
		exit 70
	fi
	t1=$(date +%s%N)
	secs=$(echo "$t0 $t1" | awk '{printf "%.3f", ($2 - $1) / 1e9}')
	printf '%-40s %8.3f s\n' "$name" "$secs"
}
ratio() { echo "$1 $2" | awk '{printf "%.2f", $1 / $2}'; }
atmost() { echo "$1 $2" | awk '{print ($1 <= $2) ? "ok" : "MISSED"}'; }
atleast() { echo "$1 $2" | awk '{print ($1 >= $2) ? "ok" : "MISSED"}'; }

f=$(gen "$rows")
cat "$f" >/dev/null
header=$(head -n 1 "$f")
cols=$(echo "$header" | tr ',' '\n' | sed 's/$/ text/' | paste -sd, -)
fresh() { q "drop table if exists bench_dvf; create table bench_dvf ($cols)"; }
echo "input: $f, $rows rows, $(wc -c <"$f") bytes; $(nproc) CPUs"

fresh
timed "psql \\copy csv header (floor)" "psql -X -q -c \"\\\\copy bench_dvf from '$f' (format csv, header true)\""
floor=$secs
fresh
timed "edu-csv2tsv | edu-pgcopy" "edu-csv2tsv $f | edu-pgcopy -q bench_dvf"
edu=$secs
[ "$(q 'select count(*) from bench_dvf')" = "$rows" ] || { echo "bench: edu-pgcopy loaded a wrong count" >&2; exit 70; }
fresh
timed "pgloader" "pgloader --type csv --field '$(echo "$header" | tr ',' ',')' \
	--with 'skip header = 1' --with \"fields terminated by ','\" \
	--with \"fields optionally enclosed by '\\\"'\" --with 'fields escaped by double-quote' \
	'$f' 'postgresql://edu@unix:$pg:5432/bench?tablename=bench_dvf'"
pgl=$secs
echo "edu-pgcopy vs floor: $(ratio "$edu" "$floor")x (target <= 1.3x: $(atmost "$(ratio "$edu" "$floor")" 1.3))"
echo "pgloader vs edu-pgcopy: $(ratio "$pgl" "$edu")x (target >= 10x: $(atleast "$(ratio "$pgl" "$edu")" 10))"

# Upsert: a keyed copy of the same rows, then the same rows with 1% of the prices changed.
edu-csv2tsv "$f" | awk 'BEGIN { FS = OFS = "\t" } NR == 1 { print "rn", $0; next } /^\\\.$/ { print; next } { print NR - 1, $0 }' >.bench/k.tsv
awk 'BEGIN { FS = OFS = "\t" } NR > 1 && !/^\\\.$/ && (NR - 1) % 100 == 0 { $6 = $6 "1" } { print }' .bench/k.tsv >.bench/k1.tsv
changed=$(awk 'NR > 1 && !/^\\\.$/ && (NR - 1) % 100 == 0' .bench/k.tsv | wc -l)
kcols=$(head -n 1 .bench/k.tsv | tr '\t' '\n' | sed 's/$/ text/; s/^rn text$/rn bigint primary key/' | paste -sd, -)
set_list=$(head -n 1 .bench/k.tsv | tr '\t' '\n' | grep -v '^rn$' | sed 's/.*/& = EXCLUDED.&/' | paste -sd, -)
cat >.bench/upsert.sql <<SQL
BEGIN;
CREATE TEMP TABLE s (LIKE bench_k) ON COMMIT DROP;
\\copy s from '.bench/k1.tsv' (format text, header true)
INSERT INTO bench_k SELECT * FROM s ON CONFLICT (rn) DO UPDATE SET $set_list
	WHERE (bench_k.*) IS DISTINCT FROM (EXCLUDED.*);
COMMIT;
SQL
fresh_k() {
	q "drop table if exists bench_k; create table bench_k ($kcols)"
	edu-pgcopy -q bench_k <.bench/k.tsv >/dev/null || exit 70
	q "vacuum analyze bench_k"
}
fresh_k
timed "staging + ON CONFLICT script (1% changed)" "psql -X -q -v ON_ERROR_STOP=1 -f .bench/upsert.sql"
script=$secs
fresh_k
timed "edu-pgcopy -k rn (1% changed)" "edu-pgcopy -q -k rn bench_k < .bench/k1.tsv"
up=$secs
cat .bench/out
# Rows written by the upsert's transaction: the xmin of a changed row.
written=$(q "select count(*) from bench_k where xmin = (select xmin from bench_k where rn = 100)")
echo "rows with a new tuple: $written of $rows, $changed changed ($([ "$written" = "$changed" ] && echo ok || echo MISSED))"
echo "edu-pgcopy upsert vs script: $(ratio "$up" "$script")x (target <= 1.2x: $(atmost "$(ratio "$up" "$script")" 1.2))"

# Peak RSS of edu-pgcopy alone, at two sizes.
fresh
edu-csv2tsv "$f" | /usr/bin/time -f '%M' -o .bench/rss edu-pgcopy -q bench_dvf >/dev/null || exit 70
r1=$(tail -n 1 .bench/rss)
g=$(gen "$big")
fresh
edu-csv2tsv "$g" | /usr/bin/time -f '%M' -o .bench/rss edu-pgcopy -q bench_dvf >/dev/null || exit 70
r2=$(tail -n 1 .bench/rss)
q "drop table bench_dvf"
echo "edu-pgcopy peak RSS: $r1 KB at $rows rows, $r2 KB at $big rows (target <= 32768 KB and the" \
	"same at both sizes: $(echo "$r1 $r2" | awk '{d = $2 - $1; if (d < 0) d = -d;
		print ($1 <= 32768 && $2 <= 32768 && d <= 1024) ? "ok" : "MISSED"}'))"
