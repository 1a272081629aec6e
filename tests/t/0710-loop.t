#!/bin/bash
# The production job's whole loop on loopback: sources served by the loopback HTTP server, the
# team's Slack webhook on the same server, their mailbox an aiosmtpd sink. Two sources changed
# (one new, one with establishments added and removed), one unchanged, one failing: the right
# tables load, the failing one stays untouched and is FAILING in the history and the status
# report, one message reaches each channel with the counts (and the new keys, with their
# names); the next runs send nothing when nothing changed; two runs never overlap.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/httpd.sh"
pl_job t0710
export EDU_STATUS_FILE=$T/status/STATUS.md
fx=$EDU_ROOT/tests/fixtures
onisep=$fx/onisep/ideo-structures-secondaire_built.csv
annuaire=$fx/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv

echo '{"/hook/T000/B000/secret-token": {"status": 200, "body": "ok"}}' >"$T/script.json"
httpd_start "$T/script.json" "$T/www"
. "$EDU_ROOT/tests/ops.sh"
smtp_start
export EDU_SLACK_WEBHOOK=$BASE/hook/T000/B000/secret-token
ops_only ival ivac onisep annuaire

# Before: ival and onisep loaded, onisep as published before three establishments opened and
# while one that has since closed was still listed.
# (the closed one: the first establishment's row, another UAI and name: the 1st and 4th cells)
{ head -n 1 "$onisep"; tail -n +5 "$onisep"; sed -n '2s/^[^;]*;\([^;]*;[^;]*;\)"[^"]*"/0359999D;\1"Collège Fermé"/p' "$onisep"; } \
	>"$T/onisep-old.csv"
ops_serve onisep "$T/onisep-old.csv"
ops_serve ival "$fx/ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_export_built.csv"
ops_serve ivac "$fx/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv"
pl_rename_header "$annuaire" Nom_etablissement Nom_de_l_etablissement "$T/annuaire-drift.csv"
ops_serve annuaire "$T/annuaire-drift.csv"
run bash "$EDU_ROOT/pipelines/refresh.sh" ival onisep
is_status 0 "the first run loads ival and onisep"
is "$(sql 'select count(*) from onisep_etablissements')" 61 "onisep as first published"
is "$(slacks)/$(mails)" 1/1 "the change is told on both channels"

# The publisher's update: ivac is new, three establishments opened and one closed in onisep,
# ival is the same file, and the annuaire renamed a column (schema drift).
ops_serve onisep "$onisep"
run bash "$EDU_ROOT/pipelines/refresh.sh"
is_status 65 "a failed source makes the run fail with its status"
like_out '^ivac: loaded: table=colleges_indicateurs inserted=500 updated=0 deleted=0 ' "ivac loaded"
like_out '^onisep: loaded: table=onisep_etablissements inserted=3 updated=0 deleted=1 ' "onisep: three new, one gone"
like_out '^annuaire: FAILED \(exit 65\): at normalize: edu-normalize: .*Nom_etablissement' \
	"annuaire failed: stage, exit status and first diagnostic"
is "$(grep -c '^ival' "$OUT")" 0 "ival is unchanged upstream: not loaded"
is "$(sql 'select count(*) from colleges_indicateurs')/$(sql 'select count(*) from onisep_etablissements')" \
	500/63 "the changed sources' tables are loaded"
is "$(sql 'select count(*) from annuaire_etablissements')" 0 "the failing source's table is untouched"
job=$(sql "select job from monitoring.runs where unit = 'annuaire' order by id desc limit 1")
ok "$([ -n "$job" ]; echo $?)" "the failure is in the history, with the job's id"
is "$(history "job = '$job' and kind = 'load' and unit = 'annuaire'")" "annuaire|load|normalize|failed|65" \
	"the failing source's history row: stage, outcome, exit status"
is "$(slacks)/$(mails)" 2/2 "one message on each channel"
msg=$(jq -rs '[.[] | select(.method == "POST")][1].body | fromjson | .text' "$HTTPD_LOG")
case $msg in "[eduinfo-pipeline] ERROR: refresh: 2 loaded, 1 failed"*) r=0 ;; *) r=1 ;; esac
ok "$r" "the Slack message is an error with the counts"
for want in 'ivac: loaded: table=colleges_indicateurs inserted=500' 'onisep: loaded: .* inserted=3 updated=0 deleted=1' \
	'annuaire: FAILED \(exit 65\): at normalize: edu-normalize: .*Nom_etablissement'; do
	ok "$(grep -Eq "$want" <<<"$msg"; echo $?)" "Slack is told: $want"
done
mail=$(find "$T/mail/new" -type f -printf "%T@ %p\n" | sort -n | tail -n 1 | cut -d" " -f2-)
ok "$(grep -q 'onisep: loaded: .* inserted=3 updated=0 deleted=1' "$mail"; echo $?)" "the mail has the counts"
k=$(sed -n '2p' "$onisep" | cut -d';' -f1,4 | tr -d '\357\273\277"' | tr ';' ' ')
ok "$(grep -qF "onisep: 3 new: " <<<"$msg" && grep -qF "$k" <<<"$msg"; echo $?)" "the new establishments with their names"
ok "$(grep -qF 'onisep: 1 removed: 0359999D Collège Fermé' <<<"$msg"; echo $?)" "the closed one with its name"
ok "$(grep -qF "$k" "$mail"; echo $?)" "the mail names them too"

run bash "$EDU_ROOT/pipelines/status.sh"
is_status 2 "the status report fails"
like_out '^annuaire +FAILING ' "annuaire is FAILING"
like_out '^annuaire .*normalize \(exit 65\): edu-normalize' "with its last error"
for id in ival ivac onisep; do
	like_out "^$id +OK " "$id is OK"
done
ok "$(grep -q '^| annuaire | \*\*FAILING\*\* |' "$EDU_STATUS_FILE"; echo $?)" "the markdown report says FAILING"

# The publisher fixes the file: the annuaire loads, and is told.
ops_serve annuaire "$annuaire"
run bash "$EDU_ROOT/pipelines/refresh.sh"
is_status 0 "the fixed source loads"
like_out '^annuaire: loaded: table=annuaire_[a-z]+ inserted=[1-9]' "annuaire loaded"
is "$(grep -c ': loaded: ' "$OUT")" 1 "only the annuaire"
is "$(slacks)/$(mails)" 3/3 "a change in the data is told"
run bash "$EDU_ROOT/pipelines/status.sh"
is_status 0 "every source is OK"

# Nothing changed: nothing is loaded, nothing is sent, unless asked.
run bash "$EDU_ROOT/pipelines/refresh.sh"
is_status 0 "nothing changed"
is "$(cat "$OUT")" "refresh: no source changed since its last import" "says so"
is "$(slacks)/$(mails)" 3/3 "and sends nothing"
run bash "$EDU_ROOT/pipelines/refresh.sh" -A
is_status 0 "nothing changed, report asked for"
is "$(slacks)/$(mails)" 4/4 "sent when asked (-A)"

# Two runs at once: the second finds the lock held and changes nothing.
jq --arg b "$BASE" '.["/slow/ivac"] = {"status": 200, "body_file": "ivac.csv", "delay": 3}' "$T/script.json" >"$T/s.json" &&
	mv "$T/s.json" "$T/script.json"
cp "$fx/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv" "$T/ivac.csv"
jq --arg u "$BASE/slow/ivac" '.sources |= map(if .id == "ivac" then .url = $u else . end)' "$EDU_SOURCES" >"$T/s.json" &&
	mv "$T/s.json" "$EDU_SOURCES"
bash "$EDU_ROOT/pipelines/refresh.sh" ivac >"$T/first.out" 2>&1 &
first=$!
wait_for asked /slow/ivac
before=$(table_sum colleges_indicateurs)
run bash "$EDU_ROOT/pipelines/refresh.sh" ivac
is_status 75 "a run while another runs"
like_err "another refresh holds $EDU_LOCK: try again later" "says why"
wait "$first"
is "$?" 0 "the first run ends well"
is "$(table_sum colleges_indicateurs)" "$before" "the table is as the first run left it"

# Bounded history: runs older than EDU_HISTORY_DAYS go, the newest 20 of each unit stay.
sql "insert into monitoring.runs (unit, source, kind, started, finished, outcome)
	select 'oldsrc', 'oldsrc', 'check', now() - make_interval(days => 500 + i), now() - make_interval(days => 500 + i),
		'unchanged' from generate_series(1, 30) i"
EDU_HISTORY_DAYS=1000 run bash "$EDU_ROOT/pipelines/refresh.sh" ival
is "$(sql "select count(*) from monitoring.runs where unit = 'oldsrc'")" 30 "kept while younger than EDU_HISTORY_DAYS"
EDU_HISTORY_DAYS=400 run bash "$EDU_ROOT/pipelines/refresh.sh" ival
is_status 0 "a run that prunes"
is "$(sql "select count(*) || ' ' || (min(finished) at time zone 'UTC')::date from monitoring.runs where unit = 'oldsrc'")" \
	"20 $(date -u -d '520 days ago' +%F)" "then only the newest 20"
