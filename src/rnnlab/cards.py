"""Model cards (Mitchell et al. 2019): the ``README.md`` every saved task model carries, generated from what its
training recorded: what it is, the data it learnt from, the exact command, its dev figures, its speed, its limits
and how to load it. ``rnnlab.hub``'s catalog adds the shipped models' data licence, limits and intended use.

>>> card = model_card("tagger", {"best_dev": 0.94, "epochs": 3, "command": "rnnlab tag fit --train a.conll"})
>>> "rnnlab tag fit --train a.conll" in card and "| best_dev | 0.94 |" in card
True
"""

from __future__ import annotations

import datetime as _dt
import shlex
import sys
from collections.abc import Mapping
from typing import Any

CARD_FILE = "README.md"
CARD_BESIDE_README = "MODEL_CARD.md"  # the card's name in a directory holding a README.md of the user's
_FIGURES = (
    "best_dev", "best_dev_accuracy", "best_dev_mse", "best_dev_scaled_mae", "best_epoch", "epochs", "seconds",
    "train_sentences", "train_texts", "train_tokens", "train_windows", "train_ads", "words", "chars", "coverage",
    "embeddings", "train_sentences_per_s", "tokens_per_s", "stopped_early", "scheme", "input_scheme",
)  # fmt: skip


_RUNNING: list[str] = []  # the rnnlab command line being run, set by the CLI's entry point


def record_command(argv: list[str] | None = None) -> None:
    """Remember the command line that is running (the CLI's entry point calls this): cards written by ``fit``
    commands quote it as their recipe."""
    _RUNNING[:] = [shlex.join(["rnnlab", *(sys.argv[1:] if argv is None else argv)])]


def cli_command() -> str | None:
    """The rnnlab command line that is running, as a user would type it again; None outside the CLI."""
    return _RUNNING[0] if _RUNNING else None


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def model_card(task: str, info: Mapping[str, Any], *, name: str | None = None,
               shipped: Any | None = None, scores: Mapping[str, Any] | None = None) -> str:  # fmt: skip
    """The card of a ``task`` model from its training record ``info`` (``command`` in it when a CLI fit wrote it);
    ``shipped``: its :class:`rnnlab.hub.Shipped` entry; ``scores``: figures measured after training (named by
    split)."""
    from rnnlab import __version__
    from rnnlab.tasks import registry

    command = info.get("command") or cli_command()
    family = registry()[task].command if task in registry() else "rnnlab"
    where = name or "<this directory>"
    lines = [f"# {shipped.description if shipped else f'A {task} trained with rnnlab'}", "",
             f"A {task} model written by rnnlab {__version__} on {_dt.date.today().isoformat()}."
             + (f" Shipped with rnnlab as `{name}`." if shipped else ""), ""]  # fmt: skip
    lines += ["## Intended use", "", shipped.intended_use if shipped else
              "The data it was trained on is the user's own: it is meant for text (or series) like that data; "
              "check it on held-out data of yours before relying on it.", ""]  # fmt: skip
    lines += ["## Data", "", shipped.data if shipped else "The training and dev files named in the command below.", ""]
    lines += [f"Licence of the data: {shipped.licence}." if shipped else "Licence: that of your data.", ""]
    lines += ["## Recipe", "", "```bash", command or "(trained through the Python API; no command recorded)", "```", ""]
    figures = [(k, info[k]) for k in _FIGURES if info.get(k) is not None]
    figures += [(k, v) for k, v in (scores or {}).items()]
    if figures:
        lines += ["## Figures", "", "Dev figures are on the data model selection used (they flatter); scores named by "
                  "their split.", "", "| measure | value |", "|---|---|"]  # fmt: skip
        lines += [f"| {k} | {_value(v)} |" for k, v in figures] + [""]
    tags = info.get("tags")
    if isinstance(tags, list) and tags:
        lines += ["## Labels", "", ", ".join(f"`{t}`" for t in tags), ""]
    lines += ["## Limits", "", shipped.limits if shipped else
              "Known only from its dev figures: text far from the training data (another domain, language, period "
              "or tag set) will score lower.", ""]  # fmt: skip
    lines += ["## Use", "", "```bash", f'{family} predict --model {where} "..."',
              f"{family} evaluate --model {where} ...", "```", "", "```python", "import rnnlab", "",
              f'model = rnnlab.load("{where}")', "```", ""]  # fmt: skip
    return "\n".join(lines)
