#!/bin/bash
# pipelines/ival.sh on the IVAL CSV export built from real API records: row counts, values checked
# against the JSON records (every field), the same rows whether loaded from the CSV or from the JSON (jq),
# idempotency, schema drift refused, the compatibility view aggregated_data_lycees_2024.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"

csv=$FIX/ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_export_built.csv
json=$FIX/ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_api-v2-records_pays-de-la-loire_first150.json
schema_db t0502
pl_source ival "$csv"

pl_run ival
is_status 0 "ival loads the CSV export"
is "$(pl_summary)" "150/0/0/0" "summary line: 150 rows inserted"
like_out '^view=mv_lycees_with_metrics ' "the lycées view is refreshed"
is "$(sql 'select count(*) from lycees_indicateurs')" "$(jq length "$json")" "one row per record"
is "$(sql 'select count(*) from aggregated_data_lycees_2024')" \
	"$(jq '[.[] | select(.record.fields.annee == "2024")] | length' "$json")" \
	"aggregated_data_lycees_2024 holds the 2024 rows"

rec() { jq -r --arg u "$1" ".[] | .record.fields | select(.uai == \$u) | $2" "$json"; }
is "$(sql "select concat_ws('|', presents_total, taux_reu_total::float8, va_reu_total::float8,
	taux_acces_2nde::float8, va_acces_2nde::float8, eff_2nde, nb_mentions_tb_avecf_g, secteur)
	from lycees_indicateurs where uai = '0530048P'")" \
	"$(rec 0530048P '[.presents_total, .taux_reu_total, .va_reu_total, .taux_acces_2nde,
		.va_acces_2nde, .eff_2nde, .nb_mentions_tb_avecf_g, .secteur] | map(tostring) | join("|")')" \
	"0530048P: counts, rates and negative value added as in the record"
is "$(sql "select count(*) from lycees_indicateurs where taux_acces_1ere is null")" \
	"$(jq '[.[] | select(.record.fields.taux_acces_1ere == null)] | length' "$json")" "JSON null is NULL"
is "$(sql "select code_departement || ' ' || code_commune from lycees_indicateurs where uai = '0530048P'")" \
	"$(rec 0530048P '.code_departement + " " + .code_commune')" "codes kept as text"

# Every field of every record but num_ligne (the portal's row number), read back from the table;
# ND, NC and NS (not published) are NULL.
fields=$(jq -r '.[0].record.fields | keys_unsorted - ["num_ligne"] | join(",")' "$json")
jq -r --arg f "$fields" '($f | split(",")) as $k | ($k | join(",")),
	(.[] | .record.fields | [.[$k[]] | if IN("ND", "NC", "NS") then null else . end] | @csv)' \
	"$json" >"$T/records.csv"
psql -X -q --csv -c "select $fields from lycees_indicateurs" >"$T/table.csv"
run pl_same_rows "$T/records.csv" "$T/table.csv"
is "$(head -n 1 "$OUT")" "150 150 150" "every field of every record is in the table ($(echo "$fields" | tr ',' '\n' | wc -l) fields)"

before=$(table_sum lycees_indicateurs)
pl_run ival
is "$(pl_summary)" "0/0/0/150" "the second load inserts and updates nothing"
is "$(table_sum lycees_indicateurs)" "$before" "the table is unchanged"

# The API records, converted with jq, give the same rows: loading them over the CSV's writes nothing.
run_sh "jq -r 'def f: if . == null then \"\\\\N\" else ([tostring] | @tsv) end;
	(.[0].record.fields | keys_unsorted | join(\"\\t\")),
	(.[] | .record.fields | [.[]] | map(f) | join(\"\\t\")), \"\\\\.\"' '$json' |
	edu-normalize -M '$PIPE/ival.map' | edu-pgcopy -k uai,annee lycees_indicateurs"
is_status 0 "the JSON records load through the same mapping"
is "$(pl_summary)" "0/0/0/150" "JSON and CSV give the same 150 rows"

pl_rename_header "$csv" ';taux_reu_total;' ';taux_reussite_total;' "$T/drift.csv"
pl_source ival "$T/drift.csv"
pl_run ival
is_status 65 "a renamed field is refused"
like_err "schema drift: mapped columns missing from the input: 'taux_reu_total'" "the missing field is named"
is "$(table_sum lycees_indicateurs)" "$before" "schema drift: the table is unchanged"
