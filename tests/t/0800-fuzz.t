#!/bin/bash
# The fuzzers' findings kept as tests. Each harness of tests/fuzz/ (built by `make check` with
# its replay main, and with ASan and UBSan under SANITIZE=1) runs once on every committed seed and
# every kept crash (tests/fuzz/regressions/NAME); then each bug the fuzzers found, through the
# tool, with what a user sees.
. "${EDU_ROOT:-.}/tests/lib.sh"

FUZZ=$EDU_ROOT/tests/fuzz
for h in csv2tsv tsv map rules infer; do
	for dir in seeds regressions; do
		[ -d "$FUZZ/$dir/$h" ] || continue
		run "$FUZZ/build/replay/fuzz-$h" "$FUZZ/$dir/$h"
		is_status 0 "fuzz-$h replays tests/fuzz/$dir/$h"
		is "$(cat "$OUT")" "$(find "$FUZZ/$dir/$h" -type f | wc -l)" "fuzz-$h ran every input of $dir/$h"
	done
done

# ---- edu-normalize: a source column one line requires and another calls optional ----
# (tests/fuzz/regressions/map/required-also-optional) The required one went unchecked: a missing
# column loaded NULL, and with only= on it every row was dropped, exit 0.
printf '?Tutelle\ttutelle\ttext\nTutelle\tsecteur\ttext\tonly=PU,PR\nUAI\tuai\traw\n' >"$T/mixed.map"
printf 'UAI\n0350001A\n\\.\n' >"$T/no-tutelle.tsv"
run edu-normalize -M "$T/mixed.map" "$T/no-tutelle.tsv"
is_status 65 "a column required on one line and optional on another is still required"
like_err "^edu-normalize: .*no-tutelle.tsv:1: schema drift: mapped columns missing from the input: 'Tutelle'$" \
	"the missing column is named"
empty_out "nothing written"
printf 'UAI\tTutelle\n0350001A\tPU\n\\.\n' >"$T/tutelle.tsv"
run edu-normalize -M "$T/mixed.map" "$T/tutelle.tsv"
is_status 0 "present, it loads"
is "$(cat "$OUT")" "$(printf 'tutelle\tsecteur\tuai\nPU\tPU\t0350001A\n\\.')" "both targets get it"
empty_err "and no warning"

# ---- edu-csv2tsv: where in a line longer than the 1 MiB buffer an error is ----
# (tests/fuzz/regressions/csv2tsv/long-line-byte-offset) The byte was counted from the last piece
# of the line handed to libcsv, not from the start of the line.
{
	printf 'a;b\n'
	head -c 1200000 /dev/zero | tr '\0' x
	printf '"y;z\n'
} >"$T/long.csv"
run edu-csv2tsv "$T/long.csv"
is_status 65 "a quote inside an unquoted field of a 1.2 MB line"
like_err '^edu-csv2tsv: .*long.csv:2: malformed quoted field at byte 1200001 of the line' \
	"the byte is counted from the start of the line"

# ---- edu-csv2tsv: an abort mark that the end of the buffer cuts, in a line longer than it ----
# (found while writing the csv2tsv harness) Cut after fewer than 11 of its bytes, the mark read as
# a plain NUL byte: exit 65, "bad data", instead of 79, "an upstream stage died".
{
	printf 'a\n'
	head -c $((1048576 - 5)) /dev/zero | tr '\0' x
	printf '\0EDU-ABORT: upstream transfer failed\n'
} >"$T/abort-at-edge.csv"
run edu-csv2tsv "$T/abort-at-edge.csv"
is_status 79 "an abort mark across the end of the 1 MiB buffer is recognized"
like_err '^edu-csv2tsv: .*abort-at-edge.csv:2: the upstream transfer failed \(abort mark from edu-fetch\)' \
	"the message says the transfer failed"
no_eod() {
	if grep -qx '\\\.' "$OUT"; then ok 1 "$1"; else ok 0 "$1"; fi
}
no_eod "no end-of-data line"

# ---- edu-csv2tsv: two CRs across the end of the 1 MiB buffer ----
# (tests/fuzz/regressions/csv2tsv/cr-cr-at-buffer-end) A piece of a long line could end with a CR,
# which was then never checked: bare CRs ended records, exit 0 with an extra row.
{
	head -c 1048574 /dev/zero | tr '\0' a
	printf '\r\r'
} >"$T/cr-cr.csv"
run edu-csv2tsv "$T/cr-cr.csv"
is_status 65 "two bare CRs at the end of the buffer are refused"
like_err '^edu-csv2tsv: .*cr-cr.csv:1: carriage return outside quotes at byte 1048575 of the line' \
	"the first CR is named"
no_eod "no end-of-data line"
