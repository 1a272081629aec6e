#!/usr/bin/env python3
# Remakes tests/fuzz/seeds/ (committed) from the real fixtures, the mapping files and the golden
# files, in the input format of each harness (see the comment at the top of tests/fuzz/NAME.c).
# Seeds are cut to a few KB at a line end: libFuzzer works on small inputs, and the values and
# shapes are what matters. Run from the top directory after `make` (it uses bin/edu-csv2tsv):
#   python3 tests/fuzz/mkseeds.py
import os
import shutil
import subprocess
import sys

CUT = 2048
SEEDS = "tests/fuzz/seeds"
FIX = "tests/fixtures"
RULES = ["raw", "text", "int", "decimal", "date", "year", "bool", "percent", "uai", "insee",
         "dept", "postal", "lon", "lat", "epsg", "siret", "commune_in_dept", "list"]
# Each mapping file and the fixture it normalizes (as tests/t/0202-normalize-golden.t pairs them).
MAPS = {
    "ivac.map": "ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv",
    "dvf-raw.map": "dvf/valeursfoncieres-2020_excerpt-172rows.txt",
    "dvf.map": "dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv",
    "communes-cog.map": "insee-communes/commune_2022_selected-lines_corse-arm-dom.csv",
    "annuaire.map": "annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv",
    "onisep.map": "onisep/ideo-structures-secondaire_built.csv",
    "ival.map": "ival-lycees/fr-en-indicateurs-de-resultat-des-lycees-gt_v2_export_built.csv",
}


def cut(data, limit=CUT):
    """The first lines of data, at most limit bytes (one line at least)."""
    if len(data) <= limit:
        return data
    end = data.rfind(b"\n", 0, limit)
    return data[: end + 1] if end > 0 else data[:limit]


def put(harness, name, data):
    path = os.path.join(SEEDS, harness, name)
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def csv2tsv(path):
    out = subprocess.run(["bin/edu-csv2tsv", path], capture_output=True, check=True)
    return out.stdout


def csv_seeds():
    # Byte 0: options (bits 3-4 encoding: 2 windows-1252, 3 UTF-16; 3 tab; 0x40 -H);
    # byte 1: small buffer 40 + 24; byte 2: pipe reads of 16 bytes.
    opts = {"cp1252.csv": 0x10, "cp1252-undefined.csv": 0x10, "latin1.csv": 0x10,
            "noheader.csv": 0x40, "tab.tsv": 0x03}
    for name in sorted(os.listdir(f"{FIX}/edge")):
        put("csv2tsv", name, bytes([opts.get(name, 0), 24, 15]) + cut(read(f"{FIX}/edge/{name}")))
    for d in sorted(os.listdir(FIX)):
        if d in ("edge", "normalize", "http", "pgcopy") or not os.path.isdir(f"{FIX}/{d}"):
            continue
        for name in sorted(os.listdir(f"{FIX}/{d}")):
            if name.endswith((".csv", ".txt")):
                put("csv2tsv", f"{d}-{name[:40]}", bytes([0, 100, 200]) + cut(read(f"{FIX}/{d}/{name}")))
    text = read(f"{FIX}/edge/cp1252.csv").decode("cp1252")
    put("csv2tsv", "utf16.csv", bytes([0x18, 7, 3]) + text.encode("utf-16"))


def tsv_seeds():
    for d in ("tests/golden/csv2tsv", "tests/golden/normalize", f"{FIX}/normalize"):
        for name in sorted(os.listdir(d)):
            if not name.endswith(".tsv"):
                continue
            data = read(f"{d}/{name}")
            short = cut(data)
            if short != data:
                short += b"\\.\n"
            put("tsv", f"{os.path.basename(d)}-{name}", bytes([63]) + short)


def parse_map(text):
    """(source spec, target, rule, argument) for each line of a mapping file."""
    for line in text.decode().splitlines():
        fields = [f.strip() for f in line.split("\t") if f.strip()]
        if len(fields) < 3 or fields[0].startswith("#") or fields[1] == "-":
            continue
        rule, _, arg = fields[2].partition("=")
        yield fields[0].lstrip("?"), fields[1], "raw" if rule == "keep" else rule, arg


def column(header, spec):
    for alt in spec.split("|"):
        if alt in header:
            return header.index(alt)
    return None


def infer_seeds():
    # A sample in the contract, without its end-of-data line (the harness adds it).
    for name, src in (("onisep", "onisep/ideo-structures-secondaire_built.csv"),
                      ("annuaire", "annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv"),
                      ("ivac", "ivac-colleges/fr-en-indicateurs-valeur-ajoutee-colleges_ods-export_first500.csv"),
                      ("geoloc", "annuaire-education/fr-en-adresse-et-geolocalisation-etablissements-premier-et-second-degre_dept35-colleges_2023-06.csv"),
                      ("dvf", "dvf/geo-dvf_full-csv_2025_dept01_first70rows_TRANSCRIBED.csv")):
        data = cut(csv2tsv(f"{FIX}/{src}").replace(b"\\.\n", b""), 4096)
        put("infer", name, data.rstrip(b"\n"))
    put("infer", "schools", read(f"{FIX}/normalize/schools.tsv").replace(b"\\.\n", b"").rstrip(b"\n"))


def map_and_rule_seeds():
    pairs = [(f"pipelines/{m}", f"{FIX}/{src}") for m, src in MAPS.items()]
    pairs.append((f"{FIX}/normalize/schools.map", None))
    values = {rule: [] for rule in RULES}
    for mapfile, src in pairs:
        text = read(mapfile)
        tsv = csv2tsv(src) if src else read(f"{FIX}/normalize/schools.tsv")
        lines = tsv.split(b"\n")
        header = lines[0].decode().split("\t")
        put("map", os.path.basename(mapfile), text + b"\0\0" + lines[0])
        rows = [line.decode().split("\t") for line in lines[1:200] if line and line != b"\\."]
        for spec, _target, rule, arg in parse_map(text):
            i = column(header, spec)
            sep = arg if rule == "list" else ""
            j = column(header, arg) if arg and not sep else None
            if i is None or (arg and not sep and j is None):
                continue
            for row in rows:
                v = sep + row[i] if j is None else row[j] + "\t" + row[i]
                if sep and v == sep:
                    continue
                if "\\" in v or v in values[rule] or len(values[rule]) >= 12:
                    continue
                values[rule].append(v)
    # Forms docs/mapping.md names that the fixtures lack.
    for rule, v in (("raw", " x\u00a0"), ("bool", "VRAI"), ("bool", "Non"), ("epsg", "EPSG:2154"),
                    ("decimal", "1\u202f234,5"), ("decimal", "-0,0"), ("lat", "4.5e1"),
                    ("percent", "12,5 %"), ("int", "1 000"), ("date", "2023-06-01T10:00:00+02:00"),
                    ("insee", "2a004"), ("dept", "035"), ("postal", "1000"),
                    ("siret", "338 896 038 00019"), ("siret", "35600000000001"),
                    ("list", ',say "hi", c:\\d,, '), ("list", "| a | b |")):
        values[rule].append(v)
    put("map", "schools-strict.map", read(f"{FIX}/normalize/schools.map") + b"\0\1" +
        read(f"{FIX}/normalize/schools-drift.tsv").split(b"\n")[0])
    for k, rule in enumerate(RULES):
        for n, v in enumerate(values[rule]):
            put("rules", f"{rule}-{n:02d}", bytes([k]) + v.encode())


def main():
    if not os.path.exists("bin/edu-csv2tsv"):
        sys.exit("mkseeds: run make first (bin/edu-csv2tsv)")
    for harness in ("csv2tsv", "tsv", "map", "rules", "infer"):
        shutil.rmtree(os.path.join(SEEDS, harness), ignore_errors=True)
        os.makedirs(os.path.join(SEEDS, harness))
    csv_seeds()
    tsv_seeds()
    map_and_rule_seeds()
    infer_seeds()


main()
