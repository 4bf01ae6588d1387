"""SST-2 (GLUE, sentence level): both recurrent solutions on the project's train/dev split.

    python benchmarks/classify_sst2.py [--quick]

In this copy the GLUE training set is split into train.tsv / dev.tsv (about 90/10, phrases
included); the GLUE dev set is held out of the project, so dev accuracy is reported.
Writes results/classify_sst2.json (results/classify_sst2_quick.json with --quick).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import environment, merged_results, write
from classify_imdb import print_table, run_variant
from rnnlab.data.text import read_labelled

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sst2"

VARIANTS = {
    "lstm-last": dict(
        model=dict(arch="lstm-last", hidden_size=128, dropout=0.3, embedding_dropout=0.2),
        text=dict(max_len=None, min_freq=1, max_vocab=None),
        train=dict(lr=2e-3, batch_size=64, max_epochs=8, patience=2),
    ),
    "bilstm-pool": dict(
        model=dict(arch="bilstm-pool", hidden_size=128, pooling="max", dropout=0.3, embedding_dropout=0.2),
        text=dict(max_len=None, min_freq=1, max_vocab=None),
        train=dict(lr=2e-3, batch_size=64, max_epochs=8, patience=2),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 training sentences, one epoch")
    parser.add_argument("--only", default="lstm-last,bilstm-pool")
    args = parser.parse_args()
    if not (DATA / "train.tsv").is_file():
        sys.exit(f"error: {DATA} not found; this benchmark reads ../shared/data/sst2 beside the checkout")
    train, dev = read_labelled(DATA / "train.tsv"), read_labelled(DATA / "dev.tsv")
    if args.quick:
        train = train.subset(range(3000))
    results = {}
    for name in args.only.split(","):
        results[name] = run_variant(VARIANTS[name], train, dev, args.quick, None)
        print(f"{name:12s} dev acc {results[name]['dev_accuracy']:.4f}", flush=True)
    print_table(results, "sentence")
    name = "classify_sst2_quick" if args.quick else "classify_sst2"
    payload = {"environment": environment(), "train_sentences": len(train), "dev_sentences": len(dev),
               "results": merged_results(name, results)}  # fmt: skip
    print(f"wrote {write(name, payload)}")


if __name__ == "__main__":
    main()
