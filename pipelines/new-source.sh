#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# Drafts every file of a new source from a sample of its publisher's CSV file, as the checklist
# of docs/sources.md ("Adding a source") asks: the config entry, the mapping file (edu-normalize
# -I: a rule per column from its values), the migration (a column per map line, typed by its
# rule; the point and its GiST index when longitude and latitude are found), the pipeline script,
# the doc page (every column, TODO where a person must decide), the fixture (the sample) and its
# test (values read back by column name). The cadence is left TODO, so nothing reports on the
# source until a person set it. It writes nothing when any of these files exists (exit 80).
#   pipelines/new-source.sh [-C dir] [-k key] [-t table] id sample url
set -u
prog=pipelines/new-source.sh
usage="usage: $prog [-C dir] [-k key] [-t table] id sample url"
die() {
	printf '%s: %s\n' "$prog" "$2" >&2
	exit "$1"
}
top=$(cd "$(dirname "$0")/.." && pwd)
key=
table=
while getopts :C:hk:t: o; do
	case $o in
	C) top=$(cd "$OPTARG" && pwd) || die 66 "$OPTARG: no such directory" ;;
	h) echo "$usage"; exit 0 ;;
	k) key=$OPTARG ;;
	t) table=$OPTARG ;;
	*) echo "$usage" >&2; exit 64 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 3 ] || { echo "$usage" >&2; exit 64; }
id=$1 url=$3
sample=$(cd "$(dirname "$2")" 2>/dev/null && pwd)/$(basename "$2")
table=${table:-$id}
name_re='^[a-z][a-z0-9_]*$'
[[ $id =~ $name_re ]] || die 64 "source id '$id': not a name of the form [a-z][a-z0-9_]*"
[[ $table =~ $name_re ]] || die 64 "table '$table': not a name of the form [a-z][a-z0-9_]*"
if [ ! -f "$sample" ] || [ ! -r "$sample" ]; then die 66 "$2: cannot read the sample"; fi
case $sample in
*.csv | *.CSV | *.txt) ;;
*) die 64 "$2: only a CSV sample can be drafted (a JSON source needs a jq program: see pipelines/communes.jq)" ;;
esac
case $url in
https://*) ;;
*) die 64 "$url: the publisher's URL must be https" ;;
esac
cd "$top" || die 71 "$top: cannot enter"
PATH=$top/bin:$PATH
command -v edu-normalize >/dev/null || die 71 "edu-normalize not found: run make first"

# ---- every file it would write, none of which may exist ----
up=$(printf '%s' "$id" | tr '[:lower:]' '[:upper:]')
last() { # last GLOB: the highest number that starts a file name matching GLOB, 0 when none
	local n=0 f b
	for f in $1; do
		b=$(basename "$f")
		b=${b%%-*}
		[[ $b =~ ^[0-9]+$ ]] && [ $((10#$b)) -gt "$n" ] && n=$((10#$b))
	done
	echo "$n"
}
migration=sql/$(printf '%03d' $(($(last 'sql/[0-9]*.sql') + 1)))-$id.sql
testfile=tests/t/$(printf '%04d' $(($(last 'tests/t/05[0-9]*.t') + 1)))-$id.t
fixdir=tests/fixtures/$id
fixture=$fixdir/$(basename "$sample")
map=pipelines/$id.map script=pipelines/$id.sh doc=docs/DATA_SOURCE_$up.md
jq -e --arg id "$id" 'any(.sources[]; .id == $id)' config/sources.json >/dev/null &&
	die 80 "config/sources.json: source $id exists: refusing to overwrite it"
for f in "$map" "$script" "$doc" "$fixdir" sql/*-"$id".sql tests/t/*-"$id".t; do
	[ ! -e "$f" ] || die 80 "$f exists: refusing to overwrite it"
done
[ "$(last 'tests/t/05[0-9]*.t')" -lt 599 ] || die 80 "tests/t/05NN: no number left for the test"

work=$(mktemp -d) || die 71 "cannot make a temporary directory"
trap 'rm -rf "$work"' EXIT
edu-csv2tsv -q -o "$work/sample.tsv" "$sample" || die $? "$2: cannot convert the sample (edu-csv2tsv exit $?)"
edu-normalize -I -o "$work/draft.map" "$work/sample.tsv" || die $? "$2: cannot draft the map"

# The draft's lines as "optional<TAB>source<TAB>target<TAB>rule<TAB>options", left-out ones with
# target "-" and their reason as the rule.
awk -F'\t+' -v OFS='\t' '!/^#/ && NF >= 3 { o = sub(/^\?/, "", $1); print o, $1, $2, $3, $4 }' \
	"$work/draft.map" >"$work/lines"
[ -n "$key" ] || key=$(sed -n 's/^# key: \([a-z0-9_]*\) (.*/\1/p' "$work/draft.map")
[ -z "$key" ] || awk -F'\t' -v k="$key" '$3 == k { f = 1 } END { exit !f }' "$work/lines" ||
	die 64 "-k $key: not a target of the drafted map"
label=$(awk -F'\t' '$3 ~ /^(nom|name|appellation|denomination|libelle)/ { print $3; exit }' "$work/lines")
lon=$(awk -F'\t' '$4 == "lon" { print $3; exit }' "$work/lines")
lat=$(awk -F'\t' '$4 == "lat" { print $3; exit }' "$work/lines")
if [ -z "$lon" ] || [ -z "$lat" ]; then
	lon=''
	lat=''
fi
stamp=$(date -u +%Y-%m-%d)

# ident NAME: NAME as an SQL identifier, quoted when PostgreSQL reserves it.
reserved=" all and any array as asc both case cast check collate column constraint create default desc distinct do else end except false for foreign from grant group having in into leading limit not null offset on only or order primary references select table then to true union unique user using when where with "
ident() {
	case $reserved in
	*" $1 "*) printf '"%s"' "$1" ;;
	*) printf '%s' "$1" ;;
	esac
}
# sq TEXT: TEXT as one single-quoted shell word.
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
# sqltype RULE: the column type a rule's output loads into.
sqltype() {
	case $1 in
	int | year | epsg) echo integer ;;
	decimal | percent) echo numeric ;;
	lon | lat) echo 'double precision' ;;
	date) echo date ;;
	bool) echo boolean ;;
	list=*) echo 'text[]' ;;
	*) echo text ;;
	esac
}

write_map() {
	{
		printf '# %s: drafted by %s on %s from %s; target: %s (%s).\n' "$id" "$prog" "$stamp" "$fixture" "$table" "$migration"
		printf '# TODO: check each rule against the publisher'"'"'s documentation, and write the reason of each\n'
		printf '# column left out (-). Fields are separated by tabs; see edu-normalize(1).\n'
		sed "1s|from $work/sample.tsv|from $fixture|" "$work/draft.map"
	} >"$new/$map"
}

write_migration() {
	local cols=() target rule
	while IFS=$'\t' read -r _ _ target rule _; do
		[ "$target" = - ] || cols+=("	$(ident "$target") $(sqltype "$rule")")
	done <"$work/lines"
	if [ -n "$lon" ]; then
		cols+=("	geom geometry(Point, 4326) GENERATED ALWAYS AS (
		CASE WHEN $(ident "$lon") IS NOT NULL AND $(ident "$lat") IS NOT NULL
		THEN ST_SetSRID(ST_MakePoint($(ident "$lon"), $(ident "$lat")), 4326) END) STORED")
	fi
	[ -z "$key" ] || cols+=("	PRIMARY KEY ($(ident "$key"))")
	{
		printf -- '-- eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.\n'
		printf -- '-- %s: drafted by %s on %s from its sample:\n' "$table" "$prog" "$stamp"
		printf -- '-- a column per line of %s, typed by its rule%s.\n' "$map" "${lon:+, and the point of $lon and $lat}"
		printf -- '-- TODO: review the types, the key%s and the indexes the app needs.\n' "${key:+ ($key)}"
		printf -- '-- The roles get their rights from the default privileges (006). Once applied, this file\n'
		printf -- '-- never changes: write another one.\n\n'
		printf 'CREATE TABLE IF NOT EXISTS %s (\n' "$table"
		local i
		for ((i = 0; i < ${#cols[@]}; i++)); do
			printf '%s%s\n' "${cols[i]}" "$([ $((i + 1)) -lt ${#cols[@]} ] && echo ,)"
		done
		printf ');\n'
		[ -z "$lon" ] || printf 'CREATE INDEX IF NOT EXISTS %s_geom ON %s USING gist (geom);\n' "$table" "$table"
	} >"$new/$migration"
}

write_script() {
	cat >"$new/$script" <<SCRIPT
#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# $id (TODO: the dataset's name) into $table, replaced whole${key:+ on $key}: the file lists
# every row, so a row gone from it is deleted (the shrink guard refuses a file far smaller than
# the table). Drafted by $prog. Exits with the first failing stage's status.
# shellcheck source=pipelines/lib.sh
. "\$(dirname "\$0")/lib.sh"
edu_getopts "\$@"

edu_load_args $id
edu_fetch $id "\$EDU_WORK/$id.csv"
edu-csv2tsv "\$EDU_WORK/$id.csv" |
	edu-normalize -M "\$EDU_MAPS/$id.map" |
	edu-pgcopy "\${EDU_LOAD[@]}"
edu_stages "\${PIPESTATUS[*]}" edu-csv2tsv edu-normalize edu-pgcopy
edu_refresh $table
SCRIPT
	chmod +x "$new/$script"
}

write_config() {
	local entry
	entry=$(jq -n --arg id "$id" --arg url "$url" --arg table "$table" --arg key "$key" \
		--arg lab "$label" --arg fixture "$fixture" '{id: $id, name: ("TODO: the name of " + $id),
		url: $url, format: "csv", content_type: "text/csv", table: $table, mode: "replace",
		key: (if $key == "" then [] else [$key] end)} + (if $lab == "" then {} else {label: $lab} end)
		+ {change: "sha256", cadence: "TODO", views: [], pipeline: ("pipelines/" + $id + ".sh"),
		doc: ("docs/DATA_SOURCE_" + ($id | ascii_upcase) + ".md"), fixture: $fixture}' | sed 's/^/    /')
	# Appended as text before the list's end, so that the other entries keep their layout.
	awk -v entry="$entry" '{ line[NR] = $0 } END {
		for (e = NR; e > 0 && line[e] !~ /^[ \t]*\]/; e--) ;
		for (c = e - 1; c > 0 && line[c] !~ /}[ \t]*$/; c--) ;
		for (i = 1; i <= NR; i++) { print line[i] (i == c ? "," : ""); if (i == c) print entry } }' \
		config/sources.json >"$work/sources.json"
	jq -e --arg id "$id" 'any(.sources[]; .id == $id)' "$work/sources.json" >/dev/null ||
		die 78 "config/sources.json: the entry could not be added (is the file still one JSON object with a sources list?)"
}

write_doc() {
	{
		cat <<DOC
# Source \`$id\`: TODO the dataset's name

Drafted by \`$prog\` on $stamp from the sample \`$fixture\`: every line marked TODO needs a
person (the publisher's documentation, a look at the full file).

| | |
|---|---|
| id | \`$id\` → table \`$table\` (replaced whole${key:+, keyed on \`$key\`}), feeds no materialized view (TODO) |
| URL | \`$url\` |
| dataset page | TODO |
| format | CSV (TODO: encoding, separator, quoting as \`edu-csv2tsv\` found them) |
| licence | TODO |
| cadence | TODO (also in \`config/sources.json\`, which leaves it TODO until decided) |
| change signal | \`sha256\` of the body (TODO: does the server send a stable ETag or Last-Modified, a catalog record, a checksum? docs/sources.md) |

## Columns

Every column of the publisher's file, in its order: the rule of \`$map\` that loads it and the
evidence \`edu-normalize -I\` saw in the sample, or why it is left out.

| column of the file | loaded into | rule | evidence in the sample |
|---|---|---|---|
DOC
		awk -F'\t+' '
		/^# [^:]+: [0-9]+ value/ { ev = $0; sub(/^# [^:]*: /, "", ev); next }
		/^#/ || NF < 3 { next }
		{ src = $1; sub(/^\?/, "", src); gsub(/\|/, "\\|", src); gsub(/\|/, "\\|", ev)
		  r = $3; gsub(/\|/, "\\|", r)
		  if ($2 == "-") printf "| `%s` | left out: %s | | %s |\n", src, r, ev
		  else printf "| `%s` | `%s` | `%s`%s | %s |\n", src, $2, r, ($4 != "" ? " `" $4 "`" : ""), ev }' \
			"$work/draft.map"
		cat <<DOC

## Quirks
- TODO: what the sample does not show (the full file's size, encoding, empty columns, values
  outside the sample's, the publisher's announced changes).

## Pipeline notes (pipelines/$id.sh)
Replaces \`$table\` whole${key:+, rows matched on \`$key\`}: a row gone from the file is deleted,
and the shrink guard refuses (exit 80) a file with fewer than half the table's rows; a renamed
required column is schema drift (exit 65, table unchanged); a new column loads nothing and is
reported (\`$id: new column 'x' not loaded\`). Tested by \`$testfile\`.
DOC
	} >"$new/$doc"
}

write_fixture() {
	mkdir -p "$new/$fixdir"
	cp "$sample" "$new/$fixture"
	cat >"$new/$fixdir/PROVENANCE.md" <<DOC
# $id — provenance

| file | source | rows |
|---|---|---|
| \`$(basename "$fixture")\` | TODO: where it comes from (the URL and the date it was downloaded, or the repository, path and commit) | $(($(wc -l <"$work/sample.tsv") - 2)) |

Copied byte for byte by \`$prog\` on $stamp. TODO: the licence that lets it be bundled.
DOC
}

# The test reads expected values from the fixture by column name (tests/pipelines.sh). The
# printf formats hold the test's own shell text, expanded when it runs, hence single quotes.
# shellcheck disable=SC2016
write_test() {
	local src target rule opts keysrc tokens
	keysrc=$(awk -F'\t' -v k="$key" '$3 == k { print $2; exit }' "$work/lines")
	{
		cat <<T
#!/bin/bash
# pipelines/$id.sh on its fixture (drafted by $prog on $stamp):
# every row loads, the values of the file are in the table (read back by column name:
# tests/pipelines.sh), a second load changes nothing, and a file without its key column is
# refused with the table unchanged.
. "\${EDU_ROOT:-.}/tests/lib.sh"
. "\$EDU_ROOT/tests/pipelines.sh"

raw=\$EDU_ROOT/$fixture
schema_db t$(basename "$testfile" | cut -d- -f1)
pl_source $id "\$raw"
pl_run $id
is_status 0 "$id loads its fixture"
rows=\$(pl_rows "\$raw")
is "\$(pl_count inserted)" "\$rows" "one row inserted per data line"
is "\$(sql 'select count(*) from $table')" "\$rows" "the table holds every row"

# Every column: as many values in the table as the file fills (null tokens are NULL).
T
		while IFS=$'\t' read -r _ src target rule opts; do
			[ "$target" != - ] || continue
			tokens=
			[ -z "$opts" ] || tokens=" $(opts=${opts#null=}; for t in ${opts//,/ }; do printf '%s ' "$(sq "$t")"; done)"
			printf 'is "$(sql %s)" "$(pl_filled "$raw" %s%s)" %s\n' "$(sq "select count($(ident "$target")) from $table")" \
				"$(sq "$src")" "${tokens% }" "$(sq "$src: every value is loaded")"
		done <"$work/lines"
		if [ -n "$key" ]; then
			printf '\n# The text columns of the first and the last row, as the file has them.\n'
			printf 'while read -r k; do\n'
			while IFS=$'\t' read -r _ src target rule _; do
				[ "$rule" = text ] || continue
				printf '\tis "$(sql "select coalesce(%s, '"''"') from %s where %s = '"'"'$k'"'"'")" "$(pl_text "$raw" %s %s "$k")" %s"$k"\n' \
					"$(ident "$target")" "$table" "$(ident "$key")" "$(sq "$src")" "$(sq "$keysrc")" "$(sq "$src of $keysrc ")"
			done <"$work/lines"
			printf 'done < <(pl_keys "$raw" %s)\n' "$(sq "$keysrc")"
		fi
		cat <<T

before=\$(table_sum $table)
pl_run $id
is_status 0 "a second load of the same file"
is "\$(pl_summary)" "0/0/0/\$rows" "the second load changes nothing"
is "\$(table_sum $table)" "\$before" "the table is unchanged"
T
		if [ -n "$key" ]; then
			cat <<T

# Without its key column, the file is refused and the table unchanged.
pl_without "\$raw" $(sq "$keysrc") "\$T/drift.csv"
pl_source $id "\$T/drift.csv"
pl_run $id
is_status 65 "a file without its key column is refused"
like_err "schema drift: mapped columns missing from the input" "the missing column is named"
is "\$(table_sum $table)" "\$before" "the table is unchanged"
T
		fi
	} >"$new/$testfile"
}

# Everything is written aside first, then moved in, the config last: a failure on the way
# leaves the tree as it was.
new=$work/new
mkdir -p "$new/pipelines" "$new/sql" "$new/docs" "$new/tests/t" || die 71 "$work: cannot write"
write_map
write_migration
write_script
write_doc
write_fixture
write_test
write_config
(cd "$new" && find . -type f) | while read -r f; do
	mkdir -p "$(dirname "$f")" && cp -p "$new/$f" "$f" || die 74 "$f: cannot write"
done || exit
cat "$work/sources.json" >config/sources.json || die 74 "config/sources.json: cannot write"
printf '%s: drafted source %s: %s\n' "$prog" "$id" "config/sources.json $map $migration $script $doc $fixture $testfile"
printf '%s: next: set its cadence in config/sources.json, review every TODO, then make check\n' "$prog"
