#!/bin/bash
# The status tells the truth: each scenario of the table "What the status says, scenario by
# scenario" in docs/OPERATIONS.md, played through the production job (pipelines/refresh.sh)
# against the loopback server, then read with `make status`. FAILING means the table does not
# hold the publisher's current content because the last attempt to load it failed: a later check
# that finds the imported content again (the publisher reverted) clears it, as a load does; a
# check that fails on the network does not make a fresh source FAILING; a year of DVF that fails
# makes dvf FAILING while its other years load.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/httpd.sh"
pl_job t0721
export EDU_STATUS_FILE=$T/status/STATUS.md
annuaire=$FIX/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv
ival=$FIX/ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_export_built.csv
geo=$FIX/dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv

echo '{"/down/ival": {"status": 503, "body": "maintenance"}, "/gone/ival": {"status": 404, "body": "no such dataset"}}' \
	>"$T/script.json"
httpd_start "$T/script.json" "$T/www"
. "$EDU_ROOT/tests/ops.sh"
ops_only annuaire ival dvf
geo_year() { # geo_year YEAR FILE: the geo-DVF file FILE moved to YEAR, published
	mkdir -p "$T/www/geo/$1"
	sed "s/^2025-\([0-9]*\),2025-/$1-\1,$1-/" "$2" | pl_gzip /dev/stdin "$T/www/geo/$1/full.csv.gz.tmp" &&
		mv "$T/www/geo/$1/full.csv.gz.tmp" "$T/www/geo/$1/full.csv.gz"
}
geo_year 2023 "$geo"
geo_year 2024 "$geo"
jq --arg b "$BASE" '.sources |= map(if .id == "dvf"
	then .url = $b + "/geo/{year}/full.csv.gz" | .years.url = $b + "/geo/" else . end)' \
	"$EDU_SOURCES" >"$T/s.json" && mv "$T/s.json" "$EDU_SOURCES"
ops_serve annuaire "$annuaire"
ops_serve ival "$ival"
pl_rename_header "$annuaire" Nom_etablissement Nom_de_l_etablissement "$T/annuaire-drift.csv"

job() { run bash "$EDU_ROOT/pipelines/refresh.sh"; }
mstatus() { run make -s -C "$EDU_ROOT" status; } # the report in $OUT, its exit status in $status
state() { # state ID: the state of ID in the last report
	awk -v id="$1" '$1 == id { print $2; exit }' "$OUT"
}

job
is_status 0 "the first run loads every source"
mstatus
is "$(state annuaire) $(state ival) $(state dvf) $status" "OK OK OK 0" "make status: all OK"

# 1. The publisher's file fails to load, then the publisher puts the imported file back.
ops_serve annuaire "$T/annuaire-drift.csv"
before=$(table_sum annuaire_sites)
job
is_status 65 "a renamed column: the load is refused"
is "$(table_sum annuaire_sites)" "$before" "the table is kept"
mstatus
is "$(state annuaire) $status" "FAILING 2" "1. make status: annuaire FAILING, exit 2"
like_out '^annuaire +FAILING .*annuaire at normalize \(exit 65\): edu-normalize: stdin:1: schema drift' \
	"with its last error"
ops_serve annuaire "$annuaire"
job
is_status 0 "the publisher reverted to the imported file"
is "$(cat "$OUT")" "refresh: no source changed since its last import" "nothing to load"
is "$(sql "select outcome from monitoring.runs where unit = 'annuaire' order by id desc limit 1")" unchanged \
	"the check found the imported content"
mstatus
is "$(state annuaire) $status" "OK 0" "1. make status: annuaire OK again, exit 0, with no new import"
like_out '^annuaire +OK .*annuaire at normalize \(exit 65\)' "the last error is still shown"

# 2. A failure, then a new good file: it loads, OK.
ops_serve annuaire "$T/annuaire-drift.csv"
job
is_status 65 "the renamed column again"
mstatus
is "$(state annuaire)" FAILING "FAILING"
head -n -3 "$annuaire" >"$T/annuaire-new.csv"
ops_serve annuaire "$T/annuaire-new.csv"
job
is_status 0 "the publisher's next file"
like_out '^annuaire: loaded: table=annuaire_sites inserted=0 updated=0 deleted=3 ' "loads"
mstatus
is "$(state annuaire) $status" "OK 0" "2. make status: OK"

# 3. A failure, then nothing else published for longer than error_after: FAILING every night,
# never taken for STALE nor cleared by the checks that see the same bad file.
ops_serve annuaire "$T/annuaire-drift.csv"
job
job
is_status 65 "the bad file, night after night"
sql "update monitoring.runs set started = started - interval '4 days', finished = finished - interval '4 days'
	where unit = 'annuaire'" >/dev/null
sql "update monitoring.data_sources set last_imported = last_imported - interval '4 days',
	last_checked = last_checked - interval '4 days', last_checked_ok = last_checked_ok - interval '4 days'
	where id = 'annuaire'" >/dev/null
job
is_status 65 "four days later (error_after 3d), the same bad file"
mstatus
is "$(state annuaire) $status" "FAILING 2" "3. make status: FAILING, not STALE, exit 2"
ops_serve annuaire "$T/annuaire-new.csv"
job
is_status 0 "the publisher puts the imported file back"
mstatus
is "$(state annuaire) $status" "OK 0" "OK"

# 4. The check fails on the network while the data is fresh: not FAILING.
jq --arg b "$BASE" '.sources |= map(if .id == "ival" then .url = $b + "/down/ival" else . end)' \
	"$EDU_SOURCES" >"$T/s.json" && mv "$T/s.json" "$EDU_SOURCES"
job
is_status 75 "the check fails with 503"
like_out '^ival: check FAILED \(exit 75\): ' "the job says so"
mstatus
is "$(state ival) $status" "OK 0" "4. make status: ival OK (checked or imported within warn_after), exit 0"
like_out '^ival +OK .*ival at check \(exit 75\)' "with the last error"
sql "update monitoring.data_sources set last_imported = last_imported - interval '400 days',
	last_checked_ok = last_checked_ok - interval '400 days' where id = 'ival'" >/dev/null
mstatus
is "$(state ival) $status" "WARN 0" "4. the checks keep failing past warn_after (366d): WARN"
sql "update monitoring.data_sources set last_imported = last_imported - interval '400 days',
	last_checked_ok = last_checked_ok - interval '400 days' where id = 'ival'" >/dev/null
mstatus
is "$(state ival) $status" "STALE 2" "4. past error_after (731d): STALE, exit 2"

# 5. The check fails for good (the dataset is gone: 404): FAILING until a check succeeds.
jq --arg b "$BASE" '.sources |= map(if .id == "ival" then .url = $b + "/gone/ival" else . end)' \
	"$EDU_SOURCES" >"$T/s.json" && mv "$T/s.json" "$EDU_SOURCES"
sql "update monitoring.data_sources set last_imported = now(), last_checked_ok = now() where id = 'ival'" >/dev/null
job
is_status 69 "the check fails with 404"
mstatus
is "$(state ival) $status" "FAILING 2" "5. make status: FAILING, exit 2"
like_out '^ival +FAILING .*ival at check \(exit 69\)' "with the reason"
ops_serve ival "$ival"
job
is_status 0 "the URL fixed"
mstatus
is "$(state ival) $status" "OK 0" "5. OK once a check succeeds"

# 6. One year of DVF fails while the other loads: dvf FAILING, naming the year; the year's file
# put back as imported (same bytes, same validators): OK.
cp -p "$T/www/geo/2024/full.csv.gz" "$T/dvf2024.gz"
pl_rename_header "$geo" date_mutation date_de_mutation "$T/geo-drift.csv"
geo_year 2024 "$T/geo-drift.csv"
head -n 60 "$geo" >"$T/geo-new.csv"
geo_year 2023 "$T/geo-new.csv"
job
is_status 65 "dvf:2024 fails"
like_out '^dvf:2023: loaded: table=dvf_mutations inserted=0 updated=0 deleted=[1-9]' "dvf:2023 loads"
like_out '^dvf:2024: FAILED \(exit 65\)' "dvf:2024 fails"
mstatus
is "$(state dvf) $status" "FAILING 2" "6. make status: dvf FAILING, exit 2"
like_out '^dvf +FAILING .*dvf:2024 at normalize \(exit 65\)' "naming the year"
cp -p "$T/dvf2024.gz" "$T/www/geo/2024/full.csv.gz"
job
is_status 0 "the 2024 file put back"
is "$(cat "$OUT")" "refresh: no source changed since its last import" "nothing to load"
mstatus
is "$(state dvf) $status" "OK 0" "6. make status: dvf OK"
mstatus
is "$(state annuaire) $(state ival)" "OK OK" "the other sources untouched"
