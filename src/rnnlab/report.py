"""One self-contained HTML page from report sections: text, a command's output, PNG plots, HTML fragments.

Pictures are embedded as data URIs and the page holds its own style, so the file can be mailed or opened
offline. A command's output is shown as written, except that Markdown pipe tables become HTML tables.

>>> "<table>" in text_block("| a | b |\\n|---|---|\\n| 1 | 2 |")
True
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
from pathlib import Path
from typing import Any


def save_figure(fig: Any, path: str | Path, **options: Any) -> Path:
    """Write a matplotlib figure to ``path`` and close it. A path without a suffix is written as PNG under that
    very name (matplotlib would write ``path.png`` beside it, over whatever is there, unchecked)."""
    import matplotlib.pyplot as plt

    fig.savefig(path, format=None if Path(path).suffix else "png", **options)
    plt.close(fig)
    return Path(path)


STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 62em; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2.2em; border-bottom: 1px solid #ddd; }
pre { background: #f6f8fa; padding: .6em .8em; overflow-x: auto; font-size: .85em; }
code.cmd { background: #eef; padding: .1em .4em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
td, th { border-bottom: 1px solid #ddd; padding: .15em .6em; text-align: left; }
img { max-width: 100%; border: 1px solid #eee; margin: .5em 0; }
.muted { color: #667; }
"""


@dataclasses.dataclass
class Section:
    """One chapter of the page."""

    title: str
    intro: str = ""
    command: str = ""
    output: str = ""
    images: list[Path] = dataclasses.field(default_factory=list)
    html: str = ""  # a trusted fragment made by rnnlab (e.g. highlighted entities)
    seconds: float | None = None


def text_block(text: str) -> str:
    """A command's output: Markdown headings and pipe tables as HTML, everything else preformatted."""
    parts, plain, table = [], [], []

    def flush_plain() -> None:
        if any(line.strip() for line in plain):
            parts.append(f"<pre>{html.escape(chr(10).join(plain).strip(chr(10)))}</pre>")
        plain.clear()

    def flush_table() -> None:
        rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table]
        rows = [r for r in rows if not all(set(c) <= set("-: ") for c in r)]  # the |---| rule
        if rows:
            head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
            body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
        table.clear()

    for line in text.splitlines():
        if line.startswith("#"):  # a Markdown heading
            flush_table()
            flush_plain()
            parts.append(f"<h3>{html.escape(line.lstrip('#').strip())}</h3>")
        elif line.strip().startswith("|"):
            flush_plain()
            table.append(line)
        else:
            flush_table()
            plain.append(line)
    flush_table()
    flush_plain()
    return "\n".join(parts)


def image_tag(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(Path(path).name)}" src="data:image/png;base64,{data}">'


def render_page(title: str, sections: list[Section], *, intro: str = "") -> str:
    """The whole page as one HTML string."""
    from rnnlab import __version__

    body = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(intro)}</p>" if intro else "",
            '<p class="muted">rnnlab ' + __version__ + ", " + dt.datetime.now().strftime("%Y-%m-%d %H:%M") + "</p>",
            "<ul>" + "".join(f'<li><a href="#s{i}">{html.escape(s.title)}</a></li>' for i, s in enumerate(sections))
            + "</ul>"]  # fmt: skip
    for i, s in enumerate(sections):
        body.append(f'<h2 id="s{i}">{html.escape(s.title)}</h2>')
        if s.intro:
            body.append(f"<p>{html.escape(s.intro)}</p>")
        if s.command:
            took = f' <span class="muted">({s.seconds:.0f} s)</span>' if s.seconds is not None else ""
            body.append(f'<p><code class="cmd">{html.escape(s.command)}</code>{took}</p>')
        body.extend(image_tag(p) for p in s.images if Path(p).is_file())
        if s.html:
            body.append(s.html)
        if s.output:
            body.append(text_block(s.output))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")  # fmt: skip
