#!/bin/bash
# pipelines/onisep.sh on the built Idéo-Structures fixtures, in ONISEP's two header shapes (the
# French labels of 2024, the API's keys of 2026) and its byte conventions (BOM, ';', a cell quoted
# iff it holds a space): every non-empty published value is in the table, both shapes load the
# same establishments into the same rows, quoted or padded header cells load, a column the map
# does not name loads with a warning, a line in the import log, its name in the run history and a
# note in the production job's report; the UAI or the name absent is refused with the table
# unchanged; replace and upsert as the config says.
. "${EDU_ROOT:-.}/tests/lib.sh"
. "$EDU_ROOT/tests/pipelines.sh"

raw=$FIX/onisep/ideo-structures-secondaire_built.csv
keys=$FIX/onisep/ideo-structures-secondaire_2026-keys_built.csv
# field UAI LABEL: a value of the 2024 file, read by Python's csv module (quoted cells, BOM).
field() {
	/usr/bin/python3 -c '
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline=""), delimiter=";"):
    if r["code UAI"] == sys.argv[2]:
        print(r[sys.argv[3]])' "$raw" "$1" "$2"
}
# published FILE: compares every non-empty value of FILE (either shape) with the table, column by
# column as the map loads it; prints "N values compared", then each value missing from the table.
published() {
	sql "copy (select uai, siret, type_etablissement, nom, sigle, statut, tutelle,
		universite_rattachement, universite_rattachement_url, array_to_json(etablissements_lies),
		array_to_json(etablissements_lies_url), boite_postale, adresse, code_postal, commune, code_commune, cedex,
		telephone, arrondissement, departement, academie, region, code_region, longitude, latitude,
		journees_portes_ouvertes, array_to_json(langues), label_generation_2024, url_onisep,
		to_char(date_creation, 'DD/MM/YYYY'), to_char(date_modification, 'DD/MM/YYYY')
		from onisep_etablissements) to stdout with (format csv, header)" >"$T/table.csv"
	/usr/bin/python3 - "$1" "$T/table.csv" <<'PY'
import csv, json, sys
# Each published column (label, key) and the table column, in the table dump's order.
cols = [("code UAI", "code_uai"), ("n° SIRET", "n_siret"), ("type d'établissement", "type_detablissement"),
        ("nom", "nom"), ("sigle", "sigle"), ("statut", "statut"), ("tutelle", "tutelle"),
        ("université de rattachement libellé", "universite_de_rattachement_libelle_et_uai"),
        ("université de rattachement ID et URL Onisep", "universite_de_rattachement_id_et_url_onisep"),
        ("établissements liés libellés", "etablissements_lies_libelles"),
        ("établissements liés URL et ID Onisep", "etablissements_lies_url_et_id_onisep"),
        ("boîte postale", "boite_postale"), ("adresse", "adresse"), ("CP", "cp"), ("commune", "commune"),
        ("commune (COG)", "commune_cog"), ("cedex", "cedex"), ("téléphone", "telephone"),
        ("arrondissement", "arrondissement"), ("département", "departement"), ("académie", "academie"),
        ("région", "region"), ("région (COG)", "region_cog"), ("longitude (X)", "longitude_x"),
        ("latitude (Y)", "latitude_y"), ("journées portes ouvertes", "journees_portes_ouvertes"),
        ("langues enseignées", "langues_enseignees"), ("label génération 2024", None),
        ("URL et ID Onisep", "url_et_id_onisep"), (None, "date_creation"), (None, "date_de_modification")]
def array(v, sep): # the items, trimmed, blanks folded as the text rule folds them
    return [" ".join(x.split()) for x in v.split(sep) if x.strip()]
table = {r[0]: r for r in csv.reader(open(sys.argv[2], newline=""))}
n = 0
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline=""), delimiter=";"):
    uai = r.get("code UAI") or r["code_uai"]
    for i, names in enumerate(cols):
        name = next((c for c in names if c in r), None)
        if name is None or r[name] == "":
            continue
        want, got = r[name], table.get(uai, [None] * len(cols))[i]
        if i in (9, 10, 26):
            want, got = array(want, "," if i == 26 else "|"), json.loads(got or "null")
        elif i in (23, 24):
            want, got = float(want), float(got or "nan")
        else:
            want = " ".join(want.split())
        n += 1
        if want != got:
            print("%s %s: published %r, table %r" % (uai, name, want, got))
print("%d values compared" % n)
PY
}
# nonempty FILE: the number of non-empty cells of FILE's rows (every column of both shapes is loaded).
nonempty() {
	/usr/bin/python3 -c '
import csv, sys
print(sum(1 for r in csv.reader(list(open(sys.argv[1], encoding="utf-8-sig", newline=""))[1:], delimiter=";") for c in r if c))' "$1"
}
# dump: the table, less the columns only one shape has, in a stable order.
dump() {
	sql "select uai, siret, type_etablissement, nom, sigle, statut, tutelle, universite_rattachement,
		universite_rattachement_url, etablissements_lies, etablissements_lies_url, boite_postale,
		adresse, code_postal, commune, code_commune, cedex, telephone, arrondissement, departement,
		academie, region, code_region, longitude, latitude, journees_portes_ouvertes, langues,
		url_onisep from onisep_etablissements order by uai"
}
# requote FILE OUT: FILE with every header cell quoted, and padded by a space inside the quotes
# when PAD is set (readers of the real file strip them).
requote() {
	/usr/bin/python3 -c '
import sys
lines = open(sys.argv[1], encoding="utf-8-sig").read().split("\n")
pad = " " if sys.argv[3] == "pad" else ""
head = ";".join("\"" + pad + c.strip("\"") + pad + "\"" for c in lines[0].split(";"))
open(sys.argv[2], "w", encoding="utf-8").write("\ufeff" + "\n".join([head] + lines[1:]))' "$1" "$2" "${3:-}"
}
schema_db t0501

# ---- the 2024 shape: French labels ----
pl_source onisep "$raw"
pl_run onisep
is_status 0 "onisep loads the 2024 file (French labels)"
is "$(pl_summary)" "63/0/0/0" "summary line: 63 rows inserted"
is "$(sql 'select count(*) from onisep_etablissements')" "$(($(wc -l <"$raw") - 1))" \
	"one row per data line"
is "$(published "$raw")" "$(nonempty "$raw") values compared" "2024: every non-empty published value is in the table"
is "$(sql "select nom || '|' || telephone || '|' || adresse || '|' || code_postal || '|' || code_commune
	from onisep_etablissements where uai = '0352069J'")" \
	"$(field 0352069J nom)|$(field 0352069J 'téléphone')|$(field 0352069J adresse)|$(field 0352069J CP)|$(field 0352069J 'commune (COG)')" \
	"quoted cells with spaces come back without their quotes"
is "$(sql "select langues from onisep_etablissements where uai = '0350795Z'")" \
	'{Allemand,Anglais,Espagnol,Italien}' "langues enseignées (', ' separated) is a text[]"
is "$(sql "select string_agg(nom, ', ' order by nom) from onisep_etablissements
	where langues @> '{Italien}' and departement = 'Ille-et-Vilaine'")" "$(field 0350795Z nom)" \
	"the app's query: the establishments teaching Italian in a département"
is "$(sql "select etablissements_lies[1] from onisep_etablissements where uai = '0350030T'")" \
	"$(field 0350030T 'établissements liés libellés')" "établissements liés (' | ' separated) is a text[]"
is "$(sql "select count(*) from onisep_etablissements where siret !~ '^[0-9]{14}\$'")" 0 \
	"every SIRET is 14 digits"
is "$(sql "select count(*) from onisep_etablissements where siret is not null")" \
	"$(/usr/bin/python3 -c 'import csv,sys; print(sum(1 for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"), delimiter=";") if r["n° SIRET"]))' "$raw")" \
	"every published SIRET is loaded"
is "$(sql "select round(st_x(geom)::numeric, 6) || ' ' || round(st_y(geom)::numeric, 6)
	from onisep_etablissements where uai = '0352069J'")" \
	"$(printf '%.6f %.6f' "$(field 0352069J 'longitude (X)')" "$(field 0352069J 'latitude (Y)')")" \
	"the database computes the point from longitude (X) and latitude (Y)"
is "$(pl_outside_france onisep_etablissements)" 0 "every point lies in France"
is "$(sql "select count(*) from onisep_etablissements where geom is null")" \
	"$(/usr/bin/python3 -c 'import csv,sys; print(sum(1 for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"), delimiter=";") if not r["longitude (X)"]))' "$raw")" \
	"a row without coordinates has no point"
is "$(sql "select count(*) from onisep_etablissements where date_creation is not null")" 0 \
	"the 2024 file has no dates"
like_err "optional column 'date_creation' is absent" "the dates the 2024 file lacks are said"

before=$(table_sum onisep_etablissements)
pl_run onisep
is_status 0 "a second load of the same file"
is "$(pl_summary)" "0/0/0/63" "the second load inserts and updates nothing"
is "$(table_sum onisep_etablissements)" "$before" "the table is unchanged"
dump >"$T/rows-2024"

# ---- the 2026 shape: the API's keys, no configuration change ----
pl_source onisep "$keys"
pl_run onisep
is_status 0 "onisep loads the 2026 file (the API's keys as header)"
is "$(pl_count inserted)/$(pl_count deleted)" "0/0" "the same establishments: none inserted or deleted"
is "$(published "$keys")" "$(nonempty "$keys") values compared" "2026: every non-empty published value is in the table"
dump >"$T/rows-2026"
same_file "$T/rows-2026" "$T/rows-2024" "both shapes load identical rows (but for their own columns)"
is "$(sql "select date_creation || ' ' || date_modification from onisep_etablissements where uai = '0352069J'")" \
	"1980-09-01 2023-06-08" "the 2026 dates (dd/mm/yyyy) are dates"
is "$(sql "select count(*) from onisep_etablissements where label_generation_2024 is not null")" 0 \
	"the 2026 file has no label génération 2024"

# Quoted header cells, and padded ones, load the same.
requote "$keys" "$T/quoted.csv"
pl_source onisep "$T/quoted.csv"
pl_run onisep
is_status 0 "every header cell quoted"
is "$(pl_summary)" "0/0/0/63" "quoted header cells: the same rows"
requote "$raw" "$T/padded.csv" pad
pl_source onisep "$T/padded.csv"
pl_run onisep
is_status 0 "header cells padded inside their quotes"
dump >"$T/rows-padded"
same_file "$T/rows-padded" "$T/rows-2024" "padded header cells: the same rows"

# ---- a column the publisher added: loaded without it, said everywhere ----
pl_source onisep "$raw"
pl_run onisep
sed '1s/$/;"nouvelle colonne"/; 2,$s/$/;x/' "$raw" >"$T/new.csv"
pl_source onisep "$T/new.csv"
before=$(table_sum onisep_etablissements)
pl_run onisep
is_status 0 "a file with a column the map does not name loads"
is "$(grep -c 'not in' "$ERR")" 1 "one warning"
like_err "^edu-normalize: stdin:1: column 'nouvelle colonne' is not in .*/pipelines/onisep.map: not loaded\$" \
	"the warning names the column and the map"
is "$(table_sum onisep_etablissements)" "$before" "the rows are unchanged"
tail -n 1 "$EDU_LOG_DIR/import.log" | grep -q ' unit=onisep .* unmapped="nouvelle colonne"'
ok $? "the import log's line names the new column"
is "$(sql "select unmapped_columns from monitoring.runs where unit = 'onisep' and kind = 'load' order by id desc limit 1")" \
	'{"nouvelle colonne"}' "the run history holds it"
# The production job says it in its report (and the message it sends).
jq '.sources |= map(select(.id == "onisep"))' "$EDU_SOURCES" >"$T/cfg" && cp "$T/cfg" "$EDU_SOURCES"
sed '1s/$/;"nouvelle colonne";autre/; 2,$s/$/;x;y/' "$raw" >"$T/new2.csv"
pl_source onisep "$T/new2.csv"
EDU_LOCK=$T/refresh.lock run bash "$EDU_ROOT/pipelines/refresh.sh" onisep
is_status 0 "the production job loads the file with two new columns"
like_out "^onisep: new columns 'nouvelle colonne', 'autre' not loaded\$" "the job's report names the new columns"
run bash "$EDU_ROOT/pipelines/refresh.sh" onisep
is "$(cat "$OUT")" "refresh: no source changed since its last import" "unchanged next night: nothing said"
# edu_pipeline, whom the pipelines run as in production, may record them.
is "$(sql "set role edu_pipeline; select monitoring.unmapped('onisep', now() - interval '1 day', '{x}') is not null")" t \
	"edu_pipeline may record the new columns"

# ---- an optional column absent: NULL, one warning ----
# without COLUMN OUT: a copy of the 2024 file without COLUMN, in ONISEP's conventions.
without() {
	/usr/bin/python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline=""), delimiter=";"))
i = rows[0].index(sys.argv[2])
with open(sys.argv[3], "w", encoding="utf-8") as f:
    f.write("\ufeff" + "".join(";".join(c if " " not in c else "\"" + c + "\"" for c in r[:i] + r[i + 1:]) + "\n"
                               for r in rows))' "${3:-$raw}" "$1" "$2"
}
pl_source onisep "$raw"
pl_run onisep
nsigle=$(/usr/bin/python3 -c 'import csv,sys; print(sum(1 for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"), delimiter=";") if r["sigle"]))' "$raw")
without sigle "$T/nosigle.csv"
pl_source onisep "$T/nosigle.csv"
pl_run onisep
is_status 0 "a file without the optional column sigle loads"
is "$(pl_summary)" "0/$nsigle/0/$((63 - nsigle))" "the rows that had a sigle are updated, the others unchanged"
is "$(sql 'select count(*) from onisep_etablissements where sigle is not null')" 0 "sigle is NULL in every row"
is "$(grep -c "optional column 'sigle' is absent: NULL in sigle" "$ERR")" 1 "one warning, naming sigle"
pl_source onisep "$raw"
pl_run onisep
before=$(table_sum onisep_etablissements)

# ---- without the UAI or the name, in either shape: refused, the table unchanged ----
for col in "code UAI" nom "$keys:code_uai" "$keys:nom"; do
	file=$raw
	case $col in *:*) file=${col%:*} col=${col##*:} ;; esac
	without "$col" "$T/drift.csv" "$file"
	pl_source onisep "$T/drift.csv"
	pl_run onisep
	is_status 65 "a $(basename "$file") without $col is refused"
	like_err "schema drift: mapped columns missing from the input: '[^']*${col}[^']*'" "the missing column is named"
	is "$(table_sum onisep_etablissements)" "$before" "without $col: the table is unchanged"
done

# A SIRET that fails its check is refused with file, line, column and value; nothing loads.
sed '3s/;19350031100017;/;19350031100018;/' "$raw" >"$T/badsiret.csv"
pl_source onisep "$T/badsiret.csv"
pl_run onisep
is_status 65 "a SIRET with a wrong check digit"
like_err "^edu-normalize: stdin:3: column n° SIRET: '19350031100018': siret check digit is wrong \(Luhn\)\$" \
	"the message names the line, column, value and rule"
is "$(table_sum onisep_etablissements)" "$before" "a bad SIRET: the table is unchanged"

# ---- the config says how the source loads ----
# replace (the file is the whole list): an establishment missing from a new file is deleted;
# switched to upsert, it would stay.
head -n 62 "$raw" >"$T/short.csv" # the header and 61 of the 63 establishments
pl_source onisep "$T/short.csv"
pl_run onisep
is_status 0 "replace: a file two establishments shorter"
is "$(pl_summary)" "0/0/2/61" "replace (the config's mode): the two missing establishments are deleted"
pl_source onisep "$raw"
pl_run onisep
jq '.sources |= map(if .id == "onisep" then .mode = "upsert" else . end)' "$EDU_SOURCES" >"$T/cfg" &&
	cp "$T/cfg" "$EDU_SOURCES"
pl_source onisep "$T/short.csv"
pl_run onisep
is "$(pl_summary)" "0/0/0/61" "upsert (the config changed): nothing is deleted"
is "$(sql 'select count(*) from onisep_etablissements')" 63 "the two establishments stay"

before=$(table_sum onisep_etablissements)
jq '.sources |= map(if .id == "onisep" then .mode = "merge" else . end)' "$EDU_SOURCES" >"$T/cfg" &&
	cp "$T/cfg" "$EDU_SOURCES"
pl_run onisep
is_status 78 "an unknown mode in the config"
like_err "cannot tell how to load onisep: .*unknown mode merge" "the message names the source and the mode"
is "$(table_sum onisep_etablissements)" "$before" "unknown mode: the table is unchanged"
