#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# Shared by the pipelines/<source>.sh scripts, refresh.sh and status.sh (bash: they need
# PIPESTATUS). It reads the settings (.env), finds the tools and mapping files, makes a private
# work directory removed at exit, downloads a source atomically with edu-fetch -o, turns the
# statuses of a pipeline into the status of its first failing stage, and, when a script ends,
# writes its line to the import log and records a failure that no tool recorded in the run
# history (monitoring.attempt). It holds no source-specific knowledge: that stays in each
# script, its mapping file and its entry of config/sources.json.
# shellcheck disable=SC2034 # EDU_MAPS, EDU_WORK and EDU_LOAD are used by the sourcing scripts
set -u

EDU_PIPELINES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The project's top directory, or the installation's (DATADIR): .env, config/, data/logs.
EDU_TOP=$(cd "$EDU_PIPELINES/.." && pwd)
EDU_MAPS=$EDU_PIPELINES
# Where `make install` put the tools (it writes the path here), so that cron's short PATH
# finds them; empty in a checkout.
EDU_BINDIR=
# Tools built in this checkout come first; an installed suite is found through EDU_BINDIR,
# else PATH.
if [ -x "$EDU_TOP/bin/edu-pgcopy" ]; then
	PATH=$EDU_TOP/bin:$PATH
elif [ -n "$EDU_BINDIR" ]; then
	PATH=$EDU_BINDIR:$PATH
fi
export PATH
EDU_SCRIPT=pipelines/$(basename "$0")

edu_fail() { # edu_fail STATUS MESSAGE: one diagnostic line, then exit with STATUS
	printf '%s: %s\n' "$EDU_SCRIPT" "$2" >&2
	EDU_FAIL_MSG=${EDU_FAIL_MSG:-$EDU_SCRIPT: $2}
	exit "$1"
}

# shellcheck source=pipelines/env.sh
. "$EDU_PIPELINES/env.sh"
edu_env_load

# The sources config: the one named by EDU_SOURCES, else this checkout's. Exported, so that the
# tools read the same file wherever the script is started from.
EDU_SOURCES=${EDU_SOURCES:-$EDU_TOP/config/sources.json}
export EDU_SOURCES

# What this run is, for its line in the import log and its row in the history.
EDU_UNIT=        # the unit loaded: 'ivac', 'dvf:2024' (set by edu_fetch and edu_load_args)
EDU_STAGE=setup  # where the script is: fetch, convert, normalize, load, views
EDU_DIAG_FROM=   # the program whose first diagnostic explains the failure
EDU_FAIL_MSG=    # else the script's own message
EDU_LOGGED=0     # 1 once the script's own line is in the import log (refresh.sh writes its own)
EDU_T0=${EPOCHREALTIME/[.,]/}
EDU_STARTED=$(date +%Y-%m-%dT%H:%M:%S.%6N%z)

# edu_getopts "$@": the options every pipeline takes, then the copy of its output (edu_capture);
# the caller then shifts $((OPTIND - 1)).
#   -n  rehearsal: download without recording, convert, normalize, and load with edu-pgcopy -n,
#       which prints the counts a real load would make and rolls back
#   -R  load only: do not refresh the materialized views (a caller running several pipelines
#       refreshes them once at the end, as refresh.sh and the demo do)
#   -D  only in a script that sets EDU_OPTS=D (a source loaded one year at a time): drop a year
#       instead of loading it (edu_drop_opt)
EDU_REFRESH=1
EDU_DRY=0
EDU_DROP=0
edu_getopts() {
	local o
	while getopts ":${EDU_OPTS:-}hnR" o; do
		case $o in
		h) echo "usage: $EDU_SCRIPT [-${EDU_OPTS:-}hnR]${EDU_ARGS:+ $EDU_ARGS}"; exit 0 ;;
		n) EDU_DRY=1 ;;
		R) EDU_REFRESH=0 ;;
		D) EDU_DROP=1 ;;
		'?' | :) echo "usage: $EDU_SCRIPT [-${EDU_OPTS:-}hnR]${EDU_ARGS:+ $EDU_ARGS}" >&2; exit 64 ;;
		esac
	done
	edu_capture
}

# edu_valid_unit UNIT: true for a source id ('ivac') or a per-year unit ('dvf:2024'). Ids name
# scripts, files and history rows, so anything else (a path, a pattern) is never used.
edu_valid_unit() { [[ $1 =~ ^[a-z][a-z0-9_]*(:[0-9]{4})?$ ]]; }

# edu_sources: the sources of the config, one per line: id, table and the views it feeds
# (space-separated), tab-separated, so that a job reads the config once. A malformed id stops
# the script (78): call it in a subshell, out=$(edu_sources) || exit, since an exit inside a
# redirected function leaves a copy of the script's output open.
edu_sources() {
	local out
	out=$(jq -r '.sources[] | (.id | if type == "string" and test("\\A[a-z][a-z0-9_]*\\z") then .
		else error("source id \(tojson): not a name of the form [a-z][a-z0-9_]*") end) as $id
		| [$id, .table, ([.views[]?] | join(" "))] | @tsv' \
		"$EDU_SOURCES" 2>&1) || edu_fail 78 "$EDU_SOURCES: ${out#jq: error (at *): }"
	printf '%s\n' "$out"
}
# edu_ids: the source ids of the config, one per line (edu_sources, and called the same way).
edu_ids() {
	local out
	out=$(edu_sources) || exit
	printf '%s\n' "$out" | cut -f 1
}

# A work directory of our own, never a fixed path, so two runs never share partial files.
EDU_WORK=$(mktemp -d "${TMPDIR:-/tmp}/edu-pipeline.XXXXXX") || edu_fail 71 "cannot create a work directory"
# edu_capture: the script's output is also kept in the work directory: stdout for edu-pgcopy's
# summary line, stderr for the failing stage's first diagnostic. Started by edu_getopts, so only
# in a source's pipeline, the one kind of script that reads the copies (refresh.sh and status.sh
# read none). A terminal's stderr is left alone, so that the tools still show their progress
# meter; the diagnostic is then the script's own line.
# The copies ignore the signals that stop a job (a service manager's SIGTERM to every process,
# Ctrl-C's SIGINT to the process group): they end when the script closes its output, so that
# the script, dying of the signal, still says why and records it, rather than dying of SIGPIPE.
EDU_TEE_OUT=
EDU_TEE_ERR=
edu_capture() {
	exec {EDU_FD_OUT}>&1 {EDU_FD_ERR}>&2
	exec > >(trap '' HUP INT TERM && exec tee -a "$EDU_WORK/stdout")
	EDU_TEE_OUT=$!
	if [ ! -t 2 ]; then
		exec 2> >(trap '' HUP INT TERM && exec tee -a "$EDU_WORK/stderr" >&"$EDU_FD_ERR")
		EDU_TEE_ERR=$!
	fi
}
trap 'edu_exit' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

edu_exit() {
	local s=$?
	# Once ending, the script finishes its log line and its record whatever else it is sent
	# (GNU parallel, stopped, repeats its SIGTERM to its jobs).
	trap '' HUP INT TERM
	trap - EXIT
	# The copies of our output end here, so that they hold everything before they are read. An
	# exit inside a redirected function leaves a copy of the pipe open until the shell ends: the
	# wait for tee is then bounded.
	local i
	if [ -n "$EDU_TEE_OUT" ]; then
		exec 1>&"$EDU_FD_OUT" 2>&"$EDU_FD_ERR"
		for ((i = 0; i < 40; i++)); do
			kill -0 "$EDU_TEE_OUT" ${EDU_TEE_ERR:+"$EDU_TEE_ERR"} 2>/dev/null || break
			sleep 0.05
		done
	fi
	[ "$EDU_LOGGED" -eq 1 ] || [ -z "$EDU_UNIT" ] || edu_log_run "$s" "$(edu_diag "$s")"
	rm -rf "$EDU_WORK"
	exit "$s"
}

# edu_fetch SOURCE FILE [OPTION...]: download SOURCE (an id of the sources config) into FILE,
# complete or absent; the options go to edu-fetch. `-y YEAR` makes the unit SOURCE:YEAR. In a
# rehearsal (-n) the download is not recorded (edu-fetch -D).
edu_fetch() {
	local src=$1 file=$2 y=
	shift 2
	[[ " $* " =~ \ -y\ ([0-9]{4})\  ]] && y=${BASH_REMATCH[1]}
	EDU_UNIT=${EDU_UNIT:-$src${y:+:$y}}
	EDU_STAGE=fetch
	if [ "$EDU_DRY" -eq 1 ]; then
		edu-fetch -D "$@" -o "$file" "$src"
	else
		edu-fetch "$@" -o "$file" "$src"
	fi
	local s=$?
	if [ "$s" -ne 0 ]; then
		EDU_DIAG_FROM=edu-fetch
		edu_fail "$s" "edu-fetch $src failed (exit $s)"
	fi
	EDU_STAGE=convert
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
		edu-fetch) EDU_STAGE=fetch ;;
		edu-csv2tsv) EDU_STAGE=convert ;;
		edu-normalize) EDU_STAGE=normalize ;;
		edu-pgcopy) EDU_STAGE=load ;;
		*) EDU_STAGE=${names[i]:-stage$((i + 1))} ;;
		esac
		EDU_DIAG_FROM=${names[i]:-}
		case ${names[i]:-} in
		edu-* | edu_*) edu_fail "${st[i]}" "${names[i]} failed (exit ${st[i]}); nothing was loaded" ;;
		# Another program's status (jq, awk) is not in the suite's table: on a complete
		# download its failure means the data is bad.
		*) edu_fail 65 "${names[i]:-stage $((i + 1))} failed (exit ${st[i]}, reported as 65); nothing was loaded" ;;
		esac
	done
	EDU_STAGE=load
}

# edu_load_args ID [SCOPE]: fills the array EDU_LOAD with edu-pgcopy's arguments for source ID,
# from its entry in the sources config, so that how a source loads is said in one place: upsert
# gives -k KEY,...; replace with a SCOPE value gives -w KEY=SCOPE (DVF: one year); replace
# alone replaces the whole table; append gives -a. A "label" column gives -L (the names of the
# keys that appear or disappear, in the history). Then -s UNIT (ID, or ID:SCOPE for a source
# published one file per year, whose URL names {year}: dvf:2024) and the table; -n first in a
# rehearsal; -P EDU_SWAP_LOCK first for a scope, when the setting is given (the partition
# swap's bound on its lock, edu-pgcopy(1)).
EDU_LOAD=()
edu_load_args() {
	local out
	edu_valid_unit "$1" || edu_fail 78 "source id '$1': not a name of the form [a-z][a-z0-9_]*"
	out=$(jq -r --arg id "$1" --arg scope "${2:-}" '
		[.sources[] | select(.id == $id)] | if length == 0 then error("no source " + $id) else .[0] end
		| (.years != null or ((.url // "") | test("\\{year\\}"))
			or ((.resolve.resource // "") | test("\\{year\\}"))) as $yearly
		| (if $yearly and $scope != "" then .id + ":" + $scope else .id end) as $unit
		| $unit,
		  ((if .mode == "upsert" then ["-k", (.key | join(","))]
		   elif .mode == "replace" and $scope != "" then ["-w", (.key[0] + "=" + $scope)]
		   elif .mode == "replace" then []
		   elif .mode == "append" then ["-a"]
		   else error("unknown mode \(.mode)") end)
		+ (if .label then ["-L", .label] else [] end)
		+ ["-s", $unit, .table] | .[])' \
		"$EDU_SOURCES" 2>&1) || edu_fail 78 "$EDU_SOURCES: cannot tell how to load $1: $out"
	mapfile -t EDU_LOAD <<<"$out"
	EDU_UNIT=${EDU_LOAD[0]}
	EDU_LOAD=("${EDU_LOAD[@]:1}")
	edu_valid_unit "$EDU_UNIT" || edu_fail 78 "unit '$EDU_UNIT': not ID or ID:YYYY"
	[ -z "${2:-}" ] || [ -z "${EDU_SWAP_LOCK:-}" ] || EDU_LOAD=(-P "$EDU_SWAP_LOCK" "${EDU_LOAD[@]}")
	[ "$EDU_DRY" -eq 0 ] || EDU_LOAD=(-n "${EDU_LOAD[@]}")
}

# edu_drop ID SCOPE: delete every row of SCOPE (a year) from the table of source ID, in one
# transaction recorded as the unit ID:SCOPE; the other scopes are untouched. An empty input
# replaces the scope (-f: the shrink guard would refuse it). Then what the unit's last import saw
# is forgotten, so that the scope loads again if the publisher publishes it again (not in a
# rehearsal, which changes nothing).
edu_drop() {
	local out i col=
	edu_load_args "$1" "$2"
	for ((i = 0; i < ${#EDU_LOAD[@]} - 1; i++)); do
		[ "${EDU_LOAD[i]}" != -w ] || col=${EDU_LOAD[i + 1]%%=*}
	done
	[ -n "$col" ] || edu_fail 78 "$EDU_SOURCES: source $1 is not loaded by scope"
	printf '%s\n\\.\n' "$col" | edu-pgcopy -f "${EDU_LOAD[@]}"
	edu_stages "${PIPESTATUS[*]}" printf edu-pgcopy
	[ "$EDU_DRY" -eq 0 ] || return 0
	out=$(echo "select monitoring.forget(:'u')" | edu_psql -v u="$EDU_UNIT" 2>&1) ||
		edu_fail 75 "the rows of $2 are deleted, but its validators are kept: $out"
}

# edu_drop_opt ID TABLE [YEAR]: -D, called after the shift that follows edu_getopts. With -D,
# delete YEAR (then required) from the table of source ID (edu_drop), refresh the views that
# depend on TABLE and exit 0: nothing is downloaded. Without -D, nothing.
edu_drop_opt() {
	[ "$EDU_DROP" -eq 1 ] || return 0
	[ -n "${3:-}" ] || edu_fail 64 "-D: which year to drop?"
	edu_drop "$1" "$3"
	edu_refresh "$2"
	exit 0
}

# edu_refresh TABLE: refresh the materialized views that depend on TABLE (not in a rehearsal).
edu_refresh() {
	[ "$EDU_REFRESH" -eq 1 ] && [ "$EDU_DRY" -eq 0 ] || return 0
	EDU_STAGE=views
	edu-refresh -t "$1"
	local s=$?
	[ "$s" -eq 0 ] || edu_fail "$s" "edu-refresh -t $1 failed (exit $s); the data is loaded, the views are stale"
	EDU_STAGE=load
}

# edu_year_of FILE DELIM COLUMN POS: the year of the first data row of a delimited file (DVF is
# published one year per file), from the date in COLUMN whose year starts at character POS.
edu_year_of() {
	awk -F "$2" -v col="$3" -v pos="$4" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; if (!c) exit 1; next }
		{ y = substr($c, pos, 4); if (y ~ /^[0-9][0-9][0-9][0-9]$/) print y; exit }' "$1"
}

# ---- the database, the history and the logs (edu_psql, DATABASE_URL to psql: env.sh) ----

# edu_rows QUERY [PSQL-ARG...]: the rows of QUERY, one a line, fields separated by EDU_US (\037:
# a tab is white space to read, and empty fields would merge); free text goes through
# edu_oneline, so that a row stays one line.
EDU_US=$'\037'
edu_rows() {
	local q=$1
	shift
	edu_psql -A -t -F "$EDU_US" "$@" <<<"$q"
}
# edu_oneline SQL-EXPRESSION: that text in SQL, never NULL, its tabs and line ends made spaces.
edu_oneline() { printf "coalesce(translate(%s, E'\\t\\n\\r', '   '), '')" "$1"; }

# edu_redact TEXT: TEXT with every secret of the environment (database password and URL,
# webhook, SMTP server and password, API key) and any password in a URL replaced by [secret].
edu_redact() {
	local t=$1 v
	edu_db_split
	for v in "${DATABASE_URL:-}" "$EDU_DB_PW" "${PGPASSWORD:-}" "${EDU_SLACK_WEBHOOK:-}" \
		"${EDU_SMTP_URL:-}" "${EDU_SMTP_PASSWORD:-}" "${EDU_SENDGRID_API_KEY:-}"; do
		[ "${#v}" -ge 4 ] && t=${t//"$v"/[secret]}
	done
	case $t in
	*://*@*) t=$(printf '%s' "$t" | sed -E 's#(://[^/@[:space:]:]*):[^/@[:space:]]*@#\1:[secret]@#g') ;;
	esac
	printf '%s' "$t"
}

# edu_q TEXT: TEXT as one log field value: in double quotes, on one line, secrets removed. Free
# text enters a log line only through it, so that it is redacted once, before the quoting
# changes what a secret looks like; edu_log writes the line as it is given.
edu_q() {
	local t
	t=$(edu_redact "$1")
	t=${t//[$'\n\r\t']/ }
	printf '"%s"' "${t//\"/\'}"
}

# edu_log LOG FIELD...: appends "TIME FIELD..." to LOG.log (check or import) in EDU_LOG_DIR
# (default data/logs under the top directory), one line per event, under a lock so that
# parallel scripts never mix their lines. A log past EDU_LOG_MAX_KB (default 5120; 0: never)
# becomes LOG.log.1, so a log never holds more than twice that. A log that cannot be written
# is said on stderr once and never stops the run. The FIELDs are names, numbers and values
# quoted by edu_q (free text, redacted there).
edu_log() {
	local log=$1 dir=${EDU_LOG_DIR:-$EDU_TOP/data/logs} max=${EDU_LOG_MAX_KB:-5120} line
	shift
	line="$(date -u +%Y-%m-%dT%H:%M:%SZ) $*"
	case $max in '' | *[!0-9]*) max=5120 ;; esac
	if ! { mkdir -p "$dir" && : >>"$dir/$log.log"; } 2>/dev/null; then
		[ -n "${EDU_LOG_WARNED:-}" ] || printf '%s: %s: cannot write the log\n' "$EDU_SCRIPT" "$dir/$log.log" >&2
		EDU_LOG_WARNED=1
		return 0
	fi
	{
		flock 8
		if [ "$max" -gt 0 ] && [ "$(stat -c %s "$dir/$log.log")" -ge $((max * 1024)) ]; then
			mv -f "$dir/$log.log" "$dir/$log.log.1"
		fi
		printf '%s\n' "$line" >>"$dir/$log.log"
	} 8>>"$dir/.lock" 2>/dev/null
}

# edu_seconds: seconds since the script started, to the hundredth.
edu_seconds() {
	local us=$((${EPOCHREALTIME/[.,]/} - EDU_T0))
	printf '%d.%02d' $((us / 1000000)) $((us % 1000000 / 10000))
}

# edu_diag STATUS: why the script failed, in one line: the first line the failing program wrote
# on stderr (its first diagnostic), else the script's own message. As written: each place it
# goes (the log line, the history row) removes the secrets once.
edu_diag() {
	local d=
	[ "$1" -ne 0 ] || return 0
	if [ -n "$EDU_DIAG_FROM" ] && [ -f "$EDU_WORK/stderr" ]; then
		d=$(awk -v p="$EDU_DIAG_FROM: " 'index($0, p) == 1 { print; exit }' "$EDU_WORK/stderr")
	fi
	[ -n "$d" ] || d=$EDU_FAIL_MSG
	[ -n "$d" ] || d=$(head -n 1 "$EDU_WORK/stderr" 2>/dev/null)
	printf '%s' "$d"
}

# edu_log_run STATUS DIAGNOSTIC: the script's line in the import log; for a failure that
# edu-pgcopy did not record (every stage but the load), its row in the history too.
edu_log_run() {
	local s=$1 diag=$2 sum line outcome=failed counts='' unmapped note=
	if [ "$s" -eq 0 ]; then
		outcome=ok
		sum=$(grep -m 1 '^table=' "$EDU_WORK/stdout" 2>/dev/null)
		if [ -n "$sum" ]; then
			counts=$(printf '%s\n' "$sum" | sed -n 's/^table=[^ ]* \(inserted=[0-9]* updated=[0-9]* deleted=[0-9]* unchanged=[0-9]*\).*/\1/p')
			case $sum in
			*dry_run=1*) outcome=dry-run ;;
			*' inserted=0 updated=0 deleted=0 '*) outcome=unchanged ;;
			*) outcome=loaded ;;
			esac
		fi
		EDU_STAGE=load
	fi
	unmapped=$(edu_unmapped)
	line="source=${EDU_UNIT%%:*} unit=$EDU_UNIT stage=$EDU_STAGE outcome=$outcome status=$s"
	[ -z "$counts" ] || line+=" $counts"
	line+=" seconds=$(edu_seconds)${EDU_RUN_ID:+ job=$EDU_RUN_ID} script=$EDU_SCRIPT"
	[ -z "$unmapped" ] || line+=" unmapped=$(edu_q "${unmapped//$'\n'/|}")"
	[ -z "$diag" ] || line+=" error=$(edu_q "$diag")"
	# A load that succeeded the slow way says so: the partition swap that could not have its
	# lock (edu-pgcopy -P).
	[ "$s" -ne 0 ] || note=$(grep -m 1 '^edu-pgcopy: .*: no partition swap ' "$EDU_WORK/stderr" 2>/dev/null)
	[ -z "$note" ] || line+=" note=$(edu_q "$note")"
	edu_log import "$line"
	EDU_LOGGED=1
	# edu-pgcopy records its own failures, but not when it could not: handed a cut stream (79),
	# not run (126, 127) or dead of a signal (128 + its number); a usage error is no attempt;
	# stale views are no failed load (the data committed), only a line in the log.
	case $s:$EDU_STAGE in
	0:* | 64:* | *:views) ;;
	79:load | 12[6-9]:load | 1[3-9][0-9]:load | 2[0-9][0-9]:load) edu_record_failure "$s" "$diag" ;;
	*:load) ;;
	*) edu_record_failure "$s" "$diag" ;;
	esac
	[ -z "$unmapped" ] || edu_record_unmapped "$unmapped"
}

# edu_unmapped: the columns of the publisher's file that its map does not name, one a line, as
# edu-normalize said them on stderr ("column 'X' is not in MAP: not loaded", edu-normalize(1));
# past its first 20, a last line "(N more)".
# Read from the script's copy of its stderr, which exists when stderr is not a terminal (cron,
# refresh.sh); by hand on a terminal the warning is on the screen.
edu_unmapped() {
	[ -f "$EDU_WORK/stderr" ] || return 0
	sed -n -e "s/^edu-normalize: .*:1: column '\\(.*\\)' is not in .*: not loaded\$/\\1/p" \
		-e 's/^edu-normalize: .*:1: and \([0-9]*\) more columns not in .*: not loaded$/(\1 more)/p' \
		"$EDU_WORK/stderr"
}

# edu_record_unmapped COLUMNS: those columns (one a line) on this run's load row of the history,
# for the job's report; said on stderr when that cannot be done, never a failure of the run.
edu_record_unmapped() {
	edu_history "the new columns" \
		"select monitoring.unmapped(:'unit', :'started', string_to_array(:'cols', E'\\n'))" \
		-v unit="$EDU_UNIT" -v started="$EDU_STARTED" -v cols="$1"
}

# edu_history WHAT SQL PSQL-ARG...: SQL (with the psql variables given) written to the run
# history; when it cannot be, said on stderr as WHAT that could not be recorded, never a failure
# of the run.
edu_history() {
	local what=$1 sql=$2 r
	shift 2
	edu_psql "$@" >/dev/null 2>"$EDU_WORK/record.err" <<<"$sql"
	r=$?
	[ "$r" -eq 0 ] || printf '%s: %s could not be recorded in monitoring.runs (psql exit %s): %s\n' \
		"$EDU_SCRIPT" "$what" "$r" "$(head -n 1 "$EDU_WORK/record.err")" >&2
}

# edu_record_failure STATUS DIAGNOSTIC: the failed attempt in the history (monitoring.attempt), so
# that the status report says FAILING and the job's report names the stage and the diagnostic.
edu_record_failure() {
	edu_history "the failure" \
		"select monitoring.attempt(:'unit', :'stage', :'started', 'failed', :status,
			nullif(:'diag', ''), null, null, null, null, nullif(:'job', ''), null, null)" \
		-v unit="$EDU_UNIT" -v stage="$EDU_STAGE" -v started="$EDU_STARTED" -v status="$1" \
		-v diag="$(edu_redact "$2")" -v job="${EDU_RUN_ID:-}"
}
