#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# The freshness report (`make status`): per source of config/sources.json its state, read from
# monitoring.data_sources and the run history monitoring.runs against the source's policy
# (warn_after, error_after; defaults from its cadence), printed on the terminal and written as
# markdown (docs/DATA_SOURCES_STATUS.md, with the chart of each source's rows over time as an
# SVG beside it). A state is:
#   OK       verified recently: the last successful import or check is younger than warn_after
#   WARN     that age is past warn_after
#   STALE    past error_after, or the source was never imported nor checked
#   FAILING  the last load of one of its units failed and no later check proved the content
#            the imported one; or its last check failed for a reason other than the network
# It only reads the database. Exit status 2 when a source is STALE or FAILING, so that cron mail
# and CI turn red by themselves.
#   pipelines/status.sh [-hq] [-o file]
set -u
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/lib.sh"

usage="usage: $EDU_SCRIPT [-hq] [-o file]"
quiet=0
out=${EDU_STATUS_FILE:-$EDU_TOP/docs/DATA_SOURCES_STATUS.md}
while getopts :ho:q o; do
	case $o in
	h) echo "$usage"; exit 0 ;;
	o) out=$OPTARG ;;
	q) quiet=1 ;;
	*) echo "$usage" >&2; exit 64 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { echo "$usage" >&2; exit 64; }

nruns=${EDU_STATUS_RUNS:-15}
case $nruns in '' | *[!0-9]*) edu_fail 78 "EDU_STATUS_RUNS=$nruns: a whole number expected" ;; esac
US=$EDU_US
# q NAME QUERY: the rows of QUERY (edu_rows) in $EDU_WORK/NAME; exit 75 when the database cannot
# be read.
q() {
	edu_rows "$2" >"$EDU_WORK/$1" 2>"$EDU_WORK/psql.err" ||
		edu_fail 75 "cannot read the history: $(head -n 1 "$EDU_WORK/psql.err")"
}
utc() { printf "coalesce(to_char(%s at time zone 'UTC', 'YYYY-MM-DD HH24:MI\"Z\"'), '')" "$1"; }

# The policy of each source, in config order: id, cadence, warn_after, error_after; the ids
# checked first (in a subshell: edu_ids exits on a bad one).
(edu_ids >/dev/null) || exit
jq -r --arg us "$US" 'def dflt: {daily: ["36h", "3d"], weekly: ["8d", "15d"], monthly: ["32d", "62d"],
		semiannual: ["183d", "366d"], yearly: ["366d", "731d"]}[.cadence // ""] // [null, null];
	.sources[] | [.id, (.cadence // ""), (.warn_after // dflt[0] // ""), (.error_after // dflt[1] // "")]
	| join($us)' "$EDU_SOURCES" >"$EDU_WORK/policy" 2>"$EDU_WORK/jq.err" ||
	edu_fail 78 "$EDU_SOURCES: $(head -n 1 "$EDU_WORK/jq.err")"

# Per source (its units together): last check, last change upstream, last import, rows, and
# the age of what is known: since the last successful import or check.
q facts "select coalesce(source, split_part(id, ':', 1)), $(utc 'max(last_checked)'),
	$(utc 'max(last_changed)'), $(utc 'max(last_imported)'), coalesce(sum(rows_imported)::text, ''),
	coalesce(floor(extract(epoch from now() - max(greatest(last_imported, last_checked_ok))))::text, '')
	from monitoring.data_sources group by 1"
# Failing: the table does not hold the publisher's current content because the newest load of
# one of its units (rehearsals aside) failed, and since then the unit was neither imported (by
# the job or by hand) nor found by a check to be the content imported (an 'unchanged' check:
# same hash, same validators, or the publisher's metadata as at the import); or the newest check
# failed for a reason a retry will not cure (not 75: a moved URL, a refused answer) and no check
# succeeded since. A check that failed on the network (75) says nothing about the table: the age
# of the last successful check or import makes the source WARN, then STALE. And the last error.
q failing "with latest as (select distinct on (r.unit, r.kind) r.source,
			r.outcome = 'failed' and case r.kind
			when 'load' then r.finished > coalesce(d.last_imported, '-infinity')
				and not exists (select from monitoring.runs c where c.unit = r.unit
					and c.kind = 'check' and c.outcome = 'unchanged' and c.id > r.id)
			else r.exit_status is distinct from 75
				and r.finished > coalesce(d.last_checked_ok, '-infinity') end as failed
		from monitoring.runs r left join monitoring.data_sources d on d.id = r.unit
		where r.outcome <> 'dry-run' order by r.unit, r.kind, r.id desc),
	errs as (select distinct on (source) source, finished, unit, kind, stage, exit_status, diagnostic
		from monitoring.runs where outcome = 'failed' order by source, id desc)
	select s.source, coalesce(f.failing, false), $(utc e.finished), coalesce(e.unit, ''),
		coalesce(e.stage, e.kind, ''), coalesce(e.exit_status::text, ''), $(edu_oneline e.diagnostic)
	from (select distinct source from monitoring.runs) s
	left join (select source, bool_or(failed) as failing from latest group by source) f
		using (source)
	left join errs e using (source)"
# The last runs.
q runs "select $(utc finished), unit, kind, coalesce(stage, ''), outcome,
	coalesce(exit_status::text, ''), coalesce(rows_inserted::text, ''), coalesce(rows_updated::text, ''),
	coalesce(rows_deleted::text, ''), $(edu_oneline "left(diagnostic, 100)")
	from monitoring.runs order by id desc limit $nruns"
# Rows of each source after each load: for a per-year source, the sum over its years of each
# year's rows at that time.
q rows "with l as (select source, unit, id, finished,
		coalesce(rows_inserted, 0) + coalesce(rows_updated, 0) + coalesce(rows_unchanged, 0) as n
		from monitoring.runs where kind = 'load' and outcome in ('loaded', 'unchanged'))
	select a.source, $(utc a.finished), (select sum(x.n) from (select distinct on (b.unit) b.n
		from l b where b.source = a.source and b.id <= a.id order by b.unit, b.id desc) x)
	from l a order by a.source, a.id"

svg=
case $out in *.md) svg=${out%.md}.svg ;; esac
now=$(date -u '+%Y-%m-%d %H:%M UTC')

# One awk program reads the four results and the policy, and writes the terminal report (stdout
# of awk, kept in $EDU_WORK/term), the markdown and the SVG. It exits 2 when a source is STALE or
# FAILING, 78 on a policy it cannot read.
awk -F "$US" -v md="$EDU_WORK/md" -v svg="${svg:+$EDU_WORK/svg}" -v svgname="${svg##*/}" \
	-v now="$now" -v w="$EDU_WORK" -v prog="$EDU_SCRIPT" -v config="$EDU_SOURCES" '
function secs(d,   n, u) {
	if (d !~ /^[0-9]+[mhdw]$/) return -1
	n = substr(d, 1, length(d) - 1) + 0; u = substr(d, length(d))
	return n * (u == "m" ? 60 : u == "h" ? 3600 : u == "d" ? 86400 : 604800)
}
function human(s) {
	if (s == "") return "never"
	if (s < 3600) return int(s / 60) "m"
	if (s < 172800) return int(s / 3600) "h"
	return int(s / 86400) "d"
}
function mdcell(s) { gsub(/\|/, "\\|", s); return s == "" ? "–" : s }
function spark(src,   i, s, m, n, first) {
	n = npts[src]; if (!n) return ""
	first = n > 30 ? n - 29 : 1; m = 0
	for (i = first; i <= n; i++) if (pt[src, i] + 0 > m) m = pt[src, i] + 0
	s = ""
	for (i = first; i <= n; i++) s = s bar[m > 0 ? int(pt[src, i] / m * 7 + 0.5) + 1 : 1]
	return s
}
BEGIN {
	split("▁ ▂ ▃ ▄ ▅ ▆ ▇ █", bar, " ")
	while ((getline l < (w "/facts")) > 0) { split(l, f, FS); chk[f[1]] = f[2]; chg[f[1]] = f[3]
		imp[f[1]] = f[4]; nrows[f[1]] = f[5]; age[f[1]] = f[6] }
	while ((getline l < (w "/failing")) > 0) { split(l, f, FS); failing[f[1]] = (f[2] == "t")
		if (f[3] != "") lasterr[f[1]] = f[3] " " f[4] " at " f[5] " (exit " f[6] "): " f[7] }
	while ((getline l < (w "/rows")) > 0) { split(l, f, FS); npts[f[1]]++; pt[f[1], npts[f[1]]] = f[3]
		when[f[1], npts[f[1]]] = f[2] }
	bad = 0
	print "# Data sources status" > md
	print "" > md
	print "Written by `pipelines/status.sh` on " now ". A source is **OK** when its last successful import or check is younger than its `warn_after`, **WARN** past it, **STALE** past its `error_after` (or never imported nor checked), **FAILING** when the last load of one of its units failed and no later check found the imported content, or its last check failed other than on the network (`config/sources.json`, `docs/OPERATIONS.md`)." > md
	print "" > md
	print "| source | state | age | warn, error after | last check | last change upstream | last import | rows | last error |" > md
	print "|---|---|---|---|---|---|---|---|---|" > md
	fmt = "%-10s %-7s %-6s %-10s %-17s %-17s %-17s %9s  %s\n"
	printf fmt, "source", "state", "age", "policy", "last check", "last change", "last import", "rows", "last error"
}
{
	id = $1; wa = secs($3); ea = secs($4)
	if (wa < 0 || ea < 0 || wa > ea) {
		printf "%s: %s: source %s: warn_after %s, error_after %s: not durations like 36h or 8d, warn before error (cadence %s)\n", prog, config, id, $3, $4, ($2 == "" ? "missing" : $2) > "/dev/stderr"
		cfgerr = 1
		exit 78
	}
	a = (id in age) ? age[id] : ""
	state = a == "" ? "STALE" : a + 0 > ea ? "STALE" : a + 0 > wa ? "WARN" : "OK"
	if (failing[id]) state = "FAILING"
	if (state == "STALE" || state == "FAILING") bad = 1
	e = (id in lasterr) ? lasterr[id] : ""
	rows = (id in nrows) ? nrows[id] : ""
	printf fmt, id, state, human(a), $3 ", " $4, (chk[id] == "" ? "never" : chk[id]), (chg[id] == "" ? "-" : chg[id]), (imp[id] == "" ? "never" : imp[id]), (rows == "" ? "-" : rows), (length(e) > 90 ? substr(e, 1, 89) "…" : e)
	printf "| %s | **%s** | %s | %s, %s | %s | %s | %s | %s | %s |\n", id, state, human(a), $3, $4, mdcell(chk[id] == "" ? "never" : chk[id]), mdcell(chg[id]), mdcell(imp[id] == "" ? "never" : imp[id]), mdcell(rows), mdcell(e) > md
	ids[++nid] = id
}
END {
	if (cfgerr) exit 78
	print "" > md
	print "## Rows over time" > md
	print "" > md
	print "The rows of each source after each load (the newest 30), from `monitoring.runs`: a sudden fall shows here first." > md
	print "" > md
	if (svg != "") { print "![rows of each source over time](" svgname ")" > md; print "" > md }
	print "| source | rows over time | first | last |" > md
	print "|---|---|---|---|" > md
	print ""
	print "rows over time"
	for (i = 1; i <= nid; i++) {
		id = ids[i]; n = npts[id]
		if (!n) { printf "%-10s %s\n", id, "no load yet"; printf "| %s | – | – | – |\n", id > md; continue }
		printf "%-10s %s  %s → %s\n", id, spark(id), pt[id, 1], pt[id, n]
		printf "| %s | %s | %s (%s) | %s (%s) |\n", id, spark(id), pt[id, 1], when[id, 1], pt[id, n], when[id, n] > md
	}
	print "" > md
	print "## Last runs" > md
	print "" > md
	print "| finished | unit | kind | stage | outcome | exit | inserted | updated | deleted | diagnostic |" > md
	print "|---|---|---|---|---|---|---|---|---|---|" > md
	print ""
	print "last runs"
	printf "%-17s %-10s %-5s %-9s %-9s %4s %8s %8s %8s  %s\n", "finished", "unit", "kind", "stage", "outcome", "exit", "inserted", "updated", "deleted", "diagnostic"
	while ((getline l < (w "/runs")) > 0) {
		split(l, f, FS)
		printf "%-17s %-10s %-5s %-9s %-9s %4s %8s %8s %8s  %s\n", f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", f[1], f[2], f[3], mdcell(f[4]), f[5], mdcell(f[6]), mdcell(f[7]), mdcell(f[8]), mdcell(f[9]), mdcell(f[10]) > md
	}
	if (svg != "") {
		hgt = 30 + 40 * nid
		printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", hgt > svg
		printf "<text x=\"8\" y=\"18\" font-weight=\"bold\">Rows of each source after each load</text>\n" > svg
		for (i = 1; i <= nid; i++) {
			id = ids[i]; n = npts[id]; y0 = 30 + 40 * (i - 1)
			printf "<text x=\"8\" y=\"%d\">%s</text>\n", y0 + 22, id > svg
			printf "<rect x=\"100\" y=\"%d\" width=\"420\" height=\"32\" fill=\"#f4f4f4\"/>\n", y0 > svg
			if (!n) { printf "<text x=\"110\" y=\"%d\" fill=\"#888\">no load yet</text>\n", y0 + 22 > svg; continue }
			first = n > 30 ? n - 29 : 1; m = 0
			for (j = first; j <= n; j++) if (pt[id, j] + 0 > m) m = pt[id, j] + 0
			pts = ""
			for (j = first; j <= n; j++) {
				x = n == first ? 310 : 104 + 412 * (j - first) / (n - first)
				y = y0 + 30 - (m > 0 ? 28 * pt[id, j] / m : 0)
				pts = pts sprintf("%.1f,%.1f ", x, y)
			}
			printf "<polyline fill=\"none\" stroke=\"#1f6feb\" stroke-width=\"2\" points=\"%s\"/>\n", pts > svg
			if (n == first) printf "<circle cx=\"310\" cy=\"%.1f\" r=\"3\" fill=\"#1f6feb\"/>\n", y0 + 2 > svg
			printf "<text x=\"528\" y=\"%d\">%s rows</text>\n", y0 + 22, pt[id, n] > svg
		}
		print "</svg>" > svg
	}
	exit bad ? 2 : 0
}' "$EDU_WORK/policy" >"$EDU_WORK/term"
s=$?
case $s in
0 | 2) ;;
*) exit "$s" ;;
esac

# The report on the terminal (with -q only when something is wrong, for cron's mail), then the
# files, each replaced whole.
if [ "$quiet" -eq 0 ] || [ "$s" -ne 0 ]; then
	cat "$EDU_WORK/term"
fi
# put FILE COPY: FILE replaced whole by its copy in the work directory.
put() {
	if ! { cp "$2" "$1.tmp" && mv -f "$1.tmp" "$1"; } 2>/dev/null; then
		rm -f "$1.tmp"
		edu_fail 74 "$1: cannot write the report"
	fi
}
mkdir -p "$(dirname "$out")" 2>/dev/null
[ -z "$svg" ] || put "$svg" "$EDU_WORK/svg"
put "$out" "$EDU_WORK/md"
exit "$s"
