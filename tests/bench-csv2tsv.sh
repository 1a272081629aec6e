#!/bin/sh
# Benchmark of edu-csv2tsv on a geo-DVF-shaped CSV (tests/gen-dvf.py, 40 columns, ~190 bytes a
# row): one run each of edu-csv2tsv, `mlr --icsv --otsv cat` and a Python csv reader -> writer
# on the same 1M-row file, all writing to /dev/null, printed as seconds and ratios; then the
# peak RSS of edu-csv2tsv at 1M and 4M rows, which must be the same (constant memory).
# Targets (issue 2): >= 12x Miller, >= 8x Python csv, peak RSS <= 16 MB at both sizes.
#   sh tests/bench-csv2tsv.sh [ROWS [BIG_ROWS]]     (defaults 1000000 4000000)
set -u
# shellcheck source=tests/benchlib.sh
. "$(dirname "$0")/benchlib.sh"

# timed NAME CMD...: runs CMD > /dev/null; sets secs and rss (KB); fails loudly on error.
timed() {
	name=$1
	shift
	t0=$(date +%s%N)
	if ! /usr/bin/time -f '%M' -o .bench/rss "$@" >/dev/null 2>.bench/err; then
		echo "bench: $name failed:" >&2
		cat .bench/err >&2
		exit 70
	fi
	t1=$(date +%s%N)
	secs=$(echo "$t0 $t1" | awk '{printf "%.3f", ($2 - $1) / 1e9}')
	rss=$(tail -n 1 .bench/rss)
	printf '%-34s %8.3f s %8d KB\n' "$name" "$secs" "$rss"
}
ratio() { echo "$1 $2" | awk '{printf "%.1f", $1 / $2}'; }
verdict() { echo "$1 $2" | awk '{print ($1 >= $2) ? "ok" : "BELOW TARGET"}'; }

pyconv='
import csv, sys
r = csv.reader(open(sys.argv[1], newline="", encoding="utf-8"))
w = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
for row in r:
    w.writerow(row)
'

f=$(gen "$rows")
bytes=$(wc -c <"$f")
cat "$f" >/dev/null # warm the page cache, so every tool reads from memory
echo "input: $f, $rows rows, $bytes bytes; $(nproc) CPUs"
timed "edu-csv2tsv" edu-csv2tsv "$f"
c_secs=$secs
c_rss=$rss
timed "mlr --icsv --otsv cat" mlr --icsv --otsv cat "$f"
m_secs=$secs
timed "python3 csv reader -> writer" "$py" -c "$pyconv" "$f"
p_secs=$secs
rm_ratio=$(ratio "$m_secs" "$c_secs")
rp_ratio=$(ratio "$p_secs" "$c_secs")
echo "edu-csv2tsv: $(echo "$bytes $c_secs" | awk '{printf "%.0f", $1 / $2 / 1e6}') MB/s"
echo "edu-csv2tsv vs Miller: ${rm_ratio}x (target >= 12x: $(verdict "$rm_ratio" 12))"
echo "edu-csv2tsv vs Python csv: ${rp_ratio}x (target >= 8x: $(verdict "$rp_ratio" 8))"

g=$(gen "$big")
cat "$g" >/dev/null
timed "edu-csv2tsv ($big rows)" edu-csv2tsv "$g"
b_rss=$rss
# "The same" allows 1 MB: how much of the fixed output buffer gets touched varies a little.
echo "peak RSS: $c_rss KB at $rows rows, $b_rss KB at $big rows (target <= 16384 KB and the" \
	"same at both sizes: $(echo "$c_rss $b_rss" | awk '{d = $2 - $1; if (d < 0) d = -d;
		print ($1 <= 16384 && $2 <= 16384 && d <= 1024) ? "ok" : "BELOW TARGET"}'))"
