#!/bin/bash
# config/sources.json keeps its promises (the seven fixed ids, valid fields, target tables of the
# schema, a page per source), and tests/httpd.py's static mode, which `make demo` uses, serves
# files with ETag, Last-Modified and 304 like a well-behaved origin.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/httpd.sh"

CONF=$EDU_ROOT/config/sources.json

run jq -r '.sources[].id' "$CONF"
is_status 0 "config/sources.json is valid JSON"
is "$(tr '\n' ' ' <"$OUT")" "onisep ival ivac communes dvf dvf_raw annuaire " "the seven source ids"
run jq -r '.sources[] | select((.format | IN("csv", "json", "gzip", "zip")) | not) | .id' "$CONF"
empty_out "every format is csv, json, gzip or zip"
run jq -r '.sources[] | select((.change | IN("conditional", "sha256", "datagouv")) | not) | .id' "$CONF"
empty_out "every change method is conditional, sha256 or datagouv"
run jq -r '.sources[] | select((.table | IN("lycees_indicateurs", "colleges_indicateurs",
	"communes", "onisep_etablissements", "annuaire_sites", "dvf_mutations")) | not) | .id' "$CONF"
empty_out "every target table is one of the schema's"
run jq -r '.sources[] | select((.mode | IN("upsert", "replace")) | not or (.key | length) == 0) | .id' "$CONF"
empty_out "every source has a mode and a key"
run jq -r '.sources[] | select(((.url // "") | startswith("https://")) == (.resolve != null)) | .id' "$CONF"
empty_out "every source has either an https URL or a resolve object"
run jq -r '.sources[] | select([.views[] | IN("mv_lycees_with_metrics", "mv_colleges_with_metrics")] | all | not) | .id' "$CONF"
empty_out "every view named exists"
for doc in $(jq -r '.sources[].doc' "$CONF" | sort -u); do
	[ -s "$EDU_ROOT/$doc" ]
	ok $? "$doc exists"
done
for id in $(jq -r '.sources[].id' "$CONF"); do
	run edu-fetch -c "$CONF" -n -y 2024 "$id"
	if [ "$id" = dvf_raw ]; then
		continue # its URL needs the network: tests/t/0400-fetch.t resolves it on loopback
	fi
	is_status 0 "edu-fetch -n reads $id from the config"
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
