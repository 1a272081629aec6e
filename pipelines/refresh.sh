#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# The production job, for cron or a scheduled CI workflow: asks edu-ifmodified which sources
# changed, runs their pipelines in parallel (load only), refreshes the materialized views those
# sources feed once, prints one line per source, and sends the same report with edu-notify when
# a channel is configured. Two runs never overlap (a lock file). It adds no loading logic of its
# own: each pipelines/<source>.sh stays runnable by hand.
#   pipelines/refresh.sh [-fhn] [-j jobs] [source ...]
# Exit status: 0 when every changed source loaded (or none changed); else the status of the first
# failed source in the order given, 75 when every failure is worth a retry.
set -u
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/lib.sh"

usage="usage: $EDU_SCRIPT [-fhn] [-j jobs] [source ...]"
force=
dry=0
jobs=2
while getopts :fhj:n o; do
	case $o in
	f) force=-f ;;
	h) echo "$usage"; exit 0 ;;
	j) jobs=$OPTARG ;;
	n) dry=1 ;;
	*) echo "$usage" >&2; exit 64 ;;
	esac
done
shift $((OPTIND - 1))
case $jobs in
'' | *[!0-9]* | 0) edu_fail 64 "-j $jobs: not a positive number" ;;
esac
config=$EDU_SOURCES

# One run at a time: a slow DVF load must not meet the next morning's run.
lock=${EDU_LOCK:-${TMPDIR:-/tmp}/eduinfo-pipeline-refresh.lock}
exec 9>>"$lock" || edu_fail 71 "$lock: cannot open the lock file"
flock -n 9 || edu_fail 75 "another refresh holds $lock: try again later"

if [ $# -gt 0 ]; then
	printf '%s\n' "$@" >"$EDU_WORK/ids"
else
	jq -r '.sources[].id' "$config" >"$EDU_WORK/ids" || edu_fail 78 "$config: cannot read the source ids"
fi
edu-ifmodified $force <"$EDU_WORK/ids" >"$EDU_WORK/changed"
checked=$?
case $checked in
0 | 1 | 69 | 75) ;; # 69/75: some checks failed; the sources that answered are still listed
*) edu_fail "$checked" "edu-ifmodified failed (exit $checked)" ;;
esac
if [ ! -s "$EDU_WORK/changed" ]; then
	[ "$checked" -le 1 ] || edu_fail "$checked" "no source could be checked (edu-ifmodified exit $checked)"
	echo "refresh: no source changed since its last import"
	exit 0
fi
if [ "$dry" -eq 1 ]; then
	sed 's/^/refresh: would load /' "$EDU_WORK/changed"
	exit 0
fi

# Load only (-R): several sources feed the same views, which are refreshed once below.
parallel --will-cite -j "$jobs" --joblog "$EDU_WORK/joblog" \
	"bash '$EDU_PIPELINES'/{}.sh -R >'$EDU_WORK'/{}.out 2>'$EDU_WORK'/{}.err" <"$EDU_WORK/changed"

status=0
retry_only=1
: >"$EDU_WORK/report"
while read -r id; do
	# The joblog's 7th column is the exit value, its last the command naming the source.
	s=$(awk -F '\t' -v id="$id" 'NR > 1 && $9 ~ ("/" id "\\.sh -R ") { print $7 }' "$EDU_WORK/joblog")
	s=${s:-70}
	if [ "$s" -eq 0 ]; then
		printf '%s: loaded: %s\n' "$id" "$(grep -m 1 '^table=' "$EDU_WORK/$id.out")" >>"$EDU_WORK/report"
	else
		# The first tool diagnostic is the cause; the script's own last line only says which stage.
		why=$(grep -m 1 '^edu-' "$EDU_WORK/$id.err" || tail -n 1 "$EDU_WORK/$id.err")
		printf '%s: FAILED (exit %s): %s\n' "$id" "$s" "$why" >>"$EDU_WORK/report"
		[ "$status" -ne 0 ] || status=$s
		[ "$s" -eq 75 ] || retry_only=0
	fi
done <"$EDU_WORK/changed"

# The views fed by the sources that loaded (a failed load changed nothing to show).
views=$(grep ': loaded: ' "$EDU_WORK/report" | cut -d: -f1 |
	jq -R -s -r --slurpfile c "$config" '(split("\n") - [""]) as $ok
		| [$c[0].sources[] | select(.id as $i | $ok | any(. == $i)) | .views[]?] | unique | .[]')
if [ -n "$views" ]; then
	# shellcheck disable=SC2086 # one view name per word
	if edu-refresh $views >"$EDU_WORK/views" 2>&1; then
		sed 's/^/views: /' "$EDU_WORK/views" >>"$EDU_WORK/report"
	else
		s=$?
		printf 'views: FAILED (exit %s): %s\n' "$s" "$(tail -n 1 "$EDU_WORK/views")" >>"$EDU_WORK/report"
		[ "$status" -ne 0 ] || status=$s
		[ "$s" -eq 75 ] || retry_only=0
	fi
fi
if [ "$checked" -gt 1 ]; then
	echo "check: some sources could not be checked (edu-ifmodified exit $checked): they are retried next run" \
		>>"$EDU_WORK/report"
	[ "$status" -ne 0 ] || status=$checked
	[ "$checked" -eq 75 ] || retry_only=0
fi
cat "$EDU_WORK/report"

if [ -n "${EDU_SLACK_WEBHOOK:-}${EDU_SMTP_URL:-}${EDU_SENDGRID_API_KEY:-}" ]; then
	loaded=$(grep -c ': loaded: ' "$EDU_WORK/report")
	failed=$(grep -c '^[a-z_]*: FAILED' "$EDU_WORK/report")
	level=info
	[ "$status" -eq 0 ] || level=error
	edu-notify -l "$level" -S "refresh: $loaded loaded, $failed failed" "$EDU_WORK/report" ||
		echo "$EDU_SCRIPT: the report could not be sent (edu-notify exit $?)" >&2
fi
if [ "$status" -ne 0 ] && [ "$retry_only" -eq 1 ]; then
	status=75
fi
exit "$status"
