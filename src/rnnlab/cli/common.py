"""Helpers shared by the CLI sub-apps: output folders that never overwrite, CSV/markdown tables, and the output
rule of every command: a rich table on a terminal, JSON when piped or with ``--json``."""

from __future__ import annotations

import csv
import errno
import json
import math
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any


def output_dir(path: str | Path, files: Iterable[str], *, overwrite: bool) -> Path:
    """Create ``path``; refuse if one of ``files`` is already there, unless ``overwrite``."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} exists and is not a directory; choose another path")
    clash = sorted(f for f in files if (out / f).exists())
    if clash and not overwrite:
        raise FileExistsError(f"{out} already holds {', '.join(clash)}; pass --overwrite or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    return out


PLOT_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg")  # formats matplotlib writes without extra packages


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: resolved (., .., links), the same file if both exist (hard links, a
    case-blind disk), else compared as Windows compares names."""
    pa, pb = Path(a).resolve(), Path(b).resolve()
    if pa.exists() and pb.exists():
        return os.path.samefile(pa, pb)
    return os.path.normcase(pa) == os.path.normcase(pb)


def new_file(path: str | Path | None, option: str, *, overwrite: bool, reads: str | Path | None = None) -> None:
    """Refuse, before any work, an output file ``path`` (given with ``option``) that is a directory (named as the
    system names it), that exists without ``overwrite``, or that is the input file ``reads`` (--overwrite replaces
    an old output, never the data being read); None: no such output."""
    if not path:
        return
    target = Path(path)
    if reads and reads != "-" and same_file(target, reads):
        raise ValueError(f"{option} {target} is the input {reads}: the predictions would replace the data; write "
                         "them to another file")  # fmt: skip
    if target.is_dir():  # the CLI's one line for an OSError: "error: <path>: Is a directory; check the path ..."
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
    if target.exists() and not overwrite:
        raise FileExistsError(f"{option} {target} exists; pass --overwrite or choose another path")
    folder = target.parent
    if not folder.is_dir():  # found before the work, not when writing after it (a forecast written, its plot not)
        what = f"{folder} is a file, not a folder" if folder.exists() else f"the folder {folder} does not exist"
        raise FileNotFoundError(f"{option} {target}: {what}; create it or choose another path")
    if option == "--plot" and target.suffix and target.suffix.lower() not in PLOT_SUFFIXES:  # none: a PNG
        raise ValueError(f"--plot {target}: a plot is written as {', '.join(PLOT_SUFFIXES)}; name the file with "
                         "one of these extensions")  # fmt: skip


def parse_list(text: str, *, allowed: Sequence[str] | None = None, option: str, lower: bool = True) -> list[str]:
    """'a, b' -> ['a', 'b'], checked against ``allowed``."""
    items = [t.strip().lower() if lower else t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if allowed is not None and t not in allowed]
    if bad or not items:
        raise ValueError(f"{option} takes a comma-separated list among {list(allowed or [])}, received {text!r}")
    twice = sorted({t for t in items if items.count(t) > 1})
    if twice:  # '--calendar month,month' added the month's columns twice
        raise ValueError(f"{option} names {twice} more than once, received {text!r}: name each once")
    return items


def parse_ints(text: str, *, option: str, minimum: int = 1) -> list[int]:
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ValueError(f"{option} takes comma-separated integers, received {text!r}") from None
    if not values or min(values) < minimum:
        raise ValueError(f"{option} takes integers >= {minimum}, received {text!r}")
    return values


def write_csv(path: Path, rows: Sequence[Mapping]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        fields = list(dict.fromkeys(k for row in rows for k in row))  # rows of a JSONL file may differ in keys
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def markdown_table(rows: Sequence[Mapping], columns: Sequence[str] | None = None) -> str:
    columns = list(columns or rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def to_terminal() -> bool:
    """Whether a person reads stdout (a terminal): tables then; a program reading a pipe or a file gets JSON."""
    return sys.stdout.isatty()


def wants_json(as_json: bool) -> bool:
    """JSON with ``--json``, and whenever stdout is not a terminal (piped into another program, or a file)."""
    return as_json or not to_terminal()


def print_table(rows: Sequence[Mapping], columns: Sequence[str] | None = None, *, title: str | None = None) -> None:
    """A rich table on stdout (for a terminal; floats to 4 significant digits)."""
    from rich.console import Console
    from rich.table import Table

    columns = list(columns or (rows[0] if rows else []))
    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c, justify="right" if rows and isinstance(rows[0].get(c), int | float) else "left")
    for r in rows:
        table.add_row(*(_fmt(r.get(c, "")) for c in columns))
    Console(soft_wrap=False).print(table)


def finite(value: Any) -> Any:
    """``value`` with every float that is not finite (NaN, ±inf: not JSON) as None, in nested dicts and lists.

    >>> finite({"mse": float("inf"), "folds": [1.0, float("nan")]})
    {'mse': None, 'folds': [1.0, None]}
    """
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def echo_json(value: Any, **options: Any) -> None:
    """``value`` as one line of valid JSON on stdout (a value that is not finite as null, see :func:`finite`)."""
    import typer

    typer.echo(json.dumps(finite(value), **options))


def input_text(path: str) -> str:
    """The text of an --input file (UTF-8, errors naming it), or of standard input for ``-``."""
    from rnnlab.data.text import decode_text, read_text

    if path != "-":
        return read_text(path)
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
    return decode_text(data, "<stdin>")


def emit(metrics: Mapping, as_json: bool, title: str) -> None:
    """``metrics`` as one JSON line (``--json``, or stdout not a terminal), else a table of the scalars."""

    if wants_json(as_json):
        echo_json(metrics, sort_keys=True)
        return
    rows = [{"": key, "value": f"{value:.4f}" if isinstance(value, float) else str(value)}
            for key, value in metrics.items() if not isinstance(value, dict | list)]  # fmt: skip
    print_table(rows, title=title)
