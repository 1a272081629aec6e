#!/bin/bash
# Helpers for the operations tests tests/t/07*.t, sourced after tests/lib.sh, tests/pipelines.sh
# and tests/httpd.sh: the sources served over HTTP by the loopback server, a real SMTP sink
# (aiosmtpd) and the messages that reached it or the loopback Slack receiver.
#   ops_only ID...            keep only these sources in $EDU_SOURCES
#   ops_serve ID FILE         publish FILE as source ID at $BASE/www/ID (httpd_start ... "$T/www")
#   smtp_start                an SMTP sink on a free port; sets EDU_SMTP_URL, EDU_MAIL_FROM/TO
#   mails                     how many messages the sink received
#   slacks                    how many messages the Slack receiver ($BASE/hook/...) received
#   history 'where'           rows of monitoring.runs matching, as unit|kind|stage|outcome|status
# shellcheck disable=SC2034 # variables are used by the sourcing scripts

mkdir -p "$T/www/www"
ops_only() {
	jq --args '.sources |= map(select(.id as $i | $ARGS.positional | index($i)))' "$@" <"$EDU_SOURCES" \
		>"$EDU_SOURCES.tmp" && mv "$EDU_SOURCES.tmp" "$EDU_SOURCES"
}
ops_serve() {
	cp "$2" "$T/www/www/$1.tmp" && mv "$T/www/www/$1.tmp" "$T/www/www/$1"
	pl_source "$1" "$BASE/www/$1"
}
smtp_start() {
	local port
	port=$(freeport)
	/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$T/mail" &
	SMTP_PID=$!
	on_exit smtp_stop
	wait_for port_open "$port"
	EDU_SMTP_URL=smtp://127.0.0.1:$port
	EDU_MAIL_FROM=pipeline@eduinfo.test
	EDU_MAIL_TO=ops@eduinfo.test
	export EDU_SMTP_URL EDU_MAIL_FROM EDU_MAIL_TO
}
smtp_stop() {
	kill "$SMTP_PID" 2>/dev/null
	wait "$SMTP_PID" 2>/dev/null
}
mails() { find "$T/mail/new" -type f 2>/dev/null | wc -l | tr -d ' '; }
slacks() { jq -r 'select(.method == "POST") | .path' "$HTTPD_LOG" | grep -c '^/hook/'; }
history() {
	sql "select unit || '|' || kind || '|' || coalesce(stage, '') || '|' || outcome || '|' ||
		coalesce(exit_status::text, '') from monitoring.runs where $1 order by id"
}
