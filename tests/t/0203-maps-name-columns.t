#!/bin/bash
# Every column of every publisher's file is named by its source's map: loaded, or left out on
# purpose with a reason (target -). For each source of config/sources.json, its bundled
# fixtures (and the other real or built files of the same publisher kept in tests/fixtures: the
# 2026 annuaire, ONISEP's 2026 shape, the INSEE COG) go through edu-csv2tsv, then edu-normalize
# -s with the map its pipeline script uses: a column the map does not name is schema drift there.
# A JSON source has no header: each key of its objects must be read by the script's jq program.
# And each source's page keeps up: it names every column of its fixtures, and no page says a
# dataset "is not loaded" while a source of the config loads it.
. "${EDU_ROOT:-.}/tests/lib.sh"
CONF=$EDU_ROOT/config/sources.json
PIPE=$EDU_ROOT/pipelines

# names FILE MAP: the header of FILE (converted) through MAP with -s; the header alone, so that
# only the names are judged here (the values are the pipeline tests' business).
names() {
	rm -f "$T/converted.tsv"
	edu-csv2tsv -q -o "$T/converted.tsv" "$1" || echo "# edu-csv2tsv failed on $1"
	run_sh "{ head -n 1 '$T/converted.tsv'; printf '\\\\.\\n'; } | edu-normalize -s -q -M '$2'"
	if [ "$status" -eq 0 ]; then
		ok 0 "$3: every column of $(basename "$1") is named by $(basename "$2")"
	else
		ok 1 "$3: every column of $(basename "$1") is named by $(basename "$2")"
		show_io
	fi
}
# map_of ID: the mapping file pipelines/ID.sh gives edu-normalize.
# shellcheck disable=SC2016 # $EDU_MAPS is the script's text, matched as written
map_of() { sed -n 's/.*edu-normalize .*-M "\$EDU_MAPS\/\([a-z0-9_-]*\.map\)".*/\1/p' "$PIPE/$1.sh" | head -n 1; }

for id in $(jq -r '.sources[].id' "$CONF"); do
	format=$(jq -r --arg id "$id" '.sources[] | select(.id == $id) | .format' "$CONF")
	files=$(jq -r --arg id "$id" '.sources[] | select(.id == $id) | .fixture | if type == "array" then .[] else . end' "$CONF")
	if [ "$format" = json ]; then
		for f in $files; do
			missing=$(jq -r '[.[] | keys[]] | unique | .[]' "$EDU_ROOT/$f" |
				while read -r key; do grep -q "\\.$key\\b" "$PIPE/$id.sh" "$PIPE/$id.jq" 2>/dev/null || echo "$key"; done)
			is "$missing" "" "$id: every key of $(basename "$f") is read by pipelines/$id.sh"
		done
	fi
	doc=$(jq -r --arg id "$id" '.sources[] | select(.id == $id) | .doc' "$CONF")
	for f in $files; do
		if [ "$format" = json ]; then
			jq -r '[.[] | keys[]] | unique | .[]' "$EDU_ROOT/$f"
		else
			edu-csv2tsv -q "$EDU_ROOT/$f" | head -n 1 | tr '\t' '\n'
		fi
	done | sort -u >"$T/columns"
	missing=$(while read -r c; do grep -qF "\`$c\`" "$EDU_ROOT/$doc" || printf "'%s' " "$c"; done <"$T/columns")
	is "$missing" "" "$id: $doc names every column of its fixtures"
	[ "$format" != json ] || continue
	map=$(map_of "$id")
	[ -n "$map" ] && [ -f "$PIPE/$map" ]
	ok $? "$id: pipelines/$id.sh names its map ($map)"
	for f in $files; do names "$EDU_ROOT/$f" "$PIPE/$map" "$id"; done
done
# The publishers' other files bundled for the tests.
names "$FIX/annuaire-education/fr-en-annuaire-education_dept94-ecoles_2026-07.csv" "$PIPE/annuaire.map" annuaire
names "$FIX/onisep/ideo-structures-secondaire_2026-keys_built.csv" "$PIPE/onisep.map" onisep
names "$FIX/insee-communes/commune_2022_first500.csv" "$PIPE/communes-cog.map" communes-cog

# The check can fail: a column no map names is caught.
sed '1s/$/;"colonne inconnue"/; 2,$s/$/;x/' "$FIX/onisep/ideo-structures-secondaire_built.csv" >"$T/extra.csv"
rm -f "$T/converted.tsv"
edu-csv2tsv -q -o "$T/converted.tsv" "$T/extra.csv"
run_sh "{ head -n 1 '$T/converted.tsv'; printf '\\\\.\\n'; } | edu-normalize -s -q -M '$PIPE/onisep.map'"
is_status 65 "a column no map names is schema drift under -s"
like_err "input columns not in .*onisep.map \(-s\): 'colonne inconnue'" "and it is named"

# A page saying a dataset "is not loaded" (a backquoted dataset id in the same paragraph or list
# item) while a source's URL names that dataset: the page went out of date when the source came.
jq -r '.sources[] | .url // "", .resolve.api // ""' "$CONF" >"$T/urls"
stale=$(for doc in "$EDU_ROOT"/docs/DATA_SOURCE_*.md; do
	awk -v doc="docs/$(basename "$doc")" '
		function judge() { if (para ~ /not loaded/) { t = para
				while (match(t, /`[^`]*`/)) { tok = substr(t, RSTART + 1, RLENGTH - 2); t = substr(t, RSTART + RLENGTH)
					sub(/^…/, "", tok); if (tok ~ /^-?[a-z0-9]+(-[a-z0-9_]+)+$/) print doc "\t" tok } }
			para = "" }
		/^$/ || /^[-|#]/ { judge() } { para = para " " $0 } END { judge() }' "$doc"
done | while IFS=$'\t' read -r doc tok; do grep -qF -e "$tok" "$T/urls" && printf '%s says %s is not loaded; ' "$doc" "$tok"; done)
is "$stale" "" "no page says a dataset is not loaded while a source loads it"
