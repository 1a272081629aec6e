#!/bin/bash
# pipelines/refresh.sh, the production job: the changed sources load in parallel, a failing one
# does not stop the others and leaves its table unchanged, the views of the loaded sources are
# refreshed, the report goes to stdout and to Slack (a loopback receiver), the exit status is
# the failed source's, a second run only retries what failed, and two runs never overlap.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
unset EDU_SLACK_WEBHOOK EDU_SMTP_URL EDU_SENDGRID_API_KEY
export EDU_LOCK=$T/refresh.lock

schema_db t0509
fx=$EDU_ROOT/tests/fixtures
pl_source ivac "$fx/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv"
pl_source ival "$fx/ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_export_built.csv"
# The annuaire as a publisher that renamed a column: schema drift, refused.
pl_rename_header "$fx/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv" \
	Nom_etablissement Nom_de_l_etablissement "$T/annuaire.csv"
pl_source annuaire "$T/annuaire.csv"

# The loopback server as Slack's webhook.
. "$EDU_ROOT/tests/httpd.sh"
echo '{"/hook": {"status": 200, "body": "ok"}}' >"$T/script.json"
httpd_start "$T/script.json"

run bash "$EDU_ROOT/pipelines/refresh.sh" -n ivac ival annuaire
is_status 65 "the dry run meets the failure a real run would"
like_out '^ivac: would load: table=colleges_indicateurs inserted=500 ' "dry run says what each source would load"
is "$(sql 'select count(*) from colleges_indicateurs')" 0 "dry run loads nothing"

EDU_SLACK_WEBHOOK="$BASE/hook"
export EDU_SLACK_WEBHOOK
run bash "$EDU_ROOT/pipelines/refresh.sh" ivac ival annuaire
is_status 65 "a failed source makes the run fail with its status"
like_out '^ivac: loaded: table=colleges_indicateurs inserted=500 ' "ivac loaded"
like_out '^ival: loaded: table=lycees_indicateurs inserted=150 ' "ival loaded, in parallel with the others"
like_out '^annuaire: FAILED \(exit 65\): .*Nom_etablissement' "annuaire failed, with the missing column named"
like_out '^views: .*mv_colleges_with_metrics' "the collèges view is refreshed"
like_out '^views: .*mv_lycees_with_metrics' "the lycées view is refreshed"
is "$(sql 'select count(*) from annuaire_etablissements')" 0 "the failed source's table is unchanged"
is "$(sql 'select count(*) from mv_colleges_with_metrics')" 500 "the view shows the loaded rows"
is "$(jq -r '.body | fromjson | .text' "$HTTPD_LOG" | head -n 1)" \
	"[eduinfo-pipeline] ERROR: refresh: 2 loaded, 1 failed" "the team is told, as an error"
run grep -c 'annuaire: FAILED' "$HTTPD_LOG"
is "$(cat "$OUT")" 1 "the message carries the report"

run bash "$EDU_ROOT/pipelines/refresh.sh" ivac ival annuaire
is_status 65 "the second run retries the failed source only"
is "$(grep -c ': loaded: ' "$OUT")" 0 "nothing else is loaded again"
like_out '^annuaire: FAILED' "annuaire still fails"

pl_source annuaire "$fx/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv"
run bash "$EDU_ROOT/pipelines/refresh.sh" ivac ival annuaire
is_status 0 "the publisher fixed the file"
like_out '^annuaire: loaded: table=annuaire_sites inserted=[1-9]' "annuaire loads"
is "$(jq -r '.body | fromjson | .text' "$HTTPD_LOG" | tail -n +1 | grep -c '^\[eduinfo-pipeline\] refresh: 1 loaded, 0 failed')" 1 \
	"a success is reported as info"

run bash "$EDU_ROOT/pipelines/refresh.sh" ivac ival annuaire
is_status 0 "nothing changed"
is "$(cat "$OUT")" "refresh: no source changed since its last import" "says nothing changed"

exec 8>>"$EDU_LOCK"
flock -n 8
run bash "$EDU_ROOT/pipelines/refresh.sh" ivac
is_status 75 "a run while another holds the lock"
like_err "another refresh holds $EDU_LOCK" "says why"
exec 8>&-

run bash "$EDU_ROOT/pipelines/refresh.sh" -j x ivac
is_status 64 "a bad -j"
