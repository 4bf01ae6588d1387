"""``rnnlab tag fit | evaluate | predict | demo``: NER and POS tagging from CoNLL / CoNLL-U / column files."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from rnnlab.cli.common import echo_json, emit, input_text, new_file, output_dir, print_table, wants_json
from rnnlab.cli.options import OUT, OVERWRITE, PROGRESS, RESUME, ConfigOptions, Section
from rnnlab.data.conll import FORMATS, SCHEMES, read_tagged, write_tagged
from rnnlab.errors import DataError
from rnnlab.tag.config import DEFAULT_TRAIN, TaggerConfig
from rnnlab.training.config import TrainConfig

app = typer.Typer(help="Tag sequences: named entities (NER) and parts of speech (POS).", no_args_is_help=True)

EXAMPLES = """
Examples:

  rnnlab tag fit --train eng.train --dev eng.testa --format conll2003 --tag-column ner --arch lstm --char lstm \\
      --output crf --embeddings glove-6b-50d --out runs/ner

  rnnlab tag fit --train en_ewt-ud-train.conllu.gz --dev en_ewt-ud-dev.conllu --format conllu --tag-column upos \\
      --out runs/pos

  rnnlab tag evaluate --model runs/ner eng.testa --json

  rnnlab tag predict --model runs/ner "Angela Merkel met Emmanuel Macron in Paris." --output-format html > ents.html
"""

# displaCy's entity colours, the look of the course's slides
COLOURS = {"PER": "#aa9cfc", "PERSON": "#aa9cfc", "ORG": "#7aecec", "LOC": "#ff9561", "GPE": "#feca74",
           "MISC": "#e4e7d2", "DATE": "#bfe1d9"}  # fmt: skip
_PALETTE = ["#c887fb", "#9cc9cc", "#ffeb80", "#ff8197", "#bfeeb7", "#f0d0ff", "#e4e7d2"]


FIT_OPTIONS = ConfigOptions(
    model=Section(
        TaggerConfig(),
        exclude=frozenset({"n_words", "n_chars", "tag_names", "scheme", "n_features", "feature_dim"}),  # the data's
        aliases={
            "hidden_size": ("--hidden",),
            "num_layers": ("--layers",),
            "output": ("--output-layer",),
            "bidirectional": (" /--unidirectional",),
        },
    ),
    train=Section(DEFAULT_TRAIN, aliases={"max_epochs": ("--epochs",)}, zero_means_none=frozenset({"gradient_clip"})),
)


@app.command(epilog=EXAMPLES)
@FIT_OPTIONS
def fit(
    train_file: str = typer.Option(..., "--train", help="Training file."),
    dev: str | None = typer.Option(None, help="Dev file (model selection); default: none, keep the last epoch."),
    fmt: str | None = typer.Option(
        None, "--format", help=f"One of {', '.join(FORMATS)}; default: conllu for a .conllu(.gz) file, else conll2003."
    ),
    tag_column: str | None = typer.Option(
        None, help="ner|pos|chunk (conll2003), upos|xpos (conllu) or a column number; default: ner, upos for CoNLL-U."
    ),
    embeddings: str = typer.Option("glove-6b-50d", help="glove-6b-50d, a GloVe/word2vec/fastText file, or none."),
    scheme: str = typer.Option("BIOES", help=f"Training scheme for entity tags: {', '.join(SCHEMES)}."),
    out: str = OUT,
    overwrite: bool = OVERWRITE,
    resume: bool = RESUME,
    progress: bool = PROGRESS,
    as_json: bool = typer.Option(False, "--json", help="Print the training summary as JSON."),
    *,
    model: TaggerConfig,  # built by FIT_OPTIONS from its options
    train: TrainConfig,
) -> None:
    """Fit a tagger on --train (selecting on --dev) and save it to --out (the model and training options are
    TaggerConfig's and TrainConfig's fields, defaults included)."""
    options = {**dict(locals()), **FIT_OPTIONS.flags(model=model, train=train)}  # recorded for --resume
    from rnnlab.io import check_target
    from rnnlab.tag.tagger import Tagger

    check_target(out, overwrite=overwrite)  # before training; io.save checks again
    fmt, tag_column = tagged_format(train_file, fmt, tag_column)
    train_data = read_tagged(train_file, fmt, tag_column)
    dev_data = None if dev is None else read_tagged(dev, fmt, tag_column)
    from rnnlab.cli.resume import fit_checkpoints

    tagger = Tagger(model, train, scheme=scheme)
    with fit_checkpoints(out, resume=resume, command="tag fit", options=options) as run:
        info = tagger.fit(train_data, dev_data, embeddings=embeddings, out_dir=run, resume=resume,
                          progress=progress and not as_json)  # fmt: skip
        tagger.save(out, overwrite=overwrite)
    emit({k: v for k, v in info.items() if k != "history"}, as_json, f"saved {out}")


@app.command(epilog=EXAMPLES)
def evaluate(
    data: str = typer.Argument(..., help="Tagged file to score."),
    model: str = typer.Option(..., "--model", help="Directory written by `tag fit`."),
    fmt: str | None = typer.Option(
        None, "--format", help=f"One of {', '.join(FORMATS)}; default: conllu for a .conllu(.gz) file, else conll2003."
    ),
    tag_column: str | None = typer.Option(None, help="The tag column, as for fit (default ner, upos for CoNLL-U)."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Entity P/R/F1 (conlleval rules; micro, macro, per type) and token accuracy on DATA."""

    fmt, tag_column = tagged_format(data, fmt, tag_column)
    sentences = read_tagged(data, fmt, tag_column)  # a bad file is named before the model loads
    report = _tagger(model).evaluate(sentences)
    if wants_json(as_json):
        echo_json(report, sort_keys=True)
        return
    line = f"{data}: {report['sentences']} sentences, token accuracy {report['accuracy']:.4f}"
    if "micro" in report:
        line += f", entity F1 {report['micro']['f1']:.4f} (macro {report['macro']['f1']:.4f})"
        rows = [{"type": k, **v} for k, v in report["per_type"].items()]
        print_table(rows, ["type", "precision", "recall", "f1", "support"], title=line)
    else:
        typer.echo(line)


def render_html(results: list[dict[str, Any]]) -> str:
    """Entities highlighted inline with a colour per type (displaCy's look), one paragraph per text."""
    return '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>rnnlab entities</title></head>\n' \
           f'<body style="font-family: sans-serif">\n{entity_paragraphs(results)}\n</body></html>\n'  # fmt: skip


def entity_paragraphs(results: list[dict[str, Any]]) -> str:
    """The HTML paragraphs of :func:`render_html`: spans need type, start, end, text and score. A result without
    spans whose tags are plain labels (UPOS: no B-/I- prefixes) shows every word with its tag."""
    results = [{**r, "spans": r["spans"] or _word_spans(r)} for r in results]
    types = sorted({s["type"] for r in results for s in r["spans"]})
    colour = {t: COLOURS.get(t, _PALETTE[i % len(_PALETTE)]) for i, t in enumerate(types)}
    paragraphs = []
    for r in results:
        text, pieces, cursor = r["text"], [], 0
        for s in r["spans"]:
            pieces.append(html.escape(text[cursor : s["start"]]))
            kind, background = html.escape(s["type"]), html.escape(colour[s["type"]])  # both from model files
            pieces.append(f'<mark class="entity" style="background: {background}; padding: 0.2em 0.4em; '
                          f'border-radius: 0.35em"{_score_title(s)}>{html.escape(s["text"])} '
                          f'<span style="font-size: 0.7em; font-weight: bold">{kind}</span></mark>')  # fmt: skip
            cursor = s["end"]
        pieces.append(html.escape(text[cursor:]))
        paragraphs.append(f'<p style="line-height: 2.5">{"".join(pieces)}</p>')
    return "\n".join(paragraphs)


def _word_spans(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each word as a span of its tag, for a tagger whose tags are not entity chunks (part of speech)."""
    tags, tokens = result.get("tags") or [], result.get("tokens") or []
    if not tags or any(t == "O" or t[:2] in ("B-", "I-", "E-", "S-", "L-", "U-") for t in tags):
        return []
    return [{"type": t, "start": w["start"], "end": w["end"], "text": w["text"], "score": None}
            for w, t in zip(tokens, tags, strict=False)]  # fmt: skip


def _score_title(span: dict[str, Any]) -> str:
    return "" if span.get("score") is None else f' title="score {span["score"]:.2f}"'


@app.command(epilog=EXAMPLES)
def predict(
    texts: Annotated[list[str] | None, typer.Argument(help="Raw texts to tag (tokenised by rule).")] = None,
    model: str = typer.Option(..., "--model", help="Directory written by `tag fit`."),
    input_file: str | None = typer.Option(
        None, "--input", help="A UTF-8 text file (one text per line, any length; '-' is stdin)."
    ),
    input_format: str | None = typer.Option(
        None,
        help="text, or a tagged file: conll2003, conllu or columns (its lines are written back with the prediction "
        "appended, conlleval's input); default: conllu for a .conllu(.gz) --input, else text.",
    ),
    tag_column: str | None = typer.Option(None, help="The gold tag column of a tagged --input (as for fit)."),
    output_format: str | None = typer.Option(
        None, help="conll, json or html; default: json for texts, conll for a tagged --input (written back)."
    ),
    output: str | None = typer.Option(None, "--output", help="Write here instead of stdout."),
    overwrite: bool = typer.Option(False, help="Replace --output if it exists."),
) -> None:
    """Tag raw texts: CoNLL columns, JSON lines (tokens, tags, spans with offsets and scores) or HTML."""

    if output_format is not None and output_format not in ("conll", "json", "html"):
        raise ValueError(f"--output-format must be conll, json or html, received {output_format!r}")
    new_file(output, "--output", overwrite=overwrite, reads=input_file)
    if texts and input_file is not None:  # the arguments were dropped without a word
        raise ValueError("give texts as arguments or --input FILE, not both")
    tag_column_given = tag_column is not None
    input_format, tag_column = tagged_format(input_file or "", input_format, tag_column, default="text")
    if input_format == "text" and tag_column_given:
        raise ValueError("--tag-column names the gold column of a tagged --input (conll2003, conllu, columns); raw "
                         "texts have none")  # fmt: skip
    if input_format != "text":
        _predict_file(model, input_file, input_format, tag_column, output_format or "conll", output)
        return
    numbers, lines = _input_lines(texts, input_file)
    if not lines:
        raise ValueError("give texts as arguments, or --input FILE ('-' reads stdin)")
    tagger = _tagger(model)
    results = _tag_in_groups(tagger, lines)  # bounded groups of lines; a long line piece by piece (Tagger.predict)
    if numbers is not None:  # blank lines are skipped: each answer names its line of --input
        results = _numbered(results, iter(numbers))
    output_format = output_format or "json"
    if output_format == "html":
        _write(output, [render_html([r for group in results for r in group])])
        return
    if output_format == "json":
        chunks = ("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in group) for group in results)
    else:
        chunks = (_conll_text(group) for group in results)
    _write(output, chunks)


MAX_TEXT_CHARS = 100_000  # one text (a line of --input): a long article; the service's cap is lower (20,000)


def _input_lines(texts: list[str] | None, input_file: str | None) -> tuple[list[int] | None, list[str]]:
    """The non-blank texts to tag: the arguments, or the lines of --input (UTF-8; '-' reads stdin) with their
    line numbers (None for arguments)."""
    from rnnlab.data.text import numbered_lines

    numbers = None
    if input_file is not None:
        numbered = numbered_lines(input_text(input_file))  # blank lines separate paragraphs: skipped, numbers kept
        numbers, lines = [n for n, _ in numbered], [line for _, line in numbered]
    else:
        lines = list(texts or [])
        blank = [n for n, text in enumerate(lines, 1) if not text.strip()]
        if blank:  # dropped, the answers no longer lined up with the arguments
            raise ValueError(f"text argument {blank[0]} is empty (nothing to tag): give each text some words")
    for k, line in enumerate(lines):
        if len(line) > MAX_TEXT_CHARS:  # a whole book on one line: minutes and gigabytes in one batch
            where = f"{input_file}: line {numbers[k]}" if numbers else f"text argument {k + 1}"
            raise ValueError(f"{where} has {len(line):,} characters; tag predict reads at most {MAX_TEXT_CHARS:,} per "
                             "text (one sentence or paragraph per line): split it into lines")  # fmt: skip
    return numbers, lines


def _numbered(groups: Iterable[list[dict[str, Any]]], numbers: Iterator[int]) -> Iterator[list[dict[str, Any]]]:
    """Each result with the --input line it answers first: ``{"line": 3, "text": ..., ...}``."""
    for group in groups:
        yield [{"line": next(numbers), **result} for result in group]


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

    from rnnlab.data.conll import detect_scheme, tag_column_index, write_predictions

    if path is None or path == "-":
        raise ValueError(f"--input-format {fmt} needs --input FILE")
    if output_format != "conll":
        raise ValueError(f"a tagged --input ({fmt}) is written back as --output-format conll")
    sentences = read_tagged(path, fmt, tag_column)
    tagger = _tagger(model)
    column = tag_column_index(fmt, tag_column) if fmt == "conllu" else None
    if column is not None:
        _same_kind_of_tags(tagger.config.tag_names, sentences, path, tag_column)
    scheme = detect_scheme(s.tags for s in sentences) if tagger.chunked and column is None else None
    predicted = tagger.predict_tags([s.tokens for s in sentences], scheme=scheme)  # in the file's own scheme
    buffer = io.StringIO()
    write_predictions(sentences, predicted, buffer, column=column)
    where = f"the prediction in column {column % 10 + 1}" if column is not None else "prediction in the last column"
    if output:
        Path(output).write_text(buffer.getvalue(), encoding="utf-8")
        typer.echo(f"wrote {output} ({len(sentences)} sentences, {where})")
    else:
        typer.echo(buffer.getvalue(), nl=False)


def _tagger(model: str) -> Any:
    """The tagger saved at ``model``; an extractor (a tagger of ads, with rule features) is sent to `extract`."""
    from rnnlab.tag.tagger import Tagger

    tagger = Tagger.load(model)
    if tagger.info.get("task") == "realestate-extraction":
        raise ValueError(f"{model} holds a real-estate extractor, not a tagger: use `rnnlab extract predict --model "
                         f"{model}` (or extract evaluate)")  # fmt: skip
    return tagger


def _same_kind_of_tags(known: Sequence[str], sentences: list, path: str, tag_column: str) -> None:
    """The predictions replace a CoNLL-U file's tag column: refused where the column holds tags of another kind than
    the model's (an NER model's B-PER written over the parts of speech)."""
    gold = {t for s in sentences for t in s.tags if t not in ("_", "")}
    labels = {t.split("-", 1)[-1] for t in known}
    if gold and not gold & set(known) and not {t.split("-", 1)[-1] for t in gold} & labels:
        raise DataError(f"the model tags {sorted(known)[:6]}, the file's {tag_column} column holds "
                        f"{sorted(gold)[:6]}: its predictions would replace that column", path=path,
                        hint="tag the file with a model of that column (e.g. pos-en for upos), or give "
                        "--tag-column the column the model tags")  # fmt: skip


@app.command()
def demo(
    out: str = typer.Option("runs/demo/tag", "--out", help="Folder for the data, model and HTML."),
    epochs: int = typer.Option(15, help="Epochs."),
    overwrite: bool = typer.Option(False, help="Replace an earlier demo in --out."),
) -> None:
    """A BiLSTM-CRF with a character encoder on a small self-written NER set: file -> fit -> evaluate -> HTML."""
    from rnnlab.tag.demo import demo_sentences
    from rnnlab.tag.tagger import Tagger

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


def tagged_format(path: str, fmt: str | None, tag_column: str | None, *, default: str = "conll2003"
                  ) -> tuple[str, str]:  # fmt: skip
    """The format of a tagged file and its tag column, where the options leave them out: a ``.conllu`` (or
    ``.conllu.gz``) file is CoNLL-U, tagged ``upos`` (read as CoNLL-2003 columns, its comment and token lines were
    tagged as words); else ``default``, tagged ``ner``.

    >>> tagged_format("en_ewt-ud-dev.conllu", None, None), tagged_format("eng.testa", None, None)
    (('conllu', 'upos'), ('conll2003', 'ner'))
    >>> tagged_format("dev.conllu.gz", "columns", "2")
    ('columns', '2')
    """
    if fmt is None:
        fmt = "conllu" if path.lower().endswith((".conllu", ".conllu.gz")) else default
    if tag_column is None:
        tag_column = "upos" if fmt == "conllu" else "ner"
    return fmt, tag_column
