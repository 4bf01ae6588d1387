"""``rnnlab classify fit | evaluate | predict | demo``: text classification from labelled files in one command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from rnnlab.classify.config import DEFAULT_TRAIN, ClassifierConfig, TextConfig
from rnnlab.cli.common import (
    echo_json,
    emit,
    input_text,
    markdown_table,
    new_file,
    output_dir,
    print_table,
    wants_json,
    write_csv,
)
from rnnlab.cli.options import OUT, OVERWRITE, PROGRESS, RESUME, ConfigOptions, Section
from rnnlab.data.text import TextDataset, numbered_lines, read_labelled, read_unlabelled
from rnnlab.errors import DataError
from rnnlab.training.config import TrainConfig

app = typer.Typer(help="Classify texts (sentiment analysis and any labelled text).", no_args_is_help=True)

EXAMPLES = """
Examples:

  rnnlab classify fit --train aclImdb_train.tar.gz --dev-fraction 0.1 --arch bilstm-pool --out runs/imdb

  rnnlab classify fit --train reviews.csv --dev dev.csv --text-col text --label-col label --arch lstm-last --out runs/r

  rnnlab classify evaluate --model runs/imdb dev.csv --json --plot confusion.png

  rnnlab classify predict --model runs/imdb "A moving, beautiful film." "Two dull hours."

  cat reviews.txt | rnnlab classify predict --model runs/imdb --input - --output predictions.jsonl
"""


FIT_OPTIONS = ConfigOptions(
    model=Section(
        ClassifierConfig(),
        exclude=frozenset({"vocab_size", "n_classes"}),  # from the training data
        aliases={"hidden_size": ("--hidden",), "num_layers": ("--layers",)},
    ),
    text=Section(TextConfig(), zero_means_none=frozenset({"max_len"})),
    train=Section(DEFAULT_TRAIN, aliases={"max_epochs": ("--epochs",)}, zero_means_none=frozenset({"gradient_clip"})),
)


DOMAIN_HELP = ("Learn word2vec vectors of this size on the --train texts first (labels unused) and append them to "
               "the pretrained ones, e.g. 100; 0: none.")  # fmt: skip
CALIBRATE_HELP = ("After training, fit a softmax temperature on the dev texts (temperature scaling) so that the "
                  "probabilities mean what they say; labels unchanged. Reports dev ECE before and after.")  # fmt: skip
UNLABELLED_HELP = ("More texts for --pretrain-epochs: an aclImdb folder or .tar.gz (its train/unsup reviews) or a "
                   "CSV/TSV/JSONL file (its --text-col).")  # fmt: skip


@app.command(epilog=EXAMPLES)
@FIT_OPTIONS
def fit(
    train_file: str = typer.Option(..., "--train", help="Training data: CSV/TSV, JSONL, an aclImdb folder or .tar.gz."),
    dev: str | None = typer.Option(None, help="Dev data (same format); default: --dev-fraction of --train."),
    dev_fraction: float = typer.Option(0.1, help="Share of --train held out as dev when --dev is not given."),
    text_col: str | None = typer.Option(None, help="Text column (default: text, sentence, review, ...)."),
    label_col: str | None = typer.Option(None, help="Label column (default: label, sentiment, class, ...)."),
    embeddings: str = typer.Option("glove-6b-50d", help="glove-6b-50d, a GloVe/word2vec/fastText file, or none."),
    domain_vectors: int = typer.Option(0, help=DOMAIN_HELP),
    pretrain_epochs: int = typer.Option(
        0,
        "--pretrain-epochs",
        "--pretrain-lm",
        help="Language-model pretraining: first train the embedding and recurrent layer for this many epochs "
        "to predict each next word (and, bidirectional, each previous word) of the --train texts and "
        "--unlabelled ones, labels unused; then train the classifier from there. 0: none.",
    ),
    pretrain_sample: float = typer.Option(
        0.25, help="Share of the positions whose next word is predicted in each pretraining batch (cost)."
    ),
    unlabelled: str | None = typer.Option(None, help=UNLABELLED_HELP),
    class_weights: bool = typer.Option(False, help="Weight the loss by inverse class frequency."),
    calibrate: bool = typer.Option(False, help=CALIBRATE_HELP),
    out: str = OUT,
    overwrite: bool = OVERWRITE,
    resume: bool = RESUME,
    progress: bool = PROGRESS,
    as_json: bool = typer.Option(False, "--json", help="Print the training summary as JSON."),
    *,
    model: ClassifierConfig,  # built by FIT_OPTIONS from its options
    text: TextConfig,
    train: TrainConfig,
) -> None:
    """Fit a text classifier on --train and save it to --out (the model, text and training options are
    ClassifierConfig's, TextConfig's and TrainConfig's fields, defaults included)."""
    options = {**dict(locals()), **FIT_OPTIONS.flags(model=model, text=text, train=train)}  # recorded for --resume
    from rnnlab.classify.classifier import TextClassifier
    from rnnlab.io import check_target

    check_target(out, overwrite=overwrite)  # before training; io.save checks again
    if unlabelled is not None and not pretrain_epochs:
        raise ValueError("--unlabelled texts are only read for --pretrain-epochs N; pass both or neither")
    from rnnlab.cli.resume import fit_checkpoints

    extra = [] if unlabelled is None else read_unlabelled(unlabelled, text_col=text_col)
    train_data, dev_data = _fit_data(train_file, dev, dev_fraction, text_col, label_col, train.seed)
    clf = TextClassifier(model, train, text=text)
    with fit_checkpoints(out, resume=resume, command="classify fit", options=options) as run:
        info = clf.fit(train_data, dev_data, embeddings=embeddings, domain_vectors=domain_vectors,
                       pretrain_epochs=pretrain_epochs, pretrain_sample=pretrain_sample, unlabelled=extra,
                       class_weights=class_weights, out_dir=run, resume=resume,
                       progress=progress and not as_json)  # fmt: skip
        calibration = clf.calibrate(dev_data) if calibrate else None
        clf.save(out, overwrite=overwrite)
    summary = {k: v for k, v in info.items() if k != "history"} | ({"calibration": calibration} if calibrate else {})
    summary.update({"train_texts": len(train_data), "dev_texts": len(dev_data), "labels": clf.labels})
    emit(summary, as_json, f"saved {out}")


def _fit_data(train_file: str, dev: str | None, dev_fraction: float, text_col: str | None, label_col: str | None,
              seed: int) -> tuple[TextDataset, TextDataset]:  # fmt: skip
    """The training and dev texts: --dev's file, else a --dev-fraction of --train held out."""
    train_data = read_labelled(train_file, text_col=text_col, label_col=label_col)
    if dev is not None:
        return train_data, read_labelled(dev, text_col=text_col, label_col=label_col, split="test")
    return train_data.split(dev_fraction, seed=seed)


EXPLAIN_HELP = ("Add which words decided: the attention weights over the tokens (a --pooling attention model), or "
                "for max pooling each word's share of the pooled features; they sum to 1 per text.")  # fmt: skip


@app.command(epilog=EXAMPLES)
def evaluate(
    data: str = typer.Argument(..., help="Labelled data: CSV/TSV, JSONL, an aclImdb folder or .tar.gz."),
    model: str = typer.Option(..., "--model", help="Directory written by `classify fit`."),
    text_col: str | None = typer.Option(None, help="Text column."),
    label_col: str | None = typer.Option(None, help="Label column."),
    split: str = typer.Option("test", help="Which aclImdb split to read from a folder or tarball."),
    plot: str | None = typer.Option(None, help="PNG of the confusion matrix."),
    overwrite: bool = typer.Option(False, help="Replace --plot if it exists."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix on DATA."""
    from rnnlab.classify.classifier import TextClassifier

    new_file(plot, "--plot", overwrite=overwrite)
    dataset = read_labelled(data, text_col=text_col, label_col=label_col, split=split)
    clf = TextClassifier.load(model)
    report = clf.evaluate(dataset)
    if plot:
        from rnnlab.classify.plots import plot_confusion

        plot_confusion(report, plot)
    if wants_json(as_json):
        echo_json(report, sort_keys=True)
        return
    title = (f"{data}: {report['n']} texts, accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}, "
             f"ECE {report['ece']:.4f}")  # fmt: skip
    rows = [{"label": k, **v} for k, v in report["per_class"].items()]
    print_table(rows, ["label", "precision", "recall", "f1", "support"], title=title)


def _read_inputs(texts: list[str], input_file: str | None, text_col: str | None) -> TextDataset:
    if texts and input_file is not None:  # the arguments were dropped without a word
        raise ValueError("give texts as arguments or --input FILE, not both")
    if text_col is not None and (input_file in (None, "-") or Path(input_file).suffix.lower() in (".txt", ".text")):
        raise ValueError("--text-col names a column of a CSV or JSONL --input; texts given as arguments or in a .txt "
                         "file (one per line) have none")  # fmt: skip
    if input_file is None:
        if not texts:
            raise ValueError("give texts as arguments, or --input FILE (--input - reads one text per line from stdin)")
        blank = [i + 1 for i, text in enumerate(texts) if not text.strip()]
        if blank:  # a label for nothing would be a guess presented as an answer
            raise ValueError(f"text argument {blank[0]} is empty (nothing to classify): give each text some words")
        return TextDataset(list(texts), None, "<arguments>")
    if input_file != "-" and Path(input_file).suffix.lower() not in (".txt", ".text"):
        return read_labelled(input_file, text_col=text_col, require_labels=False, split="test")
    numbered = numbered_lines(input_text(input_file))  # one text per line; UTF-8, errors name the line
    source = "<stdin>" if input_file == "-" else input_file
    if not numbered:
        raise DataError("no text in it, only blank lines", path=source, hint="one text per line")
    return TextDataset([line for _, line in numbered], None, source, [n for n, _ in numbered])


def _cell(value: Any) -> Any:
    """A JSONL value in a CSV cell: objects, lists and booleans as JSON (not Python's repr), null as empty."""
    if value is None:
        return ""
    if isinstance(value, dict | list | bool):
        return json.dumps(value, ensure_ascii=False)
    return value


def _with_inputs(rows: list[dict[str, Any]], data: TextDataset) -> list[dict[str, Any]]:
    """Each prediction followed by the line of --input it answers and that row's other columns (an id, the gold
    label): ``{"text": ..., "label": ..., "probabilities": ..., "line": 2, "id": "r7", "input_label": "pos"}``; a
    column named as a prediction key is kept as ``input_<name>``."""
    if data.lines is None:
        return rows
    columns = data.columns or [{} for _ in rows]
    out = []
    for n, given, row in zip(data.lines, columns, rows, strict=True):
        taken = {*row, "line", *(f"p_{y}" for y in row["probabilities"])}  # the CSV's p_<label> columns too
        record = {**row, "line": n}
        for key, value in given.items():
            name = key
            while name in taken:  # never over a prediction, nor over another input column (input_label given)
                name = f"input_{name}"
            taken.add(name)
            record[name] = value
        out.append(record)
    return out


@app.command(epilog=EXAMPLES)
def predict(
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to classify.")] = None,
    model: str = typer.Option(..., "--model", help="Directory written by `classify fit`."),
    input_file: str | None = typer.Option(
        None, "--input", help="File of texts (.txt one per line, CSV, JSONL); '-' reads stdin."
    ),
    text_col: str | None = typer.Option(None, help="Text column of a CSV/JSONL --input."),
    output: str | None = typer.Option(None, "--output", help="Write predictions here (.csv or .jsonl)."),
    overwrite: bool = typer.Option(False, help="Replace --output if it exists."),
    explain: bool = typer.Option(False, help=EXPLAIN_HELP),
) -> None:
    """Label and class probabilities of each text (JSON lines on stdout, or --output)."""
    from rnnlab.classify.classifier import TextClassifier

    if output and Path(output).suffix.lower() not in (".csv", ".jsonl", ".json"):
        raise ValueError(f"--output {output}: predictions are written as .csv or .jsonl (JSON lines); "
                         "give a file name ending so")  # fmt: skip
    if explain and output and output.lower().endswith(".csv"):
        raise ValueError(f"--output {output}: --explain adds a list of words and weights per text, which a CSV "
                         "cannot hold; write .jsonl")  # fmt: skip
    new_file(output, "--output", overwrite=overwrite, reads=input_file)
    data = _read_inputs(list(texts or []), input_file, text_col)  # a bad input is named before the model loads
    clf = TextClassifier.load(model)
    rows = clf.predict_records(data.texts, explain=explain, source=data.source, lines=data.lines)  # service schema
    rows = _with_inputs(rows, data)  # then --input's line and its other columns
    if output and output.lower().endswith(".csv"):  # a CSV has no nesting: one p_<label> column per class
        write_csv(Path(output), [{"text": r["text"], "label": r["label"],
                                  **{f"p_{y}": round(q, 6) for y, q in r["probabilities"].items()},
                                  **{k: _cell(v) for k, v in r.items() if k not in ("text", "label", "probabilities")}}
                                 for r in rows])  # fmt: skip
    elif output:
        Path(output).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    else:
        for r in rows:
            typer.echo(json.dumps(r, ensure_ascii=False))
    if output:
        typer.echo(f"wrote {len(rows)} predictions to {output}")


@app.command()
def demo(
    out: str = typer.Option("runs/demo/classify", "--out", help="Folder for the data, models and plot."),
    epochs: int = typer.Option(20, help="Epochs per model."),
    overwrite: bool = typer.Option(False, help="Replace an earlier demo in --out."),
) -> None:
    """Both solutions on a small self-written English/French sentiment set: CSV -> fit -> evaluate -> predict."""
    from rnnlab.classify.classifier import TextClassifier
    from rnnlab.classify.demo import demo_dataset
    from rnnlab.classify.plots import plot_confusion

    names = ["reviews.csv", "lstm-last", "bilstm-pool", "confusion.png"]
    folder = output_dir(out, names, overwrite=overwrite)
    data = demo_dataset(600, seed=0)
    write_csv(folder / "reviews.csv", [{"text": t, "label": y} for t, y in zip(data.texts, data.labels, strict=True)])
    train, dev = read_labelled(folder / "reviews.csv").split(0.25, seed=0)
    rows = []
    for arch in ("lstm-last", "bilstm-pool"):
        clf = TextClassifier(
            ClassifierConfig(arch=arch, hidden_size=32, dropout=0.3),
            TrainConfig(max_epochs=epochs, lr=5e-3, batch_size=16, patience=None),
            text=TextConfig(min_freq=1),
        )
        info = clf.fit(train, dev, embeddings="glove-6b-50d")
        report = clf.evaluate(dev)
        clf.save(folder / arch, overwrite=overwrite)
        rows.append(
            {
                "model": arch,
                "dev accuracy": report["accuracy"],
                "macro-F1": report["macro_f1"],
                "train s": round(info["seconds"], 1),
                "GloVe coverage": info["coverage"],
            }
        )
    plot_confusion(report, folder / "confusion.png")
    typer.echo(f"{len(train)} training / {len(dev)} dev texts from {folder / 'reviews.csv'}")
    typer.echo(markdown_table(rows))
    examples = ["A moving, beautiful film.", "The plot was not clever.", "Le film est vraiment captivant."]
    for text, label in zip(examples, clf.predict(examples), strict=True):
        typer.echo(f"  {label:>8s}  {text}")
    typer.echo(f"models in {folder}/lstm-last and {folder}/bilstm-pool; confusion matrix in {folder}/confusion.png")
