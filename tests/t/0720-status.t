#!/bin/bash
# The freshness report (pipelines/status.sh, make status): each source OK, WARN, STALE or FAILING
# against its warn_after/error_after (or its cadence's defaults); the terminal report and the
# markdown file with its SVG chart; exit 2 when a source is STALE or FAILING, so that
# `make status` fails; -q is silent unless something is wrong; bad policies are refused.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
unset EDU_SLACK_WEBHOOK EDU_SMTP_URL EDU_SENDGRID_API_KEY EDU_RUN_ID
schema_db t0720
fx=$EDU_ROOT/tests/fixtures
. "$EDU_ROOT/tests/ops.sh"
ops_only ivac onisep annuaire
jq '.sources |= map(if .id == "onisep" then .warn_after = "2d" | .error_after = "5d" else . end)' \
	"$EDU_SOURCES" >"$T/s.json" && mv "$T/s.json" "$EDU_SOURCES"
pl_source ivac "$fx/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv"
pl_source onisep "$fx/onisep/ideo-structures-secondaire_built.csv"
pl_source annuaire "$fx/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv"
md=$T/report/STATUS.md
status() { run bash "$EDU_ROOT/pipelines/status.sh" -o "$md" "$@"; }

status
is_status 2 "nothing imported yet"
for id in ivac onisep annuaire; do
	like_out "^$id +STALE +never " "$id is STALE, never imported"
done

for id in ivac onisep annuaire; do pl_run "$id" -R; done
edu-ifmodified annuaire >/dev/null 2>&1
status
is_status 0 "every source just loaded"
like_out '^ivac +OK +0m +366d, 731d ' "ivac OK, against its cadence's default policy (yearly)"
like_out '^onisep +OK +0m +2d, 5d ' "onisep OK, against its own policy"
like_out '^annuaire +OK +0m +36h, 3d ' "annuaire OK, daily"
like_out '^annuaire .* 2[0-9]{3}-[0-9]{2}-[0-9]{2} [0-9:]{5}Z +(-|[0-9-]+ [0-9:]+Z) +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{5}Z +[0-9]{3,} ' \
	"last check, last change, last import and rows"
ok "$(grep -q '^| onisep | \*\*OK\*\* | 0m | 2d, 5d | ' "$md"; echo $?)" "the markdown table"
ok "$(grep -q '^## Last runs' "$md" && grep -q '^## Rows over time' "$md"; echo $?)" "with the runs and the rows over time"
ok "$(grep -qF '![rows of each source over time](STATUS.svg)' "$md"; echo $?)" "which shows the chart beside it"
run /usr/bin/python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); print(d.documentElement.tagName, len(d.getElementsByTagName("rect")))' "$T/report/STATUS.svg"
is "$(cat "$OUT")" "svg 3" "the chart is an SVG with a panel per source"
pl_run ivac -R
status
like_out '^ivac +(▁|▂|▃|▄|▅|▆|▇|█){2} +500 → 500$' "ivac's rows over its two loads"
status -q
is_status 0 "-q when all is well"
empty_out "says nothing"

# Time passes: onisep past its warn_after, annuaire past its error_after.
sql "update monitoring.data_sources set last_imported = now() - interval '3 days',
	last_checked = now() - interval '3 days', last_checked_ok = null where id = 'onisep'"
status
is_status 0 "a source past warn_after only"
like_out '^onisep +WARN +3d +2d, 5d ' "onisep is WARN"
sql "update monitoring.data_sources set last_imported = now() - interval '4 days',
	last_checked = now() - interval '4 days', last_checked_ok = null where id = 'annuaire'"
status -q
is_status 2 "a STALE source"
like_out '^annuaire +STALE +4d +36h, 3d ' "-q prints the report when a source is STALE"
run env EDU_STATUS_FILE="$T/make/STATUS.md" make -s -C "$EDU_ROOT" status
ok "$([ "$status" -ne 0 ]; echo $?)" "make status exits non-zero"
ok "$([ -s "$T/make/STATUS.md" ] && grep -q '^| annuaire | \*\*STALE\*\* | 4d |' "$T/make/STATUS.md"; echo $?)" \
	"and writes the report where EDU_STATUS_FILE says"
# A check that succeeds makes the source fresh again, with no new import.
sql "update monitoring.data_sources set last_checked_ok = now() where id = 'annuaire'"
status
like_out '^annuaire +OK +0m ' "verified unchanged upstream: OK again"

# A failed load: FAILING, with its last error, until a load succeeds.
pl_rename_header "$fx/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv" \
	Nom_etablissement Nom_de_l_etablissement "$T/annuaire.csv"
pl_source annuaire "$T/annuaire.csv"
pl_run annuaire -R
status
is_status 2 "a failing source"
like_out "^annuaire +FAILING .* annuaire at normalize \(exit 65\): edu-normalize: stdin:1: schema drift" \
	"FAILING with its last error"
like_out '^[0-9-]+ [0-9:]+Z +annuaire +load +normalize +failed +65 ' "in the last runs"
pl_source annuaire "$fx/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv"
pl_run annuaire -R
status
is_status 0 "the source loads again"
like_out '^annuaire +OK ' "OK"

# Policies that cannot be read, and failures of the report itself.
cp "$EDU_SOURCES" "$T/good.json"
for p in '"warn_after": "3x"' '"warn_after": "9d", "error_after": "2d"' '"cadence": "hourly"'; do
	jq ".sources |= map(if .id == \"ivac\" then del(.warn_after, .error_after) + {$p} else . end)" "$T/good.json" >"$EDU_SOURCES"
	status
	is_status 78 "policy {$p}"
	like_err "^pipelines/status.sh: $EDU_SOURCES: source ivac: warn_after .*: not durations like 36h or 8d, warn before error" "named"
done
cp "$T/good.json" "$EDU_SOURCES"
DATABASE_URL="postgresql:///t0720?host=$T/nosuchdir" status
is_status 75 "the database cannot be read"
like_err '^pipelines/status.sh: cannot read the history: ' "says so"
: >"$T/file"
run bash "$EDU_ROOT/pipelines/status.sh" -o "$T/file/STATUS.md"
is_status 74 "the report cannot be written"
like_err "^pipelines/status.sh: $T/file/STATUS.svg: cannot write the report\$" "says which file"
