#!/bin/bash
# The fault matrix, secrets and notifications family (docs/RELIABILITY.md). With every secret
# configured (the database password in DATABASE_URL, the Slack webhook, the SendGrid API key, the
# mail server and its password), a production job that loads one source and fails another
# never puts one on a command line (read from /proc while the job is held in a download, and
# from every execve of the job under strace), on stdout or stderr, in the logs, in a message or
# in the history, even when a stage's own message names one. Then the notification channels'
# faults: unreachable, refusing, self-signed, deferring, each with its status and without
# naming the channel's address; and a job whose report cannot be sent keeps its own status.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/httpd.sh"
. "$EDU_ROOT/tests/faults.sh"

good=$GOOD
pl_job t0870
cp "$good" "$T/ivac.csv"
pl_rename_header "$FIX/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv" \
	Nom_etablissement Nom_de_l_etablissement "$T/annuaire.csv"
echo '{"/hook/T000/B000/s3cret-hook-token": {"body": "ok"}, "/v3/mail/send": {"status": 202}}' >"$T/script.json"
httpd_start "$T/script.json"
. "$EDU_ROOT/tests/ops.sh"
ops_only ivac annuaire
smtp_start
end_servers() {
	touch "$T/release"
	kill "$SMTP_PID" ${REFUSER:+"$REFUSER"} 2>/dev/null
}
on_exit end_servers
rm -f "$T/release"
serve ivac "{\"hold\": [2000, \"$T/release\"], \"body_file\": \"ivac.csv\"}"
serve annuaire '{"body_file": "annuaire.csv"}'

pw=Pa55-s3cret
export DATABASE_URL="postgresql://edu:$pw@/t0870?host=$PGHOST&port=$PGPORT"
export EDU_SLACK_WEBHOOK=$BASE/hook/T000/B000/s3cret-hook-token
export EDU_SENDGRID_API_KEY=SG.s3cret-api-key EDU_SENDGRID_URL=$BASE/v3/mail/send
export EDU_SMTP_USER=pipeline EDU_SMTP_PASSWORD=smtp-s3cret-pw
secrets=("$pw" s3cret-hook-token SG.s3cret-api-key smtp-s3cret-pw "$EDU_SMTP_URL")
# leaks FILE...: how many times a secret appears in FILE...
leaks() {
	local s n=0
	for s in "${secrets[@]}"; do
		n=$((n + $(cat "$@" 2>/dev/null | grep -cF -- "$s")))
	done
	echo "$n"
}

# The job, held while it downloads ivac: every command line of its processes is read then.
FAULT_TABLES="annuaire_sites"
state_save
tracer=()
command -v strace >/dev/null && tracer=(strace -f -qq -e trace=execve -s 65536 -o "$T/execve.log")
set -m
"${tracer[@]}" bash "$PIPE/refresh.sh" >"$OUT" 2>"$ERR" &
job=$!
set +m
wait_for asked /ivac
held=$?
: >"$T/cmdlines"
for p in $job $(descendants "$job"); do
	{ tr '\0' ' ' <"/proc/$p/cmdline" && echo; } >>"$T/cmdlines" 2>/dev/null
done
touch "$T/release"
wait "$job"
status=$?

fault S01 65 "every secret configured: none on a command line of the job's processes"
ok "$held" "$FAULT: the job is held in its download"
ok "$([ "$(grep -c 'edu-fetch' "$T/cmdlines")" -ge 1 ] && grep -q 'refresh.sh' "$T/cmdlines"; echo $?)" \
	"$FAULT: the job's processes were read (refresh.sh, edu-fetch, ...)"
is "$(leaks "$T/cmdlines")" 0 "$FAULT: no secret in /proc/PID/cmdline while it runs"
if [ ${#tracer[@]} -gt 0 ]; then
	ok "$([ "$(grep -c 'execve(' "$T/execve.log")" -gt 50 ] && grep -q '"psql"' "$T/execve.log"; echo $?)" \
		"$FAULT: every program the job ran was traced (psql among them)"
	is "$(leaks "$T/execve.log")" 0 "$FAULT: no secret in the arguments of any of them"
else
	skip_case 2 "strace is not installed"
fi
is_status 65 "$FAULT: exit status (the failing source's)"

fault S02 65 "every secret configured: none on stdout, stderr or in the logs"
is_status 65 "$FAULT: exit status"
like_out '^annuaire: FAILED \(exit 65\): at normalize: ' "$FAULT: the report names the failure"
is "$(leaks "$OUT" "$ERR" "$EDU_LOG_DIR"/*.log)" 0 "$FAULT: no secret in the report, stderr or the logs"
same_rows

fault S03 65 "every secret configured: none in the messages sent"
is_status 65 "$FAULT: exit status"
jq -r 'select(.method == "POST") | .body' "$HTTPD_LOG" >"$T/posted"
is "$(grep -c 'FAILED' "$T/posted")/$(mails)" "2/1" "$FAULT: Slack, SendGrid and the mail were sent"
is "$(leaks "$T/posted" "$T"/mail/new/*)" 0 "$FAULT: no secret in the messages"

fault S04 65 "every secret configured: none in the history"
is_status 65 "$FAULT: exit status"
sql "select r::text from monitoring.runs r" >"$T/runs"
sql "select d::text from monitoring.data_sources d" >>"$T/runs"
ok "$(grep -q 'schema drift' "$T/runs"; echo $?)" "$FAULT: the history has the diagnostic"
is "$(leaks "$T/runs")" 0 "$FAULT: no secret in monitoring.runs or monitoring.data_sources"

fault S05 75 "a stage's own message names the database URL and the webhook"
cp -r "$PIPE" "$T/pl"
mkdir -p "$T/fake"
printf '#!/bin/sh\necho "edu-fetch: cannot reach %s nor %s: refused" >&2\nexit 75\n' \
	"$DATABASE_URL" "$EDU_SLACK_WEBHOOK" >"$T/fake/edu-fetch"
chmod +x "$T/fake/edu-fetch"
ops_only ivac
log_clear
: >"$EDU_LOG_DIR/import.log"
PATH=$T/fake:$PATH run bash "$T/pl/refresh.sh" -f ivac
is_status 75 "$FAULT: exit status"
like_out '^ivac: FAILED \(exit 75\): at fetch: edu-fetch: cannot reach \[secret\] nor \[secret\]: refused$' \
	"$FAULT: the report says it, redacted"
jq -r 'select(.method == "POST") | .body' "$HTTPD_LOG" >"$T/posted"
is "$(leaks "$OUT" "$ERR" "$EDU_LOG_DIR"/*.log "$T/posted")" 0 "$FAULT: no secret in the report, stderr, logs or messages"
ok "$(grep -q 'error="edu-fetch: cannot reach \[secret\] nor \[secret\]: refused"' "$EDU_LOG_DIR/import.log"; echo $?)" \
	"$FAULT: the log line has the diagnostic, redacted"
is "$(sql "select diagnostic from monitoring.runs where unit = 'ivac' order by id desc limit 1")" \
	"edu-fetch: cannot reach [secret] nor [secret]: refused" "$FAULT: nor in the history"

# ---- the channels' faults, each said without the channel's address ----
echo "the report" >"$T/msg"
# notify_case ERE [VAR=VALUE...] -- edu-notify OPTION...: the case's status, ERE, no secret.
notify_case() {
	local re=$1
	shift
	run env "$@"
	is_status "$FAULT_STATUS" "$FAULT: exit status"
	like_err "$re" "$FAULT: the message"
	is "$(leaks "$ERR" "$OUT")" 0 "$FAULT: no address nor secret printed"
}

fault S06 75 "the Slack webhook unreachable"
hook=http://127.0.0.1:1/hook/T000/B000/s3cret-hook-token
notify_case "^edu-notify: slack: the webhook: Couldn't connect to server\$" \
	EDU_SLACK_WEBHOOK="$hook" edu-notify -C slack "$T/msg"

fault S07 69 "the Slack webhook revoked (404)"
notify_case "^edu-notify: slack: the webhook: HTTP status 404\$" \
	EDU_SLACK_WEBHOOK="$BASE/hook/T000/B000/s3cret-hook-token-revoked" edu-notify -C slack "$T/msg"

fault S08 69 "the Slack webhook behind a self-signed certificate"
tls_start
notify_case "^edu-notify: slack: the webhook: SSL peer certificate or SSH remote key was not OK\$" \
	EDU_SLACK_WEBHOOK="$TLS_BASE/hook/T000/B000/s3cret-hook-token" edu-notify -C slack "$T/msg"

fault S09 69 "the SendGrid API key refused (401)"
echo '{"/v3/mail/send": {"status": 401, "body": "{\"errors\": [{\"message\": \"bad key\"}]}"}}' >"$T/script.json"
notify_case "^edu-notify: sendgrid: the API: HTTP status 401\$" edu-notify -C sendgrid "$T/msg"
is "$(req_header /v3/mail/send authorization)" "Bearer SG.s3cret-api-key" "$FAULT: the key went only to the API, in its header"

# An SMTP server of the test's own, answering RCPT with CODE.
smtp_refusing() {
	local port
	port=$(freeport)
	cat >"$T/refuse.py" <<'PY'
class Refuse:
    def __init__(self, reply):
        self.reply = reply
    @classmethod
    def from_cli(cls, parser, *args):
        return cls(" ".join(args))
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return self.reply
PY
	PYTHONPATH=$T /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c refuse.Refuse "$1" &
	REFUSER=$!
	wait_for port_open "$port"
	REFUSER_URL=smtp://127.0.0.1:$port
}
# smtp_case REPLY: edu-notify by e-mail to a server answering RCPT with REPLY.
smtp_case() {
	smtp_refusing "$1"
	secrets+=("$REFUSER_URL")
	notify_case "^edu-notify: email: the mail server: SMTP status ${1%% *}\$" EDU_SMTP_URL="$REFUSER_URL" \
		edu-notify -C email "$T/msg"
	kill "$REFUSER" && wait "$REFUSER" 2>/dev/null
}

fault S10 69 "the mail server refuses the recipient (SMTP 550)"
smtp_case "550 5.1.1 mailbox unknown"

fault S11 75 "the mail server defers the message (SMTP 451)"
smtp_case "451 4.3.0 try again later"

fault S12 75 "the mail server's name does not resolve"
secrets+=(mail.example.invalid)
notify_case "^edu-notify: email: the mail server: Couldn't resolve host name\$" \
	EDU_SMTP_URL=smtp://mail.example.invalid edu-notify -C email "$T/msg"

fault S13 0 "the report cannot be sent (the webhook answers 500)"
echo '{"/hook/T000/B000/s3cret-hook-token": {"status": 500, "body": "oops"}}' >"$T/script.json"
serve ivac '{"body_file": "ivac.csv"}'
FAULT_TABLES=colleges_indicateurs
run env -u EDU_SMTP_URL -u EDU_SENDGRID_API_KEY bash "$PIPE/refresh.sh" -A -f ivac
is_status 0 "$FAULT: exit status (the job's own)"
like_out '^ivac: loaded: table=colleges_indicateurs ' "$FAULT: the data is loaded"
like_err "^pipelines/refresh.sh: the report could not be sent \(edu-notify exit 75\)\$" "$FAULT: says the report was not sent"
is "$(leaks "$OUT" "$ERR")" 0 "$FAULT: without naming the webhook"

fault S14 0 "the migrations run with a password in DATABASE_URL"
newdb t0870b
mkdir -p "$T/spy"
printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s"\nexec /usr/bin/psql "$@"\n' "$T/psql.argv" >"$T/spy/psql"
chmod +x "$T/spy/psql"
: >"$T/psql.argv"
DATABASE_URL="postgresql://edu:$pw@/t0870b?host=$PGHOST&port=$PGPORT" PATH=$T/spy:$PATH run sh "$EDU_ROOT/sql/migrate.sh"
is_status 0 "$FAULT: exit status"
is "$(sql "select count(*) from monitoring.schema_migrations")" "$(find "$EDU_ROOT/sql" -name '[0-9]*.sql' | wc -l)" \
	"$FAULT: every migration applied"
ok "$([ "$(wc -l <"$T/psql.argv")" -gt 5 ] && grep -q "postgresql://edu@/t0870b" "$T/psql.argv"; echo $?)" \
	"$FAULT: psql got the URL without its password"
is "$(leaks "$T/psql.argv" "$OUT" "$ERR")" 0 "$FAULT: the password on no psql command line"
