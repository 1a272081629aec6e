#!/bin/bash
# pipelines/new-source.sh, as a new user adds a source: in a copy of the project, the
# Éducation nationale "adresse et géolocalisation des établissements" dataset, which no source
# loads (its real excerpt is bundled), is drafted from its sample. The drafts are what the
# checklist asks, it refuses to overwrite anything, and, with only the cadence set by hand, the
# drafted test passes, the config checks pass, and the checks that keep a source honest pass
# once the page that said this dataset "is not loaded" is corrected.
. "${EDU_ROOT:-.}/tests/lib.sh"

sample=$FIX/annuaire-education/fr-en-adresse-et-geolocalisation-etablissements-premier-et-second-degre_dept35-colleges_2023-06.csv
url='https://data.education.gouv.fr/api/explore/v2.1/catalog/datasets/fr-en-adresse-et-geolocalisation-etablissements-premier-et-second-degre/exports/csv?use_labels=true&delimiter=%3B'
tree=$T/tree
mkdir -p "$tree"
tar -C "$EDU_ROOT" --exclude=./tests/tmp --exclude=./.demo --exclude=./.git --exclude=./data \
	--exclude=./tests/fuzz/corpus --exclude=./tests/fuzz/build -cf - . | tar -C "$tree" -xf -
snapshot() { (cd "$tree" && find . -type f -newer "$T/mark" | sort; md5sum config/sources.json); }
touch "$T/mark"
sleep 1

# ---- what it refuses, writing nothing ----
before=$(snapshot)
run bash "$tree/pipelines/new-source.sh" Geoloc "$sample" "$url"
is_status 64 "an id that is not [a-z][a-z0-9_]* is refused"
run bash "$tree/pipelines/new-source.sh" geoloc "$FIX/insee-communes/geo-api-communes_fields-code-nom-centre_last60.json" "$url"
is_status 64 "a JSON sample is refused"
like_err "only a CSV sample can be drafted" "and the message says why"
run bash "$tree/pipelines/new-source.sh" geoloc "$sample" "http://example.org/x.csv"
is_status 64 "a URL that is not https is refused"
run bash "$tree/pipelines/new-source.sh" -k nothing geoloc "$sample" "$url"
is_status 64 "-k names no column of the draft"
run bash "$tree/pipelines/new-source.sh" ivac "$sample" "$url"
is_status 80 "an id the config has is refused"
is "$(cat "$ERR")" "pipelines/new-source.sh: config/sources.json: source ivac exists: refusing to overwrite it" \
	"the message names the config and the id"
: >"$tree/pipelines/geoloc.map"
run bash "$tree/pipelines/new-source.sh" geoloc "$sample" "$url"
is_status 80 "a file it would write exists"
like_err "pipelines/geoloc.map exists: refusing to overwrite it" "the message names the file"
rm "$tree/pipelines/geoloc.map"
is "$(snapshot)" "$before" "a refusal writes nothing"

# ---- the drafts ----
run bash "$tree/pipelines/new-source.sh" geoloc "$sample" "$url"
is_status 0 "the drafts are written"
like_out '^pipelines/new-source.sh: drafted source geoloc: ' "it says what it wrote"
for f in pipelines/geoloc.map pipelines/geoloc.sh docs/DATA_SOURCE_GEOLOC.md \
	"tests/fixtures/geoloc/$(basename "$sample")" tests/fixtures/geoloc/PROVENANCE.md; do
	[ -s "$tree/$f" ]
	ok $? "$f is drafted"
done
[ -x "$tree/pipelines/geoloc.sh" ]
ok $? "the pipeline script is executable"
cmp -s "$sample" "$tree/tests/fixtures/geoloc/$(basename "$sample")"
ok $? "the fixture is the sample, byte for byte"
mig=$(cd "$tree" && ls sql/*-geoloc.sql)
test=$(cd "$tree" && ls tests/t/05*-geoloc.t)
[ -n "$mig" ] && [ -n "$test" ]
ok $? "a migration ($mig) and a test ($test) are drafted"
entry() { jq -r --arg k "$1" '.sources[] | select(.id == "geoloc") | .[$k] | if type == "array" then join(",") else . end' "$tree/config/sources.json"; }
is "$(entry format)/$(entry mode)/$(entry key)/$(entry change)/$(entry cadence)" \
	"csv/replace/code_etablissement/sha256/TODO" "the config entry: format, mode, the key guessed, change, cadence left TODO"
is "$(entry table)/$(entry pipeline)/$(entry doc)" "geoloc/pipelines/geoloc.sh/docs/DATA_SOURCE_GEOLOC.md" \
	"the config entry names its table, script and page"
is "$(jq -r '.sources[-2].id' "$tree/config/sources.json")" "$(jq -r '.sources[-1].id' "$EDU_ROOT/config/sources.json")" \
	"the entry is appended after the others"
is "$(diff <(head -n 20 "$EDU_ROOT/config/sources.json") <(head -n 20 "$tree/config/sources.json"))" "" \
	"the other entries keep their layout"
grep -q "^Code établissement	code_etablissement	uai$" "$tree/pipelines/geoloc.map"
ok $? "the map: the UAI by the uai rule"
grep -q "^Position	-	TODO: 'Latitude', 'Longitude' again on every row of the sample$" "$tree/pipelines/geoloc.map"
ok $? "the map: Position, latitude and longitude again, drafted as left out with a TODO reason"
grep -q 'geom geometry(Point, 4326) GENERATED ALWAYS AS' "$tree/$mig" &&
	grep -q 'CREATE INDEX IF NOT EXISTS geoloc_geom ON geoloc USING gist (geom);' "$tree/$mig" &&
	grep -q 'PRIMARY KEY (code_etablissement)' "$tree/$mig" && grep -q '	date_ouverture date,' "$tree/$mig"
ok $? "the migration: typed columns, the key, the point of longitude and latitude and its GiST index"
# shellcheck disable=SC2016 # the backquotes are markdown's
grep -q 'TODO' "$tree/docs/DATA_SOURCE_GEOLOC.md" &&
	grep -qF '| `Code établissement` | `code_etablissement` | `uai` |' "$tree/docs/DATA_SOURCE_GEOLOC.md"
ok $? "the page: a row per column, TODO where a person decides"
run bash "$tree/pipelines/new-source.sh" geoloc "$sample" "$url"
is_status 80 "run again: refused"

# ---- a person sets the cadence, and nothing else ----
jq '(.sources[] | select(.id == "geoloc") | .cadence) = "yearly"' "$tree/config/sources.json" >"$T/c.json" &&
	cp "$T/c.json" "$tree/config/sources.json"
# the copy's test SCRIPT: its TAP lines, and whether every test planned ran and passed.
in_copy() {
	EDU_ROOT=$tree bash "$tree/$1" >"$T/tap" 2>&1
	local st=$? plan p f
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$T/tap" | tail -n 1)
	p=$(grep -c '^ok' "$T/tap")
	f=$(grep -c '^not ok' "$T/tap")
	echo "$st $plan $p $f"
}
read -r st plan p f <<<"$(in_copy "$test")"
is "$st/$f/$((p == plan))" "0/0/1" "the drafted test passes: $p of $plan"
[ "$p" -gt 40 ]
ok $? "and it checks every column ($p tests)"
read -r st plan p f <<<"$(in_copy tests/t/0420-sources.t)"
is "$st/$f" "0/0" "the config checks pass with the new source ($p tests)"
read -r st plan p f <<<"$(in_copy tests/t/0203-maps-name-columns.t)"
is "$f" 1 "the honesty checks find one thing to fix"
grep -q "^not ok .* no page says a dataset is not loaded while a source loads it" "$T/tap"
ok $? "the annuaire's page, which says this dataset is not loaded"
# shellcheck disable=SC2016 # the backquotes are markdown's
sed -i 's/(35 columns) is not loaded\./(35 columns) is loaded by the source `geoloc`./' "$tree/docs/DATA_SOURCE_ANNUAIRE.md"
read -r st plan p f <<<"$(in_copy tests/t/0203-maps-name-columns.t)"
is "$st/$f" "0/0" "once corrected, every check passes ($p tests)"
