#!/bin/bash
# edu-csv2tsv: golden files on the real excerpts and on hand-made edge cases (tests/fixtures/edge),
# under LC_ALL=C and C.UTF-8; every error case with its exit status, its message and the promise
# that no end-of-data line was written; -o atomicity; streams cut in the middle of a record.
# Refresh the golden files with EDU_UPDATE_GOLDEN=1 after checking the differences by hand.
. "${EDU_ROOT:-.}/tests/lib.sh"

E=$FIX/edge
mkdir -p "$GOLD/csv2tsv"

# converts NAME ARGS...: exit 0, silent, stdout equals tests/golden/csv2tsv/NAME.tsv.
converts() {
	local name=$1
	shift
	run edu-csv2tsv "$@"
	is_status 0 "$name [$LC_ALL]"
	empty_err "$name: nothing on stderr [$LC_ALL]"
	golden "csv2tsv/$name.tsv" "$name: golden output [$LC_ALL]"
}
no_end_line() {
	if grep -qx '\\\.' "$OUT"; then
		ok 1 "$1: no end-of-data line"
		show_io
	else
		ok 0 "$1: no end-of-data line"
	fi
}
# fails STATUS ERE NAME CMD...: exit STATUS, stderr matches ERE, no end-of-data line.
fails() {
	local st=$1 re=$2 name=$3
	shift 3
	run "$@"
	is_status "$st" "$name [$LC_ALL]"
	like_err "$re" "$name: message [$LC_ALL]"
	no_end_line "$name [$LC_ALL]"
}

for LC_ALL in C C.UTF-8; do
	export LC_ALL
	# ---- the real excerpts ----
	converts ivac-colleges "$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv"
	converts dvf-raw-2020 "$FIX/dvf/valeursfoncieres-2020_excerpt-172rows.txt"
	converts geo-dvf-2025 "$FIX/dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv"
	converts insee-commune-2022-first500 "$FIX/insee-communes/commune_2022_first500.csv"
	converts insee-commune-2022-selected "$FIX/insee-communes/commune_2022_selected-lines_corse-arm-dom.csv"
	converts annuaire-2023 "$FIX/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv"
	converts annuaire-2026 "$FIX/annuaire-education/fr-en-annuaire-education_dept94-ecoles_2026-07.csv"
	converts geoloc-2023 "$FIX/annuaire-education/fr-en-adresse-et-geolocalisation-etablissements-premier-et-second-degre_dept35-colleges_2023-06.csv"
	converts onisep-specialite "$FIX/onisep/ideo-enseignements_de_specialite_de_premiere_generale_first500.csv"
	converts onisep-optionnels "$FIX/onisep/ideo-enseignements_optionnels_de_seconde_generale_et_technologique_first300.csv"

	# ---- hand-made dialects ----
	converts quoted-crlf "$E/quoted-crlf.csv"
	converts quoted-crlf-k -E "$E/quoted-crlf.csv"
	converts no-final-newline "$E/no-final-newline.csv"
	converts bom-semicolon-crlf "$E/bom-semicolon-crlf.csv"
	converts pipe "$E/pipe.csv"
	converts tab "$E/tab.tsv"
	converts tab-forced -d tab "$E/tab.tsv"
	converts latin1 -e iso-8859-1 "$E/latin1.csv"
	converts cp1252 -e windows-1252 "$E/cp1252.csv"
	converts noheader -H "$E/noheader.csv"
	converts noheader-k -E -H "$E/noheader.csv"
	converts quoted-header "$E/quoted-header.csv"
	converts tie "$E/tie.csv"
	converts tie-forced -d , "$E/tie.csv"
	converts most-frequent "$E/most-frequent.csv"
	converts one-column "$E/one-column.csv"
	converts header-only "$E/header-only.csv"
	converts bigfield-at-cap -m 13 "$E/bigfield.csv"

	# ---- errors ----
	fails 65 '^edu-csv2tsv: .*bad-utf8\.csv:3: invalid UTF-8 at byte offset 14 .*-e windows-1252' \
		'invalid UTF-8 names line and offset and suggests -e' edu-csv2tsv "$E/bad-utf8.csv"
	like_out '^1	ok$' 'rows before the invalid one are written'
	fails 65 'latin1\.csv:1: invalid UTF-8 at byte offset 11 \(byte 0xE9' \
		'Latin-1 without -e is refused, not mojibake' edu-csv2tsv "$E/latin1.csv"
	empty_out 'nothing is written when the header is bad'
	fails 65 'surrogate\.csv:3: invalid UTF-8 .*byte 0xED' 'a UTF-16 surrogate is invalid UTF-8' \
		edu-csv2tsv "$E/utf8-4byte-surrogate.csv"
	fails 65 'cp1252-undefined\.csv:2: invalid windows-1252 byte sequence at byte offset 12' \
		'a byte windows-1252 does not define' edu-csv2tsv -e windows-1252 "$E/cp1252-undefined.csv"
	fails 65 'wrong-count\.csv:5: wrong number of fields: expected 2, found 3' \
		'wrong field count names the physical line after a multi-line record' \
		edu-csv2tsv "$E/wrong-count.csv"
	is "$(tail -n 1 "$OUT")" '2	x' 'rows before the bad one are written, the bad one is not'
	fails 65 'wrong-count-multiline\.csv:4: wrong number of fields: expected 2, found 3' \
		'wrong field count on a quote-free line' edu-csv2tsv "$E/wrong-count-multiline.csv"
	fails 65 'wrong-count-span\.csv:2: wrong number of fields in the record of lines 2-3: expected 2, found 3' \
		'wrong field count in a record spanning lines' edu-csv2tsv "$E/wrong-count-span.csv"
	fails 65 'blank-line\.csv:3: wrong number of fields: expected 2, found 1' \
		'an empty line is a one-field row' edu-csv2tsv "$E/blank-line.csv"
	fails 65 'unterminated\.csv:3: unterminated quoted field.*line 4' \
		'unterminated quote at end of input' edu-csv2tsv "$E/unterminated.csv"
	fails 65 'nul\.csv:3: NUL byte at byte offset 11' 'NUL byte' edu-csv2tsv "$E/nul.csv"
	fails 79 'abort\.csv:3: the upstream transfer failed' 'the abort mark of edu-fetch' \
		edu-csv2tsv "$E/abort.csv"
	fails 65 'empty-header\.csv:1: column 2: empty column name' 'empty column name' \
		edu-csv2tsv "$E/empty-header.csv"
	fails 65 "dup-header\\.csv:1: column 3: duplicate column name 'a' \\(same as column 1\\)" \
		'duplicate column name' edu-csv2tsv "$E/dup-header.csv"
	fails 65 'bigfield\.csv:3: field 2 is larger than 12 bytes \(raise the cap with -m\)' \
		'field cap, quoted field' edu-csv2tsv -m 12 "$E/bigfield.csv"
	fails 65 'bigfield\.csv:2: field 2 is larger than 5 bytes' 'field cap, unquoted field' \
		edu-csv2tsv -m 5 "$E/bigfield.csv"
	fails 65 'bare-cr\.csv:2: carriage return outside quotes' 'bare CR' edu-csv2tsv "$E/bare-cr.csv"
	fails 65 'quote-in-unquoted\.csv:2: malformed quoted field at byte 5' 'quote inside an unquoted field' \
		edu-csv2tsv "$E/quote-in-unquoted.csv"
	fails 65 'text-after-quote\.csv:2: malformed quoted field at byte 7' 'text after a closing quote' \
		edu-csv2tsv "$E/text-after-quote.csv"
	fails 65 'empty\.csv: empty input: no header line' 'empty input' edu-csv2tsv "$E/empty.csv"
	fails 65 'bom-only\.csv: empty input' 'a BOM alone is empty' edu-csv2tsv "$E/bom-only.csv"
	fails 65 'empty input: no data line' 'empty input with -H' edu-csv2tsv -H "$E/empty.csv"
	fails 66 'edu-csv2tsv: .*no-such\.csv: No such file' 'missing input' edu-csv2tsv "$T/no-such.csv"
	fails 64 "-e no-such-enc: unknown encoding" 'unknown encoding' edu-csv2tsv -e no-such-enc "$E/pipe.csv"
	fails 64 "-d: 'xy': the delimiter must be" 'bad delimiter' edu-csv2tsv -d xy "$E/pipe.csv"
	fails 64 "-d: '\"'" 'the quote cannot be the delimiter' edu-csv2tsv -d '"' "$E/pipe.csv"
	fails 64 "-m: '0': out of range" 'a zero field cap' edu-csv2tsv -m 0 "$E/pipe.csv"
	fails 64 '^usage: edu-csv2tsv' 'two inputs' edu-csv2tsv "$E/pipe.csv" "$E/tie.csv"
done

# ---- stdin, names in messages, -v, -p, -q ----
run_in "$E/bom-semicolon-crlf.csv" edu-csv2tsv
same_file "$OUT" "$GOLD/csv2tsv/bom-semicolon-crlf.tsv" 'stdin gives the same output as a file'
run_in "$E/bad-utf8.csv" edu-csv2tsv -
is_status 65 'stdin named -'
like_err '^edu-csv2tsv: stdin:3: invalid UTF-8' 'stdin is named "stdin" in messages'
run edu-csv2tsv -v "$E/bom-semicolon-crlf.csv"
like_err "bom-semicolon-crlf\\.csv: delimiter ';', BOM stripped" '-v tells the delimiter and the BOM'
like_err 'bom-semicolon-crlf\.csv: 3 lines, 2 rows, 3 columns' '-v counts lines, rows and columns'
run edu-csv2tsv -v "$FIX/dvf/valeursfoncieres-2020_excerpt-172rows.txt"
like_err "delimiter '\\|'$" '-v: DVF raw is pipe-delimited'
run edu-csv2tsv -p "$E/pipe.csv"
like_err '^edu-csv2tsv: [0-9]+ B / [0-9]+ B \(100%\), [0-9.]+ [KMG]?i?B/s, ETA 0 s \(done\)$' \
	'-p forces a progress line when stderr is a file, in human units'
run edu-csv2tsv -q "$E/pipe.csv"
empty_err '-q: no progress'

# ---- properties the golden files rely on ----
ivac=$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv
run edu-csv2tsv "$ivac"
is "$(head -c 3 "$OUT" | od -An -tx1 | tr -d ' ')" "$(printf 'num' | od -An -tx1 | tr -d ' ')" \
	'the BOM is stripped from the first column name'
is "$(grep -c $'\r' "$OUT")" 0 'no CR left from CRLF line ends'
is "$(($(wc -l <"$OUT") - 1))" "$(wc -l <"$ivac")" 'one output line per input line, plus the end line'
is "$(tail -n 1 "$OUT")" '\.' 'the end-of-data line comes last'
is "$(awk -F '\t' 'NR > 1 && $0 != "\\." && NF != 29' "$OUT" | wc -l)" 0 \
	'every row has the 29 columns of the header'

# ---- -o writes atomically ----
run edu-csv2tsv -o "$T/out.tsv" "$E/quoted-crlf.csv"
is_status 0 '-o succeeds'
empty_out '-o: nothing on stdout'
same_file "$T/out.tsv" "$GOLD/csv2tsv/quoted-crlf.tsv" '-o writes the same bytes as stdout'
echo previous >"$T/keep.tsv"
run edu-csv2tsv -o "$T/keep.tsv" "$E/unterminated.csv"
is_status 65 '-o with bad input fails'
is "$(cat "$T/keep.tsv")" previous '-o leaves the old file untouched on failure'
is "$(find "$T" -name '*keep.tsv.*' | wc -l)" 0 '-o removes its temporary file on failure'
run edu-csv2tsv -o "$T/no-such-dir/out.tsv" "$E/quoted-crlf.csv"
is_status 66 '-o into a directory that does not exist'
like_err "^edu-csv2tsv: $T/no-such-dir/out.tsv: cannot create a temporary file next to it: No such file" \
	'-o: the message names the target'

# ---- wide headers: refused at the cap, in constant time, duplicates found without O(n^2) ----
# 100,000 columns (1.3 MB): refused, under a 2 s CPU limit that the former quadratic check
# (25 s) would exceed and be killed for (SIGXCPU), whatever the machine's speed.
/usr/bin/python3 -c '
import sys
n = int(sys.argv[1])
print(";".join("colonne_%05d" % i for i in range(n)))
print(";".join("1" for i in range(n)))' 100000 >"$T/wide.csv"
run_sh "ulimit -t 2; exec edu-csv2tsv '$T/wide.csv'"
is_status 65 '100,000 columns are refused, not killed for CPU time'
is "$(cat "$ERR")" "edu-csv2tsv: $T/wide.csv:1: more than 4096 columns in the header" \
	'100,000 columns: the message gives the limit'
empty_out '100,000 columns: nothing written'
run_sh "ulimit -t 2; exec edu-csv2tsv -H '$T/wide.csv'"
is_status 65 '-H: 100,000 fields in the first record are refused'
like_err ':1: more than 4096 columns in the first record$' '-H: the message says first record'
# The widest header accepted, with its last name repeating an earlier one.
/usr/bin/python3 -c '
names = ["c%d" % i for i in range(4095)] + ["c17"]
print(",".join(names)); print(",".join(str(i) for i in range(4096)))' >"$T/wide-dup.csv"
run_sh "ulimit -t 2; exec edu-csv2tsv '$T/wide-dup.csv'"
is_status 65 '4,096 columns with a duplicate'
like_err ":1: column 4096: duplicate column name 'c17' \(same as column 18\)$" \
	'the duplicate and its first occurrence are named'
sed -i '1s/c17$/c4095/' "$T/wide-dup.csv"
run_sh "ulimit -t 2; exec edu-csv2tsv -q '$T/wide-dup.csv'"
is_status 0 '4,096 distinct columns are converted'
is "$(head -n 1 "$OUT" | tr '\t' '\n' | wc -l)" 4096 '4,096 columns: all in the header'

# ---- a stream cut in the middle of a record ----
onisep=$FIX/onisep/ideo-enseignements_de_specialite_de_premiere_generale_first500.csv
# Line 11 is `AF.…;"…`: 30 bytes of it end inside the quoted second field.
cut=$(($(head -n 10 "$onisep" | wc -c) + 30))
head -c "$cut" "$onisep" >"$T/cut.csv"
run_sh "head -c $cut '$onisep' | edu-csv2tsv"
is_status 65 'a stream cut inside a quoted field fails'
like_err '^edu-csv2tsv: stdin:11: unterminated quoted field' 'the cut record is named by its line'
no_end_line 'cut inside a quoted field'
is "$(wc -l <"$OUT")" 10 'the header and the 9 complete rows are written'
cut=$(($(head -n 20 "$ivac" | wc -c) + 40))
run_sh "head -c $cut '$ivac' | edu-csv2tsv"
is_status 65 'a stream cut inside an unquoted row fails'
like_err '^edu-csv2tsv: stdin:21: wrong number of fields: expected 29, found [0-9]+$' \
	'the cut row is named by its physical line'
no_end_line 'cut inside an unquoted row'
{
	head -n 20 "$ivac"
	printf '\0EDU-ABORT: upstream transfer failed\n'
} >"$T/aborted.csv"
run_in "$T/aborted.csv" edu-csv2tsv
is_status 79 'a stream ending with the abort mark'
like_err '^edu-csv2tsv: stdin:21: the upstream transfer failed' 'the abort mark is recognized'
no_end_line 'abort mark'

# ---- a few MB across buffer boundaries, against Python's csv module as a reference ----
/usr/bin/python3 "$EDU_ROOT/tests/gen-dvf.py" 30000 >"$T/big.csv"
/usr/bin/python3 -c '
import csv, sys
esc = lambda s: s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
rows = csv.reader(open(sys.argv[1], newline="", encoding="utf-8"))
out = sys.stdout
out.write("\t".join(map(esc, next(rows))) + "\n")
for row in rows:
    out.write("\t".join("\\N" if v == "" else esc(v) for v in row) + "\n")
out.write("\\.\n")
' "$T/big.csv" >"$T/big.ref"
run edu-csv2tsv "$T/big.csv"
is_status 0 '5 MB geo-DVF-shaped file'
same_file "$OUT" "$T/big.ref" 'equals the Python csv reference across buffer boundaries'
run_sh "cat '$T/big.csv' | edu-csv2tsv -e utf-8"
same_file "$OUT" "$T/big.ref" 'the same through a pipe and iconv'

# ---- -e: a line longer than the buffer whose decoded characters do not fill it exactly ----
# 1 MiB of 'é' after an odd prefix leaves one byte of room that a 2-byte character cannot take;
# the buffer must then count as full (it used to loop for ever), and the text must come out whole.
/usr/bin/python3 -c '
import sys
o = sys.stdout.buffer
o.write(b"a;b\n1;x" + b"\xe9" * (1 << 19) + b"\x80" * 1000 + b"\n2;y\n")
' >"$T/long1252.csv"
iconv -f windows-1252 -t utf-8 "$T/long1252.csv" >"$T/long1252.utf8"
run edu-csv2tsv "$T/long1252.utf8"
cp "$OUT" "$T/long1252.ref"
run timeout 20 edu-csv2tsv -e windows-1252 "$T/long1252.csv"
is_status 0 '-e: a line longer than the buffer ending in a character that does not fit'
empty_err '-e long line: nothing on stderr'
same_file "$OUT" "$T/long1252.ref" '-e long line: same output as converting the UTF-8 file'
run_sh "cat '$T/long1252.csv' | timeout 20 edu-csv2tsv -e windows-1252"
same_file "$OUT" "$T/long1252.ref" '-e long line: the same through a pipe'
