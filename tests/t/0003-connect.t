#!/bin/bash
# Every tool that connects to PostgreSQL (edu-pgcopy, edu-refresh, edu-fetch, edu-ifmodified)
# calls a connection setting that libpq refuses before it tries any server (a bad option value,
# an unknown option, a bad port, mismatched host lists) a configuration error, 78, never "retry
# later"; a server that cannot be reached stays 75. The password is never printed.
. "${EDU_ROOT:-.}/tests/lib.sh"

# A source whose URL is never asked for: the database is checked before any download.
printf '{"sources": [{"id": "t_one", "url": "http://127.0.0.1:9/one.csv", "format": "csv"}]}\n' \
	>"$T/sources.json"
EDU_SOURCES=$T/sources.json
export EDU_SOURCES
printf 'a\n1\n\\.\n' >"$T/in.tsv"

# connects TOOL: runs TOOL so that it connects first, with $DATABASE_URL.
connects() {
	case $1 in
	edu-pgcopy) run_in "$T/in.tsv" edu-pgcopy t ;;
	edu-refresh) run edu-refresh -t t ;;
	edu-fetch) run edu-fetch -o "$T/one.csv" t_one ;;
	edu-ifmodified) run edu-ifmodified t_one ;;
	esac
}

secret=s3cret-Pw
for tool in edu-pgcopy edu-refresh edu-fetch edu-ifmodified; do
	while IFS='|' read -r url why re; do
		DATABASE_URL=$url connects "$tool"
		is_status 78 "$tool: $why"
		like_err "^$tool: database: $re" "$tool: $why: the message says what libpq refused"
		is "$(grep -c -- "$secret" "$ERR")" 0 "$tool: $why: the password is not printed"
	done <<EOF2
postgresql://u:$secret@127.0.0.1/edu?sslmode=bogus|sslmode=bogus|cannot connect: invalid sslmode value: "bogus"$
postgresql://u:$secret@127.0.0.1/edu?bogus=1|an unknown option|invalid connection string \(-d or DATABASE_URL\)$
postgresql://u:$secret@127.0.0.1:abc/edu|a port that is not a number|cannot connect: invalid integer value "abc" for connection option "port"$
postgresql://u:$secret@127.0.0.1:70000/edu|a port out of range|cannot connect: invalid port number: "70000"$
postgresql://u:$secret@127.0.0.1/edu?connect_timeout=x|connect_timeout=x|cannot connect: .*invalid integer value "x" for connection option "connect_timeout"$
postgresql://u:$secret@127.0.0.1/edu?target_session_attrs=bogus|target_session_attrs=bogus|cannot connect: invalid target_session_attrs value: "bogus"$
host=127.0.0.1 hostaddr=127.0.0.1,127.0.0.2 password=$secret|one host for two addresses|cannot connect: could not match 1 host names to 2 hostaddr values$
postgresql://u:$secret@[::1|a URI that does not parse|invalid connection string \(-d or DATABASE_URL\)$
EOF2
	[ -e "$T/one.csv" ]
	ok $((!$?)) "$tool: nothing downloaded"

	# The same refusal through -d (edu-pgcopy, edu-refresh, edu-fetch, edu-ifmodified all take it).
	case $tool in
	edu-pgcopy) run_in "$T/in.tsv" edu-pgcopy -d "host=127.0.0.1 sslmode=bogus password=$secret" t ;;
	edu-refresh) run edu-refresh -d "host=127.0.0.1 sslmode=bogus password=$secret" -t t ;;
	edu-fetch) run edu-fetch -d "host=127.0.0.1 sslmode=bogus password=$secret" -o "$T/one.csv" t_one ;;
	edu-ifmodified) run edu-ifmodified -d "host=127.0.0.1 sslmode=bogus password=$secret" t_one ;;
	esac
	is_status 78 "$tool -d with sslmode=bogus"
	is "$(grep -c -- "$secret" "$ERR")" 0 "$tool -d: the password is not printed"

	# A server that is not there is still worth a retry.
	DATABASE_URL="postgresql://u:$secret@127.0.0.1:1/edu" connects "$tool"
	is_status 75 "$tool: no server listening"
	like_err "^$tool: database: cannot connect: .*Connection refused" "$tool: no server: the message"
	is "$(grep -c -- "$secret" "$ERR")" 0 "$tool: no server: the password is not printed"
done
