#!/bin/bash
# deploy/ as installed: the crontab's fields and its schedule (daily at 02:00, a forced reload on
# Sunday at 03:00), the systemd template, its drop-in and the timers (systemd-analyze verify where
# it runs),
# the logrotate file (logrotate -d), no install-time placeholder left; and the scheduled
# workflows (make lint runs yamllint on them).
. "${EDU_ROOT:-.}/tests/lib.sh"
d=$T/stage/opt/edu/share/eduinfo-pipeline
run make -s -C "$EDU_ROOT" install DESTDIR="$T/stage" PREFIX=/opt/edu
is_status 0 "make install"
is "$(grep -rl '@DATADIR@\|@BINDIR@' "$d/deploy" | wc -l)" 0 "the installed files have their paths"

# ---- crontab: five time fields within their ranges, a user, a command ----
cron=$d/deploy/crontab
run awk '
function field(v, lo, hi,   n, i, r, a, b, s) {
	n = split(v, items, ",")
	for (i = 1; i <= n; i++) {
		r = items[i]; s = ""
		if (r ~ /\//) { s = substr(r, index(r, "/") + 1); r = substr(r, 1, index(r, "/") - 1)
			if (s !~ /^[0-9]+$/ || s + 0 < 1) return 0 }
		if (r == "*") continue
		if (r ~ /^[0-9]+$/) { a = b = r + 0 }
		else if (r ~ /^[0-9]+-[0-9]+$/) { a = substr(r, 1, index(r, "-") - 1) + 0; b = substr(r, index(r, "-") + 1) + 0 }
		else return 0
		if (a < lo || b > hi || a > b) return 0
	}
	return 1
}
/^[ \t]*(#|$)/ { next }
/^[A-Za-z_][A-Za-z0-9_]*=/ { next }
{
	n++
	if (NF < 7 || !field($1, 0, 59) || !field($2, 0, 23) || !field($3, 1, 31) || !field($4, 1, 12) || !field($5, 0, 7)) {
		print "bad line " NR ": " $0; bad = 1 }
	print $1, $2, $3, $4, $5, $6
}
END { exit bad || !n }' "$cron"
is_status 0 "every crontab line has valid fields"
is "$(cat "$OUT")" "$(printf '0 2 * * * eduinfo\n0 3 * * 0 eduinfo')" "daily at 02:00, Sunday at 03:00, as eduinfo"
ok "$(grep -Eq '^0 2 \* \* \* +eduinfo bash /opt/edu/share/eduinfo-pipeline/pipelines/refresh.sh >/dev/null; bash /opt/edu/share/eduinfo-pipeline/pipelines/status.sh -q$' "$cron"; echo $?)" \
	"the daily run loads what changed, then the status report"
ok "$(grep -Eq '^0 3 \* \* 0 +eduinfo EDU_LOCK_WAIT=3600 bash .*/pipelines/refresh.sh -f ' "$cron"; echo $?)" \
	"Sunday's is a forced reload that waits for the lock"
ok "$(grep -q '^PATH=/opt/edu/bin:' "$cron"; echo $?)" "cron's PATH has the tools"

# ---- systemd ----
# One template for both runs; the weekly one differs by its drop-in only.
svc="$d/deploy/eduinfo-pipeline@.service"
# shellcheck disable=SC2016 # $REFRESH_ARGS is the unit's, expanded by systemd
ok "$(grep -qxF 'ExecStart=-/bin/bash /opt/edu/share/eduinfo-pipeline/pipelines/refresh.sh $REFRESH_ARGS' "$svc" &&
	grep -q '^ExecStart=/bin/bash /opt/edu/share/eduinfo-pipeline/pipelines/status.sh -q$' "$svc"; echo $?)" \
	"eduinfo-pipeline@.service: the run, then the report that fails the unit"
is "$(sed -n 's/^Unit=//p' "$d/deploy/eduinfo-pipeline.timer")" "eduinfo-pipeline@daily.service" "the daily timer starts the daily run"
is "$(sed -n 's/^Unit=//p' "$d/deploy/eduinfo-pipeline-reload.timer")" "eduinfo-pipeline@reload.service" "the weekly timer the reload"
is "$(sed -n 's/^OnCalendar=//p' "$d/deploy/eduinfo-pipeline.timer")" "*-*-* 02:00:00" "the daily timer"
is "$(sed -n 's/^OnCalendar=//p' "$d/deploy/eduinfo-pipeline-reload.timer")" "Sun *-*-* 03:00:00" "the weekly timer"
is "$(sed -n 's/^Environment=//p' "$d/deploy/eduinfo-pipeline@reload.service.d/reload.conf" | tr '\n' ' ')" \
	"REFRESH_ARGS=-f EDU_LOCK_WAIT=3600 " "which reloads everything, waiting for the daily run's lock"
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$T/units"
	cp -r "$d"/deploy/*.service "$d"/deploy/*.service.d "$d"/deploy/*.timer "$T/units/"
	run systemd-analyze verify --man=no "$T/units/eduinfo-pipeline@daily.service" \
		"$T/units/eduinfo-pipeline@reload.service" "$T"/units/*.timer
	is_status 0 "systemd-analyze verify"
	empty_err "without a warning"
	cp "$T/units/eduinfo-pipeline.timer" "$T/units/broken.timer"
	sed -i 's/^OnCalendar=.*/OnCalendar=*-*-* 25:00:00/' "$T/units/broken.timer"
	run systemd-analyze verify --man=no "$T/units/broken.timer"
	ok "$([ "$status" -ne 0 ]; echo $?)" "a broken timer is caught"
else
	for what in "systemd-analyze verify" "without a warning" "a broken timer is caught"; do
		ok 0 "$what # SKIP no systemd-analyze"
	done
fi

# ---- logrotate: the file as installed, with a user and a directory this machine has ----
mkdir -p "$T/lr/logs"
sed -e 's/eduinfo eduinfo/root root/g' -e "s|/var/log/eduinfo-pipeline|$T/lr/logs|" \
	"$d/deploy/logrotate" >"$T/lr/conf"
chmod 644 "$T/lr/conf"
echo line >"$T/lr/logs/import.log"
run logrotate -d -s "$T/lr/state" "$T/lr/conf"
is_status 0 "logrotate -d"
ok "$(grep -q 'error' "$ERR" "$OUT"; [ $? -eq 1 ]; echo $?)" "without an error"
ok "$(grep -q "considering log $T/lr/logs/import.log" "$ERR"; echo $?)" "it takes the logs"

# ---- the workflows ----
wf=$EDU_ROOT/.github/workflows
ok "$(grep -q 'cron: "0 2 \* \* \*"' "$wf/check-updates.yml" && grep -q 'run: make check-updates$' "$wf/check-updates.yml"; echo $?)" \
	"check-updates.yml checks daily at 02:00"
# shellcheck disable=SC2016 # the workflow's own variable, literally
ok "$(grep -q 'run: bash pipelines/status.sh -o "$GITHUB_STEP_SUMMARY"$' "$wf/check-updates.yml"; echo $?)" \
	"and writes the status report to the job summary"
ok "$(grep -q 'run: pipelines/refresh.sh$' "$wf/refresh.yml"; echo $?)" "refresh.yml keeps loading"
if command -v yamllint >/dev/null 2>&1; then
	run yamllint -s -c "$EDU_ROOT/.yamllint" "$wf"
	is_status 0 "yamllint"
fi
