"""Does training on hand-annotated ads help the extractor? Models compared on the selection sets only.

    python benchmarks/extract_gold_supervision.py runs/extract_A runs/extract_B [--names "weak only" "+gold"]

Trains nothing: give the directories of ``rnnlab extract fit`` runs (the commands are in the benchmarks README,
section "2026-12-05"). Scores them, the shipped model and the rules alone on the two selection sets
(``notaires_tune_h/i``, 40 notaires ads, and ``bienici_train_n``, 24 bienici ads: annotated by hand, excluded from
every training run, used to choose a recipe); the closed sets are not read here. Writes
results/extract_gold_supervision.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import environment, write
from rnnlab.ie.extractor import Extractor, read_ads

GOLD = Path(__file__).resolve().parent / "data"
SETS = {"notaires_tune2 (selection)": ["notaires_tune_h.jsonl", "notaires_tune_i.jsonl"],
        "bienici_train_n (selection)": ["bienici_train_n.jsonl"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="directories written by `rnnlab extract fit`")
    parser.add_argument("--names", nargs="+", help="a name per model (default: the directory)")
    args = parser.parse_args()
    names = args.names or args.models
    models = {"rules alone": Extractor.rules(), "shipped": Extractor.load(None)}
    models |= {name: Extractor.load(path) for name, path in zip(names, args.models, strict=True)}
    results: dict[str, dict] = {}
    print("| model → set | ads | micro F1 | null accuracy | bedrooms | bathrooms | rooms | surface |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    for set_name, files in SETS.items():
        ads = [ad for f in files for ad in read_ads(GOLD / f)]
        for name, model in models.items():
            r = model.evaluate(ads)
            acc = {f: v["accuracy"] for f, v in r["per_field"].items()}
            f1, null = r["micro"]["f1"], r["null_accuracy"]
            results[f"{name} → {set_name}"] = {"ads": len(ads), "micro_f1": f1, "null_accuracy": null,
                                               "per_field_accuracy": acc}  # fmt: skip
            cells = " | ".join(f"{acc[f]:.3f}" for f in ("bedrooms", "bathrooms", "rooms", "surface_m2"))
            print(f"| {name} → {set_name} | {len(ads)} | {f1:.3f} | {null:.3f} | {cells} |")
    training = {name: {k: m.tagger.info.get(k) for k in ("train_ads", "annotated_ads", "gold_weight", "epochs",
                                                          "best_epoch", "seconds")}
                for name, m in models.items() if m.tagger is not None}  # fmt: skip
    payload = {"environment": environment(), "models": dict(zip(names, args.models, strict=True)),
               "training": training, "results": results}  # fmt: skip
    print(f"wrote {write('extract_gold_supervision', payload)}")


if __name__ == "__main__":
    main()
