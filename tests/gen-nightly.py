#!/usr/bin/python3
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
# Writes a source's file at its national size for tests/bench-nightly.sh, from the bundled real
# excerpt: the excerpt's rows repeated, each copy with keys of its own, so that the file has the
# real shape (header, delimiter, line ends, BOM, values) and loads. A CSV gets new UAIs (seven
# digits and their check letter) in its key column, the same new UAI for the same UAI of one
# copy (an establishment's several years or sites stay together); the communes JSON gets new
# commune codes. Deterministic: the same arguments give the same bytes.
#   gen-nightly.py csv FILE KEY-COLUMN ROWS > out.csv
#   gen-nightly.py communes FILE... ROWS > out.json
import csv
import io
import json
import sys

LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def uai(n):
    return "%07d%s" % (n, LETTERS[n % 23])


def gen_csv(path, key, rows):
    raw = open(path, "rb").read().decode("utf-8")
    lines = raw.splitlines(keepends=True)
    header, body = lines[0], [l for l in lines[1:] if l.strip()]
    eol = "\r\n" if header.endswith("\r\n") else "\n"
    delim = ";"
    names = next(csv.reader([header.lstrip("\ufeff").rstrip("\r\n")], delimiter=delim))
    k = names.index(key)
    out = sys.stdout
    out.write(header if header.endswith("\n") else header + eol)
    ids, written, copy, n = {}, 0, 0, 1000000
    while written < rows:
        for line in body:
            if written >= rows:
                break
            fields = next(csv.reader([line.rstrip("\r\n")], delimiter=delim))
            old = fields[k]
            if (copy, old) not in ids:
                n += 1
                ids[(copy, old)] = uai(n)
            fields[k] = ids[(copy, old)]
            buf = io.StringIO()
            csv.writer(buf, delimiter=delim, lineterminator=eol).writerow(fields)
            out.write(buf.getvalue())
            written += 1
        copy += 1


def gen_communes(paths, rows):
    objs = []
    for p in paths:
        objs += json.load(open(p, encoding="utf-8"))
    out, i = [], 0
    depts = [d for d in range(1, 96) if d != 20]
    while len(out) < rows:
        o = dict(objs[i % len(objs)])
        d, c = depts[(i // 999) % len(depts)], i % 999 + 1
        o["code"] = "%02d%03d" % (d, c)
        o["codeDepartement"] = "%02d" % d
        out.append(o)
        i += 1
    sys.stdout.write(json.dumps(out, ensure_ascii=False, separators=(",", ":")))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "csv":
        gen_csv(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "communes":
        gen_communes(sys.argv[2:-1], int(sys.argv[-1]))
    else:
        sys.stderr.write("usage: gen-nightly.py csv FILE KEY ROWS | communes FILE... ROWS\n")
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main())
