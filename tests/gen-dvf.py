#!/usr/bin/python3
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# Writes N rows (default 1000000) of a CSV shaped like geo-DVF (the 40-column header of
# tests/fixtures/dvf/geo-dvf_*.csv, ',' delimiter, LF, UTF-8, ISO dates, '.' decimals, about
# 200 bytes a row) on stdout, for the benchmarks: mutations of YEAR (default 2025), each year its
# own rows. CHANGED percent of the rows (default 0), spread evenly, get another price: the same
# year republished with corrections. RENUMBER (default 0) shifts every id_mutation by that much,
# as a geo-DVF release renumbers a year when a sale is added before the others: with a larger N,
# the same rows plus new ones at the end, every id different. Deterministic: the same arguments
# give the same bytes.
# About 1 row in 50 holds a quoted field (a street or culture name with a comma, or a doubled
# quote), so the converter's slow path is exercised too. Values are realistic, not real.
#   /usr/bin/python3 tests/gen-dvf.py [N [YEAR [CHANGED [RENUMBER]]]] > dvf.csv
import random
import sys

HEADER = (
    "id_mutation,date_mutation,numero_disposition,nature_mutation,valeur_fonciere,"
    "adresse_numero,adresse_suffixe,adresse_nom_voie,adresse_code_voie,code_postal,"
    "code_commune,nom_commune,code_departement,ancien_code_commune,ancien_nom_commune,"
    "id_parcelle,ancien_id_parcelle,numero_volume,lot1_numero,lot1_surface_carrez,"
    "lot2_numero,lot2_surface_carrez,lot3_numero,lot3_surface_carrez,lot4_numero,"
    "lot4_surface_carrez,lot5_numero,lot5_surface_carrez,nombre_lots,code_type_local,"
    "type_local,surface_reelle_bati,nombre_pieces_principales,code_nature_culture,"
    "nature_culture,code_nature_culture_speciale,nature_culture_speciale,surface_terrain,"
    "longitude,latitude"
)
NATURES = ["Vente"] * 12 + ["Vente en l'état futur d'achèvement", "Echange", "Adjudication",
                            "Vente terrain à bâtir", "Expropriation"]
VOIES = ["RUE DE LA REPUBLIQUE", "AV DU GENERAL DE GAULLE", "CHE DES PRES", "LE VILLAGE",
         "IMP DES CERISIERS", "RTE DE GENEVE", "PL DE L EGLISE", "ALL DES TILLEULS",
         "BD JEAN JAURES", "LOT LES COTEAUX", "RUE ÉMILE ZOLA", "CHE DU MOULIN"]
COMMUNES = [("01053", "Bourg-en-Bresse", "01000"), ("01004", "Ambérieu-en-Bugey", "01500"),
            ("01158", "Farges", "01550"), ("01173", "Gex", "01170"),
            ("01283", "Oyonnax", "01100"), ("01354", "Saint-Genis-Pouilly", "01630"),
            ("01143", "Divonne-les-Bains", "01220"), ("01416", "Thoiry", "01710")]
LOCAUX = [("1", "Maison"), ("2", "Appartement"), ("3", "Dépendance"),
          ("4", "Local industriel. commercial ou assimilé")]
CULTURES = [("S", "sols"), ("J", "jardins"), ("T", "terres"), ("P", "prés"), ("AB", "terrains a bâtir"),
            ("BT", "taillis simples"), ("L", "landes")]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    year = int(sys.argv[2]) if len(sys.argv) > 2 else 2025
    changed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    renumber = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    rnd = random.Random(20250107 + year - 2025)
    out = sys.stdout
    out.write(HEADER + "\n")
    buf = []
    mutation = 0
    for i in range(n):
        if i == 0 or rnd.random() < 0.45:
            mutation += 1
            date = "%d-%02d-%02d" % (year, rnd.randint(1, 12), rnd.randint(1, 28))
            nature = rnd.choice(NATURES)
            valeur = "%d.%02d" % (rnd.randint(5000, 900000), rnd.choice((0, 0, 0, 50, 25)))
            code, nom, cp = rnd.choice(COMMUNES)
        voie = rnd.choice(VOIES)
        quoted = rnd.random() < 0.02
        if quoted:
            voie = '"%s, %s"' % (voie, rnd.choice(('LIEU DIT LES ""GRANDS"" CHAMPS', "BAT A", "ZA")))
        local = rnd.random() < 0.6
        lc, ln = rnd.choice(LOCAUX) if local else ("", "")
        cc, cn = rnd.choice(CULTURES)
        lots = rnd.random() < 0.25
        row = [
            "%d-%d" % (year, mutation + renumber), date, "000001", nature, valeur,
            str(rnd.randint(1, 400)) if rnd.random() < 0.8 else "",
            rnd.choice(("", "", "", "", "B", "T")),
            voie, "%04d" % rnd.randint(1, 9999) if rnd.random() < 0.7 else "B%03d" % rnd.randint(1, 999),
            cp, code, nom, "01", "", "",
            "%s000%s%04d" % (code, rnd.choice(("A", "B", "AC", "ZK")).rjust(2, "0"), rnd.randint(1, 3000)),
            "", "",
            str(rnd.randint(1, 300)) if lots else "", "%.2f" % (rnd.random() * 120) if lots else "",
            str(rnd.randint(1, 300)) if lots and rnd.random() < 0.3 else "", "",
            "", "", "", "", "", "",
            "1" if lots else "0",
            lc, ln,
            str(rnd.randint(15, 250)) if local else "",
            str(rnd.randint(1, 8)) if local else "",
            cc, cn, "", "",
            str(rnd.randint(20, 5000)),
            "%.6f" % (4.8 + rnd.random() * 1.3), "%.6f" % (45.6 + rnd.random() * 0.8),
        ]
        if i * changed // 100 != (i + 1) * changed // 100:
            whole, cents = row[4].split(".")
            row[4] = "%d.%s" % (int(whole) + 1, cents)
        buf.append(",".join(row))
        if len(buf) >= 10000:
            out.write("\n".join(buf) + "\n")
            buf = []
    if buf:
        out.write("\n".join(buf) + "\n")


main()
