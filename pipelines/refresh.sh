#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# The production job, for cron, a systemd timer or a scheduled CI workflow: asks edu-ifmodified
# which units changed (a source, or one year of a per-year source: dvf:2024), runs their
# pipelines in parallel, each in its own transaction (load only), refreshes once the views the
# loaded sources feed, and reports what changed in data terms, read from this job's rows of the
# run history (monitoring.runs, job = EDU_RUN_ID): rows inserted, updated and deleted, the first
# keys that appeared or disappeared, and for a failure its stage, exit status and first
# diagnostic. The report goes to stdout and, when a channel is configured, to edu-notify: always
# after a failure, after a change in the data, or when asked (-A); never when nothing changed.
# Two runs never overlap (a lock). It adds no loading logic of its own: each
# pipelines/<source>.sh stays runnable by hand.
#   pipelines/refresh.sh [-Afhnu] [-j jobs] [unit ...]
# Exit status: 0 when every changed unit loaded (or none changed); else the status of the first
# failed unit in the order checked, 75 when every failure is worth a retry.
set -u
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/lib.sh"

usage="usage: $EDU_SCRIPT [-Afhnu] [-j jobs] [unit ...]"
always=0
force=
dry=0
check_only=0
jobs=${EDU_JOBS:-2}
while getopts :Afhj:nu o; do
	case $o in
	A) always=1 ;;
	f) force=-f ;;
	h) echo "$usage"; exit 0 ;;
	j) jobs=$OPTARG ;;
	n) dry=1 ;;
	u) check_only=1 ;;
	*) echo "$usage" >&2; exit 64 ;;
	esac
done
shift $((OPTIND - 1))
case $jobs in
'' | *[!0-9]* | 0) edu_fail 64 "-j $jobs: not a positive number" ;;
esac
# Numbers of the settings, used in SQL and arithmetic: digits only.
keep=${EDU_HISTORY_DAYS:-400}
nkeys=${EDU_REPORT_KEYS:-5}
case $keep$nkeys in
*[!0-9]*) edu_fail 78 "EDU_HISTORY_DAYS=$keep, EDU_REPORT_KEYS=$nkeys: whole numbers expected" ;;
esac
# This run's id: every tool records it in its history rows, so the report reads this job's.
EDU_RUN_ID=${EDU_RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)-$$}
export EDU_RUN_ID

# job_log OUTCOME STATUS [FIELD...]: the job's own line in the import log.
job_log() {
	local outcome=$1 s=$2
	shift 2
	edu_log import "job=$EDU_RUN_ID stage=job outcome=$outcome status=$s${*:+ $*} seconds=$(edu_seconds)"
}

# One run at a time: a slow DVF load must not meet the next morning's run. EDU_LOCK_WAIT
# seconds (default 0) lets a weekly reload wait for the daily run to end.
lock=${EDU_LOCK:-${TMPDIR:-/tmp}/eduinfo-pipeline-refresh.lock}
wait_s=${EDU_LOCK_WAIT:-0}
case $wait_s in '' | *[!0-9]*) edu_fail 78 "EDU_LOCK_WAIT=$wait_s: not a number of seconds" ;; esac
exec 9>>"$lock" || edu_fail 71 "$lock: cannot open the lock file"
if ! flock -w "$wait_s" 9; then
	job_log busy 75
	edu_fail 75 "another refresh holds $lock: try again later"
fi

# The config, read once (edu_sources): the ids, and each source's table and views for the report.
# The units to check: those given (an id, or id:YYYY), else every source of the config. A name
# that is not a unit is never used as a path or a pattern.
srcs=$(edu_sources) || exit
printf '%s\n' "$srcs" >"$EDU_WORK/sources"
cut -f 1 "$EDU_WORK/sources" >"$EDU_WORK/ids"
if [ $# -gt 0 ]; then
	for u in "$@"; do
		edu_valid_unit "$u" || edu_fail 64 "'$u': not a source id or id:YYYY"
		grep -qxF -e "${u%%:*}" "$EDU_WORK/ids" || edu_fail 78 "$EDU_SOURCES: no source ${u%%:*}"
	done
	printf '%s\n' "$@" >"$EDU_WORK/ids"
fi

# ---- what changed ----
checkopts=$force
[ "$dry" -eq 0 ] || checkopts="$checkopts -n"
# shellcheck disable=SC2086 # options, one per word
edu-ifmodified $checkopts <"$EDU_WORK/ids" >"$EDU_WORK/changed.raw"
checked=$?
case $checked in
0 | 1 | 69 | 75) ;; # 69/75: some checks failed; the units that answered are still listed
*)
	job_log failed "$checked" "stage=check"
	edu_fail "$checked" "edu-ifmodified failed (exit $checked)"
	;;
esac
: >"$EDU_WORK/changed"
while read -r u; do
	if edu_valid_unit "$u"; then
		printf '%s\n' "$u" >>"$EDU_WORK/changed"
	else
		printf '%s: edu-ifmodified printed %q, not a unit: skipped\n' "$EDU_SCRIPT" "$u" >&2
	fi
done <"$EDU_WORK/changed.raw"

# history QUERY: this job's rows of monitoring.runs (edu_rows); nothing when the database cannot
# be read: the report then falls back on what the scripts printed.
US=$EDU_US
history() { edu_rows "$1" -v job="$EDU_RUN_ID" 2>/dev/null; }

# The check's lines in the check log: from the history when edu-ifmodified wrote it.
history "select unit, outcome, coalesce(exit_status::text, ''), $(edu_oneline diagnostic)
	from monitoring.runs where job = :'job' and kind = 'check' order by id" >"$EDU_WORK/checks"
if [ -s "$EDU_WORK/checks" ]; then
	while IFS=$US read -r u outcome s diag; do
		edu_log check "source=${u%%:*} unit=$u stage=check outcome=$outcome${s:+ status=$s} job=$EDU_RUN_ID${diag:+ error=$(edu_q "$diag")}"
	done <"$EDU_WORK/checks"
else
	while read -r u; do
		edu_log check "source=${u%%:*} unit=$u stage=check outcome=changed job=$EDU_RUN_ID"
	done <"$EDU_WORK/changed"
fi
edu_log check "job=$EDU_RUN_ID stage=job outcome=$([ "$checked" -le 1 ] && echo ok || echo failed) status=$checked changed=$(wc -l <"$EDU_WORK/changed") seconds=$(edu_seconds)${force:+ forced=1}"

status=0
retry_only=1
loaded=0  # units loaded, and failed (checks and loads): counted as the report is written
nfailed=0
failed() { # failed STATUS: the run's status is the first failure's
	[ "$status" -ne 0 ] || status=$1
	[ "$1" -eq 75 ] || retry_only=0
}
: >"$EDU_WORK/report"
: >"$EDU_WORK/loaded"
# The checks that failed, each with its diagnostic when the history has it.
if [ "$checked" -gt 1 ]; then
	failed "$checked"
	nfailed=$(awk -F "$US" '$2 == "failed"' "$EDU_WORK/checks" | wc -l)
	if [ "$nfailed" -gt 0 ]; then
		awk -F "$US" -v OFS='' '$2 == "failed" { print $1, ": check FAILED (exit ", $3, "): ", $4 }' \
			"$EDU_WORK/checks" >>"$EDU_WORK/report"
	else
		echo "check: some sources could not be checked (edu-ifmodified exit $checked): they are retried next run" \
			>>"$EDU_WORK/report"
	fi
fi

# load_changed: one job per changed unit, `pipelines/ID.sh -R [-n] [YEAR]`, then its lines of
# the report from this job's load rows of the history (else from what its script printed), then
# the views the loaded sources feed, refreshed once, and the history pruned.
load_changed() {
	: >"$EDU_WORK/jobs"
	n=0
	while read -r u; do
		n=$((n + 1))
		id=${u%%:*}
		year=
		[ "$u" = "$id" ] || year=${u#*:}
		script=$EDU_PIPELINES/$id.sh
		if [ ! -f "$script" ]; then
			# Still one job, so that the job numbers stay the line numbers of the changed list.
			printf 'echo %q >&2; exit 78\n' "$EDU_SCRIPT: no pipeline script pipelines/$id.sh" >>"$EDU_WORK/jobs"
			continue
		fi
		printf 'bash %q -R%s%s >%q 2>%q\n' "$script" "$([ "$dry" -eq 0 ] || echo ' -n')" "${year:+ $year}" \
			"$EDU_WORK/job$n.out" "$EDU_WORK/job$n.err" >>"$EDU_WORK/jobs"
	done <"$EDU_WORK/changed"

	# Stopped (SIGTERM, Ctrl-C), GNU parallel passes the signal on to the pipelines, then kills
	# them 2 s later rather than its default 350 ms: time for each to log and record its failure.
	if [ "$n" -gt 0 ]; then
		parallel --will-cite -j "$jobs" --termseq TERM,2000,KILL,25 --joblog "$EDU_WORK/joblog" <"$EDU_WORK/jobs" ||
			[ -s "$EDU_WORK/joblog" ] || edu_fail 71 "GNU parallel could not run the pipelines"
	fi
	# The joblog read by its header's names (Seq, Exitval, Signal), never by position: job number
	# then exit status, 128 + the signal for a job killed by one.
	awk -F '\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
			if (!c["Seq"] || !c["Exitval"] || !c["Signal"]) { print "joblog: no Seq, Exitval or Signal column" > "/dev/stderr"; exit 70 }
			next }
		{ print $c["Seq"] "\t" ($c["Signal"] != 0 ? 128 + $c["Signal"] : $c["Exitval"]) }' \
		"$EDU_WORK/joblog" 2>/dev/null >"$EDU_WORK/exits" || [ "$n" -eq 0 ] || edu_fail 70 "cannot read GNU parallel's joblog"

	# ---- the report: this job's load rows of the history, else what the scripts printed ----
	history "select distinct on (unit) unit, outcome, coalesce(stage, ''), coalesce(exit_status::text, ''),
			coalesce(rows_inserted, 0), coalesce(rows_updated, 0), coalesce(rows_deleted, 0),
			coalesce(rows_unchanged, 0), to_char(extract(epoch from finished - started), 'FM999999990.00'),
			$(edu_oneline diagnostic),
			$(edu_oneline "array_to_string(new_keys[1:$nkeys], '; ')"),
			$(edu_oneline "array_to_string(removed_keys[1:$nkeys], '; ')"),
			coalesce(cardinality(unmapped_columns), 0),
			$(edu_oneline "array_to_string(array(select case when c like '(% more)' then c
				else chr(39) || c || chr(39) end from unnest(unmapped_columns) c), ', ')")
		from monitoring.runs where job = :'job' and kind = 'load' order by unit, id desc" >"$EDU_WORK/loads"
	n=0
	while read -r u; do
		n=$((n + 1))
		s=$(awk -F '\t' -v n="$n" '$1 == n { print $2 }' "$EDU_WORK/exits")
		s=${s:-70}
		# The unit's row; for a per-year source checked as a whole (never imported: "dvf"), the row
		# of the year its script loaded ("dvf:2025").
		row=$(awk -F "$US" -v u="$u" '$1 == u { print; found = 1; exit }
			{ split($1, p, ":"); if (p[1] == u && alt == "") alt = $0 }
			END { if (!found && alt != "") print alt }' "$EDU_WORK/loads")
		table=$(awk -F '\t' -v id="${u%%:*}" '$1 == id { print $2 }' "$EDU_WORK/sources")
		IFS=$US read -r runit outcome stage _ ins upd del unch secs diag new removed nnew cols <<<"$row"
		if [ "$s" -eq 0 ]; then
			loaded=$((loaded + 1))
			verb=loaded
			[ "$dry" -eq 0 ] || verb="would load"
			if [ -n "$row" ]; then
				u=$runit
				printf '%s: %s: table=%s inserted=%s updated=%s deleted=%s unchanged=%s seconds=%s\n' \
					"$u" "$verb" "$table" "$ins" "$upd" "$del" "$unch" "$secs" >>"$EDU_WORK/report"
				[ -z "$new" ] || printf '%s: %s new: %s%s\n' "$u" "$ins" "$new" \
					"$([ "$ins" -le "$nkeys" ] || echo '; …')" >>"$EDU_WORK/report"
				[ -z "$removed" ] || printf '%s: %s removed: %s%s\n' "$u" "$del" "$removed" \
					"$([ "$del" -le "$nkeys" ] || echo '; …')" >>"$EDU_WORK/report"
				[ $((ins + upd + del)) -eq 0 ] || changed_data=1
				printf '%s\n' "${u%%:*}" >>"$EDU_WORK/loaded"
			else
				# A load the history does not show (edu-pgcopy without -s): its summary line.
				sum=$(grep -m 1 '^table=' "$EDU_WORK/job$n.out" 2>/dev/null)
				printf '%s: %s: %s\n' "$u" "$verb" "${sum% dry_run=1}" >>"$EDU_WORK/report"
				case $sum in *' inserted=0 updated=0 deleted=0 '*) ;; *) changed_data=1 ;; esac
				printf '%s\n' "${u%%:*}" >>"$EDU_WORK/loaded"
			fi
		else
			failed "$s"
			nfailed=$((nfailed + 1))
			if [ -z "$row" ] || [ "$outcome" != failed ]; then
				# Not recorded (the database was unreachable): the first tool diagnostic is the
				# cause; the script's own last line only says which stage.
				stage=
				diag=$(grep -m 1 '^edu-' "$EDU_WORK/job$n.err" 2>/dev/null || tail -n 1 "$EDU_WORK/job$n.err" 2>/dev/null)
			fi
			printf '%s: FAILED (exit %s): %s%s\n' "$u" "$s" "${stage:+at $stage: }" "$(edu_redact "$diag")" \
				>>"$EDU_WORK/report"
		fi
		# Columns the publisher added that the map does not name: loaded or not, news for the team.
		if [ "${nnew:-0}" -gt 0 ]; then
			printf '%s: new column%s %s not loaded\n' "$u" "$([ "$nnew" -eq 1 ] || echo s)" "$cols" >>"$EDU_WORK/report"
			changed_data=1
		fi
	done <"$EDU_WORK/changed"

	# The views fed by the sources that loaded (a failed load changed nothing to show).
	if [ "$dry" -eq 0 ]; then
		views=$(awk -F '\t' 'NR == FNR { ok[$1] = 1; next }
			ok[$1] { n = split($3, v, " "); for (i = 1; i <= n; i++) print v[i] }' \
			"$EDU_WORK/loaded" "$EDU_WORK/sources" | LC_ALL=C sort -u)
		if [ -n "$views" ]; then
			# shellcheck disable=SC2086 # one view name per word
			if edu-refresh $views >"$EDU_WORK/views" 2>&1; then
				sed 's/^/views: /' "$EDU_WORK/views" >>"$EDU_WORK/report"
				edu_log import "job=$EDU_RUN_ID stage=views outcome=refreshed status=0 views=${views//$'\n'/,}"
			else
				s=$?
				printf 'views: FAILED (exit %s): %s\n' "$s" "$(tail -n 1 "$EDU_WORK/views")" >>"$EDU_WORK/report"
				edu_log import "job=$EDU_RUN_ID stage=views outcome=failed status=$s error=$(edu_q "$(tail -n 1 "$EDU_WORK/views")")"
				failed "$s"
			fi
		fi
		# Bounded history: EDU_HISTORY_DAYS (default 400) days, the newest runs of each unit kept.
		edu_psql -c "select monitoring.prune_runs($keep)" >/dev/null 2>"$EDU_WORK/prune.err" ||
			printf '%s: the history could not be pruned: %s\n' "$EDU_SCRIPT" "$(head -n 1 "$EDU_WORK/prune.err")" >&2
	fi
}

changed_data=0
if [ "$check_only" -eq 1 ]; then
	# -u: what changed upstream heads the report; nothing is loaded.
	sed 's/$/: changed upstream/' "$EDU_WORK/changed" | cat - "$EDU_WORK/report" >"$EDU_WORK/report.u"
	mv "$EDU_WORK/report.u" "$EDU_WORK/report"
	edu_psql -c "select monitoring.prune_runs($keep)" >/dev/null 2>&1
else
	load_changed
fi

# ---- the job's ending, after a check (-u) as after the loads ----
[ -s "$EDU_WORK/changed" ] || echo "refresh: no source changed since its last import" >>"$EDU_WORK/report"
cat "$EDU_WORK/report"
if [ "$status" -ne 0 ] && [ "$retry_only" -eq 1 ]; then
	status=75
fi
# A check alone (-u) and a rehearsal (-n) load nothing: no job line, and they tell no one.
quiet=$((check_only | dry))
[ "$quiet" -eq 1 ] || job_log "$([ "$status" -eq 0 ] && echo ok || echo failed)" "$status" \
	"changed=$(wc -l <"$EDU_WORK/changed") loaded=$loaded failed=$nfailed"

# Tell the team: a failure always; a change in the data; nothing else unless asked (-A).
if [ "$quiet" -eq 0 ] && [ -n "${EDU_SLACK_WEBHOOK:-}${EDU_SMTP_URL:-}${EDU_SENDGRID_API_KEY:-}" ] &&
	{ [ "$status" -ne 0 ] || [ "$changed_data" -eq 1 ] || [ "$always" -eq 1 ]; }; then
	level=info
	[ "$status" -eq 0 ] || level=error
	edu-notify -l "$level" -S "refresh: $loaded loaded, $nfailed failed" "$EDU_WORK/report" ||
		echo "$EDU_SCRIPT: the report could not be sent (edu-notify exit $?)" >&2
fi
exit "$status"
