#!/bin/bash
# config/sources.json keeps its promises: well-formed unique ids, valid fields, and for every
# source what the checklist of docs/sources.md asks (its script, its page, its fixture, its table
# made by a migration, the views it names, its make target), read from the config itself, never
# from a list here. And tests/httpd.py's static mode, which `make demo` uses, serves files with
# ETag, Last-Modified and 304 like a well-behaved origin.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/httpd.sh"

CONF=$EDU_ROOT/config/sources.json

run jq -r '.sources[].id' "$CONF"
is_status 0 "config/sources.json is valid JSON"
ids=$(cat "$OUT")
is "$(echo "$ids" | grep -cvE '^[a-z][a-z0-9_]*$')" 0 "every id is a name of the form [a-z][a-z0-9_]*"
is "$(echo "$ids" | sort | uniq -d)" "" "no id is given twice"
run jq -r '.sources[] | select((.format | IN("csv", "json", "gzip", "zip")) | not) | .id' "$CONF"
empty_out "every format is csv, json, gzip or zip"
run jq -r '.sources[] | select((.change | IN("conditional", "sha256", "datagouv", "opendatasoft")) | not) | .id' "$CONF"
empty_out "every change method is conditional, sha256, datagouv or opendatasoft"
run jq -r '.sources[] | select(.change == "opendatasoft" and ((.url // "") | test("/api/explore/v2\\.1/catalog/datasets/[^/?]+/exports/[a-z]+[?]") | not)) | .id' "$CONF"
empty_out "every opendatasoft source's URL is an Opendatasoft export, whose catalog record it reads"
run jq -r '.sources[] | select((.mode | IN("upsert", "replace")) | not or (.key | length) == 0) | .id' "$CONF"
empty_out "every source has a mode and a key"
run jq -r '.sources[] | select(((.url // "") | startswith("https://")) == (.resolve != null)) | .id' "$CONF"
empty_out "every source has either an https URL or a resolve object"

is "$(make -n -C "$EDU_ROOT" sources 2>&1 | grep -c 'overriding recipe')" 0 "no source id is another make target"

# What each source needs, per the checklist of docs/sources.md.
sql_made() { # sql_made KIND NAME: a migration creates it
	cat "$EDU_ROOT"/sql/[0-9]*.sql | grep -Eqi "^create $1 (if not exists )?$2 "
}
for id in $ids; do
	get() { jq -r --arg id "$id" ".sources[] | select(.id == \$id) | $1" "$CONF"; }
	[ -x "$EDU_ROOT/pipelines/$id.sh" ]
	ok $? "$id: pipelines/$id.sh exists and is executable"
	[ -s "$EDU_ROOT/$(get .doc)" ]
	ok $? "$id: its page $(get .doc) exists"
	fixtures=$(get '.fixture | if type == "array" then .[] else . // empty end')
	[ -n "$fixtures" ] && for f in $fixtures; do [ -s "$EDU_ROOT/$f" ] || false; done
	ok $? "$id: its fixture is bundled ($(echo "$fixtures" | wc -w) file(s))"
	sql_made "(table|view)" "$(get .table)"
	ok $? "$id: its table $(get .table) is created by a migration of sql/"
	for v in $(get '.views[]?'); do
		sql_made "materialized view" "$v"
		ok $? "$id: the view $v it feeds is created by a migration"
	done
	is "$(make -s -n -C "$EDU_ROOT" "$id" | tail -n 1)" "bash pipelines/$id.sh" "$id: make $id runs its script"
	if [ "$(get .resolve)" = null ]; then
		run edu-fetch -c "$CONF" -n -y 2024 "$id"
		is_status 0 "$id: edu-fetch -n reads it from the config"
	fi # a resolved URL needs the network: tests/t/0400-fetch.t resolves dvf_raw's on loopback
done

# ---- static serving for make demo ----
mkdir -p "$T/www/sub"
cp "$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv" "$T/www/sub/ivac.csv"
echo '{}' >"$T/empty-script.json"
httpd_start "$T/empty-script.json" "$T/www"
run curl -sS -D "$T/h" -o "$T/body" "$BASE/sub/ivac.csv"
is_status 0 "static: GET"
same_file "$T/body" "$T/www/sub/ivac.csv" "static: the file's bytes"
etag=$(tr -d '\r' <"$T/h" | sed -n 's/^ETag: //p')
lm=$(tr -d '\r' <"$T/h" | sed -n 's/^Last-Modified: //p')
[[ $etag =~ ^\"[0-9a-f]+\"$ ]]
ok $? "static: a strong ETag ($etag)"
is "$lm" "$(date -u -r "$T/www/sub/ivac.csv" '+%a, %d %b %Y %H:%M:%S GMT')" "static: Last-Modified is the mtime"
like_h=$(tr -d '\r' <"$T/h" | sed -n 's/^Content-Type: //p')
is "$like_h" "text/csv; charset=utf-8" "static: Content-Type by extension"
run curl -sS -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$BASE/sub/ivac.csv"
is "$(cat "$OUT")" 304 "static: If-None-Match → 304"
run curl -sS -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $lm" "$BASE/sub/ivac.csv"
is "$(cat "$OUT")" 304 "static: If-Modified-Since → 304"
run curl -sS -o /dev/null -w '%{http_code}' -H 'If-None-Match: "other"' "$BASE/sub/ivac.csv"
is "$(cat "$OUT")" 200 "static: another ETag → 200"
run curl -sS --path-as-is -o /dev/null -w '%{http_code}' "$BASE/../../etc/passwd"
is "$(cat "$OUT")" 404 "static: nothing outside the root"
is "$(requests /sub/ivac.csv)" 4 "static: every request is logged"
is "$(req_header /sub/ivac.csv if-none-match)" '"other"' "static: with its headers"
