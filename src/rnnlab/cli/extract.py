"""``rnnlab extract predict | fit | evaluate``: French real-estate ads into the filled template."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from rnnlab.cli.common import echo_json, emit, input_text, new_file, parse_list, print_table, to_terminal, wants_json
from rnnlab.cli.options import OUT, OVERWRITE, PROGRESS, RESUME, ConfigOptions, Section
from rnnlab.ie.config import default_tagger_config, default_train_config
from rnnlab.tag.config import TaggerConfig
from rnnlab.training.config import TrainConfig

app = typer.Typer(help="Extract a template (price, surface, rooms, contact, ...) from real-estate ads.",
                  no_args_is_help=True)  # fmt: skip

EXAMPLES = """
Examples:

  rnnlab extract predict "Vente Villa 4 pièces Nice (06000) ... 1 270 000 euros ... Mimi LASOURIS 06.43.43.43. 43"

  rnnlab extract predict --input ads.jsonl --output templates.jsonl

  rnnlab extract fit --train site_a.jsonl site_b.jsonl --exclude gold_dev.jsonl --out runs/extract

  rnnlab extract evaluate gold_dev.jsonl --json
"""
MODEL_HELP = "Directory written by `extract fit`; default: the model shipped with rnnlab; 'rules': the regex baseline."


def _load(model: str | None):
    from rnnlab.ie.extractor import resolve

    return resolve(model)


def _stdin_ads() -> list[dict]:
    """The ads of standard input: JSON lines when it starts with "{", else blank-line separated texts."""
    import tempfile

    from rnnlab.errors import DataError
    from rnnlab.ie.extractor import read_ads

    text = input_text("-")
    suffix = ".jsonl" if text.lstrip().startswith("{") else ".txt"
    with tempfile.TemporaryDirectory() as folder:  # read_ads' checks, with stdin named in the errors
        path = Path(folder) / f"stdin{suffix}"
        path.write_text(text, encoding="utf-8")
        try:
            return read_ads(path)
        except DataError as exc:
            raise DataError(str(exc).replace(str(path), "<stdin>")) from None


@app.command(epilog=EXAMPLES)
def predict(
    texts: list[str] | None = typer.Argument(None, help="Ads to read (or use --input)."),  # noqa: B008
    input_file: str | None = typer.Option(
        None, "--input", help="ads.jsonl or ads.txt (blank-line separated); - reads either from stdin."
    ),
    model: str | None = typer.Option(None, "--model", help=MODEL_HELP),
    output: str | None = typer.Option(None, "--output", help="Write the templates as JSON lines to this file."),
    overwrite: bool = typer.Option(False, help="Replace an existing --output file."),
    batch_size: int = typer.Option(32, help="Ads per batch."),
) -> None:
    """Print one template per ad as a JSON line (and a readable table on a terminal)."""
    from rnnlab.ie.extractor import check_length, read_ads

    if bool(texts) == bool(input_file):
        raise ValueError("give the ads as arguments or with --input FILE, not both and not neither")
    if input_file == "-":
        ads = _stdin_ads()
    elif input_file:
        ads = read_ads(input_file)
    else:
        ads = [{"text": t} for t in texts or []]
    check_length([ad["text"] for ad in ads], path=input_file, lines=[ad.get("line", 0) for ad in ads])
    new_file(output, "--output", overwrite=overwrite, reads=input_file)
    if batch_size < 1:
        raise ValueError(f"--batch-size takes a number of ads >= 1, received {batch_size}")
    templates = _load(model).extract([ad["text"] for ad in ads], batch_size=batch_size)
    lines = [json.dumps({**({"id": ad["id"]} if "id" in ad else {}), **({"line": ad["line"]} if ad.get("line") else {}),
                         "template": t}, ensure_ascii=False)
             for ad, t in zip(ads, templates, strict=True)]  # the line of --input each ad starts on  # fmt: skip
    if output:
        Path(output).write_text("\n".join(lines) + "\n", encoding="utf-8")
        typer.echo(f"wrote {len(lines)} templates to {output}", err=True)
    if to_terminal() and not output:
        for ad, t in zip(ads, templates, strict=True):
            rows = [{"field": f, "value": v["value"], "text": v["text"], "confidence": v["confidence"]}
                    for f, v in t.items() if v]  # fmt: skip
            title = str(ad.get("id", ad["text"][:60]))
            if rows:
                print_table(rows, title=title)
            else:
                typer.echo(f"{title}: (nothing found)")
    elif not output:
        typer.echo("\n".join(lines))


FIT_OPTIONS = ConfigOptions(
    model=Section(
        default_tagger_config(),
        exclude=frozenset({"n_words", "n_chars", "tag_names", "scheme", "n_features"}),  # from the ads and the rules
        aliases={"hidden_size": ("--hidden",), "num_layers": ("--layers",)},
    ),
    train=Section(
        default_train_config(), aliases={"max_epochs": ("--epochs",)}, zero_means_none=frozenset({"gradient_clip"})
    ),
)


@app.command(epilog=EXAMPLES)
@FIT_OPTIONS
def fit(
    train_files: list[str] = typer.Option(  # noqa: B008
        ...,
        "--train",
        help="ads.jsonl with 'text' and the site's structured 'fields' per line, or ads annotated by hand ('text' + "
        "'gold' template, as `extract evaluate` reads); several files (one per site, your annotations: --train "
        "a.jsonl b.jsonl, or --train a.jsonl --train b.jsonl) are trained on together.",
    ),
    more: list[str] | None = typer.Argument(None, hidden=True),  # noqa: B008  (the files after the first --train)
    out: str = OUT,
    exclude: list[str] = typer.Option([], help="Drop ads whose id is in this file (e.g. evaluation ads)."),  # noqa: B008
    backoff: bool | None = typer.Option(
        None,
        help="At prediction, the rules fill every field the tagger finds nothing of (--no-backoff: none). "
        "Default: the fields of --backoff-fields.",
    ),
    backoff_fields: str = typer.Option(
        "price_eur",
        help="The fields the rules fill where the tagger finds nothing (comma-separated template fields; '' for none).",
    ),
    gold_weight: int = typer.Option(2, min=1, help="How many times an ad annotated by hand counts in training."),
    overwrite: bool = OVERWRITE,
    resume: bool = RESUME,
    progress: bool = PROGRESS,
    as_json: bool = typer.Option(False, "--json", help="Print the training summary as JSON."),
    *,
    model: TaggerConfig,  # built by FIT_OPTIONS from its options
    train: TrainConfig,
) -> None:
    """Weakly label --train (rules checked against the structured fields) and fit the char+word BiLSTM-CRF (the
    model and training options are TaggerConfig's and TrainConfig's fields, with the extractor's defaults)."""
    options = {**dict(locals()), **FIT_OPTIONS.flags(model=model, train=train)}  # recorded for --resume
    from rnnlab.ie.extractor import Extractor, read_ads
    from rnnlab.io import check_target

    if backoff is not None and backoff_fields != "price_eur":  # one of the two would be ignored
        raise ValueError("--backoff/--no-backoff (every field or none) and --backoff-fields (some fields) say the "
                         "same thing two ways: give one")  # fmt: skip
    fields = backoff if backoff is not None else _fields(backoff_fields)
    check_target(out, overwrite=overwrite)  # before training; io.save checks again
    ads = [ad for path in [*train_files, *(more or [])] for ad in read_ads(path, exclude=exclude)]
    from rnnlab.cli.resume import fit_checkpoints

    extractor = Extractor()
    with fit_checkpoints(out, resume=resume, command="extract fit", options=options) as run:
        info = extractor.fit(ads, config=model, train_config=train, backoff=fields, gold_weight=gold_weight,
                             out_dir=run, resume=resume, progress=progress and not as_json)  # fmt: skip
        extractor.save(out, overwrite=overwrite)
    emit({k: v for k, v in info.items() if k != "history"}, as_json, f"saved {out}")


def _fields(text: str) -> list[str]:
    from rnnlab.ie.template import LABELS

    return parse_list(text, allowed=list(LABELS), option="--backoff-fields") if text.strip() else []


@app.command(epilog=EXAMPLES)
def evaluate(
    data: str = typer.Argument(..., help="ads.jsonl with 'text' and an annotated 'gold' template per line."),
    model: str | None = typer.Option(None, "--model", help=MODEL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Per-field precision / recall / exact-match accuracy, micro P/R/F1 and null accuracy against 'gold'."""
    from rnnlab.ie.extractor import read_ads

    report = _load(model).evaluate(read_ads(data))
    if wants_json(as_json):
        echo_json(report, sort_keys=True)
        return
    micro = report["micro"]
    title = (f"{data}: {report['ads']} ads, micro P {micro['precision']:.4f} R {micro['recall']:.4f} "
             f"F1 {micro['f1']:.4f}, null accuracy {report['null_accuracy']:.4f}, "
             f"{report['ads_per_s']:.0f} ads/s")  # fmt: skip
    rows = [{"field": f, **{k: v[k] for k in ("precision", "recall", "accuracy", "support")}}
            for f, v in report["per_field"].items()]  # fmt: skip
    print_table(rows, title=title)
