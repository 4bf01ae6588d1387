"""``rnnlab lab --out DIR``: the course tour in one command, written up as one self-contained HTML page.

Each chapter runs the rnnlab command a student would type (its output is shown on the terminal and kept),
then the page puts the commands, their tables and their plots together: vanishing gradients, what they cost
on a long-memory task, forecasting, sentiment analysis, tagging and extraction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import shlex
import sys
import time
from pathlib import Path

import typer

from rnnlab.cli.common import output_dir
from rnnlab.report import Section, render_page

COURSE_AD = ("Vente Villa 4 pièces Nice (06000)  Réf. 12390: Sur les Hauteurs de Nice. Superbe villa moderne "
             "(190m²), 2 chambres et 1 suite parentale, 3 salles de bain. Cette villa a été construite en 2005. "
             "1 270 000 euros. Si vous êtes intéressés, contactez vite Mimi LASOURIS 06.43.43.43. 43")  # fmt: skip

# Real text for the shipped models (the course's retail-AI example; short reviews written for this page, in no
# training set). The shipped models are run by name, as a user would: `--model ner-en`.
RETAIL_AI = [
    "Amazon opened its first Amazon Go store in Seattle in January 2018, where cameras and deep learning "
    "replace the checkout.",
    "Walmart tested shelf-scanning robots from Bossa Nova Robotics in its stores in Pennsylvania and California.",
    "In France, Carrefour signed a partnership with Google to bring artificial intelligence to its supply chain.",
]
REVIEWS = [
    "One of the best films I have seen in years: superb acting, and the story kept me gripped to the very end.",
    "A dull, predictable plot and wooden acting. I wanted my two hours back.",
    "I expected to hate it, but it turned out to be a charming and genuinely funny film.",
    "The first half is promising, then it falls apart: a waste of a good cast.",
]


@dataclasses.dataclass(frozen=True)
class Chapter:
    """One chapter: the `rnnlab` arguments ('{out}' is the chapter's folder; commands that write a folder get
    `--out` appended), and the pictures, Markdown summaries and entity pages it writes there."""

    name: str
    title: str
    intro: str
    args: list[str]
    files: list[str] = dataclasses.field(default_factory=list)
    writes_folder: bool = True


TRAINING_DEMO = "Training demonstration (a toy model trained in seconds, to show the training loop, not a result): "
CHAPTERS = [
    Chapter("gradients", "Vanishing gradients: RNN vs LSTM vs GRU",
            "How much of the gradient at the last step reaches an earlier step, by time lag, at initialisation and "
            "after training on the adding problem (log scale: a straight line is a geometric decay; the steeper, "
            "the faster the gradient vanishes).",
            ["gradients", "--cells", "rnn,lstm,gru", "--length", "50", "--trained-on", "adding",
             "--steps", "{steps}"], ["gradients.png", "summary.md"]),
    Chapter("memory", "What it costs: a long-memory task",
            "The adding problem at growing lengths, same training budget per cell: test MSE against the "
            "always-guess-the-mean baseline (a cell that learned nothing sits on it). The LSTM (forget-gate bias "
            "1, Keras' default) and the GRU solve it; the simple RNN stays on the baseline.",
            ["memory", "--task", "adding", "--cells", "rnn,lstm,gru", "--lengths", "25,50", "--steps",
             "{steps}"], ["memory.png", "memory.md"]),
    Chapter("forecast", "Forecasting: baselines, dense and recurrent models",
            "AirPassengers by expanding-window cross-validation: last value, seasonal naive, linear, dense, RNN, "
            "LSTM, GRU.", ["forecast", "compare", "--epochs", "{epochs}"], ["compare.png", "compare.md"]),
    Chapter("sentiment", "Sentiment analysis: the shipped English model on reviews",
            "`sentiment-en` (BiLSTM with pooled states, trained on IMDB movie reviews) reads four short reviews "
            "written for this page: label and class probabilities.",
            ["classify", "predict", "--model", "sentiment-en", *REVIEWS], writes_folder=False),
    Chapter("classify", "Sentiment analysis: training the course's two solutions (a demonstration)",
            TRAINING_DEMO + "solution 1 (LSTM, last state) and solution 2 (BiLSTM, pooled states) on a small "
            "bundled review set.", ["classify", "demo"], ["confusion.png"]),
    Chapter("ner", "Named entities: the shipped English model on real text",
            "`ner-en` (BiLSTM-CRF with a character encoder and GloVe vectors, trained on CoNLL-2003 news) on the "
            "course's example text about AI in retail. Its mistakes are shown as they are (CoNLL's 2003 news "
            "knew Amazon mostly as a river).",
            ["tag", "predict", "--model", "ner-en", *RETAIL_AI, "--output-format", "html", "--output",
             "{out}/entities.html"], ["entities.html"], writes_folder=False),
    Chapter("pos", "Parts of speech: the shipped English model",
            "`pos-en` (universal part-of-speech tags, trained on UD English-EWT) on the same text.",
            ["tag", "predict", "--model", "pos-en", *RETAIL_AI, "--output-format", "html", "--output",
             "{out}/entities.html"], ["entities.html"], writes_folder=False),
    Chapter("tag", "Named entities: training a BiLSTM-CRF (a demonstration)",
            TRAINING_DEMO + "a tagger trained on a hundred self-written sentences, then run on new ones.",
            ["tag", "demo"]),
]  # fmt: skip


class _Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy."""

    def __init__(self, terminal) -> None:  # type: ignore[no-untyped-def]
        self.terminal, self.kept = terminal, io.StringIO()

    def write(self, text: str) -> int:
        self.terminal.write(text)
        self.kept.write(text)
        return len(text)

    def flush(self) -> None:
        self.terminal.flush()


def _run(args: list[str]) -> tuple[str, float]:
    from rnnlab.cli.main import app

    tee = _Tee(sys.stdout)
    start = time.perf_counter()
    with contextlib.redirect_stdout(tee):
        app(args, standalone_mode=False)
    return tee.kept.getvalue(), time.perf_counter() - start


def tour(
    out: str = typer.Option("runs/lab", "--out", help="Folder for lab.html and each chapter's files."),
    quick: bool = typer.Option(True, help="Small budgets (about 3 minutes on 2 cores); --no-quick trains longer."),
    overwrite: bool = typer.Option(False, help="Replace an earlier tour in --out."),
) -> None:
    """The course tour: gradients, long memory, forecasting, sentiment, tagging, extraction → one HTML page."""
    folder = output_dir(out, ["lab.html"] + [c.name for c in CHAPTERS] + ["extract"], overwrite=overwrite)
    budget = {"steps": "1200" if quick else "3000", "epochs": "60" if quick else "200"}
    sections = []
    for k, chapter in enumerate(CHAPTERS, 1):
        typer.echo(f"\n== {k}/{len(CHAPTERS) + 1} {chapter.title}", err=True)
        sections.append(_chapter(chapter, folder / chapter.name, budget, overwrite))
    typer.echo(f"\n== {len(CHAPTERS) + 1}/{len(CHAPTERS) + 1} Information extraction", err=True)
    sections.append(_extraction(folder / "extract"))
    (folder / "lab.html").write_text(render_page("rnnlab: the course tour", sections, intro=(
        "Every section was produced by the command shown above it; rerun any of them to reproduce it.")),
        encoding="utf-8")  # fmt: skip
    typer.echo(f"\nthe course tour is in {folder / 'lab.html'}")


def _chapter(chapter: Chapter, folder: Path, budget: dict[str, str], overwrite: bool) -> Section:
    """Run one chapter's command and make its section: the command, its summaries or output, pictures, HTML."""
    folder.mkdir(parents=True, exist_ok=True)
    argv = [a.format(**budget, out=folder) for a in chapter.args]
    if chapter.writes_folder:
        argv += ["--out", str(folder)]
    argv += ["--overwrite"] if overwrite else []
    output, seconds = _run(argv)
    summaries = [(folder / f).read_text(encoding="utf-8") for f in chapter.files if f.endswith(".md")]
    if summaries:  # the terminal tables repeat the summaries: keep only where the files went
        output = "\n".join(line for line in output.splitlines() if line.startswith("wrote"))
    section = Section(chapter.title, chapter.intro, "rnnlab " + shlex.join(argv), "\n\n".join([*summaries, output]),
                      [folder / f for f in chapter.files if f.endswith(".png")], seconds=seconds)  # fmt: skip
    page = folder / "entities.html"  # `tag demo` and `tag predict --output-format html` write it
    if page.is_file():
        section.html = re.search(r"<body[^>]*>(.*)</body>", page.read_text(encoding="utf-8"), re.S).group(1)  # type: ignore[union-attr]
    return section


def _extraction(folder: Path) -> Section:
    """The course's example ad through the shipped extractor: the template beside the highlighted ad."""
    import html
    import json

    from rnnlab.cli.tag import entity_paragraphs
    from rnnlab.ie.extractor import extract

    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    template = extract(COURSE_AD)
    seconds = time.perf_counter() - start
    (folder / "template.json").write_text(json.dumps(template, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    spans = [{"type": field, "start": v["start"], "end": v["end"], "text": COURSE_AD[v["start"] : v["end"]],
              "score": v.get("confidence") or 0.0}
             for field, v in template.items() if v is not None and v.get("start") is not None]  # fmt: skip
    spans = sorted(spans, key=lambda s: s["start"])
    spans = [s for i, s in enumerate(spans) if i == 0 or s["start"] >= spans[i - 1]["end"]]  # no overlaps
    rows = "".join(f"<tr><td>{html.escape(f)}</td><td>{'—' if v is None else html.escape(str(v['value']))}</td></tr>"
                   for f, v in template.items())  # fmt: skip
    return Section(
        "Information extraction: a real-estate ad into a template",
        "The course's example ad through the shipped extractor (BiLSTM-CRF recogniser + template filler).",
        f"rnnlab extract predict {shlex.quote(COURSE_AD)}",
        "",
        html=entity_paragraphs([{"text": COURSE_AD, "spans": spans}]) + f"<table>{rows}</table>",
        seconds=seconds,
    )
