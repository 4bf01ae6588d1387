"""``rnnlab lab``: the tour writes one self-contained page (pictures inline, tables, highlighted spans)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from rnnlab.cli import app, tour
from rnnlab.report import Section, render_page, text_block


def test_tour_writes_one_self_contained_page(tmp_path, monkeypatch):
    args = ["gradients", "--cells", "rnn,gru", "--length", "8", "--hidden", "4", "--batch", "4"]
    chapter = tour.Chapter("gradients", "Vanishing gradients", "why", args, ["gradients.png", "summary.md"])
    monkeypatch.setattr(tour, "CHAPTERS", [chapter])
    runner = CliRunner()
    result = runner.invoke(app, ["lab", "--out", str(tmp_path / "lab")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "lab" / "lab.html").read_text(encoding="utf-8")
    assert "the course tour is in" in result.output
    assert page.count('src="data:image/png;base64,') == 1  # the gradient plot, inline
    assert "<table>" in page and "rnnlab gradients --cells rnn,gru" in page
    assert "<mark" in page and "1270000" in page  # the extraction chapter: spans and the template
    assert not re.findall(r'(?:src|href)="https?://', page)  # nothing fetched from elsewhere
    again = runner.invoke(app, ["lab", "--out", str(tmp_path / "lab")])
    assert again.exit_code != 0 and "overwrite" in str(again.exception)


def test_text_block_and_escaping():
    block = text_block("# Title\nsome <b>text</b>\n| a | b |\n|---|---|\n| 1 | <i> |\nafter")
    assert "<h3>Title</h3>" in block and "&lt;b&gt;text&lt;/b&gt;" in block
    assert "<td>&lt;i&gt;</td>" in block and "<th>a</th>" in block and "|---|" not in block
    page = render_page("T <x>", [Section("S", output="plain")])
    assert "<title>T &lt;x&gt;</title>" in page and '<a href="#s0">S</a>' in page


def test_the_tour_runs_the_shipped_models_by_name_and_labels_training_demos():
    from rnnlab.hub import CATALOG

    named = [c.args[c.args.index("--model") + 1] for c in tour.CHAPTERS if "--model" in c.args]
    assert set(named) == {"ner-en", "pos-en", "sentiment-en"} and set(named) <= set(CATALOG)
    demos = [c for c in tour.CHAPTERS if c.args[-1] == "demo"]
    assert len(demos) == 2 and all(c.intro.startswith(tour.TRAINING_DEMO) for c in demos)
    memory = next(c for c in tour.CHAPTERS if c.name == "memory")
    assert "{steps}" in memory.args  # the quick budget (1200 steps) is the one with which the LSTM solves T = 50


def test_a_predict_chapter_writes_its_page_into_the_chapter_folder(tmp_path, monkeypatch):
    args = ["tag", "predict", "--model", "pos-fr", "Le chat dort .", "--output-format", "html", "--output",
            "{out}/entities.html"]  # fmt: skip
    chapter = tour.Chapter("pos", "POS", "why", args, writes_folder=False)
    section = tour._chapter(chapter, tmp_path / "pos", {"steps": "1"}, overwrite=False)
    assert "--out " not in section.command and str(tmp_path / "pos" / "entities.html") in section.command
    assert section.html.count("<mark") == 4 and ">DET</span>" in section.html and "NOUN" in section.html
