#!/bin/bash
# edu-notify against real local receivers: an aiosmtpd SMTP sink writing a maildir, and a loopback
# HTTP receiver standing in for Slack's webhook and SendGrid's API. Checks what arrived.
. "${EDU_ROOT:-.}/tests/lib.sh"
unset EDU_SLACK_WEBHOOK EDU_SMTP_URL EDU_SENDGRID_API_KEY EDU_SENDGRID_URL EDU_MAIL_FROM EDU_MAIL_TO

. "$EDU_ROOT/tests/httpd.sh"

# The loopback server as Slack's webhook and SendGrid's API: it accepts the POSTs and logs them.
cat >"$T/script.json" <<'JSON'
{"/services/T000/B000/secret-token": {"status": 200, "body": "ok"},
 "/services/T000/B000/busy-token": {"status": 503, "body": "busy"},
 "/services/T000/B000/timeout-token": {"status": 408, "body": "timeout"},
 "/services/T000/B000/gone-token": {"status": 404, "body": "no_service"},
 "/v3/mail/send": {"status": 202, "body": ""}}
JSON
httpd_start "$T/script.json"
smtp_port=$(freeport)
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$T/mail" &
smtp=$!
on_exit "kill $smtp 2>/dev/null"
wait_for port_open "$smtp_port"

printf 'table=colleges_indicateurs inserted=3 updated=1 deleted=0 unchanged=496 seconds=0.20\nsecond line "quoted"\n' >"$T/msg"

run edu-notify "$T/msg"
is_status 78 "no channel configured"
like_err '^edu-notify: no channel configured: set EDU_SLACK_WEBHOOK' "says which variables to set"

export EDU_SLACK_WEBHOOK="$BASE/services/T000/B000/secret-token"
run edu-notify -l error -S "ivac: load failed" "$T/msg"
is_status 0 "slack message sent"
empty_err "silent on success"
is "$(jq -r .path "$HTTPD_LOG")" "/services/T000/B000/secret-token" "posted to the webhook path"
is "$(jq -r '.headers["content-type"]' "$HTTPD_LOG")" "application/json; charset=utf-8" "JSON content type"
is "$(jq -r '.body | fromjson | .text' "$HTTPD_LOG")" \
	"$(printf '[eduinfo-pipeline] ERROR: ivac: load failed\n%s' "$(cat "$T/msg")")" \
	"text is the subject then the message, quotes escaped as valid JSON"
empty_out "nothing on stdout"

run edu-notify -n "$T/msg"
is_status 0 "dry run"
like_out 'slack: would POST' "dry run says what it would send"
is "$(wc -l <"$HTTPD_LOG")" 1 "dry run sent nothing"
# (grep reads the file directly: run would truncate it first)
is "$(grep -c secret-token "$OUT")" 0 "dry run does not print the webhook URL"
unset EDU_SLACK_WEBHOOK

export EDU_SMTP_URL="smtp://127.0.0.1:$smtp_port" EDU_MAIL_FROM="pipeline@eduinfo.test" \
	EDU_MAIL_TO="ops@eduinfo.test, data@eduinfo.test"
run edu-notify -C email -S "Collèges: chargement terminé" "$T/msg"
is_status 0 "e-mail sent through the SMTP sink"
wait_for compgen -G "$T/mail/new/*"
mail=$(find "$T/mail/new" -type f 2>/dev/null | head -n 1)
ok "$([ -n "$mail" ]; echo $?)" "a message landed in the maildir"
run grep -c '^Subject: =?UTF-8?B?' "$mail"
is "$(cat "$OUT")" 1 "non-ASCII subject is RFC 2047 encoded"
subject=$(sed -n 's/^Subject: =?UTF-8?B?\(.*\)?=\r\{0,1\}$/\1/p' "$mail" | base64 -d)
is "$subject" "[eduinfo-pipeline] Collèges: chargement terminé" "subject decodes to the original"
run grep -c 'inserted=3 updated=1' "$mail"
is "$(cat "$OUT")" 1 "body carried"
run grep -c '^To: ops@eduinfo.test, data@eduinfo.test' "$mail"
is "$(cat "$OUT")" 1 "both recipients in To"

kill "$smtp" 2>/dev/null
wait "$smtp" 2>/dev/null
run edu-notify -C email "$T/msg"
is_status 75 "SMTP server down is a temporary failure"
is "$(cat "$ERR")" "edu-notify: email: the mail server: Couldn't connect to server" \
	"SMTP server down: names the channel, never the server"

# The mail server, the webhook URL and the API key are secrets: no message names them.
EDU_SMTP_URL=smtp://mail.example.invalid run edu-notify -C email "$T/msg"
is_status 75 "an unresolvable mail server is a temporary failure"
is "$(cat "$ERR")" "edu-notify: email: the mail server: Couldn't resolve host name" \
	"an unresolvable mail server: said as 'the mail server'"
is "$(grep -c 'example\.invalid' "$ERR")" 0 "an unresolvable mail server: its name is not printed"
EDU_SMTP_URL=mail.example.invalid:25 run edu-notify -C email "$T/msg"
is_status 78 "EDU_SMTP_URL without a scheme is a configuration error"
is "$(cat "$ERR")" "edu-notify: email: EDU_SMTP_URL is not an smtp:// or smtps:// URL" \
	"EDU_SMTP_URL without a scheme: the variable is named, not its value"
EDU_SLACK_WEBHOOK=https://hooks.example.invalid/services/T000/B000/secret-token \
	run edu-notify -C slack "$T/msg"
is_status 75 "an unresolvable webhook host is a temporary failure"
is "$(cat "$ERR")" "edu-notify: slack: the webhook: Couldn't resolve host name" \
	"an unresolvable webhook: said as 'the webhook'"
for token in busy:75 timeout:75 gone:69; do
	EDU_SLACK_WEBHOOK="$BASE/services/T000/B000/${token%:*}-token" run edu-notify -C slack "$T/msg"
	is_status "${token#*:}" "a webhook answering ${token%:*}"
	like_err '^edu-notify: slack: the webhook: HTTP status [0-9]+$' "webhook error: the status, not the URL"
	is "$(grep -c -e token -e 127.0.0.1 "$ERR")" 0 "webhook error: neither the URL nor the host is printed"
done

export EDU_SENDGRID_API_KEY="SG.test-key" EDU_SENDGRID_URL="$BASE/v3/mail/send"
run edu-notify -C sendgrid -S "dvf: 2 sources loaded" "$T/msg"
is_status 0 "sendgrid API call"
last=$(tail -n 1 "$HTTPD_LOG")
is "$(jq -r .headers.authorization <<<"$last")" "Bearer SG.test-key" "API key sent as a bearer token"
is "$(jq -r '.body | fromjson | .personalizations[0].to | map(.email) | join(" ")' <<<"$last")" \
	"ops@eduinfo.test data@eduinfo.test" "recipients in personalizations"
is "$(jq -r '.body | fromjson | .subject' <<<"$last")" "[eduinfo-pipeline] dvf: 2 sources loaded" "subject"
is "$(grep -c 'SG.test-key' "$ERR")" 0 "the key is never printed"

run edu-notify -C pigeon "$T/msg"
is_status 64 "unknown channel"
like_err "^edu-notify: -C pigeon: unknown channel" "names the bad channel"

unset EDU_MAIL_FROM
run edu-notify -C sendgrid "$T/msg"
is_status 78 "missing sender address"
like_err "^edu-notify: email: EDU_MAIL_FROM is not set" "names the missing variable"
