#!/bin/bash
# Differential test of edu-csv2tsv against PostgreSQL's own CSV parser: for every CSV fixture,
# the contract stream loaded with \copy (format text, header true) must hold exactly the rows
# that \copy (format csv, header true, delimiter ...) loads from the CSV itself, NULLs and empty
# strings included (EXCEPT ALL both ways, and equal counts).
. "${EDU_ROOT:-.}/tests/lib.sh"

newdb csv2tsv_diff || {
	ok 1 'cannot create the test database'
	exit 1
}

# The delimiter of each source, known independently of edu-csv2tsv's detection.
delim_of() {
	case $1 in
	*/dvf/valeursfoncieres-*) echo '|' ;;
	*/dvf/geo-dvf* | */insee-communes/*) echo ',' ;;
	*/onisep/* | */ivac-colleges/* | */ival-lycees/* | */annuaire-education/*) echo ';' ;;
	*.tsv) printf '\t' ;;
	*) ;;
	esac
}

# compare FILE DELIM [PG-ENCODING [csv2tsv options]]
compare() {
	local f=$1 d=$2 enc=${3:-UTF8} name ncols cols i dsql
	shift 3 2>/dev/null || shift $#
	name=${f#"$FIX"/}
	if ! edu-csv2tsv "$@" "$f" >"$T/x.tsv" 2>"$T/err"; then
		ok 1 "$name: edu-csv2tsv converts it"
		sed 's/^/# /' "$T/err"
		return
	fi
	# The contract header gives the column count; the tables use neutral names.
	ncols=$(head -n 1 "$T/x.tsv" | awk -F '\t' '{print NF}')
	cols=
	for ((i = 1; i <= ncols; i++)); do cols="$cols${cols:+, }c$i text"; done
	# COPY csv skips the header line; the BOM goes anyway so that it can never reach a value.
	if [ "$(head -c 3 "$f" | od -An -tx1 | tr -d ' ')" = efbbbf ]; then
		tail -c +4 "$f" >"$T/x.csv"
	else
		cp "$f" "$T/x.csv"
	fi
	case $d in
	"$(printf '\t')") dsql="E'\\t'" ;;
	*) dsql="'$d'" ;;
	esac
	if ! psql -X -q -v ON_ERROR_STOP=1 >"$T/psql.out" 2>&1 <<-EOF; then
		drop table if exists via_tsv, via_csv;
		create table via_tsv ($cols);
		create table via_csv ($cols);
		\\copy via_tsv from '$T/x.tsv' (format text, header true)
		\\copy via_csv from '$T/x.csv' (format csv, header true, delimiter $dsql, encoding '$enc')
	EOF
		ok 1 "$name: both loads succeed"
		sed 's/^/# /' "$T/psql.out"
		return
	fi
	is "$(sql "select (select count(*) from via_tsv) || ' ' || (select count(*) from via_csv)
		|| ' ' || (select count(*) from (table via_tsv except all table via_csv) a)
		|| ' ' || (select count(*) from (table via_csv except all table via_tsv) b)")" \
		"$(($(wc -l <"$T/x.tsv") - 2)) $(($(wc -l <"$T/x.tsv") - 2)) 0 0" \
		"$name: same $(($(wc -l <"$T/x.tsv") - 2)) rows as COPY csv (delimiter $dsql, $enc)"
}

n=0
for f in "$FIX"/*/*.csv "$FIX"/*/*.txt; do
	case $f in "$FIX"/edge/*) continue ;; esac
	d=$(delim_of "$f")
	if [ -z "$d" ]; then
		d=$(edu-csv2tsv -v "$f" 2>&1 >/dev/null | sed -n "s/.*delimiter \\(tab\\|'\\(.\\)'\\).*/\\2/p" | head -n 1)
		[ -n "$d" ] || d=$(printf '\t')
	fi
	compare "$f" "$d"
	n=$((n + 1))
done
is "$([ "$n" -ge 11 ] && echo yes)" yes "all real excerpts were compared ($n files)"

# Hand-made dialects that must convert (tests/t/0100-csv2tsv.t holds the error cases).
E=$FIX/edge
compare "$E/quoted-crlf.csv" ','
compare "$E/quoted-header.csv" ','
compare "$E/no-final-newline.csv" ';'
compare "$E/bom-semicolon-crlf.csv" ';'
compare "$E/pipe.csv" '|'
compare "$E/tab.tsv" "$(printf '\t')"
compare "$E/tie.csv" ';'
compare "$E/most-frequent.csv" ','
compare "$E/one-column.csv" ','
compare "$E/header-only.csv" ','
compare "$E/latin1.csv" ';' LATIN1 -e iso-8859-1
compare "$E/cp1252.csv" ';' WIN1252 -e windows-1252
compare "$FIX/dvf/valeursfoncieres-2020_excerpt-172rows.txt" '|' UTF8 -d '|'
