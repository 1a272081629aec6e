#!/bin/bash
# edu-normalize's value rules, one value at a time, in the C and the UTF-8 locale: each valid
# value gives its canonical form on stdout (exit 0, nothing on stderr); each invalid one exits 65
# with the message naming stream, line, column, value and rule, and no end-of-data line.
. "${EDU_ROOT:-.}/tests/lib.sh"

NBSP=$'\xc2\xa0'
NNBSP=$'\xe2\x80\xaf'

# norm RULE VALUE [OPTION]: one contract column "v" (VALUE written as on the wire) through RULE.
norm() {
	printf 'v\tx\t%s%s\n' "$1" "${3:+	$3}" >"$T/one.map"
	printf 'v\n%s\n\\.\n' "$2" >"$T/one.tsv"
	run_in "$T/one.tsv" edu-normalize -M "$T/one.map"
}
# good RULE VALUE EXPECTED [OPTION]: EXPECTED is the output field as on the wire (\N for NULL).
good() {
	norm "$1" "$2" "${4:-}"
	local want
	want=$(printf 'x\n%s\n\\.' "$3")
	if [ "$status" -eq 0 ] && [ "$(cat "$OUT")" = "$want" ] && [ ! -s "$ERR" ]; then
		ok 0 "[$LC_ALL] $1 '$2' -> '$3'"
	else
		ok 1 "[$LC_ALL] $1 '$2' -> '$3'"
		show_io
	fi
}
# bad RULE VALUE REASON [OPTION]
bad() {
	norm "$1" "$2" "${4:-}"
	local want="edu-normalize: stdin:2: column v: '$2': $3"
	if [ "$status" -eq 65 ] && [ "$(cat "$ERR")" = "$want" ] && ! grep -q '^\\\.$' "$OUT"; then
		ok 0 "[$LC_ALL] $1 refuses '$2'"
	else
		ok 1 "[$LC_ALL] $1 refuses '$2'"
		diag "expected stderr: $want"
		show_io
	fi
}

for LC_ALL in C C.UTF-8; do
	export LC_ALL

	good text '  a   b  ' 'a b'
	good text 'a\tb\\nc' 'a b\\nc'
	good text "a${NBSP}${NNBSP}b" 'a b'
	good text 'Collège  Émile-Zola' 'Collège Émile-Zola'
	good text '   ' '\N'
	good text '\N' '\N'
	good text 'NC' '\N' 'null=NC,ND,-,s'
	good text 'NCX' 'NCX' 'null=NC,ND,-,s'

	good raw '  a  b ' '  a  b '
	good keep 'a\tb' 'a\tb'
	good raw '' ''
	good raw ' - ' '\N' 'null=-'

	good int 42 42
	good int 000001 1
	good int '-7' '-7'
	good int '+7' 7
	good int '1 234' 1234
	good int "1${NBSP}234${NBSP}567" 1234567
	good int "1${NNBSP}234" 1234
	good int '12,0' 12
	good int '93.0' 93
	good int '-0' 0
	good int 2147483647 2147483647
	good int ' s ' '\N' 'null=NC,ND,-,s'
	good int '' '\N'
	bad int '12.5' 'int needs a whole number'
	bad int abc 'int needs a whole number'
	bad int '1e3' 'int needs a whole number'
	bad int '1 23' 'int needs a whole number'
	bad int '1234 567' 'int needs a whole number'
	bad int 2147483648 'int out of range -2147483648..2147483647'
	# A separator then three zeros may be a thousands separator: refused, not read as 1.
	bad int '1,000' 'int: a separator followed by three zeros is ambiguous (1,000: one or a thousand?)'
	bad int '1.000' 'int: a separator followed by three zeros is ambiguous (1,000: one or a thousand?)'
	good int '1,00' 1
	bad int 'S' 'int needs a whole number' 'null=NC,ND,-,s'

	good decimal '1 234,56' 1234.56
	good decimal '1234.56' 1234.56
	good decimal "1${NBSP}234,5" 1234.5
	good decimal "12${NNBSP}345${NNBSP}678,9" 12345678.9
	good decimal '86.0' 86.0
	good decimal '-4,0' '-4.0'
	good decimal ',5' 0.5
	good decimal '-.5' '-0.5'
	good decimal '5,' 5
	good decimal '007,50' 7.50
	good decimal '-0,0' 0.0
	good decimal '1.5e-3' 1.5e-3
	good decimal '5.907229' 5.907229
	bad decimal '1,2,3' 'decimal needs a number such as 1234.5 or 1 234,5'
	bad decimal '1.234,5' 'decimal needs a number such as 1234.5 or 1 234,5'
	bad decimal '12 34' 'decimal needs a number such as 1234.5 or 1 234,5'
	bad decimal '-' 'decimal needs a number such as 1234.5 or 1 234,5'
	bad decimal 'ND' 'decimal needs a number such as 1234.5 or 1 234,5'
	bad decimal '1e' 'decimal needs a number such as 1234.5 or 1 234,5'
	bad decimal '12 €' 'decimal needs a number such as 1234.5 or 1 234,5'

	good date 07/01/2020 2020-01-07
	good date 7/1/2020 2020-01-07
	good date 2020-01-07 2020-01-07
	good date 2024-06-01T00:00:00+02:00 2024-06-01
	good date 2025-01-01T00:00:00Z 2025-01-01
	good date '2024-06-01 12:30' 2024-06-01
	good date 2024-06-01T23:59:59.123+0200 2024-06-01
	good date 29/02/2024 2024-02-29
	good date 29/02/2000 2000-02-29
	bad date 29/02/2023 'date does not exist in the calendar'
	bad date 29/02/1900 'date does not exist in the calendar'
	bad date 31/04/2020 'date does not exist in the calendar'
	bad date 2023-13-01 'date does not exist in the calendar'
	bad date 2023-00-10 'date does not exist in the calendar'
	bad date 2020/01/07 'date needs dd/mm/yyyy, yyyy-mm-dd or an ISO datetime'
	bad date 07-01-2020 'date needs dd/mm/yyyy, yyyy-mm-dd or an ISO datetime'
	bad date 07/01/20 'date needs dd/mm/yyyy, yyyy-mm-dd or an ISO datetime'
	bad date 2024-06-01T25:00 'date needs dd/mm/yyyy, yyyy-mm-dd or an ISO datetime'
	bad date 2024-06-01T12 'date needs dd/mm/yyyy, yyyy-mm-dd or an ISO datetime'
	bad date 2024-06-01x 'date needs dd/mm/yyyy, yyyy-mm-dd or an ISO datetime'

	good year 2024 2024
	good year 07/01/2020 2020
	good year 2025-01-01T00:00:00+00:00 2025
	good year 2019-12-31 2019
	bad year 24 'year needs a 4-digit year or a date'
	bad year 2024.0 'year needs a 4-digit year or a date'
	bad year 2024-02-30 'year: date does not exist in the calendar'

	for v in oui OUI Oui o O 1 true TRUE t vrai Vrai yes; do good bool "$v" t; done
	for v in non NON n N 0 false False f faux FAUX no; do good bool "$v" f; done
	bad bool 2 'bool needs oui/non, o/n, 1/0, true/false or vrai/faux'
	bad bool 'peut-être' 'bool needs oui/non, o/n, 1/0, true/false or vrai/faux'
	bad bool 'ouiiiiii' 'bool needs oui/non, o/n, 1/0, true/false or vrai/faux'

	good percent '45 %' 45
	good percent '45,5%' 45.5
	good percent '45.5' 45.5
	good percent "45${NBSP}%" 45
	good percent "12,5${NNBSP}%" 12.5
	good percent 100.0 100.0
	good percent 0 0
	bad percent 100.1 'percent needs a number from 0 to 100'
	bad percent '-1' 'percent needs a number from 0 to 100'
	bad percent '%' 'percent needs a number from 0 to 100'
	bad percent '45 %%' 'percent needs a number from 0 to 100'

	good uai 0150018N 0150018N
	good uai 0150018n 0150018N
	good uai ' 0350122T ' 0350122T
	good uai 9710001Z 9710001Z
	good uai 0672194W 0672194W
	bad uai 0150018X 'uai check letter should be N'
	bad uai 0350122I 'uai check letter should be T'
	bad uai 015001N 'uai needs 7 digits and a check letter'
	bad uai 01500180 'uai needs 7 digits and a check letter'
	bad uai 0150018NN 'uai needs 7 digits and a check letter'
	bad uai A150018N 'uai needs 7 digits and a check letter'

	good insee 01001 01001
	good insee 1001 01001
	good insee 2a004 2A004
	good insee 2B033 2B033
	good insee 97411 97411
	good insee 97608 97608
	bad insee 00123 'insee needs a 5-character commune code such as 01001 or 2A004'
	bad insee 123 'insee needs a 5-character commune code such as 01001 or 2A004'
	bad insee 2C004 'insee needs a 5-character commune code such as 01001 or 2A004'
	bad insee 3A004 'insee needs a 5-character commune code such as 01001 or 2A004'
	bad insee 010011 'insee needs a 5-character commune code such as 01001 or 2A004'
	bad insee 2A04 'insee needs a 5-character commune code such as 01001 or 2A004'

	good dept 1 01
	good dept 01 01
	good dept 35 35
	good dept 035 35
	good dept 2a 2A
	good dept 02B 2B
	good dept 971 971
	good dept 976 976
	bad dept 0 'dept needs a département code such as 01, 2A or 971'
	bad dept 00 'dept needs a département code such as 01, 2A or 971'
	bad dept 100 'dept needs a département code such as 01, 2A or 971'
	bad dept 2C 'dept needs a département code such as 01, 2A or 971'
	bad dept 9710 'dept needs a département code such as 01, 2A or 971'

	good postal 1250 01250
	good postal 75001 75001
	good postal ' 35064 ' 35064
	bad postal 750 'postal needs a 5-digit postal code'
	bad postal 00100 'postal needs a 5-digit postal code'
	bad postal 0100 'postal needs a 5-digit postal code'
	bad postal 7500A 'postal needs a 5-digit postal code'
	bad postal 123456 'postal needs a 5-digit postal code'

	good lon 5.907229 5.907229
	good lon '-1,6651' '-1.6651'
	good lon 180 180
	good lon -180.0 -180.0
	bad lon 180.5 'lon needs a number from -180 to 180'
	bad lon 'E5' 'lon needs a number from -180 to 180'
	good lat 46.170923 46.170923
	good lat '-90' '-90'
	bad lat '90,01' 'lat needs a number from -90 to 90'
	bad lat 6776558.9 'lat needs a number from -90 to 90'

	good epsg EPSG:2154 2154
	good epsg 4326 4326
	bad epsg EPSG: 'epsg needs a code such as 2154 or EPSG:2154'
	bad epsg WGS84 'epsg needs a code such as 2154 or EPSG:2154'
	bad epsg 0 'epsg needs a code such as 2154 or EPSG:2154'

	# SIRET: 14 digits, grouped by blanks or not, the Luhn check (La Poste: digits sum to 5k).
	good siret 33889603800019 33889603800019
	good siret '338 896 038 00019' 33889603800019
	good siret "338${NBSP}896${NNBSP}038 00019" 33889603800019
	good siret 35600000000001 35600000000001
	bad siret 33889603800018 'siret check digit is wrong (Luhn)'
	bad siret 35600000000048 'siret check digit is wrong (Luhn)'
	bad siret 3388960380001 'siret needs 14 digits'
	bad siret 338896038000190 'siret needs 14 digits'
	bad siret 3388960380001A 'siret needs 14 digits'
	bad siret '3.38896038e13' 'siret needs 14 digits'

	# list=SEP: the items of a cell as a PostgreSQL array of quoted, trimmed, folded items.
	good list=, 'Anglais, Créole, Espagnol' '{"Anglais","Créole","Espagnol"}'
	good 'list=|' 'Lycée A | Lycée  B' '{"Lycée A","Lycée B"}'
	good list=, ' a ,, b , ' '{"a","b"}'
	good list=, 'a | b' '{"a | b"}'
	good list=, ',' '{}'
	good list=, 'say "hi", c:\\d' '{"say \\"hi\\"","c:\\\\d"}'
	good list=, "a${NBSP},${NNBSP}b" '{"a","b"}'
	good list=, 'NC' '\N' 'null=NC'
	good list=, '   ' '\N'
done

# commune_in_dept: two columns, the commune number and its département.
LC_ALL=C
export LC_ALL
# cid DEPT COMMUNE: both written as on the wire.
cid() {
	printf 'c\tcode\tcommune_in_dept=d\n' >"$T/cid.map"
	printf 'c\td\n%s\t%s\n\\.\n' "$2" "$1" >"$T/cid.tsv"
	run_in "$T/cid.tsv" edu-normalize -M "$T/cid.map"
}
cid_good() { # cid_good DEPT COMMUNE EXPECTED
	cid "$1" "$2"
	if [ "$status" -eq 0 ] && [ "$(cat "$OUT")" = "$(printf 'code\n%s\n\\.' "$3")" ] &&
		[ ! -s "$ERR" ]; then
		ok 0 "commune_in_dept '$1' '$2' -> '$3'"
	else
		ok 1 "commune_in_dept '$1' '$2' -> '$3'"
		show_io
	fi
}
cid_bad() { # cid_bad DEPT COMMUNE REASON
	cid "$1" "$2"
	local want="edu-normalize: stdin:2: column c: '$2': $3"
	if [ "$status" -eq 65 ] && [ "$(cat "$ERR")" = "$want" ]; then
		ok 0 "commune_in_dept refuses '$1' '$2'"
	else
		ok 1 "commune_in_dept refuses '$1' '$2'"
		diag "expected stderr: $want"
		show_io
	fi
}
cid_good 01 72 01072
cid_good 1 203 01203
cid_good 2A 4 2A004
cid_good 2b 33 2B033
cid_good 971 5 97105
cid_good 971 105 97105
cid_good 974 ' 11 ' 97411
cid_good 01 '\N' '\N'
cid_bad 972 105 'commune_in_dept number does not belong to this département'
cid_bad 01 1234 'commune_in_dept needs a commune number of 1 to 3 digits'
cid_bad 01 7a 'commune_in_dept needs a commune number of 1 to 3 digits'
cid_bad '\N' 72 'commune_in_dept has no département in column d'
cid_bad ' ' 72 'commune_in_dept has no département in column d'
cid_bad XX 72 'commune_in_dept: column d: dept needs a département code such as 01, 2A or 971'
