#!/bin/bash
# edu-normalize around the rules: the mapping file (alternatives, optional and shared sources,
# null tokens, only=, and every kind of mistake in it), schema drift and -s, rejected rows with
# -r and -m, truncated input, and the command line. Inputs are hand-written contract files in
# tests/fixtures/normalize/.
. "${EDU_ROOT:-.}/tests/lib.sh"
N=$FIX/normalize
MAP=$N/schools.map
LC_ALL=C
export LC_ALL
# errs: stderr without the warning that the fixture map's optional Tutelle is absent (tested once
# below), for the cases about something else.
errs() { grep -v "^edu-normalize: .*:1: optional column 'Tutelle' is absent" "$ERR"; }

# A whole stream through the map: alternatives, optional, one source feeding two targets,
# commune_in_dept (with a DOM), null tokens, only= and dropped extra columns.
run edu-normalize -M "$MAP" "$N/schools.tsv"
is_status 0 "schools.tsv normalizes"
golden normalize/schools.tsv "schools.tsv gives the expected contract"
# (Was "silent on success": an absent optional column is now said, once; -q keeps it silent.)
is "$(cat "$ERR")" "edu-normalize: $N/schools.tsv:1: optional column 'Tutelle' is absent: NULL in tutelle" \
	"an absent optional column: one warning naming it, nothing else"
run edu-normalize -q -M "$MAP" "$N/schools.tsv"
empty_err "-q: silent on success"
same_file "$OUT" "$GOLD/normalize/schools.tsv" "-q does not change the output"
run_in "$N/schools.tsv" edu-normalize -M "$MAP"
same_file "$OUT" "$GOLD/normalize/schools.tsv" "stdin gives the same as a file argument"
run_in "$N/schools.tsv" edu-normalize -M "$MAP" -
same_file "$OUT" "$GOLD/normalize/schools.tsv" "- is stdin"

run edu-normalize -M "$MAP" "$N/schools-2026.tsv"
is_status 0 "a renamed column listed as an alternative (Code_postal|Code postal)"
same_file "$OUT" "$GOLD/normalize/schools.tsv" "the 2026 header gives the same rows"

# The first alternative present wins, whatever the header order.
printf 'a\tb\n1\t2\n\\.\n' >"$T/ab.tsv"
printf 'b|a\tx\tint\n' >"$T/ab.map"
run edu-normalize -M "$T/ab.map" "$T/ab.tsv"
is "$(cat "$OUT")" "$(printf 'x\n2\n\\.')" "the first alternative of the map wins"
printf '?zz|b\tx\tint\na\t-\tnot data\n' >"$T/ab.map"
run edu-normalize -M "$T/ab.map" "$T/ab.tsv"
is "$(cat "$OUT")" "$(printf 'x\n2\n\\.')" "an optional source with alternatives takes the one present"
empty_err "an optional source that is present: no warning"
# One warning for an absent optional source, however many targets it feeds; they load NULL.
printf '?zz|yy\tx\tint\n?zz|yy\ty\ttext\na\tz\tint\nb\t-\tnot data\n' >"$T/opt.map"
run edu-normalize -M "$T/opt.map" "$T/ab.tsv"
is_status 0 "an absent optional source"
is "$(cat "$OUT")" "$(printf 'x\ty\tz\n\\N\t\\N\t1\n\\.')" "an absent optional source: its targets load NULL"
is "$(cat "$ERR")" "edu-normalize: $T/ab.tsv:1: optional column 'zz|yy' is absent: NULL in x, y" \
	"an absent optional source: exactly one warning, naming it and its targets"

run edu-normalize -v -M "$MAP" "$N/schools.tsv"
is_status 0 "-v"
is "$(tail -n 1 "$ERR")" \
	"edu-normalize: $N/schools.tsv: 4 rows read, 3 written, 1 dropped by only=, 0 rejected" \
	"-v prints the counts on stderr"
same_file "$OUT" "$GOLD/normalize/schools.tsv" "-v does not change the output"

run edu-normalize -M "$MAP" -o "$T/out.tsv" "$N/schools.tsv"
is_status 0 "-o file"
empty_out "-o leaves stdout empty"
same_file "$T/out.tsv" "$GOLD/normalize/schools.tsv" "-o writes the contract to the file"

# ---- schema drift ----
run edu-normalize -M "$MAP" "$N/schools-drift.tsv"
is_status 65 "a mapped column missing from the input is schema drift"
empty_out "schema drift: nothing written, not even the header"
cat >"$T/drift.err" <<EOF
edu-normalize: $N/schools-drift.tsv:1: schema drift: mapped columns missing from the input: 'Code département', 'Ouverture'
edu-normalize: $N/schools-drift.tsv:1: expected ($MAP): 'UAI', 'Nom de l'établissement', 'Code_postal|Code postal', 'Code commune', 'Code département', 'Ouverture', 'Effectif', 'Secteur'
edu-normalize: $N/schools-drift.tsv:1: found: 'UAI', 'Nom de l'établissement', 'Code postal', 'Code commune', 'Département', 'Date ouverture', 'Effectif', 'Secteur', 'Remarque'
EOF
same_file "$ERR" "$T/drift.err" "schema drift lists what is missing, expected and found"

# ---- columns the map does not name: a warning each, loaded or not; -s makes them drift ----
grep -v Remarque "$MAP" >"$T/unnamed.map"
run edu-normalize -M "$T/unnamed.map" "$N/schools.tsv"
is_status 0 "an input column the map does not name is not refused"
same_file "$OUT" "$GOLD/normalize/schools.tsv" "a column the map does not name: the same output"
is "$(head -n 1 "$ERR")" \
	"edu-normalize: $N/schools.tsv:1: column 'Remarque' is not in $T/unnamed.map: not loaded" \
	"a column the map does not name: one warning naming it and the map"
is "$(grep -c 'not in' "$ERR")" 1 "one warning for one such column"
run edu-normalize -q -M "$T/unnamed.map" "$N/schools.tsv"
empty_err "-q silences the warning for a column the map does not name"
run edu-normalize -M "$MAP" "$N/schools.tsv"
! grep -q 'Remarque' "$ERR"
ok $? "a column the map leaves out (target -) is not reported"
run edu-normalize -s -M "$T/unnamed.map" "$N/schools.tsv"
is_status 65 "-s refuses an input column the map does not name"
is "$(cat "$ERR")" \
	"edu-normalize: $N/schools.tsv:1: schema drift: input columns not in $T/unnamed.map (-s): 'Remarque'" \
	"-s names the unnamed column"
empty_out "-s: nothing written"
run edu-normalize -s -q -M "$MAP" "$N/schools.tsv"
is_status 0 "-s accepts a column the map leaves out with a reason"
grep -v Remarque "$MAP" >"$T/strict.map"
printf 'Remarque\tremarque\traw\n' >>"$T/strict.map"
run edu-normalize -s -M "$T/strict.map" "$N/schools.tsv"
is_status 0 "-s accepts an input whose every column is mapped"
like_out '^0150018N	.*	a\\\\b$' "raw keeps the escaped backslash"
# More than 20 new columns: 20 named, then their number (a broken export must not flood the log).
/usr/bin/python3 -c '
print("\t".join(["UAI"] + ["new%02d" % i for i in range(25)])); print("\\.")' >"$T/many.tsv"
printf 'UAI\tuai\tuai\n' >"$T/uai.map"
run edu-normalize -M "$T/uai.map" "$T/many.tsv"
is_status 0 "25 new columns"
is "$(grep -c "is not in $T/uai.map: not loaded" "$ERR")" 20 "the first 20 new columns are named"
is "$(tail -n 1 "$ERR")" "edu-normalize: $T/many.tsv:1: and 5 more columns not in $T/uai.map: not loaded" \
	"then their number"
# A line of alternatives left out names each column it leaves out.
printf 'a\tb\tc\n1\t2\t3\n\\.\n' >"$T/abc.tsv"
printf 'a\tx\tint\nb|c|zz\t-\tnot data\n' >"$T/skip.map"
run edu-normalize -s -M "$T/skip.map" "$T/abc.tsv"
is_status 0 "a left-out line with alternatives covers every one present"
is "$(cat "$OUT")" "$(printf 'x\n1\n\\.')" "left-out columns are not written"
empty_err "left-out columns: no warning, even when one of the names is absent"
# Padded header names (some exports pad them) resolve by their trimmed name.
printf ' a \t  b\n1\t2\n\\.\n' >"$T/pad.tsv"
printf 'a\tx\tint\n?b\ty\tint\n' >"$T/pad.map"
run edu-normalize -s -M "$T/pad.map" "$T/pad.tsv"
is_status 0 "padded header names are found"
is "$(cat "$OUT")" "$(printf 'x\ty\n1\t2\n\\.')" "padded header names: their values"
empty_err "padded header names: no warning"

# ---- wide headers: refused at the cap before any name is compared ----
# 100,000 columns (1.3 MB) under a 2 s CPU limit that the former quadratic check exceeded.
/usr/bin/python3 -c '
n = 100000
print("\t".join("colonne_%05d" % i for i in range(n))); print("\\.")' >"$T/wide.tsv"
run_sh "ulimit -t 2; exec edu-normalize -M '$MAP' '$T/wide.tsv'"
is_status 65 '100,000 columns are refused, not killed for CPU time'
is "$(cat "$ERR")" "edu-normalize: $T/wide.tsv:1: 100000 columns: more than 4096 in the header" \
	'100,000 columns: the message gives the count and the limit'
empty_out '100,000 columns: nothing written'
/usr/bin/python3 -c '
print("\t".join(["c%d" % i for i in range(4095)] + ["c17"])); print("\\.")' >"$T/wide-dup.tsv"
run_sh "ulimit -t 2; exec edu-normalize -M '$MAP' '$T/wide-dup.tsv'"
is_status 65 '4,096 columns with a duplicate'
is "$(cat "$ERR")" "edu-normalize: $T/wide-dup.tsv:1: column 4096: duplicate column name 'c17'" \
	'the duplicate is named'

# ---- bad values, -r and -m ----
run edu-normalize -M "$MAP" "$N/schools-bad.tsv"
is_status 65 "a bad value fails without -r"
is "$(errs)" \
	"edu-normalize: $N/schools-bad.tsv:2: column UAI: '0150018X': uai check letter should be N" \
	"the message names file, line, column, value and rule"
is "$(grep -c '^\\\.$' "$OUT")" 0 "a failed run writes no end-of-data line"

run edu-normalize -M "$MAP" -r "$T/rej.tsv" "$N/schools-bad.tsv"
is_status 0 "-r: bad rows go to the reject file"
is "$(errs)" "edu-normalize: $N/schools-bad.tsv: 3 rows rejected to $T/rej.tsv" \
	"-r says how many rows were rejected"
is "$(cat "$OUT")" "$(printf '%s\n' \
	'uai	nom	code_postal	code_commune	code_departement	date_ouverture	annee	effectif	tutelle	secteur' \
	'0150018N	good	15600	15108	15	1965-01-07	1965	2	\N	PU' '\.')" \
	"-r: the good rows are written, then the end-of-data line"
B=$N/schools-bad.tsv
cat >"$T/rej.want" <<EOF
UAI	Nom de l'établissement	Code postal	Code commune	Code département	Ouverture	Effectif	Secteur	Remarque	reason
0150018X	bad check letter	15600	108	15	07/01/1965	1	PU	\N	$B:2: column UAI: '0150018X': uai check letter should be N
0150018N	no 30 February	15600	108	15	30/02/1965	3	PU	tab\there	$B:4: column Ouverture: '30/02/1965': date does not exist in the calendar
0150018N	short postal code	156	108	15	07/01/1965	4	PR	\N	$B:5: column Code postal: '156': postal needs a 5-digit postal code
\.
EOF
same_file "$T/rej.tsv" "$T/rej.want" "the reject file holds the original rows and a reason, as a contract"
run edu-normalize -q -M "$MAP" -r "$T/rej.tsv" "$N/schools-bad.tsv"
empty_err "-q silences the reject count"

run edu-normalize -M "$MAP" -r "$T/rej.tsv" -m 3 "$N/schools-bad.tsv"
is_status 0 "-m 3 allows three rejected rows"
run edu-normalize -M "$MAP" -r "$T/rej.tsv" -m 2 "$N/schools-bad.tsv"
is_status 65 "-m 2 fails on the third rejected row"
is "$(errs)" \
	"edu-normalize: $B:5: column Code postal: '156': postal needs a 5-digit postal code; more than 2 rejected rows (-m)" \
	"-m names the row that went over the cap"
is "$(tail -n 1 "$T/rej.tsv")" '\.' "the reject file is complete up to the cap"
is "$(grep -c '^0150018' "$T/rej.tsv")" 3 "the reject file holds every rejected row"
run edu-normalize -M "$MAP" -r "$T/rej.tsv" -m 0 "$N/schools.tsv"
is_status 0 "-m 0 with nothing to reject"
run edu-normalize -M "$MAP" -m 2 "$N/schools-bad.tsv"
is_status 64 "-m without -r is a usage error"
is "$(cat "$ERR")" "edu-normalize: -m needs -r: without a reject file any bad value fails" \
	"-m without -r says why"

printf 'reason\tx\n1\tz\n\\.\n' >"$T/reason.tsv"
printf 'reason\tr\tint\n' >"$T/reason.map"
run edu-normalize -M "$T/reason.map" -r "$T/rej.tsv" "$T/reason.tsv"
is "$(head -n 1 "$T/rej.tsv")" "reason	x	reject_reason" \
	"the reason column is renamed when the input has one"

# A value is quoted as on the wire, cut at a UTF-8 boundary when long.
long=$(printf 'é%.0s' $(seq 1 40))
printf 'v\n%s\n\\.\n' "$long" >"$T/long.tsv"
printf 'v\tx\tint\n' >"$T/long.map"
run edu-normalize -M "$T/long.map" "$T/long.tsv"
is "$(cat "$ERR")" "edu-normalize: $T/long.tsv:2: column v: '$(printf 'é%.0s' $(seq 1 30))...': int needs a whole number" \
	"a long value is cut in the message"
printf 'v\nbad\\x\n\\.\n' >"$T/esc.tsv"
printf 'v\tx\ttext\n' >"$T/esc.map"
run edu-normalize -M "$T/esc.map" "$T/esc.tsv"
is_status 65 "an invalid escape sequence is a bad value"
is "$(cat "$ERR")" "edu-normalize: $T/esc.tsv:2: column v: 'bad\\x': invalid escape sequence" \
	"invalid escape: message"

# ---- the input stream ----
run edu-normalize -M "$MAP" "$N/truncated.tsv"
is_status 79 "input without its end-of-data line: an upstream stage died"
like_err "^edu-normalize: $N/truncated.tsv:3: input ends without the end-of-data line" \
	"truncated input: message"
run_sh "edu-normalize -M '$MAP' '$N/truncated.tsv' | tail -n 1 | grep -c '^\\\\\\.\$'"
is "$(cat "$OUT")" 0 "truncated input: no end-of-data line downstream"
run_in /dev/null edu-normalize -M "$MAP"
is_status 79 "empty input"
printf 'v\n1\t2\n\\.\n' >"$T/fields.tsv"
run edu-normalize -M "$T/long.map" "$T/fields.tsv"
is_status 65 "a row with too many fields"
is "$(cat "$ERR")" "edu-normalize: $T/fields.tsv:2: expected 1 fields, found 2" \
	"too many fields: message"
run edu-normalize -M "$MAP" "$T/nonexistent.tsv"
is_status 66 "a missing input file"
is "$(cat "$ERR")" "edu-normalize: $T/nonexistent.tsv: No such file or directory" \
	"missing input file: message"

# ---- mistakes in the mapping file: exit 78, naming file and line ----
map_error() { # map_error 'map text' 'message after file:line: ' DESCRIPTION
	printf '%b' "$1" >"$T/bad.map"
	run edu-normalize -M "$T/bad.map" "$N/schools.tsv"
	if [ "$status" -eq 78 ] && [ "$(cat "$ERR")" = "edu-normalize: $T/bad.map:$2" ] &&
		[ ! -s "$OUT" ]; then
		ok 0 "mapping file: $3"
	else
		ok 1 "mapping file: $3"
		diag "expected: edu-normalize: $T/bad.map:$2"
		show_io
	fi
}
map_error '# ok\nUAI\tuai\tuai\nUAI\tnom\tsoundex\n' "3: unknown rule 'soundex'" "unknown rule"
map_error 'UAI uai uai\n' "1: expected source, target and rule separated by tabs" \
	"fields separated by spaces"
map_error 'UAI\tuai\n' "1: expected source, target and rule separated by tabs" "missing rule"
map_error 'UAI\tUai\tuai\n' "1: 'Uai': target column names are lower-case letters, digits and _" \
	"bad target name"
map_error 'UAI\tuai\tuai\n\nUAI\tuai\ttext\n' "3: 'uai': target column already mapped on line 1" \
	"duplicate target"
map_error 'UAI\tuai\tuai\tnul=NC\n' "1: 'nul=NC': unknown or repeated option (null=, only=)" \
	"unknown option"
map_error 'UAI\tuai\tuai\tnull=NC\tnull=ND\n' \
	"1: 'null=ND': unknown or repeated option (null=, only=)" "repeated option"
map_error 'Code commune\tc\tcommune_in_dept\n' \
	"1: commune_in_dept needs =<département source column>" "commune_in_dept without its column"
map_error 'Code commune\tc\tcommune_in_dept=?Code département\n' \
	"1: '?Code département': the département column cannot be optional" \
	"commune_in_dept with an optional column"
map_error 'UAI\tuai\tuai=x\n' "1: rule 'uai' takes no argument" "an argument to a rule without one"
map_error 'UAI|\tuai\tuai\n' "1: 'UAI|': empty source column name" "empty alternative"
map_error 'UAI\tuai\tuai\nRemarque\t-\n' "2: expected source, target and rule separated by tabs" \
	"a column left out without its reason"
map_error 'UAI\tuai\tuai\nRemarque\t-\tnot data\tnull=NC\n' \
	"2: a column left out (target -) takes one reason after it, nothing more" \
	"a column left out with more than a reason"
map_error 'UAI\tuai\tlist\n' "1: list needs =<separator>, one ASCII punctuation character" \
	"list without its separator"
map_error 'UAI\tuai\tlist=ab\n' "1: list needs =<separator>, one ASCII punctuation character" \
	"list with a separator of two characters"
printf '# nothing\n\n' >"$T/empty.map"
run edu-normalize -M "$T/empty.map" "$N/schools.tsv"
is_status 78 "a map without columns"
is "$(cat "$ERR")" "edu-normalize: $T/empty.map: no column mapped" "empty map: message"
run edu-normalize -M "$T/nonexistent.map" "$N/schools.tsv"
is_status 78 "a missing mapping file"
is "$(cat "$ERR")" "edu-normalize: $T/nonexistent.map: No such file or directory" \
	"missing mapping file: message"
printf 'UAI\tuai\tuai\r\n\tNom de l'"'"'établissement  \t\tnom\ttext\r\nSecteur\ts\ttext\tonly=PU\r\n' >"$T/crlf.map"
run edu-normalize -M "$T/crlf.map" "$N/schools.tsv"
is_status 0 "a map with CRLF lines, leading tabs and padding spaces"
is "$(head -n 2 "$OUT" | tail -n 1)" "0150018N	COLLEGE DES PORTES DU MIDI	PU" "CRLF map: values"

# ---- command line ----
run edu-normalize "$N/schools.tsv"
is_status 64 "-M is required"
like_err '^usage: edu-normalize ' "no -M: usage"
run edu-normalize -M "$MAP" "$N/schools.tsv" "$N/schools.tsv"
is_status 64 "one input file at most"
run edu-normalize -M "$MAP" -m x -r "$T/rej.tsv" "$N/schools.tsv"
is_status 64 "-m needs a number"
run edu-normalize -M "$MAP" -r /nonexistent/dir/rej.tsv "$N/schools.tsv"
is_status 66 "a reject file whose directory does not exist (as for -o)"
like_err "^edu-normalize: /nonexistent/dir/rej.tsv: cannot create a temporary file next to it: No such file" \
	"a reject file that cannot be created: the message names it"

# ---- -p: progress in human units, rows with thousands separators ----
{ printf 'UAI\n'; for _ in $(seq 1500); do printf '0150018N\n'; done; printf '\\.\n'; } >"$T/many-rows.tsv"
printf 'UAI\tuai\tuai\n' >"$T/uai-only.map"
run edu-normalize -p -M "$T/uai-only.map" "$T/many-rows.tsv"
is_status 0 "-p"
like_err '^edu-normalize: 1,500 rows, [0-9,]+ rows/s, [0-9]+\.[0-9] s \(done\)$' \
	"-p: the count with thousands separators, the rate, the time"
