#!/bin/bash
# pipelines/ivac.sh on the real IVAC export excerpt (label header, BOM, CRLF): row counts, values
# checked against the raw file, idempotency, schema drift and a failing first stage refused with
# the table unchanged, the compatibility view metrics_colleges_2024.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"

raw=$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv
schema_db t0503
pl_source ivac "$raw"

pl_run ivac
is_status 0 "ivac loads the real export"
is "$(pl_summary)" "500/0/0/0" "summary line: 500 rows inserted"
like_out '^view=mv_colleges_with_metrics ' "the collèges view is refreshed"
is "$(sql 'select count(*) from colleges_indicateurs')" "$(($(wc -l <"$raw") - 1))" \
	"one row per data line of the file"
is "$(sql 'select count(*) from metrics_colleges_2024')" \
	"$(awk -F';' '$2 == "2024"' "$raw" | wc -l)" "metrics_colleges_2024 holds the 2024 session"

# Spot values, read from the raw file with awk, never typed in.
want=$(awk -F';' '$3 == "0150034F" && $2 == "2022" { print $13 "|" $14 "|" $15 "|" $16 "|" $17 "|" $18 "|" $12 }' "$raw")
is "$(sql "select concat_ws('|', nb_candidats_g, taux_reussite_g, va_taux_reussite_g, nb_candidats_p,
	taux_reussite_p, note_ecrit_g, secteur) from colleges_indicateurs
	where uai = '0150034F' and session = 2022")" "$want" "0150034F 2022: counts, rates, notes as in the file"
want=$(awk -F';' '$3 == "0150034F" && $2 == "2022" { print $7 "|" $9 "|" $11 "|" $22 "|" $23 "|" $24 "|" $25 }' "$raw")
is "$(sql "select concat_ws('|', libelle_region_academique, libelle_academie, libelle_departement,
	part_presents_3e_ord_total, part_presents_3e_ord_g, part_presents_3e_ord_p,
	coalesce(part_presents_3e_segpa_total::text, ''))
	from colleges_indicateurs where uai = '0150034F' and session = 2022")" "$want" \
	"0150034F 2022: the labels, the shares of pupils present in 3e (G, P, SEGPA) as in the file"
is "$(sql "select count(*) from colleges_indicateurs where part_presents_3e_segpa_total is not null")" \
	"$(awk -F';' 'NR > 1 && $25 != ""' "$raw" | wc -l)" "every SEGPA share of the file is loaded"
is "$(sql "select coalesce(nb_candidats_p::text, 'NULL') || ' ' || code_region_academique || ' ' ||
	code_academie || ' ' || code_departement from colleges_indicateurs
	where uai = '0150018N' and session = 2022")" "NULL 01 06 15" \
	"an empty field is NULL; codes keep their leading zeros"
is "$(sql "select count(*) from colleges_indicateurs where code_departement = '974'")" \
	"$(awk -F';' '$10 == "974"' "$raw" | wc -l)" "La Réunion (974) rows keep their 3-digit département"
is "$(sql "select count(*) from colleges_indicateurs where uai !~ '^[0-9]{7}[A-Z]\$'")" 0 \
	"every UAI is 7 digits and a check letter"

before=$(table_sum colleges_indicateurs)
pl_run ivac
is_status 0 "a second load of the same file"
is "$(pl_summary)" "0/0/0/500" "the second load inserts and updates nothing"
is "$(table_sum colleges_indicateurs)" "$before" "the table is unchanged"

imported=$(sql "select last_imported from monitoring.data_sources where id = 'ivac'")
pl_rename_header "$raw" 'Taux de réussite G' 'Taux de reussite G' "$T/drift.csv"
pl_source ivac "$T/drift.csv"
pl_run ivac
is_status 65 "a renamed column is refused"
like_err "schema drift: mapped columns missing from the input: 'Taux de réussite G'" \
	"edu-normalize names the missing column"
like_err '^pipelines/ivac.sh: edu-normalize failed \(exit 65\)' "the script names the failing stage"
is "$(table_sum colleges_indicateurs)" "$before" "schema drift: the table is unchanged"
is "$(sql "select last_imported from monitoring.data_sources where id = 'ivac'")" "$imported" \
	"schema drift: the freshness record is unchanged"

# The first stage fails (an unterminated quote), the later ones then see a truncated stream: the
# script reports the first failure, not the last.
{
	cat "$raw"
	printf '1;2024;0150018N;"COLLEGE\r\n'
} >"$T/bad.csv"
pl_source ivac "$T/bad.csv"
pl_run ivac
is_status 65 "a CSV error is the exit status of edu-csv2tsv"
like_err 'unterminated quoted field' "edu-csv2tsv says why"
like_err '^pipelines/ivac.sh: edu-csv2tsv failed \(exit 65\)' "the first failing stage is named"
is "$(table_sum colleges_indicateurs)" "$before" "bad CSV: the table is unchanged"

pl_source ivac "$T/absent.csv"
pl_run ivac
is_status 66 "a source that cannot be downloaded: edu-fetch's status"
like_err '^pipelines/ivac.sh: edu-fetch ivac failed \(exit 66\)' "the download is named as the failing stage"
is "$(table_sum colleges_indicateurs)" "$before" "failed download: the table is unchanged"
