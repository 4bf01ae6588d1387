"""``rnnlab lab``: the tour writes one self-contained page (pictures inline, tables, highlighted spans)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from rnnlab.cli import app, tour
from rnnlab.report import Section, render_page, text_block


def test_tour_writes_one_self_contained_page(tmp_path, monkeypatch):
    chapter = ("gradients", "Vanishing gradients", "why", ["gradients", "--cells", "rnn,gru", "--length", "8",
               "--hidden", "4", "--batch", "4"], ["gradients.png", "summary.md"])  # fmt: skip
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
