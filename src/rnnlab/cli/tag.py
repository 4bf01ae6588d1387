"""``rnnlab tag fit | evaluate | predict | demo``: NER and POS tagging from CoNLL / CoNLL-U / column files."""

from __future__ import annotations

import html
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from rnnlab.cli.common import emit, markdown_table, output_dir
from rnnlab.data.conll import FORMATS, SCHEMES, read_tagged, write_tagged

app = typer.Typer(help="Tag sequences: named entities (NER) and parts of speech (POS).", no_args_is_help=True)

EXAMPLES = """
Examples:

  rnnlab tag fit --train eng.train --dev eng.testa --format conll2003 --tag-column ner --arch lstm --char lstm \\
      --output-layer crf --embeddings glove-6b-50d --out runs/ner

  rnnlab tag fit --train en_ewt-ud-train.conllu.gz --dev en_ewt-ud-dev.conllu --format conllu --tag-column upos \\
      --out runs/pos

  rnnlab tag evaluate --model runs/ner eng.testa --json

  rnnlab tag predict --model runs/ner "Angela Merkel met Emmanuel Macron in Paris." --output-format html > ents.html
"""

# displaCy's entity colours, the look of the course's slides
COLOURS = {"PER": "#aa9cfc", "PERSON": "#aa9cfc", "ORG": "#7aecec", "LOC": "#ff9561", "GPE": "#feca74",
           "MISC": "#e4e7d2", "DATE": "#bfe1d9"}  # fmt: skip
_PALETTE = ["#c887fb", "#9cc9cc", "#ffeb80", "#ff8197", "#bfeeb7", "#f0d0ff", "#e4e7d2"]


@app.command(epilog=EXAMPLES)
def fit(
    train: str = typer.Option(..., help="Training file."),
    dev: str | None = typer.Option(None, help="Dev file (model selection); default: none, keep the last epoch."),
    fmt: str = typer.Option("conll2003", "--format", help=f"One of {', '.join(FORMATS)}."),
    tag_column: str = typer.Option("ner", help="ner|pos|chunk (conll2003), upos|xpos (conllu) or a column number."),
    arch: str = typer.Option("lstm", help="window-mlp, rnn, lstm or gru."),
    bidirectional: bool = typer.Option(True, "--bidirectional/--unidirectional", help="Read both directions."),
    layers: int = typer.Option(1, help="Stacked recurrent layers."),
    hidden: int = typer.Option(100, help="Hidden units per direction (or of the MLP)."),
    window: int = typer.Option(2, help="window-mlp: ±k words."),
    char: str = typer.Option("none", help="Character encoder: none, lstm or cnn."),
    output_layer: str = typer.Option("softmax", help="softmax or crf."),
    embeddings: str = typer.Option("glove-6b-50d", help="glove-6b-50d, a GloVe/word2vec/fastText file, or none."),
    word_dim: int = typer.Option(50, help="Word embedding size when --embeddings none."),
    scheme: str = typer.Option("BIOES", help=f"Training scheme for entity tags: {', '.join(SCHEMES)}."),
    dropout: float = typer.Option(0.5, help="Dropout on the word features and before the output layer."),
    word_dropout: float = typer.Option(
        0.0,
        help="Training: probability that a word reads as <unk> (its characters "
        "remain), so the <unk> vector learns to stand for unseen words.",
    ),
    epochs: int = typer.Option(30, help="Epochs at most."),
    lr: float = typer.Option(1e-3, help="Learning rate."),
    optimizer: str = typer.Option("adam", help="adam, adamw, sgd or rmsprop."),
    lr_decay: float = typer.Option(0.0, help="Learning rate lr / (1 + decay · epoch); 0 keeps it constant."),
    batch_size: int = typer.Option(32, help="Sentences per batch (bucketed by length)."),
    patience: int = typer.Option(5, help="Epochs without dev improvement before stopping."),
    gradient_clip: float = typer.Option(1.0, help="Clip the global gradient norm to this value (0: no clipping)."),
    max_time: float | None = typer.Option(None, help="Training seconds at most."),
    seed: int = typer.Option(0, help="Seed."),
    precision: str = typer.Option(
        "32-true",
        help="32-true, or bf16-mixed: bfloat16 autocast (faster on CPUs with "
        "AVX-512 BF16 or AMX; benchmarks/speed.py).",
    ),
    out: str = typer.Option(..., "--out", help="Model directory to write."),
    overwrite: bool = typer.Option(False, help="Replace a model already in --out."),
    resume: bool = typer.Option(
        False, help="Continue an interrupted fit into --out from its checkpoints (kept in <out>.partial until saved)."
    ),
    progress: bool = typer.Option(True, help="Show a progress bar."),
    as_json: bool = typer.Option(False, "--json", help="Print the training summary as JSON."),
) -> None:
    """Fit a tagger on --train (selecting on --dev) and save it to --out."""
    options = dict(locals())  # the command's options, recorded beside its checkpoints (--resume)
    from rnnlab.tag.models import TaggerConfig
    from rnnlab.tag.tagger import Tagger
    from rnnlab.training import TrainConfig

    if Path(out).exists() and any(Path(out).iterdir()) and not overwrite:  # io.save checks too, after training
        raise FileExistsError(f"{out} is not empty; pass --overwrite or choose another --out")
    train_data = read_tagged(train, fmt, tag_column)
    dev_data = None if dev is None else read_tagged(dev, fmt, tag_column)
    config = TaggerConfig(arch=arch, bidirectional=bidirectional, num_layers=layers, hidden_size=hidden, window=window,
                          char=char, output=output_layer, word_dim=word_dim, dropout=dropout,
                          word_dropout=word_dropout)  # fmt: skip
    train_config = TrainConfig(max_epochs=epochs, lr=lr, lr_decay=lr_decay, optimizer=optimizer, batch_size=batch_size,
                               patience=patience, max_time=max_time, seed=seed,
                               gradient_clip=gradient_clip or None, precision=precision)  # fmt: skip
    from rnnlab.cli.resume import fit_checkpoints

    tagger = Tagger(config, train_config, scheme=scheme)
    with fit_checkpoints(out, resume=resume, command="tag fit", options=options) as run:
        info = tagger.fit(train_data, dev_data, embeddings=embeddings, out_dir=run, resume=resume,
                          progress=progress and not as_json)  # fmt: skip
        tagger.save(out, overwrite=overwrite)
    emit({k: v for k, v in info.items() if k != "history"}, as_json, f"saved {out}")


@app.command(epilog=EXAMPLES)
def evaluate(
    data: str = typer.Argument(..., help="Tagged file to score."),
    model: str = typer.Option(..., "--model", help="Directory written by `tag fit`."),
    fmt: str = typer.Option("conll2003", "--format", help=f"One of {', '.join(FORMATS)}."),
    tag_column: str = typer.Option("ner", help="The tag column, as for fit."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Entity P/R/F1 (conlleval rules; micro, macro, per type) and token accuracy on DATA."""
    from rnnlab.tag.tagger import Tagger

    sentences = read_tagged(data, fmt, tag_column)  # a bad file is named before the model loads
    report = Tagger.load(model).evaluate(sentences)
    if as_json:
        typer.echo(json.dumps(report, sort_keys=True))
        return
    line = f"{data}: {report['sentences']} sentences, token accuracy {report['accuracy']:.4f}"
    if "micro" in report:
        line += f", entity F1 {report['micro']['f1']:.4f} (macro {report['macro']['f1']:.4f})"
        rows = [{"type": k, **v} for k, v in report["per_type"].items()]
        typer.echo(line)
        typer.echo(markdown_table(rows, ["type", "precision", "recall", "f1", "support"]))
    else:
        typer.echo(line)


def render_html(results: list[dict[str, Any]]) -> str:
    """Entities highlighted inline with a colour per type (displaCy's look), one paragraph per text."""
    return '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>rnnlab entities</title></head>\n' \
           f'<body style="font-family: sans-serif">\n{entity_paragraphs(results)}\n</body></html>\n'  # fmt: skip


def entity_paragraphs(results: list[dict[str, Any]]) -> str:
    """The HTML paragraphs of :func:`render_html`: spans need type, start, end, text and score."""
    types = sorted({s["type"] for r in results for s in r["spans"]})
    colour = {t: COLOURS.get(t, _PALETTE[i % len(_PALETTE)]) for i, t in enumerate(types)}
    paragraphs = []
    for r in results:
        text, pieces, cursor = r["text"], [], 0
        for s in r["spans"]:
            pieces.append(html.escape(text[cursor : s["start"]]))
            kind, background = html.escape(s["type"]), html.escape(colour[s["type"]])  # both from model files
            pieces.append(f'<mark class="entity" style="background: {background}; padding: 0.2em 0.4em; '
                          f'border-radius: 0.35em" title="score {s["score"]:.2f}">{html.escape(s["text"])} '
                          f'<span style="font-size: 0.7em; font-weight: bold">{kind}</span></mark>')  # fmt: skip
            cursor = s["end"]
        pieces.append(html.escape(text[cursor:]))
        paragraphs.append(f'<p style="line-height: 2.5">{"".join(pieces)}</p>')
    return "\n".join(paragraphs)


@app.command(epilog=EXAMPLES)
def predict(
    texts: Annotated[list[str] | None, typer.Argument(help="Raw texts to tag (tokenised by rule).")] = None,
    model: str = typer.Option(..., "--model", help="Directory written by `tag fit`."),
    input_file: str | None = typer.Option(
        None, "--input", help="A UTF-8 text file (one text per line, any length; '-' is stdin)."
    ),
    input_format: str = typer.Option(
        "text",
        help="text, or a tagged file: conll2003, conllu or columns (its "
        "lines are written back with the prediction appended, conlleval's input).",
    ),
    tag_column: str = typer.Option("ner", help="The gold tag column of a tagged --input (as for fit)."),
    output_format: str = typer.Option("json", help="conll, json or html."),
    output: str | None = typer.Option(None, "--output", help="Write here instead of stdout."),
    overwrite: bool = typer.Option(False, help="Replace --output if it exists."),
) -> None:
    """Tag raw texts: CoNLL columns, JSON lines (tokens, tags, spans with offsets and scores) or HTML."""
    from rnnlab.tag.tagger import Tagger

    if output_format not in ("conll", "json", "html"):
        raise ValueError(f"--output-format must be conll, json or html, received {output_format!r}")
    if output and Path(output).exists() and not overwrite:
        raise FileExistsError(f"{output} exists; pass --overwrite or choose another path")
    if input_format != "text":
        _predict_file(model, input_file, input_format, tag_column, output_format, output)
        return
    lines = _input_lines(texts, input_file)
    if not lines:
        raise ValueError("give texts as arguments, or --input FILE ('-' reads stdin)")
    tagger = Tagger.load(model)
    results = _tag_in_groups(tagger, lines)  # bounded groups of lines; a long line piece by piece (Tagger.predict)
    if output_format == "html":
        _write(output, [render_html([r for group in results for r in group])])
        return
    if output_format == "json":
        chunks = ("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in group) for group in results)
    else:
        chunks = (_conll_text(group) for group in results)
    _write(output, chunks)


def _input_lines(texts: list[str] | None, input_file: str | None) -> list[str]:
    """The non-blank texts to tag: the arguments, or the lines of --input (UTF-8; '-' reads stdin)."""
    from rnnlab.data.text import decode_text, read_lines

    if input_file == "-":
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
        lines = decode_text(data, "<stdin>").splitlines()
    elif input_file is not None:
        lines = read_lines(input_file)
    else:
        lines = list(texts or [])
    return [line for line in lines if line.strip()]


def _tag_in_groups(tagger: Any, lines: list[str], group_chars: int = 200_000) -> Iterator[list[dict[str, Any]]]:
    """Tagger.predict over consecutive groups of about ``group_chars`` characters: the output is written group
    by group, so a large input never holds more than one group's results."""
    start = 0
    while start < len(lines):
        end, size = start, 0
        while end < len(lines) and (end == start or size + len(lines[end]) <= group_chars):
            size += len(lines[end])
            end += 1
        yield tagger.predict(lines[start:end])
        start = end


def _conll_text(results: list[dict[str, Any]]) -> str:
    import io

    buffer = io.StringIO()
    write_tagged((([t["text"] for t in r["tokens"]], r["tags"]) for r in results if r["tokens"]), buffer)
    return buffer.getvalue()


def _write(output: str | None, chunks: Iterable[str]) -> None:
    """The chunks to stdout as they come, or to ``output`` (written beside it, then renamed into place)."""
    if not output:
        for chunk in chunks:
            typer.echo(chunk, nl=False)
        return
    target = Path(output)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("w", encoding="utf-8") as f:
            for chunk in chunks:
                f.write(chunk)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    typer.echo(f"wrote {output}")


def _predict_file(model: str, path: str | None, fmt: str, tag_column: str, output_format: str,
                  output: str | None) -> None:  # fmt: skip
    """Tag the tokens of a CoNLL/columns file and write its lines back with the predicted tags: appended as a last
    column (CoNLL-2003, columns), or in the tag column of a CoNLL-U file, every other line kept as it was."""
    import io

    from rnnlab.data.conll import tag_column_index, write_predictions
    from rnnlab.tag.tagger import Tagger

    if path is None or path == "-":
        raise ValueError(f"--input-format {fmt} needs --input FILE")
    if output_format != "conll":
        raise ValueError(f"a tagged --input ({fmt}) is written back as --output-format conll")
    sentences = read_tagged(path, fmt, tag_column)
    predicted = Tagger.load(model).predict_tags([s.tokens for s in sentences])
    buffer = io.StringIO()
    column = tag_column_index(fmt, tag_column) if fmt == "conllu" else None
    write_predictions(sentences, predicted, buffer, column=column)
    where = f"the prediction in column {column % 10 + 1}" if column is not None else "prediction in the last column"
    if output:
        Path(output).write_text(buffer.getvalue(), encoding="utf-8")
        typer.echo(f"wrote {output} ({len(sentences)} sentences, {where})")
    else:
        typer.echo(buffer.getvalue(), nl=False)


@app.command()
def demo(
    out: str = typer.Option("runs/demo/tag", "--out", help="Folder for the data, model and HTML."),
    epochs: int = typer.Option(15, help="Epochs."),
    overwrite: bool = typer.Option(False, help="Replace an earlier demo in --out."),
) -> None:
    """A BiLSTM-CRF with a character encoder on a small self-written NER set: file -> fit -> evaluate -> HTML."""
    from rnnlab.tag.demo import demo_sentences
    from rnnlab.tag.models import TaggerConfig
    from rnnlab.tag.tagger import Tagger
    from rnnlab.training import TrainConfig

    folder = output_dir(out, ["train.txt", "dev.txt", "model", "entities.html"], overwrite=overwrite)
    for name, seed, n in (("train.txt", 0, 300), ("dev.txt", 1, 100)):
        with (folder / name).open("w", encoding="utf-8") as f:
            write_tagged(((s.tokens, s.tags) for s in demo_sentences(n, seed=seed)), f)
    train, dev = read_tagged(folder / "train.txt", "columns"), read_tagged(folder / "dev.txt", "columns")
    tagger = Tagger(TaggerConfig(hidden_size=32, char="lstm", output="crf", dropout=0.3),
                    TrainConfig(max_epochs=epochs, lr=1e-2, batch_size=16, patience=None))  # fmt: skip
    info = tagger.fit(train, dev, embeddings="glove-6b-50d")
    tagger.save(folder / "model", overwrite=overwrite)
    report = tagger.evaluate(dev)
    typer.echo(f"{len(train)} training / {len(dev)} dev sentences (scheme {info['input_scheme']}); "
               f"trained {info['seconds']:.1f} s; dev entity F1 {report['micro']['f1']:.4f}")  # fmt: skip
    examples = ["Maria Lopez flew from Madrid to Tokyo for Sony .", "The Red Cross sent Omar to Lima ."]
    results = tagger.predict(examples)
    for r in results:
        typer.echo("  " + r["text"] + "  ->  " + ", ".join(f"{s['text']} [{s['type']}]" for s in r["spans"]))
    (folder / "entities.html").write_text(render_html(results), encoding="utf-8")
    typer.echo(f"model in {folder}/model; entities highlighted in {folder}/entities.html")
