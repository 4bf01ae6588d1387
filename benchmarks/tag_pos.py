"""UPOS tagging on UD English-EWT and UD French-Sequoia: BiLSTM + character LSTM, softmax output.

    python benchmarks/tag_pos.py [--quick] [--only ewt,sequoia] [--max-time 900]

Train on the train split, select on dev, report dev token accuracy (the test splits are held
out of this project). English uses GloVe 6B 50d; French has no bundled vectors, so its words
start random and the character encoder carries the morphology.
Writes results/tag_pos.json (results/tag_pos_quick.json with --quick).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import environment, merged_results, write
from rnnlab.data.conll import read_tagged
from rnnlab.tag.models import TaggerConfig
from rnnlab.tag.tagger import Tagger
from rnnlab.training import TrainConfig
from tag_conll import speed

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = {
    "ewt": ("ud_english_ewt/en_ewt-ud-train.conllu.gz", "ud_english_ewt/en_ewt-ud-dev.conllu", "glove-6b-50d"),
    "sequoia": ("ud_french_sequoia/fr_sequoia-ud-train.conllu", "ud_french_sequoia/fr_sequoia-ud-dev.conllu", "none"),
}
MODEL = dict(arch="lstm", char="lstm", output="softmax", hidden_size=128, char_dim=30, char_hidden=50, dropout=0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 training sentences, 30 s per corpus")
    parser.add_argument("--only", default="ewt,sequoia")
    parser.add_argument("--max-time", type=float, default=900.0, help="training seconds per corpus")
    args = parser.parse_args()
    results = {}
    for name in args.only.split(","):
        train_file, dev_file, embeddings = CORPORA[name]
        if not (DATA / train_file).is_file():
            sys.exit(f"error: {DATA / train_file} not found; this benchmark reads ../shared/data beside the checkout")
        train, dev = read_tagged(DATA / train_file, "conllu", "upos"), read_tagged(DATA / dev_file, "conllu", "upos")
        if args.quick:
            train, args.max_time = train[:1000], 30.0
        tagger = Tagger(TaggerConfig(**MODEL, word_dim=100), TrainConfig(max_epochs=100, lr=2e-3, batch_size=16,
                        patience=5, max_time=args.max_time, gradient_clip=5.0))  # fmt: skip
        info = tagger.fit(train, dev, embeddings=embeddings)
        report = tagger.evaluate(dev)
        results[name] = {
            "dev_accuracy": report["accuracy"], "train_sentences": len(train), "dev_sentences": len(dev),
            "train_seconds": info["seconds"], "epochs": info["epochs"], "best_epoch": info["best_epoch"],
            "train_sentences_per_s": info["train_sentences_per_s"], "embeddings": embeddings,
            "coverage": info["coverage"], "settings": MODEL, "budget_s": args.max_time,
            "history": [{k: round(v, 4) for k, v in h.items()} for h in info["history"]], **speed(tagger, dev),
        }  # fmt: skip
        print(f"{name}: dev UPOS accuracy {report['accuracy']:.4f} ({info['epochs']} epochs, {info['seconds']:.0f} s)")
    print("\n| corpus | dev UPOS accuracy | epochs | train s | train sent/s | predict sent/s (b32) | 1 sent ms |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for name, r in results.items():
        print(f"| {name} | {r['dev_accuracy']:.4f} | {r['epochs']} | {r['train_seconds']:.0f} | "
              f"{r['train_sentences_per_s']:.0f} | {r['predict_sentences_per_s_batch32']:.0f} | "
              f"{r['single_sentence_ms']:.1f} |")  # fmt: skip
    out = "tag_pos_quick" if args.quick else "tag_pos"
    payload = {"environment": environment(), "results": merged_results(out, results)}
    print(f"wrote {write(out, payload)}")


if __name__ == "__main__":
    main()
