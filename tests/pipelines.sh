#!/bin/bash
# Helpers for the pipeline tests tests/t/05*.t and the production job's (07*, 08*), sourced after
# tests/lib.sh: the job's setting (pl_job), a sources config whose URLs are file:// paths to the
# fixtures (no network) or the loopback server's, the publisher's packing (gzip, zip) of a
# fixture, and the numbers of edu-pgcopy's summary line.
# shellcheck disable=SC2034 # variables are used by the sourcing scripts
PIPE=$EDU_ROOT/pipelines

# pl_job NAME: the setting of a test of the production job: no notification channel nor run id
# inherited, a lock of the test's own, and NAME a fresh database with the schema (schema_db).
pl_job() {
	unset EDU_SLACK_WEBHOOK EDU_SMTP_URL EDU_SENDGRID_API_KEY EDU_RUN_ID
	export EDU_LOCK=$T/refresh.lock
	schema_db "$1"
}

# pl_source ID FILE|URL: point source ID of $EDU_SOURCES (created from config/sources.json) at
# FILE (as file://FILE) or URL (the loopback server's: faults.sh's serve, ops.sh's ops_serve),
# its API resolution, years and fallback dropped: the one place a test rewrites a source's URL.
EDU_SOURCES=$T/sources.json
export EDU_SOURCES
cp "$EDU_ROOT/config/sources.json" "$EDU_SOURCES"
# A FILE naming {year} keeps the source per-year (its loads are units ID:YEAR); its list of
# years is the directory holding the first {year}, which the scripts, given a year, never read.
pl_source() {
	local u=$2
	case $u in *://*) ;; *) u=file://$u ;; esac
	jq --arg id "$1" --arg u "$u" \
		'.sources |= map(if .id == $id then .url = $u | del(.resolve, .years, .fallback_for)
			| if ($u | test("\\{year\\}")) then .years = {from: "index",
				url: ($u | sub("[^/]*\\{year\\}.*$"; "")), match: "^([0-9]{4})"} else . end
			else . end)' \
		"$EDU_SOURCES" >"$EDU_SOURCES.tmp" && mv "$EDU_SOURCES.tmp" "$EDU_SOURCES"
}

# pl_gzip FILE OUT, pl_zip FILE OUT MEMBER: packed as geo-dvf and DGFiP publish, reproducibly.
pl_gzip() { gzip -9nc "$1" >"$2"; }
pl_zip() {
	/usr/bin/python3 -c '
import sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo(sys.argv[3], (2021, 5, 17, 0, 0, 0)), open(sys.argv[1], "rb").read(),
               zipfile.ZIP_DEFLATED)' "$1" "$2" "$3"
}

# pl_run SOURCE [ARG...]: runs pipelines/SOURCE.sh (as run does).
pl_run() {
	local src=$1
	shift
	run bash "$PIPE/$src.sh" "$@"
}

# pl_count FIELD: a number of the summary line in $OUT (inserted, updated, deleted, unchanged).
pl_count() { sed -n "s/^table=.* $1=\([0-9]*\) .*/\1/p" "$OUT"; }
# pl_summary: "inserted/updated/deleted/unchanged" from the summary line in $OUT.
pl_summary() { echo "$(pl_count inserted)/$(pl_count updated)/$(pl_count deleted)/$(pl_count unchanged)"; }

# pl_outside_france TABLE: rows whose point is neither in metropolitan France (Corsica included)
# nor in an overseas département's box. NULL points are not counted.
pl_outside_france() {
	sql "select count(*) from $1 where geom is not null and not (
		(st_x(geom) between -5.3 and 9.7 and st_y(geom) between 41.2 and 51.2)
		or (st_x(geom) between -61.9 and -60.7 and st_y(geom) between 14.3 and 16.6)
		or (st_x(geom) between -54.7 and -51.5 and st_y(geom) between 2.0 and 5.9)
		or (st_x(geom) between 55.1 and 55.9 and st_y(geom) between -21.5 and -20.8)
		or (st_x(geom) between 44.9 and 45.4 and st_y(geom) between -13.1 and -12.5))"
}

# pl_rename_header FILE OLD NEW OUT: a copy of FILE whose header names OLD column NEW (drift).
pl_rename_header() {
	{
		head -n 1 "$1" | sed "s/$2/$3/"
		tail -n +2 "$1"
	} >"$4"
}

# pl_same_rows A B: compares two CSV files (',' separated, a header line, rows in any order) as
# multisets of rows, numbers as numbers (86.0 = 86, 000001 = 1) and an empty field as NULL.
# Prints "ROWS-IN-A ROWS-IN-B ROWS-IN-BOTH", then the first rows of A missing from B.
pl_same_rows() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import collections, csv, sys
def norm(v):
    try:
        return repr(float(v))
    except ValueError:
        return v
def rows(f):
    return collections.Counter(tuple(map(norm, r)) for r in list(csv.reader(open(f, newline="")))[1:])
a, b = rows(sys.argv[1]), rows(sys.argv[2])
print(sum(a.values()), sum(b.values()), sum((a & b).values()))
for r in list((a - b).elements())[:3]:
    print("missing:", r)
PY
}

# Reading a publisher's CSV file by its columns' names, as a person checks a load: the BOM, the
# quoting, CRLF and the delimiter (';', ',', '|' or tab, from the header) are taken care of.
#   pl_col FILE COLUMN KEYCOL KEY   the value of COLUMN in the first row whose KEYCOL is KEY
#   pl_text FILE COLUMN KEYCOL KEY  the same, its blanks folded as the text rule folds them
#   pl_rows FILE                    the number of data rows
#   pl_keys FILE KEYCOL             KEYCOL of the first and of the last row, one a line
#   pl_filled FILE COLUMN [TOKEN..] the rows whose COLUMN is neither blank nor one of the TOKENs
#   pl_without FILE COLUMN OUT      a copy of FILE without COLUMN
pl_csv() {
	/usr/bin/python3 - "$@" <<'PY'
import csv, io, sys
what, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(path, encoding="utf-8-sig", newline="").read()
head = text.split("\n", 1)[0]
delim = max(";,|\t", key=head.count)
rows = list(csv.DictReader(io.StringIO(text), delimiter=delim))
if what in ("col", "text"):
    v = next((r[args[0]] for r in rows if r[args[1]] == args[2]), "")
    print(v if what == "col" else " ".join(v.split()))
elif what == "rows":
    print(len(rows))
elif what == "keys":
    print(rows[0][args[0]]); print(rows[-1][args[0]])
elif what == "without":
    with open(args[1], "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=delim, lineterminator="\n")
        fields = [c for c in rows[0].keys() if c != args[0]] if rows else []
        w.writerow(fields)
        for r in rows:
            w.writerow([r[c] for c in fields])
elif what == "filled":
    print(sum(1 for r in rows if r[args[0]].strip() and r[args[0]].strip() not in args[1:]))
PY
}
pl_col() { pl_csv col "$@"; }
pl_text() { pl_csv text "$@"; }
pl_rows() { pl_csv rows "$@"; }
pl_keys() { pl_csv keys "$@"; }
pl_filled() { pl_csv filled "$@"; }
pl_without() { pl_csv without "$@"; }
