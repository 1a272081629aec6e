#!/bin/bash
# Every output file of every tool is complete or absent: edu-csv2tsv -o, edu-normalize -o and its
# reject file -r, edu-fetch -o. A failed run leaves the previous file byte for byte; SIGHUP,
# SIGINT, SIGPIPE or SIGTERM in the middle of a write kill the tool by that signal and leave
# neither the hidden temporary file (.FILE.XXXXXX) nor a change to the previous file.
. "${EDU_ROOT:-.}/tests/lib.sh"
# Job control: a background job of a script would otherwise start with SIGINT ignored, and a
# signal ignored at start is left ignored (as nohup wants).
set -m

N=$FIX/normalize
D=$T/out
mkdir -p "$D"
head -c 300 /dev/urandom >"$T/previous"

# temporaries: the hidden temporary files left in $D
temporaries() { find "$D" -name '.*' | wc -l | tr -d ' '; }
# keep FILE...: each FILE holds the previous content again
keep() { for f in "$@"; do cp "$T/previous" "$f"; done; }
# unchanged DESCRIPTION FILE...: each FILE is still byte for byte the previous one
unchanged() {
	local what=$1 f
	shift
	for f in "$@"; do same_file "$f" "$T/previous" "$what: $(basename "$f") unchanged"; done
	is "$(temporaries)" 0 "$what: no temporary file left"
}

# ---- a failed run ----
keep "$D/n.tsv" "$D/rej.tsv"
run edu-normalize -M "$N/schools.map" -o "$D/n.tsv" -r "$D/rej.tsv" "$N/truncated.tsv"
is_status 79 "edu-normalize -o -r on a truncated stream fails"
unchanged "edu-normalize, truncated input" "$D/n.tsv" "$D/rej.tsv"
run edu-normalize -M "$N/schools.map" -o "$D/n.tsv" "$N/schools-bad.tsv"
is_status 65 "edu-normalize -o on a bad value fails"
unchanged "edu-normalize, bad value" "$D/n.tsv"
run edu-normalize -M "$N/schools.map" -o "$D/n.tsv" -r "$D/rej.tsv" -m 1 "$N/schools-bad.tsv"
is_status 65 "edu-normalize: more rejected rows than -m"
same_file "$D/n.tsv" "$T/previous" "-m exceeded: the output is unchanged"
is "$(tail -n 1 "$D/rej.tsv")" '\.' "-m exceeded: the reject file is complete up to the cap"
is "$(temporaries)" 0 "-m exceeded: no temporary file left"
run edu-normalize -M "$N/schools.map" -o "$D/n.tsv" -r "$D/rej.tsv" "$N/schools-bad.tsv"
is_status 0 "edu-normalize -o -r succeeds"
is "$(tail -n 1 "$D/n.tsv")$(tail -n 1 "$D/rej.tsv")" '\.\.' "success: both files complete"
is "$(stat -c %a "$D/n.tsv") $(stat -c %a "$D/rej.tsv")" \
	"$(umask 0022 && touch "$T/mode" && stat -c %a "$T/mode") $(stat -c %a "$T/mode")" \
	"success: both files as readable as any new file"
keep "$D/c.tsv"
run edu-csv2tsv -o "$D/c.tsv" "$FIX/edge/unterminated.csv"
is_status 65 "edu-csv2tsv -o on bad input fails"
unchanged "edu-csv2tsv, bad input" "$D/c.tsv"
keep "$D/f.csv"
run edu-fetch -q -F csv -o "$D/f.csv" "file://$T/no-such-file.csv"
is_status 66 "edu-fetch -o of a missing file fails"
unchanged "edu-fetch, missing file" "$D/f.csv"

# ---- a signal in the middle of a write ----
# interrupted SIGNAL STATUS DESCRIPTION WANT CMD...: runs CMD in the background reading the FIFO
# $T/in, feeds it the first 20 lines of $FEED and keeps it open; once WANT temporary files exist,
# sends SIGNAL and checks the exit status and that every -o/-r file is unchanged.
interrupted() {
	local sig=$1 st=$2 what=$3 want=$4 pid
	shift 4
	rm -f "$T/in"
	mkfifo "$T/in"
	"$@" >"$OUT" 2>"$ERR" &
	pid=$!
	exec 3>"$T/in"
	head -n 20 "$FEED" >&3
	wait_for at_least "$want" temporaries
	is "$(temporaries)" "$want" "$what: writing to $want temporary file(s)"
	kill -s "$sig" "$pid"
	wait "$pid"
	status=$?
	exec 3>&-
	is_status "$st" "$what: killed by SIG$sig"
	empty_err "$what, SIG$sig: nothing on stderr"
}
for sig in HUP:129 INT:130 PIPE:141 TERM:143; do
	st=${sig#*:}
	sig=${sig%:*}
	keep "$D/c.tsv" "$D/n.tsv" "$D/rej.tsv" "$D/f.csv"
	FEED=$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv
	interrupted "$sig" "$st" "edu-csv2tsv -o" 1 edu-csv2tsv -o "$D/c.tsv" "$T/in"
	unchanged "edu-csv2tsv -o, SIG$sig" "$D/c.tsv"
	FEED=$N/schools-bad.tsv
	interrupted "$sig" "$st" "edu-normalize -o -r" 2 \
		edu-normalize -q -M "$N/schools.map" -o "$D/n.tsv" -r "$D/rej.tsv" "$T/in"
	unchanged "edu-normalize -o -r, SIG$sig" "$D/n.tsv" "$D/rej.tsv"
	FEED=$FIX/ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv
	interrupted "$sig" "$st" "edu-fetch -o" 1 edu-fetch -q -F csv -o "$D/f.csv" "file://$T/in"
	unchanged "edu-fetch -o, SIG$sig" "$D/f.csv"
done
