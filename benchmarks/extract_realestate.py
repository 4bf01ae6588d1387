"""French real-estate ads → template, scored on the annotated gold_dev.jsonl (61 ads).

    python benchmarks/extract_realestate.py [--train] [--max-time 600] [--seeds 0]

Rows: the weak labels themselves (rules checked against the site's structured values: they see
data the extractor never gets at prediction time, so they are a reference, not a competitor),
the regex-only baseline (rules → the same template filler: the ablation of the tagger), and the
char-CNN + word BiLSTM-CRF tagger (→ the same template filler): the shipped model, and with
--train, models trained now on bienici_toulon_dev.jsonl minus the gold ads (never on gold_dev).
Relocated probe: the gold ads with every "Toulon" (and its postcodes) replaced by towns seen
neither in the data nor in the training relocation list, gold following: how each extractor
copes with another region's place names (the held-out notaires ads are from 22 departments).
Throughput: ads/s on 2 cores, batched, rules and tagger timed in turns (median of 5).
Writes results/extract_realestate.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import environment, interleaved, merged_results, write
from rnnlab.ie import template, weak
from rnnlab.ie.augment import COMMUNES, relocate
from rnnlab.ie.extractor import DEFAULT_MODEL, Extractor, default_tagger_config, default_train_config, read_ads

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "realestate"
# towns for the relocation probe: none of them is in the training relocation list (rnnlab.ie.augment.COMMUNES)
PROBE_TOWNS = (("Carpentras", "84200"), ("Sète", "34200"), ("Béziers", "34500"), ("Narbonne", "11100"),
               ("Castres", "81100"), ("Lannion", "22300"), ("Dax", "40100"), ("Mâcon", "71000"),
               ("Épinal", "88000"), ("Fontainebleau", "77300"), ("Saint-Malo", "35400"),
               ("Thonon-les-Bains", "74200"))  # fmt: skip


def relocated_gold(gold: list[dict]) -> list[dict]:
    """The gold ads moved to towns the extractor never saw (gold city / postcode follow)."""
    assert not set(PROBE_TOWNS) & set(COMMUNES)
    out = []
    for i, ad in enumerate(gold):
        town = PROBE_TOWNS[i % len(PROBE_TOWNS)]
        moved = relocate({**ad, "fields": ad["gold"]}, town)
        out.append({**moved, "gold": moved["fields"]})
    return out


def row(report: dict) -> dict:
    return {"micro_precision": report["micro"]["precision"], "micro_recall": report["micro"]["recall"],
            "micro_f1": report["micro"]["f1"], "null_accuracy": report["null_accuracy"],
            "per_field_accuracy": {f: v["accuracy"] for f, v in report["per_field"].items()},
            "per_field": report["per_field"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="also train extractors now (one per seed)")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds for --train")
    parser.add_argument("--variants", default="hints,no-hints,no-relocation",
                        help="--train variants: hints (the shipped recipe), no-hints (the tagger without the rules' "
                        "labels as input), no-relocation (without the relocated copies), word-dropout (hints + "
                        "word dropout 0.05), hint-dropout (hints, 30 %% of the training ads' rule mentions "
                        "hidden)")  # fmt: skip
    parser.add_argument("--max-time", type=float, default=600.0, help="training seconds per model")
    parser.add_argument("--save", default=None, help="save the first trained model here (e.g. to ship it)")
    args = parser.parse_args()
    gold_file, ads_file = DATA / "gold_dev.jsonl", DATA / "bienici_toulon_dev.jsonl"
    if not gold_file.is_file():
        sys.exit(f"error: {gold_file} not found; this benchmark reads ../shared/data beside the checkout")
    gold = read_ads(gold_file)
    structured = {ad["id"]: ad.get("fields") for ad in read_ads(ads_file)}
    results: dict[str, dict] = {}

    weak_templates = [template.fill(ad["text"], weak.weak_mentions(ad["text"], structured.get(ad["id"])))
                      for ad in gold]  # fmt: skip
    results["weak labels (rules + site fields)"] = row(template.score([ad["gold"] for ad in gold], weak_templates))
    rules = Extractor.rules()
    results["rules only (baseline)"] = row(rules.evaluate(gold))
    shipped = Extractor.load(None)
    training = {k: v for k, v in shipped.tagger.info.items() if k != "history"}
    results["tagger, shipped model"] = {**row(shipped.evaluate(gold)), "training": training}

    probe = relocated_gold(gold)
    results["rules only (baseline), relocated probe"] = row(rules.evaluate(probe))
    results["tagger, shipped model, relocated probe"] = row(shipped.evaluate(probe))

    if args.train:
        train = read_ads(ads_file, exclude=[gold_file])
        recipes = {
            "hints": {},
            "no-hints": {"rule_hints": False},
            "no-relocation": {"relocated": 0.0},
            "word-dropout": {"config": dataclasses.replace(default_tagger_config(), word_dropout=0.05)},
            "hint-dropout": {"hint_dropout": 0.3},
        }
        for variant in args.variants.split(","):
            for seed in [int(s) for s in args.seeds.split(",")]:
                extractor = Extractor()
                config = dataclasses.replace(default_train_config(), seed=seed, max_time=args.max_time)
                info = extractor.fit(train, train_config=config, **recipes[variant])
                name = f"tagger {variant}, trained now (seed {seed})"
                results[name] = {
                    **row(extractor.evaluate(gold)), "train_sentences": info["train_sentences"],
                    "epochs": info["epochs"], "best_epoch": info["best_epoch"], "train_seconds": info["seconds"],
                    "history": [{k: round(v, 4) for k, v in h.items()} for h in info["history"]],
                }  # fmt: skip
                r = results[name]
                print(f"{name}: micro F1 {r['micro_f1']:.4f}, null accuracy {r['null_accuracy']:.4f}")
                results[f"{name}, relocated probe"] = row(extractor.evaluate(probe))
                if args.save and variant == args.variants.split(",")[0] and seed == int(args.seeds.split(",")[0]):
                    extractor.save(args.save, overwrite=True)

    texts = [ad["text"] for ad in gold] * 4  # 244 ads
    variants = {"rules": lambda: rules.extract(texts), "tagger": lambda: shipped.extract(texts, batch_size=64)}
    speed = interleaved(variants, reps=5, device="cpu", warmup=1)
    start = time.perf_counter()
    for t in texts[:50]:
        shipped.extract(t)
    single_ms = (time.perf_counter() - start) / 50 * 1e3
    throughput = {"rules_ads_per_s": len(texts) / speed["rules"], "tagger_ads_per_s": len(texts) / speed["tagger"],
                  "tagger_single_ad_ms": single_ms, "ads": len(texts)}  # fmt: skip

    print("\n| extractor | micro P | micro R | micro F1 | null accuracy |")
    print("|---|--:|--:|--:|--:|")
    for name, r in results.items():
        print(f"| {name} | {r['micro_precision']:.3f} | {r['micro_recall']:.3f} | {r['micro_f1']:.3f} | "
              f"{r['null_accuracy']:.3f} |")  # fmt: skip
    names = list(results)
    print("\n| field | " + " | ".join(names) + " |")
    print("|---|" + "--:|" * len(names))
    for field in template.FIELDS:
        support = results[names[0]]["per_field"][field]["support"]
        cells = " | ".join(f"{results[n]['per_field_accuracy'][field]:.3f}" for n in names)
        print(f"| {field} ({support}) | {cells} |")
    print(f"\nthroughput: rules {throughput['rules_ads_per_s']:.0f} ads/s, tagger {throughput['tagger_ads_per_s']:.0f} "
          f"ads/s (batch 64), one ad {single_ms:.1f} ms")  # fmt: skip
    payload = {"environment": environment(), "gold": str(gold_file.name), "gold_ads": len(gold),
               "model": str(DEFAULT_MODEL.name), "throughput": throughput,
               "results": merged_results("extract_realestate", results)}  # fmt: skip
    print(f"wrote {write('extract_realestate', payload)}")


if __name__ == "__main__":
    main()
