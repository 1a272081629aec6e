#!/bin/bash
# The logs: check.log and import.log get one timestamped line per event (source, stage,
# outcome, counts, exit status, duration) from the production job and from a script run by
# hand; a password in DATABASE_URL, in each of its forms, reaches psql through PGPASSWORD, never
# its command line (that no secret reaches the logs, the report, a message or the history is
# the fault matrix's, tests/t/0870-faults-secrets.t); a log past its size becomes LOG.log.1; a
# log that cannot be written never stops a run.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/httpd.sh"
pl_job t0702
fx=$EDU_ROOT/tests/fixtures
echo '{"/hook/T000/B000/s3cret-hook-token": {"status": 200, "body": "ok"}}' >"$T/script.json"
httpd_start "$T/script.json" "$T/www"
. "$EDU_ROOT/tests/ops.sh"
ops_only ivac annuaire
ops_serve ivac "$fx/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv"
pl_rename_header "$fx/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv" \
	Nom_etablissement Nom_de_l_etablissement "$T/annuaire.csv"
ops_serve annuaire "$T/annuaire.csv"

# The database by URL, with a password (the test server trusts any), and psql watched: every
# psql the scripts run writes its arguments and whether it got PGPASSWORD.
export EDU_SLACK_WEBHOOK=$BASE/hook/T000/B000/s3cret-hook-token
export DATABASE_URL="postgresql://edu:Pa55-s3cret%40x@/t0702?host=$PGHOST&port=$PGPORT"
mkdir -p "$T/spy"
cat >"$T/spy/psql" <<EOF
#!/bin/bash
printf '%s\n' "\$*" >>"$T/psql.argv"
[ -z "\${PGPASSWORD:-}" ] || printf 'PGPASSWORD=%s\n' "\$PGPASSWORD" >>"$T/psql.pw"
exec /usr/bin/psql "\$@"
EOF
chmod +x "$T/spy/psql"
PATH=$T/spy:$PATH run bash "$EDU_ROOT/pipelines/refresh.sh"
is_status 65 "a run with a failing source"
is "$(sql 'select count(*) from colleges_indicateurs')" 500 "ivac loaded through DATABASE_URL"
is "$(history "unit = 'annuaire' and kind = 'load'")" "annuaire|load|normalize|failed|65" \
	"the failure recorded by psql, given the URL without its password"
ok "$(grep -q 'Pa55' "$T/psql.argv"; [ $? -eq 1 ]; echo $?)" "no password on psql's command line"
is "$(sort -u "$T/psql.pw")" "PGPASSWORD=Pa55-s3cret@x" "psql gets it, decoded, through PGPASSWORD"

log=$EDU_LOG_DIR
ts='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z '
job=$(sql "select job from monitoring.runs where unit = 'annuaire'")
is "$(grep -Ecv "$ts" "$log/check.log" "$log/import.log" | tr '\n' ' ')" \
	"$log/check.log:0 $log/import.log:0 " "every line starts with its UTC time"
for u in ivac annuaire; do
	ok "$(grep -Eq "$ts""source=$u unit=$u stage=check outcome=changed( status=0)? job=$job\$" "$log/check.log"; echo $?)" \
		"check.log: $u changed, with the job"
done
ok "$(grep -Eq "$ts""job=$job stage=job outcome=ok status=0 changed=2 seconds=[0-9.]+\$" "$log/check.log"; echo $?)" \
	"check.log: the check's own line"
ok "$(grep -Eq "$ts""source=ivac unit=ivac stage=load outcome=loaded status=0 inserted=500 updated=0 deleted=0 unchanged=0 seconds=[0-9.]+ job=$job script=pipelines/ivac.sh\$" "$log/import.log"; echo $?)" \
	"import.log: ivac loaded, with its counts and duration"
ok "$(grep -Eq "$ts""source=annuaire unit=annuaire stage=normalize outcome=failed status=65 seconds=[0-9.]+ job=$job script=pipelines/annuaire.sh error=\"edu-normalize: .*'Nom_etablissement'\"\$" "$log/import.log"; echo $?)" \
	"import.log: annuaire failed, with its stage, status and first diagnostic"
ok "$(grep -Eq "$ts""job=$job stage=views outcome=refreshed status=0 views=mv_colleges_with_metrics\$" "$log/import.log"; echo $?)" \
	"import.log: the views refreshed"
ok "$(grep -Eq "$ts""job=$job stage=job outcome=failed status=65 changed=2 loaded=1 failed=1 seconds=[0-9.]+\$" "$log/import.log"; echo $?)" \
	"import.log: the job's line"
# No secret in the logs, the report or the message, nor a redacted diagnostic: the fault matrix's
# secrets family (tests/t/0870-faults-secrets.t, S02 to S05) holds those refusals.

# By hand: one line more, without a job.
run bash "$EDU_ROOT/pipelines/ivac.sh" -R
is_status 0 "ivac.sh by hand"
is "$(tail -n 1 "$log/import.log" | sed -E "s/$ts//; s/seconds=[0-9.]+/seconds=S/")" \
	"source=ivac unit=ivac stage=load outcome=unchanged status=0 inserted=0 updated=0 deleted=0 unchanged=500 seconds=S script=pipelines/ivac.sh" \
	"import.log: the hand run's line"

# The other forms of a password in DATABASE_URL: a key=value string, a URI's query parameter,
# given to psql when a stage (a stand-in edu-fetch) fails and the script records it.
mkdir -p "$T/fake"
printf '#!/bin/sh\necho "edu-fetch: refused" >&2\nexit 75\n' >"$T/fake/edu-fetch"
chmod +x "$T/fake/edu-fetch"
cp -r "$EDU_ROOT/pipelines" "$T/pl"
: >"$T/psql.argv"
: >"$T/psql.pw"
for url in "host=$PGHOST port=$PGPORT dbname=t0702 user=edu password='kv s3cret\\'x'" \
	"postgresql:///t0702?host=$PGHOST&password=qp-s3cret&port=$PGPORT"; do
	DATABASE_URL=$url PATH=$T/fake:$T/spy:$PATH run bash "$T/pl/ivac.sh"
	is_status 75 "a failure recorded through DATABASE_URL=${url%%password*}…"
done
is "$(sql "select count(*) from monitoring.runs where unit = 'ivac' and outcome = 'failed'")" 2 "both recorded"
ok "$(grep -q 's3cret' "$T/psql.argv"; [ $? -eq 1 ]; echo $?)" "no password on psql's command line"
is "$(sort -u "$T/psql.pw" | tr '\n' '|')" "PGPASSWORD=kv s3cret'x|PGPASSWORD=qp-s3cret|" "psql gets each through PGPASSWORD"

# Bounded: past EDU_LOG_MAX_KB the log moves to LOG.log.1.
head -c 3000 /dev/zero | tr '\0' x >"$log/import.log"
EDU_LOG_MAX_KB=2 run bash "$EDU_ROOT/pipelines/ivac.sh" -R
is_status 0 "a run with a full log"
is "$(wc -l <"$log/import.log" | tr -d ' ')/$(wc -c <"$log/import.log.1" | tr -d ' ')" 1/3000 \
	"the old log moved aside, the new line alone"

# A log that cannot be written is said once, and the run goes on.
: >"$T/notadir"
EDU_LOG_DIR=$T/notadir/logs run bash "$EDU_ROOT/pipelines/ivac.sh" -R
is_status 0 "a run whose log cannot be written"
like_err "^pipelines/ivac.sh: $T/notadir/logs/import.log: cannot write the log\$" "says so"
