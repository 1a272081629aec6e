#!/bin/bash
# edu-normalize -I: a draft mapping file from a sample. Each rule is inferred from the values
# (checked with the rules themselves), with its evidence; null tokens become null=; a column
# empty in the whole sample is optional; a column repeating others is drafted as left out; the
# key is guessed. Then the draft of each of the seven sources' fixtures is compared with the
# hand-written map: at least 90% of the map's columns get the same rule, and every difference is
# printed (docs/sources.md gives the figure and why each kind of difference is there).
. "${EDU_ROOT:-.}/tests/lib.sh"
PIPE=$EDU_ROOT/pipelines

# rule_of DRAFT SOURCE: the rule (or -) the draft gives source column SOURCE.
rule_of() { awk -F'\t+' -v s="$2" '!/^#/ && NF >= 3 { c = $1; sub(/^\?/, "", c); if (c == s) { print ($2 == "-" ? "-" : $3); exit } }' "$1"; }

# ---- one sample with every kind of column ----
{
	printf 'UAI\tCode postal\tCode commune\tCode région\tEffectif\tTaux de réussite\tVA\tOuverture\tOui\tLatitude\tLongitude\tPosition\tVide\tNom\tNom bis\tSIRET\tLangues\n'
	printf '0150018N\t15600\t15108\t84\t1 234\t95\t-2.0\t07/01/1965\toui\t45.1\t2.5\t45.1, 2.5\t\tA\tA\t33889603800019\tx | y\n'
	printf '0350122T\t05580\t05016\t53\t12\tND\t1.5\t2001-09-01\tnon\t48.2\t-1.6\t48.2, -1.6\t\\N\tB\tB\t19350031100017\tz\n'
	printf '0352069J\t35000\t35238\t53\t7\t100\tNC\t01/09/1980\toui\t48.1\t-1.7\t48.1, -1.7\t \tC\tC\t\\N\tw | v\n'
	printf '\\.\n'
} >"$T/sample.tsv"
run edu-normalize -I "$T/sample.tsv"
is_status 0 "-I drafts a map"
cp "$OUT" "$T/draft.map"
like_out "^# Drafted by edu-normalize -I from $T/sample.tsv: 3 rows, 17 columns" "the draft says what it was made from"
like_out '^# key: uai \(UAI: never empty, never repeated in the sample\)$' "the key is guessed: a UAI never empty, never repeated"
for pair in UAI:uai "Code postal:postal" "Code commune:insee" "Code région:text" Effectif:int \
	"Taux de réussite:percent" VA:decimal Ouverture:date Oui:bool Latitude:lat Longitude:lon \
	Position:- Vide:text Nom:text "Nom bis:-" SIRET:siret Langues:list=\|; do
	is "$(rule_of "$T/draft.map" "${pair%%:*}")" "${pair#*:}" "${pair%%:*}: ${pair#*:}"
done
like_out '^Taux de réussite	taux_de_reussite	percent	null=ND$' "a null token seen becomes null="
like_out '^VA	va	decimal	null=NC$' "null= on a decimal column"
like_out '^\?Vide	vide	text$' "a column empty in the whole sample is optional"
like_out '^# Code postal: 3 values, 0 empty, 3 distinct \(unique\), leading zeros; postal$' \
	"the evidence: counts, distinct values, leading zeros, the rule"
like_out "^Position	-	TODO: 'Latitude', 'Longitude' again on every row of the sample\$" \
	"a column joining two others is drafted as left out, its reason to write"
like_out "^Nom bis	-	TODO: equal to 'Nom' on every row of the sample\$" "a column equal to another one too"
like_out '^Code région	code_region	text$' "a code stays text (a number by its values, an identifier by its name)"

# The draft is a map edu-normalize reads (once the TODO reasons are reviewed), and it loads the
# sample it was made from.
run edu-normalize -M "$T/draft.map" "$T/sample.tsv"
is_status 0 "the draft, unedited, normalizes its sample"
is "$(sed -n 1p "$OUT")" "uai	code_postal	code_commune	code_region	effectif	taux_de_reussite	va	ouverture	oui	latitude	longitude	vide	nom	siret	langues" \
	"targets: plain lower-case ASCII names"
is "$(sed -n 2p "$OUT" | cut -f 5,6,8,15)" '1234	95	1965-01-07	{"x","y"}' "values come out as the rules write them"

# -o, stdin, and what -I refuses.
run_in "$T/sample.tsv" edu-normalize -I -o "$T/out.map"
is_status 0 "-I -o"
empty_out "-I -o: nothing on stdout"
is "$(sed 1d "$T/out.map")" "$(sed 1d "$T/draft.map")" "-I -o writes the same draft"
run edu-normalize -I -M "$T/draft.map" "$T/sample.tsv"
is_status 64 "-I with -M is a usage error"
run edu-normalize -I "$T/nonexistent.tsv"
is_status 66 "-I on a missing file"
printf 'a\tb\n1\t2\n' >"$T/cut.tsv"
run edu-normalize -I "$T/cut.tsv"
is_status 79 "-I on a stream without its end-of-data line"
empty_out "a cut sample drafts nothing"

# Header names a map cannot hold are said in a comment, never drafted as a broken line.
printf 'ok\ta\\tb\t#c\t?d\t e\tx|y\n1\t2\t3\t4\t5\t6\n\\.\n' >"$T/odd.tsv"
run edu-normalize -I -o "$T/odd.map" "$T/odd.tsv"
is_status 0 "-I on header names a map cannot hold"
is "$(grep -c "its name cannot be written in a map" "$T/odd.map")" 5 \
	"a tab, a leading # or ?, a blank at an end, a |: five names said in comments"
grep -q "^# column 2 'a?b': its name cannot be written in a map" "$T/odd.map"
ok $? "a control character of a name is shown as ?, the comment stays one line"
run edu-normalize -M "$T/odd.map" "$T/odd.tsv"
is_status 0 "that draft is a map that reads its sample"

# ---- the seven sources: the draft against the hand-written map ----
# compare DRAFT MAP: "same total" then one line per column whose rule differs.
compare() {
	awk -F'\t+' '
	FNR == NR { if ($0 !~ /^#/ && NF >= 3) { s = $1; sub(/^\?/, "", s); r = $3; sub(/=.*/, "", r)
			inf[s] = ($2 == "-" ? "-" : r) }; next }
	/^[ \t]*#/ || NF < 3 || $2 == "-" { next }
	{ spec = $1; sub(/^\?/, "", spec); r = $3; sub(/=.*/, "", r); if (r == "keep") r = "raw"
	  n = split(spec, alt, "|"); got = ""
	  for (i = 1; i <= n; i++) if (alt[i] in inf) { got = inf[alt[i]]; name = alt[i]; break }
	  if (got == "") next
	  total++; if (got == r) same++; else diff = diff sprintf("%s: map %s, draft %s\n", name, r, got) }
	END { printf "%d %d\n%s", same, total, diff }' "$1" "$2"
}
same=0
total=0
while read -r map conv file; do
	case $conv in
	csv) edu-csv2tsv -q -o "$T/c.tsv" "$FIX/$file" ;;
	jq)
		# shellcheck disable=SC2086 # $file is a glob of the fixtures
		jq -s add "$FIX"/$file | jq -r -f "$PIPE/communes.jq" >"$T/c.tsv"
		;;
	esac
	edu-normalize -I -o "$T/d.map" "$T/c.tsv"
	compare "$T/d.map" "$PIPE/$map" >"$T/cmp"
	read -r s t <"$T/cmp"
	diag "$map: $s of $t columns get the map's rule"
	sed 1d "$T/cmp" | while read -r line; do diag "  $line"; done
	same=$((same + s))
	total=$((total + t))
done <<'EOF'
ivac.map csv ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv
ival.map csv ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_export_built.csv
onisep.map csv onisep/ideo-structures-secondaire_built.csv
annuaire.map csv annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv
dvf.map csv dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv
dvf-raw.map csv dvf/valeursfoncieres-2020_excerpt-172rows.txt
communes.map jq insee-communes/geo-api-communes_fields-code-nom-centre_*.json
communes-cog.map csv insee-communes/commune_2022_first500.csv
EOF
diag "all: $same of $total columns ($((same * 1000 / total / 10)).$((same * 1000 / total % 10))%)"
[ "$total" -gt 250 ] && [ $((same * 100)) -ge $((total * 90)) ]
ok $? "the drafts give the hand-written rule for at least 90% of the maps' columns"
