"""CoNLL-2003 English NER: the char-LSTM + BiLSTM + CRF tagger with GloVe 50d, and the course's ladder.

    python benchmarks/tag_conll.py [--quick] [--only main,ladder] [--max-time 3000] [--ladder-time 240]

Trains on eng.train and selects on eng.testa (dev); eng.testb is held out of this project, so
dev entity F1 (conlleval rules) is reported. The ladder (window MLP → BiLSTM softmax → CRF →
+ characters → stacked; random vs GloVe) runs on a shorter time budget per rung, said in
the table. Also times prediction (sentences/s at batch 32, single-sentence latency).
Writes results/tag_conll.json (results/tag_conll_quick.json with --quick).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import environment, merged_results, write
from rnnlab.data.conll import Sentence, read_tagged
from rnnlab.tag.models import TaggerConfig
from rnnlab.tag.tagger import Tagger
from rnnlab.training import TrainConfig

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "conll2003"

MAIN = dict(arch="lstm", char="lstm", output="crf", hidden_size=100, char_dim=25, char_hidden=25, dropout=0.5)
LADDER = {
    "window-mlp (±2, GloVe)": dict(arch="window-mlp", hidden_size=300, window=2, dropout=0.3),
    "BiLSTM softmax (GloVe)": dict(arch="lstm", hidden_size=100),
    "BiLSTM-CRF (GloVe)": dict(arch="lstm", hidden_size=100, output="crf"),
    "BiLSTM-CRF + char LSTM (GloVe)": dict(MAIN),
    "BiLSTM-CRF + char CNN (GloVe)": dict(MAIN, char="cnn", char_hidden=30),
    "2-layer BiLSTM-CRF + char LSTM (GloVe)": dict(MAIN, num_layers=2),
    "BiLSTM-CRF + char LSTM (random 50d)": dict(MAIN, embeddings="none"),
}


def speed(tagger: Tagger, sentences: list[Sentence]) -> dict:
    tokens = [s.tokens for s in sentences]
    start = time.perf_counter()
    tagger.predict_tags(tokens, batch_size=32)
    batch_rate = len(tokens) / (time.perf_counter() - start)
    singles = []
    for sentence in tokens[:200]:
        t0 = time.perf_counter()
        tagger.predict_tags([sentence])
        singles.append(time.perf_counter() - t0)
    return {"predict_sentences_per_s_batch32": batch_rate, "single_sentence_ms": 1000 * statistics.median(singles)}


def run(name: str, spec: dict, train, dev, *, max_time: float, epochs: int, lr: float, optimizer: str,
        lr_decay: float = 0.0, seed: int = 0, patience: int = 6) -> dict:  # fmt: skip
    spec = dict(spec)
    embeddings = spec.pop("embeddings", "glove-6b-50d")
    train_config = TrainConfig(max_epochs=epochs, lr=lr, lr_decay=lr_decay, optimizer=optimizer, batch_size=16,
                               patience=patience, max_time=max_time, gradient_clip=5.0, seed=seed)  # fmt: skip
    tagger = Tagger(TaggerConfig(**spec), train_config)
    info = tagger.fit(train, dev, embeddings=embeddings)
    report = tagger.evaluate(dev)
    row = {
        "dev_f1": report["micro"]["f1"], "dev_precision": report["micro"]["precision"],
        "dev_recall": report["micro"]["recall"], "dev_macro_f1": report["macro"]["f1"],
        "per_type_f1": {k: v["f1"] for k, v in report["per_type"].items()}, "train_seconds": info["seconds"],
        "epochs": info["epochs"], "best_epoch": info["best_epoch"], "budget_s": max_time,
        "train_sentences_per_s": info["train_sentences_per_s"], "coverage": info["coverage"],
        "settings": {**spec, "embeddings": embeddings, "lr": lr, "optimizer": optimizer, "lr_decay": lr_decay,
                     "seed": seed},
        "history": [{k: round(v, 4) for k, v in h.items()} for h in info["history"]],
    }  # fmt: skip
    row.update(speed(tagger, dev))
    print(f"{name}: dev F1 {row['dev_f1']:.4f} ({row['epochs']} epochs, {row['train_seconds']:.0f} s)", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 training sentences, 30 s per model")
    parser.add_argument("--only", default="main,ladder")
    parser.add_argument("--max-time", type=float, default=3000.0, help="training seconds of the main model")
    parser.add_argument("--ladder-time", type=float, default=240.0, help="training seconds per ladder rung")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--lr-decay", type=float, default=0.0, help="lr / (1 + decay · epoch)")
    parser.add_argument("--layers", type=int, default=1, help="stacked BiLSTM layers of the main model")
    parser.add_argument("--seed", type=int, default=0, help="seed of the main model (weights, batches, dropout)")
    parser.add_argument("--hidden", type=int, default=100, help="BiLSTM units per direction of the main model")
    parser.add_argument("--patience", type=int, default=6, help="epochs without dev improvement before stopping")
    parser.add_argument("--word-dropout", type=float, default=0.0, help="probability a training word reads as <unk>")
    args = parser.parse_args()
    if not (DATA / "eng.train").is_file():
        sys.exit(f"error: {DATA} not found; this benchmark reads ../shared/data/conll2003 beside the checkout")
    train, dev = read_tagged(DATA / "eng.train"), read_tagged(DATA / "eng.testa")
    if args.quick:
        train, args.max_time, args.ladder_time = train[:1000], 30.0, 30.0
    results: dict[str, dict] = {}
    common = dict(lr=args.lr, optimizer=args.optimizer, lr_decay=args.lr_decay)
    if "main" in args.only:
        label = "main: BiLSTM-CRF + char LSTM, GloVe 50d" + (f", {args.layers} layers" if args.layers > 1 else "")
        label += f", lr decay {args.lr_decay}" if args.lr_decay else ""
        label += f", seed {args.seed}" if args.seed else ""
        label += f", hidden {args.hidden}" if args.hidden != 100 else ""
        label += f", patience {args.patience}" if args.patience != 6 else ""
        label += f", word dropout {args.word_dropout}" if args.word_dropout else ""
        spec = dict(MAIN, num_layers=args.layers, hidden_size=args.hidden, word_dropout=args.word_dropout)
        results[label] = run("main", spec, train, dev,
                             max_time=args.max_time, epochs=100, seed=args.seed, patience=args.patience,
                             **common)  # fmt: skip
    if "ladder" in args.only:
        for name, spec in LADDER.items():
            results[f"ladder: {name}"] = run(name, spec, train, dev, max_time=args.ladder_time, epochs=100, **common)
    print("\n| model | dev F1 | P | R | epochs | train s (budget) | train sent/s | predict sent/s (b32) | 1 sent ms |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for name, r in results.items():
        print(f"| {name} | {r['dev_f1']:.4f} | {r['dev_precision']:.4f} | {r['dev_recall']:.4f} | {r['epochs']} | "
              f"{r['train_seconds']:.0f} ({r['budget_s']:.0f}) | {r['train_sentences_per_s']:.0f} | "
              f"{r['predict_sentences_per_s_batch32']:.0f} | {r['single_sentence_ms']:.1f} |")  # fmt: skip
    name = "tag_conll_quick" if args.quick else "tag_conll"
    payload = {"environment": environment(), "train_sentences": len(train), "dev_sentences": len(dev),
               "results": merged_results(name, results)}  # fmt: skip
    print(f"wrote {write(name, payload)}")


if __name__ == "__main__":
    main()
