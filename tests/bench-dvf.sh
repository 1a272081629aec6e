#!/bin/sh
# DVF at national scale (issue 8), on a throwaway PostgreSQL (.bench/pg, fsync off like the
# tests): five generated geo-DVF years of ROWS rows each (tests/gen-dvf.py) through the real
# pipeline
#   edu-csv2tsv F | edu-normalize -M pipelines/dvf.map | edu-pgcopy -w annee=Y -s dvf:Y dvf_mutations
# into dvf_mutations as sql/ makes it (partitioned by year, its indexes, its PostGIS geometry),
# against a hand-written SQL floor on the same rows in the same run: psql \copy csv into a text
# staging table, DELETE the year, INSERT ... SELECT with casts. Targets: the first load of a year
# <= 1.3x the floor; an identical reload <= 1.0x, writing no tuple; a reload with 1% of the rows
# changed <= 1.0x; five years republished with CHANGE% of their rows changed, loaded by GNU
# parallel (2 jobs), <= 0.7x the five floor loads one after the other; the peak RSS of every stage
# the same at ROWS and BIG_ROWS; progress with a rate and an ETA on a terminal. A benchmark, not a
# test: each target prints a PASS or FAIL line; the exit status is non-zero only on a crash. Each
# timing also gives the CPU seconds of all its processes (the server's too) and the load average:
# on a shared machine the parallel load's wall clock depends on the cores left to it, its CPU
# seconds do not. The cluster gets 1 GB of shared buffers and no autovacuum (see below).
# Then a geo-DVF release as production meets it (issue 17), in a database of its own, through
# the production job pipelines/refresh.sh -j 2 with the years served by the loopback server as
# geo-DVF serves them: the first load of five years (target <= 0.7x the five floor loads in a
# row), then a release, the two latest years renumbered and 3% bigger and three unchanged
# (target <= 0.6x the floor of the two years in a row). CASES "release" runs that case alone.
#   sh tests/bench-dvf.sh [ROWS [BIG_ROWS [CHANGE [CASES]]]]     (defaults 1000000 4000000 1 all)
set -u
# shellcheck source=tests/benchlib.sh
. "$(dirname "$0")/benchlib.sh"
change=${3:-1}
cases=${4:-all}
years="2021 2022 2023 2024 2025"
y=2025

bench_db bench_dvf
die() { echo "bench: $*" >&2; exit 70; }
# The cluster set up as a server that loads DVF would be, for this bench only (reset at exit).
# PostgreSQL's default 128 MB of shared buffers is for a small machine: with it the two parallel
# jobs evict each other's pages while the floors run alone (measured: 21.7 CPU seconds a year in
# parallel, 18.3 with 1 GB; a floor 16-19 with either). And no autovacuum: one of a year's
# million dead rows would land in whichever timing runs then; the bench vacuums where it says.
if ! { q "alter system set shared_buffers = '1GB'" && q "alter system set autovacuum = off" &&
	sh tests/pg.sh stop "$pg" && sh tests/pg.sh start "$pg" fast; }; then
	die "cannot set up the cluster"
fi
httpd=
trap 'q "alter system reset all"; sh tests/pg.sh stop "$pg"; [ -z "$httpd" ] || kill "$httpd"' EXIT
sh sql/migrate.sh >/dev/null || die "sql/migrate.sh failed"

secs=0
cpu=0
# server_cpu: CPU seconds (user + system) of the server's ended processes (its backends), which
# the postmaster accounts for as it reaps them. With the timed command's own (every stage, psql),
# a cost that another helper's load on the machine does not change, unlike the wall clock.
tck=$(getconf CLK_TCK)
server_cpu() { awk -v t="$tck" '{ printf "%.2f", ($16 + $17) / t }' "/proc/$(head -n 1 "$pg/data/postmaster.pid")/stat"; }
settled() { # until the backends before now have ended and been reaped
	for _ in $(seq 1 50); do
		[ "$(q "select count(*) from pg_stat_activity where backend_type = 'client backend'
			and pid <> pg_backend_pid()")" = 0 ] && break
		sleep 0.1
	done
	sleep 0.2
}
# timed NAME CMD: runs the shell command CMD (bash, pipefail); sets secs and cpu; stops the bench
# on error. Its line ends with the CPU seconds and the load average (1 minute) after the run: the
# machine may be shared.
timed() {
	settled
	c0=$(server_cpu)
	t0=$(date +%s%N)
	/usr/bin/time -f '%U %S' -o .bench/time bash -o pipefail -c "$2" >.bench/out 2>.bench/err ||
		{ cat .bench/err >&2; die "$1 failed"; }
	t1=$(date +%s%N)
	settled
	secs=$(echo "$t0 $t1" | awk '{printf "%.2f", ($2 - $1) / 1e9}')
	cpu=$(tail -n 1 .bench/time | awk -v a="$c0" -v b="$(server_cpu)" '{ printf "%.1f", $1 + $2 + b - a }')
	printf '%-46s %8s s  cpu %5s s  load %s  %s\n' "$1" "$secs" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)" \
		"$(head -n 1 .bench/out)"
}
ratio() { echo "$1 $2" | awk '{printf "%.2f", $1 / $2}'; }
verdict() { # verdict WHAT OURS FLOOR TARGET
	r=$(ratio "$2" "$3")
	if echo "$r $4" | awk '{exit !($1 <= $2)}'; then v=PASS; else v=FAIL; fi
	echo "$v $1: $2 s vs floor $3 s = ${r}x (target <= $4x)"
}
pipeline() { # pipeline YEAR FILE: the command line of the real DVF pipeline
	echo "edu-csv2tsv $2 | edu-normalize -M pipelines/dvf.map |" \
		"edu-pgcopy -q -w annee=$1 -s dvf:$1 dvf_mutations"
}
measured() { # measured YEAR FILE: the pipeline with each stage's peak RSS in .bench/rss.*
	t='/usr/bin/time -f %M -o'
	echo "$t .bench/rss.csv2tsv edu-csv2tsv $2 | $t .bench/rss.normalize edu-normalize" \
		"-M pipelines/dvf.map | $t .bench/rss.pgcopy edu-pgcopy -q -w annee=$1 -s dvf:$1 dvf_mutations"
}
rss() { for s in csv2tsv normalize pgcopy; do printf '%s=%s ' "$s" "$(tail -n 1 ".bench/rss.$s")"; done; }
count() { grep -o " $1=[0-9]*" .bench/out | cut -d= -f2; }

# The floor's SQL: the CSV's columns as text, then the mapping's columns cast to the table's
# types (the year taken from the date, as edu-normalize's year rule does).
f=$(gen "$rows" "$y")
stage_cols=$(head -n 1 "$f" | tr ',' '\n' | sed 's/.*/"&" text/' | paste -sd, -)
q "select attname, format_type(atttypid, atttypmod) from pg_attribute
   where attrelid = 'dvf_mutations'::regclass and attnum > 0 and not attisdropped" |
	tr '|' '\t' >.bench/types
awk -F '\t+' '!/^#/ && NF >= 3 { sub(/^\?/, "", $1); print $1 "\t" $2 "\t" $3 }' pipelines/dvf.map |
	awk -F '\t' 'NR == FNR { type[$1] = $2; next }
		{ t = t sep "\"" $2 "\""; e = e sep ($3 == "year" ? "extract(year from \"" $1 "\"::date)::integer" : "\"" $1 "\"::" type[$2]); sep = ", " }
		END { print "INSERT INTO dvf_mutations (" t ") SELECT " e " FROM s;" }' .bench/types - >.bench/insert.sql
floor() { # floor YEAR FILE: the psql command line of the hand-written load
	printf '%s\n' "SET temp_buffers = '64MB';" "CREATE TEMP TABLE s ($stage_cols);" \
		"\\copy s from '$2' (format csv, header true)" "BEGIN;" \
		"DELETE FROM dvf_mutations WHERE annee = $1;" >".bench/floor-$1.sql"
	cat .bench/insert.sql >>".bench/floor-$1.sql"
	echo "COMMIT;" >>".bench/floor-$1.sql"
	echo "psql -X -q -v ON_ERROR_STOP=1 -f .bench/floor-$1.sql"
}
vacuum() { q "vacuum analyze dvf_mutations"; }

# ---- the release case (issue 17), in the database bench_release
# publish YEAR FILE: FILE gzipped as geo-DVF publishes it, at /geo/YEAR/full.csv.gz (cached).
publish() {
	[ -s "$2.gz" ] || { gzip -1c "$2" >"$2.gz.tmp" && mv "$2.gz.tmp" "$2.gz"; } || die "gzip $2"
	mkdir -p "$www/geo/$1"
	ln -f "$2.gz" "$www/geo/$1/full.csv.gz" || die "publish $2"
}
# job NAME: the production job, its settings in .bench (no settings file, no notification).
job() {
	timed "$1" "env EDU_ENV= EDU_SOURCES=.bench/sources.json EDU_LOG_DIR=.bench/logs \
		EDU_LOCK=.bench/refresh.lock TMPDIR=.bench/tmp EDU_SLACK_WEBHOOK= EDU_SMTP_URL= \
		EDU_SENDGRID_API_KEY= bash pipelines/refresh.sh -j 2"
}
floors() { # floors NAME YEAR:FILE...: the floor of each year, one after the other; sets fsecs, fcpu
	_name=$1
	shift
	fsecs=0
	fcpu=0
	for _yf in "$@"; do
		timed "floor: $_name, ${_yf%%:*}" "$(floor "${_yf%%:*}" "${_yf#*:}")"
		fsecs=$(echo "$fsecs $secs" | awk '{printf "%.2f", $1 + $2}')
		fcpu=$(echo "$fcpu $cpu" | awk '{printf "%.1f", $1 + $2}')
	done
}
oids() { q "select string_agg(c.oid::text, ' ' order by c.relname) from pg_inherits i join pg_class c
	on c.oid = i.inhrelid where i.inhparent = 'dvf_mutations'::regclass"; }
loaded() { q "select string_agg(unit || ':' || rows_inserted || '/' || rows_deleted, ' ' order by unit)
	from monitoring.runs where kind = 'load' and job = (select job from monitoring.runs
	where kind = 'load' order by id desc limit 1)"; }
release_case() {
	grown=$((rows + rows * 3 / 100))
	new_years="2024 2025"
	www=$root/.bench/www
	rm -rf "$www" .bench/logs .bench/tmp
	mkdir -p "$www" .bench/logs .bench/tmp
	for yy in $years; do publish "$yy" "$(gen "$rows" "$yy")"; done
	for yy in $new_years; do gen "$grown" "$yy" 0 1 >/dev/null; done
	rm -f .bench/httpd.port
	"$py" tests/httpd.py --root "$www" --log /dev/null --port-file .bench/httpd.port >/dev/null 2>&1 &
	httpd=$!
	for _ in $(seq 1 100); do [ -s .bench/httpd.port ] && break; sleep 0.1; done
	base=http://127.0.0.1:$(cat .bench/httpd.port)
	jq --arg b "$base" '.sources |= map(select(.id == "dvf")
		| .url = $b + "/geo/{year}/full.csv.gz" | .years.url = $b + "/geo/")' \
		config/sources.json >.bench/sources.json || die "cannot write .bench/sources.json"
	dropdb --if-exists bench_release
	createdb -T edu_template bench_release || die "createdb bench_release"
	PGDATABASE=bench_release
	sh sql/migrate.sh >/dev/null || die "sql/migrate.sh failed on bench_release"
	echo
	echo "release case: $rows rows a year, years $years served by $base; load average $(cut -d' ' -f1-3 /proc/loadavg)"

	# the first load of five years: the floor into empty partitions, then the job
	set --
	for yy in $years; do
		q "select edu_ensure_partition('dvf_mutations', '$yy')" >/dev/null
		set -- "$@" "$yy:$(gen "$rows" "$yy")"
	done
	floors "first load" "$@"
	first5_floor=$fsecs first5_floor_cpu=$fcpu
	for yy in $years; do q "drop table dvf_mutations_$yy"; done
	job "job: first load of five years, -j 2"
	first5=$secs first5_cpu=$cpu
	[ "$(loaded | wc -w)" = 5 ] || die "the first job loaded $(loaded), not five years"
	vacuum

	# the release: the floor of the two years in a row, then back to the first version; then
	# the two years published renumbered and grown, and the job
	set --
	for yy in $new_years; do set -- "$@" "$yy:$(gen "$grown" "$yy" 0 1)"; done
	floors "release" "$@"
	rel_floor=$fsecs rel_floor_cpu=$fcpu
	for yy in $new_years; do
		timed "floor: $yy back to the first version" "$(floor "$yy" "$(gen "$rows" "$yy")")"
		publish "$yy" "$(gen "$grown" "$yy" 0 1)"
	done
	vacuum
	before=$(oids)
	job "job: release (2 renumbered, 3 unchanged), -j 2"
	rel=$secs rel_cpu=$cpu
	got=$(loaded)
	[ "$got" = "dvf:2024:$grown/$rows dvf:2025:$grown/$rows" ] || die "the release job loaded $got"
	swapped=$(echo "$before|$(oids)" | awk -F'|' '{ n = split($1, a, " "); split($2, b, " ")
		for (i = 1; i <= n; i++) c += a[i] != b[i]; print c + 0 }')
	grep -h 'no partition swap' .bench/logs/* 2>/dev/null | head -n 2

	echo
	verdict "first load of five years, job -j 2 vs five floors in a row" "$first5" "$first5_floor" 0.7
	echo "     their CPU seconds: $first5_cpu s vs $first5_floor_cpu s = $(ratio "$first5_cpu" "$first5_floor_cpu")x"
	verdict "release, 2 years renumbered (+3%), 3 unchanged, job -j 2 vs the two floors in a row" "$rel" "$rel_floor" 0.6
	echo "     their CPU seconds: $rel_cpu s vs $rel_floor_cpu s = $(ratio "$rel_cpu" "$rel_floor_cpu")x;" \
		"partitions swapped: $swapped of 2"
}
# Tuples written to the partitions, from the statistics (flushed when a backend exits), and a
# checksum of where and by which transaction every row of the year was written.
writes() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ "$(q "select count(*) from pg_stat_activity where application_name = 'edu-pgcopy'")" = 0 ] && break
		sleep 0.5
	done
	q "select pg_stat_clear_snapshot(); select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)
	   from pg_stat_user_tables s join pg_inherits i on i.inhrelid = s.relid
	   where i.inhparent = 'dvf_mutations'::regclass" | tail -n 1
}
tuples() { q "select md5(string_agg(ctid::text || xmin::text, ',' order by ctid)) from dvf_mutations where annee = $1"; }

if [ "$cases" = release ]; then
	release_case
	exit 0
fi
for yy in $years; do gen "$rows" "$yy" >/dev/null; gen "$rows" "$yy" "$change" >/dev/null; done
one=$(gen "$rows" "$y" 1)
echo "input: $rows rows a year ($(wc -c <"$f") bytes for $y), years $years; $(nproc) CPUs;" \
	"shared_buffers $(q "show shared_buffers"); load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the other years first, so that the year measured lives among them
for yy in $years; do
	[ "$yy" = "$y" ] && continue
	timed "pipeline: first load of $yy" "$(pipeline "$yy" "$(gen "$rows" "$yy")")"
done
vacuum

# ---- the first load of a year: the floor into an empty partition, then the pipeline into a
# partition it makes
q "select edu_ensure_partition('dvf_mutations', '$y')" >/dev/null
timed "floor: first load of $y" "$(floor "$y" "$f")"
floor_first=$secs
q "drop table dvf_mutations_$y"
timed "pipeline: first load of $y" "$(measured "$y" "$f")"
first=$secs
[ "$(count inserted)" = "$rows" ] || die "the first load inserted $(count inserted) rows, not $rows"
rss1=$(rss)
vacuum

# ---- an identical reload
timed "floor: reload of $y" "$(floor "$y" "$f")"
floor_same=$secs
vacuum
w0=$(writes)
s0=$(tuples "$y")
timed "pipeline: identical reload of $y" "$(pipeline "$y" "$f")"
same=$secs
w1=$(writes)
s1=$(tuples "$y")
[ "$(count unchanged)" = "$rows" ] || die "the identical reload left $(count unchanged) rows unchanged, not $rows"

# ---- a reload with 1% changed (restoring the year through a terminal shows its progress)
timed "floor: reload of $y, 1% changed" "$(floor "$y" "$one")"
floor_one=$secs
script -qec "bash -o pipefail -c '$(pipeline "$y" "$f" | sed 's/ -q / /')'" /dev/null >.bench/tty 2>&1 ||
	die "the pipeline on a terminal failed"
vacuum
timed "pipeline: reload of $y, 1% changed" "$(pipeline "$y" "$one")"
one_secs=$secs
if [ "$(count inserted)" != $((rows / 100)) ] || [ "$(count deleted)" != $((rows / 100)) ]; then
	die "1% changed: inserted $(count inserted), deleted $(count deleted), not $((rows / 100)) each"
fi
timed "pipeline: back to the first version" "$(pipeline "$y" "$f")"

# ---- five years republished: one after the other by the floor, two at a time by the pipeline
floor5=0
floor5_cpu=0
for yy in $years; do
	timed "floor: reload of $yy, $change% changed" "$(floor "$yy" "$(gen "$rows" "$yy" "$change")")"
	floor5=$(echo "$floor5 $secs" | awk '{printf "%.2f", $1 + $2}')
	floor5_cpu=$(echo "$floor5_cpu $cpu" | awk '{printf "%.1f", $1 + $2}')
done
for yy in $years; do
	timed "pipeline: $yy back to the first version" "$(pipeline "$yy" "$(gen "$rows" "$yy")")"
done
vacuum
for yy in $years; do pipeline "$yy" "$(gen "$rows" "$yy" "$change")"; done >.bench/jobs
timed "pipeline: five years, GNU parallel -j2" "parallel -j2 --halt now,fail=1 < .bench/jobs"
par5=$secs
par5_cpu=$cpu

# ---- peak RSS at BIG_ROWS: a first load of a year that size
g=$(gen "$big" 2026)
timed "pipeline: first load of 2026 ($big rows)" "$(measured 2026 "$g")"
rss2=$(rss)

echo
verdict "first load of a year" "$first" "$floor_first" 1.3
verdict "identical reload" "$same" "$floor_same" 1.0
if [ "$w1" = "$w0" ] && [ "$s1" = "$s0" ]; then v=PASS; else v=FAIL; fi
echo "$v identical reload writes no tuple: n_tup_ins+upd+del $w0 -> $w1, ctid/xmin checksum $([ "$s1" = "$s0" ] && echo same || echo changed)"
verdict "reload with 1% changed" "$one_secs" "$floor_one" 1.0
verdict "five years ($change% changed), parallel -j2 vs five floors in a row" "$par5" "$floor5" 0.7
echo "     their CPU seconds: $par5_cpu s vs $floor5_cpu s = $(ratio "$par5_cpu" "$floor5_cpu")x (two idle cores halve the wall clock at best)"
echo "peak RSS (KB) at $rows rows: $rss1"
echo "peak RSS (KB) at $big rows: $rss2"
echo "$rss1 $rss2" | grep -o '=[0-9]*' | tr -d = | awk '{ v[n++] = $1 }
	END { ok = n == 6; for (i = 0; i < 3; i++) { d = v[i + 3] - v[i]; if (d > 1024 || d < -1024) ok = 0 }
	      print (ok ? "PASS" : "FAIL") " peak RSS of every stage flat between the two sizes (within 1 MB)" }'
if grep -q 'ETA' .bench/tty && grep -q 'rows/s' .bench/tty; then v=PASS; else v=FAIL; fi
echo "$v progress on a terminal: $(tr '\r' '\n' <.bench/tty | grep -m 1 ETA | sed 's/\x1b\[K//g')"
release_case
