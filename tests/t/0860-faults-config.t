#!/bin/bash
# The fault matrix, configuration family (docs/RELIABILITY.md): a sources config that is not
# JSON or names a source badly, a unit that is not one, a broken or missing mapping file, an
# unknown load mode, connection strings libpq refuses, a settings file others can read or that
# does not parse. Each is 78 (64 for a bad argument), retried by nobody, and changes nothing.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/faults.sh"
faults_db t0860 -R
cp "$EDU_SOURCES" "$T/good.json"
FAULT_TABLES=colleges_indicateurs
# A copy of the scripts, whose mapping files a case may break.
cp -r "$PIPE" "$T/pl"

# config_case ERE CMD...: CMD fails with the case's status, saying ERE, and nothing changes; the
# good config is back afterwards.
config_case() {
	local re=$1
	shift
	state_save
	run "$@"
	expect "$re"
	cp "$T/good.json" "$EDU_SOURCES"
}

fault C01 78 "sources.json is not JSON"
printf '{"sources": [\n' >"$EDU_SOURCES"
config_case "^pipelines/ivac.sh: $EDU_SOURCES: cannot tell how to load ivac: " bash "$PIPE/ivac.sh" -R

fault C02 78 "sources.json is not JSON, for the production job"
printf '{"sources": [\n' >"$EDU_SOURCES"
config_case "^pipelines/refresh.sh: $EDU_SOURCES: " bash "$PIPE/refresh.sh"

# ere TEXT: TEXT as an ERE that matches it literally.
ere() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }

fault C03 78 "a source id that is a path"
# And every other id that is not [a-z][a-z0-9_]* (a newline in it too). The runs have a TMPDIR
# of their own: their work directories (every file of a run goes in one) must be gone when they
# end, and nothing written beside the scripts.
mkdir "$T/tmp"
for bad in ../../tmp/x ../../x a.b A 1x 'iv ac' $'a\nb'; do
	jq --arg b "$bad" '.sources[0].id = $b' "$T/good.json" >"$EDU_SOURCES"
	FAULT="C03 ${bad//$'\n'/\\n}" TMPDIR=$T/tmp config_case \
		"^pipelines/refresh.sh: $EDU_SOURCES: source id \"$(ere "${bad//$'\n'/\\n}")\": not a name of the form \[a-z\]\[a-z0-9_\]\*\$" \
		bash "$PIPE/refresh.sh"
done
is "$(find "$EDU_ROOT" -maxdepth 2 -name '*.out' -newer "$T/good.json" | wc -l)" 0 "$FAULT: no file written beside the scripts"
is "$(ls -A "$T/tmp")" "" "$FAULT: the refused runs leave nothing in TMPDIR (their work directories removed)"

fault C04 64 "a unit on the command line that is not one"
for bad in 'ivac;rm' ../x 'ivac.*' ivac:24 dvf:2024x; do
	FAULT="C04 $bad" config_case "^pipelines/refresh.sh: '$(ere "$bad")': not a source id or id:YYYY\$" \
		bash "$PIPE/refresh.sh" "$bad"
done

fault C05 78 "a source the config does not have"
config_case "^pipelines/refresh.sh: $EDU_SOURCES: no source nosuch\$" bash "$PIPE/refresh.sh" nosuch

fault C06 78 "an unknown load mode"
jq '.sources |= map(if .id == "ivac" then .mode = "merge" else . end)' "$T/good.json" >"$EDU_SOURCES"
config_case "^pipelines/ivac.sh: $EDU_SOURCES: cannot tell how to load ivac: .*unknown mode merge" \
	bash "$PIPE/ivac.sh" -R

fault C07 78 "a mapping file with an unknown rule"
sed -i 's/^\(Secteur[[:space:]]*secteur[[:space:]]*\)text/\1texte/' "$T/pl/ivac.map"
line=$(grep -n '^Secteur' "$T/pl/ivac.map" | cut -d: -f1)
config_case "^edu-normalize: $T/pl/ivac.map:$line: .*texte" bash "$T/pl/ivac.sh" -R
recorded ivac normalize

fault C08 78 "a mapping file missing"
rm "$T/pl/ivac.map"
config_case "^edu-normalize: $T/pl/ivac.map: " bash "$T/pl/ivac.sh" -R
recorded ivac normalize

fault C09 78 "DATABASE_URL with sslmode=bogus"
DATABASE_URL="postgresql://edu:Pw-s3cret@/t0860?host=$PGHOST&port=$PGPORT&sslmode=bogus" \
	config_case "^edu-fetch: database: cannot connect: invalid sslmode value: \"bogus\"\$" bash "$PIPE/ivac.sh" -R
is "$(grep -c 'Pw-s3cret' "$ERR")" 0 "$FAULT: the password is not printed"

fault C10 78 "DATABASE_URL that does not parse"
DATABASE_URL="postgresql://edu:Pw-s3cret@[::1" \
	config_case "^edu-fetch: database: invalid connection string \(-d or DATABASE_URL\)\$" bash "$PIPE/ivac.sh" -R
is "$(grep -c 'Pw-s3cret' "$ERR")" 0 "$FAULT: the password is not printed"

fault C11 78 "a settings file others can read"
printf 'DATABASE_URL=postgresql://edu:Pw-s3cret@/t0860\n' >"$T/settings"
chmod 644 "$T/settings"
EDU_ENV=$T/settings config_case \
	"^pipelines/ivac.sh: $T/settings: readable or writable by group or others \(mode 644\), and it holds secrets: chmod 600 $T/settings\$" \
	bash "$PIPE/ivac.sh" -R
chmod 620 "$T/settings"
FAULT="C11 group-writable" EDU_ENV=$T/settings config_case \
	"^pipelines/ivac.sh: $T/settings: readable or writable by group or others \(mode 620\)" bash "$PIPE/ivac.sh" -R

fault C12 78 "a settings file with a line that is not NAME=value"
printf 'DATABASE_URL postgresql://edu:Pw-s3cret@/t0860\n' >"$T/settings"
chmod 600 "$T/settings"
EDU_ENV=$T/settings config_case "^pipelines/ivac.sh: $T/settings:1: not a NAME=value line\$" bash "$PIPE/ivac.sh" -R
is "$(grep -c 'Pw-s3cret' "$ERR")" 0 "$FAULT: the line is not printed"
printf 'EDU_X=1\nrm -rf /tmp/nothing\n' >"$T/settings"
FAULT="C12 after a good line" EDU_ENV=$T/settings config_case "^pipelines/ivac.sh: $T/settings:2: not a NAME=value line\$" \
	bash "$PIPE/ivac.sh" -R

fault C13 78 "sql/ copied alone, with a password in DATABASE_URL"
mkdir -p "$T/sqlcopy"
cp "$EDU_ROOT"/sql/* "$T/sqlcopy/"
newdb t0860b
DATABASE_URL="postgresql://edu:Pw-s3cret@/t0860b?host=$PGHOST&port=$PGPORT" run sh "$T/sqlcopy/migrate.sh"
is_status 78 "$FAULT: exit status"
like_err "^migrate: a password in the connection string needs pipelines/env.sh beside sql/; or put it in ~/.pgpass or PGPASSWORD\$" \
	"$FAULT: the message"
is "$(sql "select count(*) from pg_tables where schemaname = 'monitoring'")" 0 "$FAULT: nothing applied"
