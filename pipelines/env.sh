#!/bin/bash
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# The settings file: $EDU_ENV when set (set and empty: none), else .env in the project's (or the
# installation's) top directory. Lines are NAME=value, optionally "export NAME=value", the value
# optionally in single or double quotes; blank lines and lines starting with # are skipped. The
# file is read, never executed, so it can also be a systemd EnvironmentFile. A variable set and
# not empty in the environment wins over the file. Since the file holds the database password
# and the webhook, one readable or writable by group or others is refused (exit 78), as ssh does.
# It also holds how psql is given DATABASE_URL (edu_psql): its password through PGPASSWORD,
# never on psql's command line, where ps(1) shows it to every user. Sourced by pipelines/lib.sh;
# run as `bash pipelines/env.sh COMMAND [ARG...]` it runs COMMAND with the settings (the
# Makefile's `make db`); as `bash pipelines/env.sh --psql [ARG...]`, edu_psql on the caller's
# environment alone, the settings file unread: sql/migrate.sh and pipelines/demo.sh, POSIX sh
# scripts, reach psql that way.

# edu_env_load: exports the settings file's variables that the environment leaves empty.
edu_env_load() {
	local top f mode line name value n=0
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	if [ -n "${EDU_ENV+set}" ]; then
		f=$EDU_ENV
		[ -n "$f" ] || return 0
		[ -f "$f" ] || edu_env_fail "EDU_ENV=$f: no such file"
	else
		f=$top/.env
		[ -f "$f" ] || return 0
	fi
	mode=$(stat -L -c %a "$f") || edu_env_fail "$f: cannot read its mode"
	if (((8#$mode & 8#066) != 0)); then
		edu_env_fail "$f: readable or writable by group or others (mode $mode), and it holds secrets: chmod 600 $f"
	fi
	[ -r "$f" ] || edu_env_fail "$f: not readable"
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%$'\r'}
		line=${line#"${line%%[![:space:]]*}"}
		case $line in
		'' | '#'*) continue ;;
		'export '*) line=${line#export } ;;
		esac
		name=${line%%=*}
		if [[ $line != *=* || ! $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
			# The line is not printed: it may hold a secret.
			edu_env_fail "$f:$n: not a NAME=value line"
		fi
		value=${line#*=}
		if [[ ${#value} -ge 2 && ($value == \"*\" || $value == \'*\') ]]; then
			value=${value:1:${#value}-2}
		fi
		[ -n "${!name:-}" ] || export "$name=$value"
	done <"$f"
}

# edu_db_split: EDU_DB_CONN becomes DATABASE_URL without its password, EDU_DB_PW the password
# (decoded), from a URI's user info or password= parameter, or a key=value string's password.
edu_db_split() {
	local url=${DATABASE_URL:-} pw='' rest auth tail
	case $url in
	postgres://* | postgresql://*)
		rest=${url#*://}
		auth=${rest%%[/?]*}
		tail=${rest#"$auth"}
		if [[ $auth == *@* && ${auth%@*} == *:* ]]; then
			pw=${auth%@*}
			pw=${pw#*:}
			auth=${auth%%:*}@${auth##*@}
		fi
		if [[ $tail =~ ^(.*[?&])password=([^&]*)(&?)(.*)$ ]]; then
			pw=${BASH_REMATCH[2]}
			tail=${BASH_REMATCH[1]}${BASH_REMATCH[4]}
			tail=${tail%[?&]}
		fi
		url=${url%%://*}://$auth$tail
		pw=$(printf '%b' "${pw//%/\\x}")
		;;
	*)
		if [[ $url =~ ^(.*)password[[:space:]]*=[[:space:]]*(\'([^\'\\]|\\.)*\'|[^[:space:]]+)(.*)$ ]]; then
			pw=${BASH_REMATCH[2]}
			url=${BASH_REMATCH[1]}${BASH_REMATCH[4]}
			if [[ $pw == \'*\' ]]; then
				pw=${pw:1:${#pw}-2}
				pw=${pw//\\\'/\'}
				pw=${pw//\\\\/\\}
			fi
		fi
		;;
	esac
	EDU_DB_CONN=$url
	EDU_DB_PW=$pw
}

# edu_psql ARG...: psql on the configured database (DATABASE_URL, else libpq's environment),
# quiet, stopping at the first error, without psqlrc. A password in DATABASE_URL goes to psql
# through PGPASSWORD, never on its command line, where ps(1) would show it to every user.
edu_psql() {
	if [ -z "${DATABASE_URL:-}" ]; then
		psql -X -q -v ON_ERROR_STOP=1 "$@"
		return $? # explicit: in a trap handler, a bare return gives the status before the trap
	fi
	edu_db_split
	if [ -n "$EDU_DB_PW" ]; then
		PGPASSWORD=$EDU_DB_PW psql -X -q -v ON_ERROR_STOP=1 -d "$EDU_DB_CONN" "$@"
	else
		psql -X -q -v ON_ERROR_STOP=1 -d "$EDU_DB_CONN" "$@"
	fi
}

edu_env_fail() {
	printf '%s: %s\n' "${EDU_SCRIPT:-pipelines/env.sh}" "$1" >&2
	exit 78
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	[ $# -gt 0 ] || { echo "usage: pipelines/env.sh command [arg ...] | --psql [arg ...]" >&2; exit 64; }
	if [ "$1" = --psql ]; then
		shift
		edu_psql "$@"
		exit
	fi
	edu_env_load
	exec "$@"
fi
