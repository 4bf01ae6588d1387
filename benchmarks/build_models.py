"""Build the models rnnlab ships (ner-en, pos-en, pos-fr, sentiment-en) from ../shared/data with their README
recipes, through the CLI a user runs; shrink each for the package (word vectors kept for the training words plus the
most frequent pretrained ones, weights in float16) measuring what that costs on dev; write its card; and check the
shipped files against the fresh build within TOLERANCE.

    python benchmarks/build_models.py                      # all four into runs/build/, compared with the shipped
    python benchmarks/build_models.py ner-en --install     # ... and copied into src/rnnlab/shipped/ner-en
    python benchmarks/build_models.py --check-only         # score the shipped models on dev, no training

Dev sets are the data model selection used (CoNLL eng.testa, the UD dev files, the IMDB fit's own 10 % split): the
shipped-vs-fresh check compares like with like; test sets are not in ../shared/data.
Writes results/build_models.json and src/rnnlab/shipped/manifest.json (with --install).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchkit import environment, merged_results, write

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("..") / "shared" / "data"  # relative to the repository root, where the commands run
BUILD = Path("runs") / "build"
TOLERANCE = 0.003  # a fresh build and the shipped files agree within 0.3 points (the bound)
# pretrained words kept beyond the training words (most frequent first): on CoNLL dev, 20,000 cost 0.44 F1 points
# (0.9439 -> 0.9395), 60,000 cost 0.10 (9.5 MB in float16; the whole table, 12.2 MB, is over the 10 MB bound)
EXTRA_WORDS = 60_000

_TAGGER = ["--arch", "lstm", "--char", "lstm", "--gradient-clip", "5", "--batch-size", "16", "--lr", "2e-3"]
_POS = [*_TAGGER, "--format", "conllu", "--tag-column", "upos", "--output", "softmax", "--hidden-size", "128",
        "--char-dim", "30", "--char-hidden", "50", "--word-dim", "100", "--dropout", "0.5", "--max-epochs", "100",
        "--patience", "5"]  # fmt: skip


def _pos(train: Path, dev: Path, embeddings: str) -> dict:
    """A UPOS recipe: tag_pos.py's settings through the CLI."""
    args = ["tag", "fit", "--train", str(train), "--dev", str(dev), *_POS, "--embeddings", embeddings]
    return dict(task="tagger", metric="accuracy", dev=(dev, "conllu", "upos"), args=args)


RECIPES: dict[str, dict] = {
    "ner-en": dict(
        task="tagger",
        metric="f1",
        dev=(DATA / "conll2003" / "eng.testa", "conll2003", "ner"),
        args=[
            "tag",
            "fit",
            "--train",
            str(DATA / "conll2003" / "eng.train"),
            "--dev",
            str(DATA / "conll2003" / "eng.testa"),
            "--format",
            "conll2003",
            "--tag-column",
            "ner",
            *_TAGGER,
            "--output",
            "crf",
            "--embeddings",
            "glove-6b-50d",
            "--lr-decay",
            "0.1",
            "--word-dropout",
            "0.05",
            "--max-epochs",
            "100",
            "--patience",
            "6",
        ],
    ),
    "pos-en": _pos(
        DATA / "ud_english_ewt" / "en_ewt-ud-train.conllu.gz",
        DATA / "ud_english_ewt" / "en_ewt-ud-dev.conllu",
        "glove-6b-50d",
    ),
    "pos-fr": _pos(
        DATA / "ud_french_sequoia" / "fr_sequoia-ud-train.conllu",
        DATA / "ud_french_sequoia" / "fr_sequoia-ud-dev.conllu",
        "none",
    ),
    "sentiment-en": dict(
        task="classifier",
        metric="accuracy",
        dev=(DATA / "imdb" / "aclImdb_train.tar.gz", 0.1),
        args=[
            "classify",
            "fit",
            "--train",
            str(DATA / "imdb" / "aclImdb_train.tar.gz"),
            "--dev-fraction",
            "0.1",
            "--arch",
            "bilstm-pool",
            "--cell",
            "lstm",
            "--hidden-size",
            "128",
            "--pooling",
            "max",
            "--dropout",
            "0.4",
            "--embedding-dropout",
            "0.3",
            "--adversarial",
            "2.0",
            "--max-len",
            "800",
            "--truncation",
            "both",
            "--min-freq",
            "2",
            "--max-vocab",
            "50000",
            "--lr",
            "2e-3",
            "--batch-size",
            "32",
            "--max-epochs",
            "15",
            "--patience",
            "4",
            "--lr-decay",
            "0.1",
        ],
    ),
}


def command(name: str, out: Path) -> list[str]:
    return ["rnnlab", *RECIPES[name]["args"], "--out", str(out)]


def dev_data(name: str):
    recipe = RECIPES[name]
    if recipe["task"] == "tagger":
        from rnnlab.data.conll import read_tagged

        path, fmt, column = recipe["dev"]
        return read_tagged(path, fmt, column)
    from rnnlab.data.text import read_labelled

    path, fraction = recipe["dev"]
    return read_labelled(path).split(fraction, seed=0)[1]  # the fit's own split (seed 0, as the CLI)


def score(name: str, directory: str | Path, dev) -> dict:
    """Dev score of a saved model (and its prediction speed)."""
    import rnnlab

    model = rnnlab.load(directory)
    start = time.perf_counter()
    report = model.evaluate(dev)
    seconds = time.perf_counter() - start
    metric = RECIPES[name]["metric"]
    value = report["micro"]["f1"] if metric == "f1" else report[metric]
    return {"dev_" + metric: float(value), "dev_items_per_s": len(dev) / seconds}


def training_words(name: str) -> int:
    """Rows of the word table that come from the training data (<pad>, <unk> and the training words)."""
    from rnnlab.data.conll import read_tagged

    args = RECIPES[name]["args"]
    fmt, column = args[args.index("--format") + 1], args[args.index("--tag-column") + 1]
    train = read_tagged(args[args.index("--train") + 1], fmt, column)
    return 2 + len({t.lower() for s in train for t in s.tokens})


def shrink(name: str, full: Path, out: Path) -> dict:
    """The package's copy: fewer pretrained word rows (taggers), float16 weights; returns what was cut."""
    import rnnlab
    from rnnlab.compact import keep_words

    model = rnnlab.load(full)
    removed = 0
    if RECIPES[name]["task"] == "tagger" and "--embeddings" in RECIPES[name]["args"]:
        removed = keep_words(model, training_words(name) + EXTRA_WORDS)
    model.save(out, overwrite=True, half=True)
    return {"word_rows_removed": removed, "half": True}


def card(name: str, directory: Path, scores: dict) -> None:
    import rnnlab
    from rnnlab.cards import model_card
    from rnnlab.hub import CATALOG

    model = rnnlab.load(directory)
    recipe = " ".join(command(name, Path("runs") / name))
    text = model_card(CATALOG[name].task, {**model.info, "command": recipe}, name=name, shipped=CATALOG[name],
                      scores=scores)  # fmt: skip
    (directory / "README.md").write_text(text, encoding="utf-8")


def size_mb(directory: Path) -> float:
    from rnnlab.hub import size_bytes

    return size_bytes(directory) / 1e6


def build(name: str, args: argparse.Namespace) -> dict:
    from rnnlab.hub import SHIPPED_DIR

    full, small = BUILD / name / "full", BUILD / name / "shipped"
    start = time.perf_counter()
    reused = args.reuse and (full / "config.json").is_file()
    if not reused:
        cmd = [*command(name, full), "--overwrite", "--json"]
        print("$", " ".join(cmd), flush=True)
        subprocess.run([sys.executable, "-m", "rnnlab", *cmd[1:]], cwd=ROOT, check=True)
    train_seconds = time.perf_counter() - start
    if reused:  # the command's time, from the model's own training record
        import rnnlab

        train_seconds = float(rnnlab.load(ROOT / full).info.get("seconds") or 0.0)
    cut = shrink(name, ROOT / full, ROOT / small)
    dev = dev_data(name)
    fresh, shrunk = score(name, ROOT / full, dev), score(name, ROOT / small, dev)
    metric = "dev_" + RECIPES[name]["metric"]
    row = {"task": RECIPES[name]["task"], "command": " ".join(command(name, Path("runs") / name)),
           "train_seconds": train_seconds, "full": {**fresh, "size_mb": size_mb(ROOT / full)},
           "shipped_build": {**shrunk, "size_mb": size_mb(ROOT / small), **cut},
           "shrink_cost": fresh[metric] - shrunk[metric]}  # fmt: skip
    scores = {f"{metric} (full model)": fresh[metric], f"{metric} (this shrunk copy)": shrunk[metric],
              "dev items/s (evaluate, 2 cores)": shrunk["dev_items_per_s"]}  # fmt: skip
    card(name, ROOT / small, scores)
    installed = SHIPPED_DIR / name
    if installed.is_dir() and (installed / "config.json").is_file():
        shipped = score(name, installed, dev)
        row["installed"] = shipped
        row["installed_vs_fresh"] = shipped[metric] - shrunk[metric]
        row["within_tolerance"] = abs(row["installed_vs_fresh"]) <= TOLERANCE
        row["fresh_training"] = not reused  # with --reuse the build is not a fresh training: no reproducibility check
    if args.install:
        if "installed_vs_fresh" in row:  # the comparison was with the files this install replaces
            row["replaced_install"] = {"scores": row.pop("installed"), "vs_this_build": row.pop("installed_vs_fresh")}
            row.pop("within_tolerance")
        if installed.exists():
            shutil.rmtree(installed)
        shutil.copytree(ROOT / small, installed)
        row["installed"] = shrunk
    return row


def check_only(name: str) -> dict:
    from rnnlab.hub import SHIPPED_DIR

    directory = SHIPPED_DIR / name
    return {"installed": score(name, directory, dev_data(name)), "size_mb": size_mb(directory)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(RECIPES), help=f"some of {', '.join(RECIPES)}")
    parser.add_argument("--install", action="store_true", help="copy the builds into src/rnnlab/shipped/")
    parser.add_argument("--reuse", action="store_true", help="reuse runs/build/<name>/full if it is there")
    parser.add_argument("--check-only", action="store_true", help="score the shipped models on dev, train nothing")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(RECIPES))
    if unknown:
        sys.exit(f"error: unknown model(s) {unknown}; choose among {', '.join(RECIPES)}")
    if not (ROOT / DATA).is_dir():
        sys.exit(f"error: {ROOT / DATA} not found; this script reads ../shared/data beside the checkout")
    rows = {}
    for name in args.names:
        rows[name] = check_only(name) if args.check_only else build(name, args)
        print(json.dumps({name: rows[name]}, indent=1), flush=True)
    print("\n| model | dev (full) | dev (shipped build) | shrink cost | MB full → shipped | installed vs fresh |")
    print("|---|--:|--:|--:|--:|--:|")
    for name, r in rows.items():
        if "full" not in r:
            print(f"| {name} | | {r['installed']} | | {r['size_mb']:.1f} | |")
            continue
        metric = "dev_" + RECIPES[name]["metric"]
        diff = r.get("installed_vs_fresh")
        print(f"| {name} | {r['full'][metric]:.4f} | {r['shipped_build'][metric]:.4f} | {r['shrink_cost']:+.4f} | "
              f"{r['full']['size_mb']:.1f} → {r['shipped_build']['size_mb']:.1f} | "
              f"{'-' if diff is None else f'{diff:+.4f}'} |")  # fmt: skip
    result = {"environment": environment(), "tolerance": TOLERANCE, "extra_words": EXTRA_WORDS,
              "results": merged_results("build_models", rows)}  # fmt: skip
    write("build_models", result)
    if args.install:
        from rnnlab.hub import MANIFEST, SHIPPED_DIR

        manifest = json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.is_file() else {}
        for name, r in rows.items():
            if "shipped_build" in r:
                metric = "dev_" + RECIPES[name]["metric"]
                manifest[name] = {
                    "command": r["command"],
                    "scores": {metric: round(r["shipped_build"][metric], 4), "shrink_cost": round(r["shrink_cost"], 4)},
                    "built": environment()["date"],
                }
        SHIPPED_DIR.mkdir(parents=True, exist_ok=True)
        MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
