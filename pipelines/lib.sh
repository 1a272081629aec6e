#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# Shared by the pipelines/<source>.sh scripts (bash: they need PIPESTATUS). It finds the tools and
# mapping files, makes a private work directory removed at exit, downloads a source atomically with
# edu-fetch -o, and turns the statuses of a pipeline into the status of its first failing stage.
# It holds no source-specific knowledge: that stays in each script and its mapping file.
# shellcheck disable=SC2034 # EDU_MAPS and EDU_WORK are used by the sourcing scripts
set -u

EDU_PIPELINES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EDU_MAPS=$EDU_PIPELINES
# Tools built in this checkout come first; an installed suite is found through PATH otherwise.
if [ -x "$EDU_PIPELINES/../bin/edu-pgcopy" ]; then
	PATH=$(cd "$EDU_PIPELINES/../bin" && pwd):$PATH
	export PATH
fi
EDU_SCRIPT=pipelines/$(basename "$0")
# The sources config: the one named by EDU_SOURCES, else this checkout's. Exported, so that the
# tools read the same file wherever the script is started from.
EDU_SOURCES=${EDU_SOURCES:-$(cd "$EDU_PIPELINES/../config" 2>/dev/null && pwd)/sources.json}
export EDU_SOURCES

# edu_getopts "$@": the options every pipeline takes; the caller then shifts $((OPTIND - 1)).
#   -R  load only: do not refresh the materialized views (a caller running several pipelines
#       refreshes them once at the end, as the demo does)
# A script with flags of its own lists their letters in EDU_OPTS and defines edu_opt LETTER.
EDU_REFRESH=1
edu_getopts() {
	local o
	while getopts ":${EDU_OPTS:-}hR" o; do
		case $o in
		R) EDU_REFRESH=0 ;;
		h) echo "usage: $EDU_SCRIPT [-${EDU_OPTS:-}hR]${EDU_ARGS:+ $EDU_ARGS}"; exit 0 ;;
		'?' | :) echo "usage: $EDU_SCRIPT [-${EDU_OPTS:-}hR]${EDU_ARGS:+ $EDU_ARGS}" >&2; exit 64 ;;
		*) edu_opt "$o" ;;
		esac
	done
}

edu_fail() { # edu_fail STATUS MESSAGE: one diagnostic line, then exit with STATUS
	printf '%s: %s\n' "$EDU_SCRIPT" "$2" >&2
	exit "$1"
}

# A work directory of our own, never a fixed path, so two runs never share partial files.
EDU_WORK=$(mktemp -d "${TMPDIR:-/tmp}/edu-pipeline.XXXXXX") || edu_fail 71 "cannot create a work directory"
trap 'rm -rf "$EDU_WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# edu_fetch SOURCE FILE [OPTION...]: download SOURCE (an id of the sources config) into FILE,
# complete or absent; the options go to edu-fetch.
edu_fetch() {
	local src=$1 file=$2
	shift 2
	edu-fetch "$@" -o "$file" "$src"
	local s=$?
	[ "$s" -eq 0 ] || edu_fail "$s" "edu-fetch $src failed (exit $s)"
}

# edu_stages "${PIPESTATUS[*]}" NAME...: exit with the status of the first stage that failed
# (65, bad data, for a stage that is not one of the suite's tools).
# A stage killed by SIGPIPE (141) only because a later one stopped reading is a consequence, not
# the cause, so it is skipped when a later stage failed: the suite's tools die of SIGPIPE like jq
# and awk (man/edu.7), and 74 is a real write error.
edu_stages() {
	local -a st names
	read -r -a st <<<"$1"
	shift
	names=("$@")
	local i j later
	for ((i = 0; i < ${#st[@]}; i++)); do
		[ "${st[i]}" -eq 0 ] && continue
		if [ "${st[i]}" -eq 141 ]; then
			later=0
			for ((j = i + 1; j < ${#st[@]}; j++)); do
				[ "${st[j]}" -ne 0 ] && later=1
			done
			[ "$later" -eq 1 ] && continue
		fi
		case ${names[i]:-} in
		edu-* | edu_*) edu_fail "${st[i]}" "${names[i]} failed (exit ${st[i]}); nothing was loaded" ;;
		# Another program's status (jq, awk) is not in the suite's table: on a complete
		# download its failure means the data is bad.
		*) edu_fail 65 "${names[i]:-stage $((i + 1))} failed (exit ${st[i]}, reported as 65); nothing was loaded" ;;
		esac
	done
}

# edu_load_args ID [SCOPE]: fills the array EDU_LOAD with edu-pgcopy's arguments for source ID,
# from its entry in the sources config, so that how a source loads is said in one place: upsert
# gives -k KEY,...; replace with a SCOPE value gives -w KEY=SCOPE (DVF: one year); replace
# alone replaces the whole table; append gives -a. Then -s UNIT (ID, or ID:SCOPE for a source
# published one file per year, whose URL names {year}: dvf:2024) and the table.
EDU_LOAD=()
edu_load_args() {
	local out
	out=$(jq -r --arg id "$1" --arg scope "${2:-}" '
		[.sources[] | select(.id == $id)] | if length == 0 then error("no source " + $id) else .[0] end
		| (if .mode == "upsert" then ["-k", (.key | join(","))]
		   elif .mode == "replace" and $scope != "" then ["-w", (.key[0] + "=" + $scope)]
		   elif .mode == "replace" then []
		   elif .mode == "append" then ["-a"]
		   else error("unknown mode \(.mode)") end)
		+ ["-s", (if $scope != "" and (.years != null or ((.url // "") | test("\\{year\\}"))
			or ((.resolve.resource // "") | test("\\{year\\}"))) then .id + ":" + $scope else .id end),
		   .table] | .[]' "$EDU_SOURCES" 2>&1) ||
		edu_fail 78 "$EDU_SOURCES: cannot tell how to load $1: $out"
	mapfile -t EDU_LOAD <<<"$out"
}

# edu_drop ID SCOPE: delete every row of SCOPE (a year) from the table of source ID, in one
# transaction recorded as the unit ID:SCOPE; the other scopes are untouched. An empty input
# replaces the scope (-f: the shrink guard would refuse it). Then what the unit's last import saw
# is forgotten, so that the scope loads again if the publisher publishes it again.
edu_drop() {
	local out
	edu_load_args "$1" "$2"
	printf '%s\n\\.\n' "${EDU_LOAD[1]%%=*}" | edu-pgcopy -f "${EDU_LOAD[@]}"
	edu_stages "${PIPESTATUS[*]}" printf edu-pgcopy
	out=$(echo "select monitoring.forget(:'u')" |
		psql -X -q -v ON_ERROR_STOP=1 -v u="${EDU_LOAD[-2]}" ${DATABASE_URL:+-d "$DATABASE_URL"} 2>&1) ||
		edu_fail 75 "the rows of $2 are deleted, but its validators are kept: $out"
}

# edu_partition TABLE VALUE: the partition of TABLE for VALUE, created when missing (sql/005
# edu_ensure_partition), before the load's transaction. Until edu-pgcopy -w does it itself.
edu_partition() {
	local out
	out=$(echo "select edu_ensure_partition(:'t', :'v')" |
		psql -X -q -v ON_ERROR_STOP=1 -v t="$1" -v v="$2" ${DATABASE_URL:+-d "$DATABASE_URL"} 2>&1) ||
		edu_fail 75 "cannot create the partition of $1 for $2: $out"
}

# edu_refresh TABLE: refresh the materialized views that depend on TABLE.
edu_refresh() {
	[ "$EDU_REFRESH" -eq 1 ] || return 0
	edu-refresh -t "$1"
	local s=$?
	[ "$s" -eq 0 ] || edu_fail "$s" "edu-refresh -t $1 failed (exit $s); the data is loaded, the views are stale"
}

# edu_first_per_key COLUMN: a contract filter keeping the first row of each value of COLUMN. The
# annuaire lists a multi-site establishment once per site under one UAI; the table holds one row
# per UAI, so the later sites are dropped, and said so on stderr rather than silently.
edu_first_per_key() {
	awk -F '\t' -v key="$1" -v prog="$EDU_SCRIPT" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == key) k = i
			if (!k) { print prog ": no column " key " in the input" > "/dev/stderr"; exit 65 }
			print; next }
		$0 == "\\." { if (dup) printf "%s: %d rows repeat the %s of an earlier row: kept the first\n",
				prog, dup, key > "/dev/stderr"
			print; next }
		seen[$k]++ { dup++; next }
		{ print }'
}

# edu_year_of FILE DELIM COLUMN POS: the year of the first data row of a delimited file (DVF is
# published one year per file), from the date in COLUMN whose year starts at character POS.
edu_year_of() {
	awk -F "$2" -v col="$3" -v pos="$4" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; if (!c) exit 1; next }
		{ y = substr($c, pos, 4); if (y ~ /^[0-9][0-9][0-9][0-9]$/) print y; exit }' "$1"
}
