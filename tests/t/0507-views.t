#!/bin/bash
# Every pipeline into one database, then what the app reads: mv_lycees_with_metrics and
# mv_colleges_with_metrics for a known lycée (IVAL + ONISEP) and a known collège (IVAC + annuaire
# + ONISEP), compared with the values of the raw files.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"

schema_db t0507
pl_source onisep "$FIX/onisep/ideo-structures-secondaire_built.csv"
pl_source ival "$FIX/ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_export_built.csv"
pl_source ivac "$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv"
pl_source annuaire "$FIX/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv"
for s in onisep ival ivac annuaire; do
	pl_run "$s"
	is_status 0 "pipelines/$s.sh"
done

json=$FIX/ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_api-v2-records_pays-de-la-loire_first150.json
is "$(sql "select count(*) from mv_lycees_with_metrics")" "$(jq length "$json")" \
	"mv_lycees_with_metrics: one row per IVAL row"
is "$(sql "select concat_ws('|', nom_etablissement, type_etablissement, libelle_commune, taux_reu_total::float8,
	va_reu_total::float8) from mv_lycees_with_metrics where uai = '0530048P' and annee = 2024")" \
	"$(jq -r '.[] | .record.fields | select(.uai == "0530048P") |
		[.libelle_uai, "lycée général, technologique ou polyvalent", .libelle_commune, .taux_reu_total,
		 .va_reu_total] | map(tostring) | join("|")' "$json")" \
	"a known lycée: ONISEP's name and type beside IVAL's indicators"

a23=$FIX/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv
ivac=$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv
is "$(sql "select concat_ws('|', nom_etablissement, adresse, code_postal, code_commune, taux_reussite_g,
	va_taux_reussite_g, url_onisep) from mv_colleges_with_metrics where uai = '0350963G' and session = 2023")" \
	"$(awk -F';' '$1 == "0350963G" { print $2 "|" $5 "|" $8 "|" $9 }' "$a23")|$(awk -F';' \
		'$3 == "0350963G" && $2 == "2023" { print $14 "|" $15 }' "$ivac")|$(awk -F';' \
		'$1 == "0350963G" { print $42 }' "$a23")" \
	"a known collège: the annuaire's name and address, IVAC's rates, ONISEP's link"
is "$(sql "select count(*) from mv_colleges_with_metrics where uai = '0350963G' and geom is not null
	and st_x(geom) between -1.8 and -1.5 and st_y(geom) between 48.0 and 48.2")" 1 \
	"the collège's point is in Rennes"
