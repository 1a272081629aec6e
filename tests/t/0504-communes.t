#!/bin/bash
# pipelines/communes.sh on real geo.api.gouv.fr responses (jq → contract): row count, centre
# coordinates → point in France, communes without a centre kept with NULLs, zero-padded codes,
# idempotency, a cut JSON download refused. Then the INSEE COG file through the same tools and
# pipelines/communes-cog.map: Corsica 2A/2B, overseas départements, Paris/Lyon/Marseille
# arrondissements and their parent commune.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"

geo=$FIX/insee-communes/geo-api-communes_fields-code-nom-centre
# One array as the API answers it: the first 500 communes (dept 01) and the last 60 (no centre).
jq -c -s add "${geo}_first500.json" "${geo}_last60.json" >"$T/communes.json"
schema_db t0504
pl_source communes "$T/communes.json"

pl_run communes
is_status 0 "communes loads the geo.api JSON"
is "$(pl_summary)" "560/0/0/0" "summary line: 560 rows inserted"
is "$(sql 'select count(*) from communes')" "$(jq length "$T/communes.json")" "one row per commune"
is "$(sql "select nom || ' ' || longitude || ' ' || latitude from communes where code_insee = '01001'")" \
	"$(jq -r '.[] | select(.code == "01001") | "\(.nom) \(.centre.coordinates[0]) \(.centre.coordinates[1])"' "$T/communes.json")" \
	"01001: name and centre as in the JSON, code zero-padded"
is "$(sql "select st_x(geom) || ' ' || st_y(geom) from communes
	where code_insee = '01001'")" \
	"$(jq -r '.[] | select(.code == "01001") | .centre.coordinates | map(tostring) | join(" ")' "$T/communes.json")" \
	"the point is computed from centre.coordinates (lon, lat)"
is "$(sql 'select count(*) from communes where geom is null and longitude is null')" \
	"$(jq '[.[] | select(.centre == null)] | length' "$T/communes.json")" \
	"communes without a centre are kept, with NULL coordinates"
is "$(pl_outside_france communes)" 0 "every point lies in France"
is "$(sql "select count(*) from communes where code_insee !~ '^[0-9][0-9AB][0-9]{3}\$'")" 0 \
	"every code is 5 characters"

before=$(table_sum communes)
pl_run communes
is "$(pl_summary)" "0/0/0/560" "the second load inserts and updates nothing"

head -c 20000 "$T/communes.json" >"$T/cut.json"
pl_source communes "$T/cut.json"
pl_run communes
is_status 65 "a cut JSON document is bad data (65)"
like_err '^parse error' "jq says why"
like_err '^pipelines/communes.sh: jq failed \(exit [0-9]+, reported as 65\)' "jq is named as the failing stage"
is "$(table_sum communes)" "$before" "cut JSON: the table is unchanged"

# The INSEE COG: COMD/COMA rows repeat a COM code and are dropped by the map's only=COM,ARM.
cog=$FIX/insee-communes/commune_2022_selected-lines_corse-arm-dom.csv
schema_db t0504cog
run_sh "edu-csv2tsv '$cog' | edu-normalize -M '$PIPE/communes-cog.map' | edu-pgcopy -k code_insee communes"
is_status 0 "the COG selection loads"
is "$(sql 'select count(*) from communes')" "$(grep -c -E '^(COM|ARM),' "$cog")" "COM and ARM rows only"
is "$(sql "select code_departement || ' ' || code_region || ' ' || nom from communes where code_insee = '2A004'")" \
	"$(awk -F, '$2 == "2A004" { print $4 " " $3 " " $10 }' "$cog")" "Corsica: Ajaccio is 2A004 in 2A"
is "$(sql "select count(*) from communes where code_departement in ('2A', '2B')")" \
	"$(grep -c -E '^COM,2[AB]' "$cog")" "every Corsican commune keeps its 2A/2B département"
is "$(sql "select code_departement || ' ' || code_region from communes where code_insee = '97101'")" \
	"$(awk -F, '$2 == "97101" { print $4 " " $3 }' "$cog")" "Guadeloupe: 3-character département, region 01"
for arm in 75101 69381 13201; do
	is "$(sql "select typecom || ' ' || code_parent || ' ' || nom from communes where code_insee = '$arm'")" \
		"$(awk -F, -v c=$arm '$2 == c { print $1 " " $12 " " $10 }' "$cog" | tr -d '\r')" \
		"arrondissement $arm: ARM with its parent commune"
done
