#!/bin/bash
# The fault matrix, data family (docs/RELIABILITY.md): the publisher's file changes shape or
# breaks (encodings, BOM, line ends, ragged rows, quotes, NUL, huge fields and headers, empty
# files, drift, duplicate keys, refused values, a file a tenth of its usual size). Each case runs
# the source's own script on the changed file, over a table already loaded: a fault leaves the
# table (rows and their xmin) and the known validators as they were and is recorded in the
# history at its stage; a harmless change loads, rewriting no row.
# shellcheck disable=SC2016 # the sed and awk programs are in single quotes
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"
. "$EDU_ROOT/tests/faults.sh"

good=$GOOD
onisep=$FIX/onisep/ideo-structures-secondaire_built.csv
communes=$FIX/insee-communes/geo-api-communes_fields-code-nom-centre_first500.json
schema_db t0830
in=$T/in.csv
cp "$good" "$in"
pl_source ivac "$in"
pl_source onisep "$T/onisep.csv"
pl_source communes "$T/communes.json"
cp "$onisep" "$T/onisep.csv"
cp "$communes" "$T/communes.json"
for s in ivac onisep communes; do
	pl_run "$s" -R
	[ "$status" -eq 0 ] || { echo "Bail out! $s does not load"; cat "$ERR"; exit 1; }
done

# variant FILTER...: the good IVAC file through FILTER is the publisher's new file.
variant() { "$@" <"$good" >"$in"; }
# ivac_case ERE STAGE: the script fails with the case's status at STAGE, saying ERE, changing nothing.
ivac_case() {
	state_save
	pl_run ivac -R
	expect "$1"
	recorded ivac "$2"
}
# ivac_same: the script loads the file, and no row is written.
ivac_same() {
	state_save
	pl_run ivac -R
	is_status 0 "$FAULT: exit status"
	like_out "^table=colleges_indicateurs inserted=0 updated=0 deleted=0 unchanged=500 " "$FAULT: nothing differs"
	same_rows
}
FAULT_TABLES=colleges_indicateurs
csv=".*/in.csv|.*ivac.csv"

fault D01 65 "Windows-1252 where UTF-8 is expected"
cp1252() { sed '1s/^\xef\xbb\xbf//' | iconv -f UTF-8 -t WINDOWS-1252; }
variant cp1252
ivac_case "^edu-csv2tsv: ($csv):1: .*invalid UTF-8" convert

fault D02 65 "one invalid UTF-8 byte in row 300"
variant sed '301s/COLLEGE/COLL\xe9GE/'
ivac_case "^edu-csv2tsv: ($csv):301: .*invalid UTF-8" convert

fault D03 0 "the byte order mark dropped"
variant sed '1s/^\xef\xbb\xbf//'
ivac_same

fault D04 0 "CR LF and LF line ends mixed"
variant sed '0~2s/\r$//'
ivac_same

fault D05 65 "a bare CR as a line end"
variant sed '200s/\r$/\r\r/'
ivac_case "^edu-csv2tsv: ($csv):200: .*CR" convert

fault D06 65 "a ragged row (one field missing)"
variant sed '250s/;[^;]*\r$/\r/'
ivac_case "^edu-csv2tsv: ($csv):250: .*fields" convert

fault D07 65 "an unterminated quoted field"
variant sed '400s/;COLLEGE /;"COLLEGE /'
ivac_case "^edu-csv2tsv: ($csv):400: .*unterminated quoted field" convert

fault D08 65 "a NUL byte in a row"
variant sed '350s/COLLEGE/COLL\x00EGE/'
ivac_case "^edu-csv2tsv: ($csv):350: .*NUL" convert

fault D09 65 "a 17 MiB field (a stray quote swallows the rest of the file)"
{ head -n 100 "$good"; printf '0150018N;2022;"'; head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' x; } >"$in"
ivac_case "^edu-csv2tsv: ($csv):101: .*(16777216|too large|larger)" convert

# Refused before any two names are compared: each process of the pipeline gets 2 s of CPU
# (issue 10's point 2: the checks were quadratic, 25 s of CPU each).
fault D10 65 "a header of 100,000 columns"
{ seq -f 'c%g' 100000 | paste -sd';'; printf '1\n'; } >"$in"
state_save
run bash -c 'ulimit -t 2 && exec bash "$0" -R' "$PIPE/ivac.sh"
expect "^edu-csv2tsv: ($csv):1: more than 4096 columns in the header\$"
recorded ivac convert

fault D11 69 "an empty file"
: >"$in"
ivac_case "^edu-fetch: ivac: empty body, not csv\$" fetch

fault D12 0 "the header line alone, for a table loaded by upsert"
variant head -n 1
ivac_same_empty() {
	state_save
	pl_run ivac -R
	is_status 0 "$FAULT: exit status"
	like_out "^table=colleges_indicateurs inserted=0 updated=0 deleted=0 unchanged=0 " "$FAULT: nothing to upsert"
	same_rows
	is "$(sql "select known_sha256 from monitoring.data_sources where id = 'ivac'")" \
		"$(sha256sum "$in" | cut -d' ' -f1)" "$FAULT: the empty file's validators are the known ones"
}
ivac_same_empty

fault D13 65 "a column renamed"
variant sed '1s/;UAI;/;Code UAI;/'
ivac_case "^edu-normalize: stdin:1: schema drift: .*'UAI'" normalize

fault D14 65 "a column missing"
variant cut -d';' -f1-28
ivac_case "^edu-normalize: stdin:1: schema drift: .*'Nb mentions global G'" normalize

fault D15 0 "a column added"
variant sed '1s/\r$/;Nouvelle colonne\r/; 2,$s/\r$/;x\r/'
ivac_same

fault D16 0 "the columns reordered"
variant awk -F';' -v OFS=';' '{ t = $3; $3 = $4; $4 = t; print }'
ivac_same

fault D17 65 "a column name twice"
variant sed '1s/;Commune;/;Session;/'
ivac_case "^edu-csv2tsv: ($csv):1: .*Session" convert

fault D18 65 "duplicate keys"
variant sed '3p'
ivac_case "^edu-pgcopy: stdin: duplicate keys in the input: \(uai, session\)=" load

fault D19 65 "a value a rule refuses (a UAI whose check letter is wrong)"
variant awk -F';' -v OFS=';' 'NR == 120 { $3 = "0150018X" } { print }'
ivac_case "^edu-normalize: stdin:120: column UAI: '0150018X': uai check letter" normalize

FAULT_TABLES=onisep_etablissements
fault D20 80 "a tenth of the usual size, for a table replaced whole"
head -n 7 "$onisep" >"$T/onisep.csv"
state_save
pl_run onisep -R
expect "^edu-pgcopy: table onisep_etablissements: refusing to replace 63 rows with only 6 \(below 50%; -f forces"
recorded onisep load

fault D21 80 "the header line alone, for a table replaced whole"
head -n 1 "$onisep" >"$T/onisep.csv"
state_save
pl_run onisep -R
expect "^edu-pgcopy: table onisep_etablissements: refusing to replace 63 rows with only 0 \(below 50%; -f forces"
recorded onisep load

FAULT_TABLES=communes
fault D22 65 "a JSON document cut short (geo.api communes)"
head -c 20000 "$communes" >"$T/communes.json"
state_save
pl_run communes -R
expect "^pipelines/communes.sh: jq failed \(exit [0-9]+, reported as 65\); nothing was loaded\$"
recorded communes jq

# Every -o of the suite is complete or absent (issue 10's point 4: edu-normalize -o emptied it).
fault D23 65 "edu-normalize -o over a good file, on input it refuses"
edu-csv2tsv "$good" | edu-normalize -M "$PIPE/ivac.map" -o "$T/ivac.tsv"
cp "$T/ivac.tsv" "$T/ivac.tsv.good"
edu-csv2tsv "$good" | awk -F'\t' -v OFS='\t' 'NR == 3 { $3 = "0150018X" } { print }' >"$T/bad.tsv"
run_in "$T/bad.tsv" edu-normalize -M "$PIPE/ivac.map" -o "$T/ivac.tsv"
is_status 65 "$FAULT: exit status"
like_err "^edu-normalize: stdin:3: column UAI: '0150018X': uai check letter should be N\$" "$FAULT: the message"
same_file "$T/ivac.tsv" "$T/ivac.tsv.good" "$FAULT: the previous file is kept"
is "$(find "$T" -maxdepth 1 -name '.ivac.tsv*' | wc -l)" 0 "$FAULT: no temporary file left"
