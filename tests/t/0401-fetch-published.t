#!/bin/bash
# Downloads checked against what the publisher says. For a data.gouv.fr resource the dataset
# API gives its filesize and often a checksum ({type, value}: SHA-1, SHA-256, MD5) or, for a
# remote file, the SHA-1 of its analysis (extras["analysis:checksum"]): edu-fetch compares the
# bytes it received and fails with 75 when they differ (one byte short, one byte changed, a
# Content-Length that cuts the body), before anything is recorded or put in place; through the
# pipeline, the load never starts and the table is unchanged.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/httpd.sh"
unset EDU_RUN_ID
schema_db t0401
mkdir -p "$T/www/vf" "$T/out"
raw=$FIX/dvf/valeursfoncieres-2020_excerpt-172rows.txt
sed 's#/2020|#/2022|#g' "$raw" >"$T/raw2022.txt"
pl_zip "$T/raw2022.txt" "$T/good.zip" valeursfoncieres-2022.txt
cp "$T/good.zip" "$T/www/vf/valeursfoncieres-2022.txt.zip"
size=$(wc -c <"$T/good.zip" | tr -d ' ')
head -c $((size - 1)) "$T/good.zip" >"$T/short.zip"
# One byte changed, the size kept: the byte in the middle of the file, plus one.
/usr/bin/python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1; open(sys.argv[2], "wb").write(b)' \
	"$T/good.zip" "$T/changed.zip"
digest() { "$1sum" <"$T/good.zip" | cut -d' ' -f1; }
# dataset FIELDS: the API lists the 2022 resource with these jq fields (the URL is added).
dataset() {
	jq -n --arg b "$BASE" "{id: \"vf\", resources: [{title: \"valeursfoncieres-2022.txt.zip\",
		url: (\$b + \"/www/vf/valeursfoncieres-2022.txt.zip\"), last_modified: \"2025-10-18T23:48:51+00:00\"} + {$1}]}" \
		>"$T/dataset.json"
}
serve() { cp "$1" "$T/www/vf/valeursfoncieres-2022.txt.zip"; }
echo '{"/api/1/datasets/vf/": {"body_file": "dataset.json", "headers": {"Content-Type": "application/json"}},
	"/cut/vf.zip": {"body_file": "good.zip", "length": '$((size - 1))'}}' >"$T/script.json"
httpd_start "$T/script.json" "$T"
. "$EDU_ROOT/tests/ops.sh"
ops_only dvf_raw
jq --arg b "$BASE" '.sources |= map(.resolve.api = $b + "/api/1/datasets/vf/" | del(.fallback_for))' "$EDU_SOURCES" >"$T/s.json" &&
	mv "$T/s.json" "$EDU_SOURCES"
fetch() { rm -f "$T/out/vf.zip"; run edu-fetch -R 0 -y 2022 -o "$T/out/vf.zip" "$@" dvf_raw; }
pending() { sql "select coalesce(pending_sha256, 'none') from monitoring.data_sources where id = 'dvf_raw:2022'"; }
refused() { # refused WHAT MESSAGE-ERE: exit 75, the message, no file, nothing recorded
	is_status 75 "$1: refused"
	like_err "^edu-fetch: dvf_raw: $2" "$1: says why"
	ok "$([ ! -e "$T/out/vf.zip" ] && [ -z "$(ls -A "$T/out")" ]; echo $?)" "$1: no file, no temporary file"
	is "$(pending)" none "$1: nothing recorded"
}

# The file as the publisher describes it.
dataset "filesize: $size, checksum: {type: \"sha1\", value: \"$(digest sha1)\"}"
fetch -v
is_status 0 "size and SHA-1 agree"
same_file "$T/out/vf.zip" "$T/good.zip" "the file"
like_err "^edu-fetch: dvf_raw: sha1 $(digest sha1) as the publisher says$" "-v says it was checked"
sql "update monitoring.data_sources set pending_sha256 = null, pending_at = null" >/dev/null

serve "$T/short.zip"
fetch
refused "one byte short" "$((size - 1)) bytes received, the publisher says $size \(filesize of valeursfoncieres-2022.txt.zip\)$"
serve "$T/changed.zip"
fetch
refused "one byte changed" "sha1 $(sha1sum <"$T/changed.zip" | cut -c1-40) received, the publisher says $(digest sha1) \(checksum of valeursfoncieres-2022.txt.zip\)$"
dataset "filesize: $size, checksum: {type: \"sha256\", value: \"$(digest sha256)\"}"
fetch
refused "SHA-256, one byte changed" "sha256 $(sha256sum <"$T/changed.zip" | cut -c1-64) received, the publisher says $(digest sha256) "
dataset "checksum: {type: \"md5\", value: \"$(digest md5)\"}"
fetch
refused "MD5 (no filesize), one byte changed" "md5 $(md5sum <"$T/changed.zip" | cut -c1-32) received, the publisher says $(digest md5) "
dataset "extras: {\"analysis:checksum\": \"$(digest sha1)\"}"
fetch
refused "the analysis's SHA-1 only, one byte changed" "sha1 [0-9a-f]{40} received, the publisher's analysis says $(digest sha1) "
serve "$T/good.zip"
fetch
is_status 0 "the analysis's SHA-1 only, the right file"
dataset "checksum: {type: \"md5\", value: \"$(digest md5)\"}, extras: {\"analysis:checksum\": \"$(sha1sum <"$T/changed.zip" | cut -c1-40)\"}"
fetch
is_status 0 "a checksum and an analysis of an older file: the checksum judges"
dataset "filesize: $size, checksum: {type: \"crc\", value: \"12345678\"}"
fetch -v
is_status 0 "a checksum type it does not know: not checked"
like_err "^edu-fetch: dvf_raw: checksum type 'crc' of valeursfoncieres-2022.txt.zip: not checked$" "-v says so"
sql "update monitoring.data_sources set pending_sha256 = null, pending_at = null" >/dev/null

# A Content-Length one byte short of the body (RELIABILITY.md L1): the body ends there, which
# HTTP cannot tell; the publisher's size can.
dataset "filesize: $size, checksum: {type: \"sha1\", value: \"$(digest sha1)\"}"
jq --arg b "$BASE" '.resources[0].url = $b + "/cut/vf.zip"' "$T/dataset.json" >"$T/d.json" && mv "$T/d.json" "$T/dataset.json"
fetch
refused "Content-Length one byte short" "$((size - 1)) bytes received, the publisher says $size "

# To a pipe: the bytes already went out, so they end with the abort mark.
dataset "filesize: $size, checksum: {type: \"sha1\", value: \"$(digest sha1)\"}"
serve "$T/changed.zip"
run edu-fetch -R 0 -y 2022 dvf_raw
is_status 75 "to stdout, one byte changed"
ok "$(tail -c 64 "$OUT" | tr '\0' '@' | grep -q '@EDU-ABORT: upstream transfer failed$'; echo $?)" \
	"the output ends with the abort mark"

# Through the pipeline: the load never starts, the table is unchanged, the failure recorded.
serve "$T/good.zip"
pl_run dvf_raw 2022 -R
is_status 0 "the year loads"
before=$(table_sum dvf_mutations)
ok "$([ "${before%%:*}" -gt 0 ]; echo $?)" "the table holds the year"
serve "$T/changed.zip"
pl_run dvf_raw -R 2022
is_status 75 "one byte changed: the pipeline fails"
like_err "^edu-fetch: dvf_raw: sha1 [0-9a-f]{40} received, the publisher says $(digest sha1) " "edu-fetch says why"
is "$(table_sum dvf_mutations)" "$before" "the table is unchanged"
is "$(sql "select stage || '|' || outcome || '|' || exit_status from monitoring.runs
	where unit = 'dvf_raw:2022' and kind = 'load' order by id desc limit 1")" "fetch|failed|75" \
	"recorded: failed at fetch, 75"
serve "$T/short.zip"
pl_run dvf_raw -R 2022
is_status 75 "one byte short: the pipeline fails"
is "$(table_sum dvf_mutations)" "$before" "the table is unchanged"
