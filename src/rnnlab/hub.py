"""Models shipped with rnnlab and loaded by name, as ``SequenceTagger.load("ner")`` or ``spacy.load(...)`` are:
``ner-en``, ``pos-en``, ``pos-fr``, ``sentiment-en``, and the real-estate extractor's ``default``.

A name works wherever a model directory does (``--model ner-en``, ``serve --model ner=ner-en``, ``export``,
:func:`rnnlab.load`); a directory of that name, when one exists, wins over the name. The models live in the
package (``rnnlab/shipped/<name>/``, built by ``benchmarks/build_models.py``), each with its card
(``README.md``); ``shipped/manifest.json`` records what the build measured. No PyTorch here: ``rnnlab models``
and the name check stay fast.

>>> sorted(CATALOG)
['ner-en', 'pos-en', 'pos-fr', 'sentiment-en']
>>> ALIASES["ner"]
'ner-en'
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from rnnlab.errors import ModelFileError

SHIPPED_DIR = Path(__file__).parent / "shipped"
MANIFEST = SHIPPED_DIR / "manifest.json"


@dataclasses.dataclass(frozen=True)
class Shipped:
    """One shipped model: its task, the data it learnt from (and that data's licence), what it is for and not."""

    name: str
    task: str  # a task of rnnlab.tasks: "tagger", "classifier"
    description: str
    data: str
    licence: str
    limits: str
    intended_use: str


CATALOG: dict[str, Shipped] = {
    s.name: s
    for s in (
        Shipped(
            "ner-en",
            "tagger",
            "English named entities (PER, LOC, ORG, MISC), BiLSTM-CRF + character LSTM, GloVe 50d",
            "CoNLL-2003 English (Reuters news, 1996-97): eng.train, selected on eng.testa",
            "CoNLL-2003 annotations: research use; the Reuters RCV1 texts belong to Reuters (NIST/Reuters agreement)",
            "four entity types only; English news text of 1996-97; capitalisation matters; titles, dates and "
            "numbers are not entities here",
            "finding people, places and organisations in English news-like text; teaching sequence labelling",
        ),
        Shipped(
            "pos-en",
            "tagger",
            "English universal part-of-speech tags (UPOS), BiLSTM + character LSTM, GloVe 50d",
            "Universal Dependencies English-EWT (web text: blogs, reviews, e-mail, answers): train, selected on dev",
            "UD English-EWT: CC BY-SA 4.0",
            "the 17 UPOS tags only (no morphology, no lemmas); tokens are split on spaces and punctuation, not by "
            "UD's tokenizer (contractions such as \"don't\" stay one token)",
            "tagging English sentences with coarse word classes; teaching sequence labelling",
        ),
        Shipped(
            "pos-fr",
            "tagger",
            "French universal part-of-speech tags (UPOS), BiLSTM + character LSTM",
            "Universal Dependencies French-Sequoia (news, Europarl, medical, Wikipedia): train, selected on dev",
            "UD French-Sequoia: LGPL-LR",
            "the 17 UPOS tags only; no pretrained French vectors (characters carry unseen words); contractions "
            "(du, au) are one token here, two words in UD",
            "tagging French sentences with coarse word classes; teaching sequence labelling",
        ),
        Shipped(
            "sentiment-en",
            "classifier",
            "English review sentiment (negative / positive), BiLSTM + max pooling",
            "IMDB large movie review dataset (Maas et al. 2011): the 25,000 training reviews",
            "IMDB reviews (Maas et al. 2011): for research; cite the ACL 2011 paper",
            "two classes; long English movie reviews (a one-line sentence is out of its training shape); no neutral "
            "class; sarcasm and mixed reviews are often wrong",
            "the polarity of English reviews of films and similar products; teaching text classification",
        ),
    )
}
ALIASES = {"ner": "ner-en", "pos": "pos-en", "sentiment": "sentiment-en", "extract": "default"}  # rnnlab.pipeline


def is_shipped(model: object) -> bool:
    """Whether ``model`` names a shipped model rather than a directory (a directory of that name wins)."""
    return str(model) in CATALOG and not Path(str(model)).exists()


def locate(model: str | Path) -> str | Path:
    """The directory of a shipped model for its name; anything else back unchanged. A name whose files are not in
    this installation is a one-line error saying how to build them."""
    if not is_shipped(model):
        return model
    directory = SHIPPED_DIR / str(model)
    if not (directory / "config.json").is_file():
        raise ModelFileError(f"the shipped model {model!r} is not in this installation ({directory} has no model); "
                             "rebuild it from the repository with `python benchmarks/build_models.py "
                             f"{model}`")  # fmt: skip
    return directory


def model_home(path: str | Path, model: str | Path | None = None) -> Path | None:
    """The model directory that ``path`` is, or lies inside: ``model``'s own (a name is located), or the folder
    of the models installed with the package (never written by rnnlab: --overwrite there replaced ner-en for every
    later user); None when ``path`` is elsewhere. Checked before writing a user's --out / --output."""
    target = Path(path).resolve()
    homes = [Path(locate(model)).resolve()] if model is not None else []
    homes.append((Path(__file__).parent / "shipped").resolve())  # the package's own, even where SHIPPED_DIR is moved
    return next((home for home in homes if home.is_dir() and (home == target or home in target.parents)), None)


def manifest() -> dict[str, Any]:
    """What ``benchmarks/build_models.py`` recorded of each shipped model (scores, recipe, size)."""
    try:
        data = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def size_bytes(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.iterdir() if f.is_file()) if directory.is_dir() else 0


def catalog() -> list[dict[str, Any]]:
    """One row per shipped model (the extractor's ``default`` included): name, task, data, size, scores,
    whether its files are present."""
    recorded = manifest()
    rows = []
    for name, shipped in CATALOG.items():
        directory = SHIPPED_DIR / name
        entry = recorded.get(name, {})
        rows.append({
            "name": name, "task": shipped.task, "description": shipped.description, "data": shipped.data,
            "licence": shipped.licence, "present": (directory / "config.json").is_file(),
            "size_mb": round(size_bytes(directory) / 1e6, 2), "scores": entry.get("scores", {}),
            "command": entry.get("command"),
        })  # fmt: skip
    from rnnlab.ie.task import DEFAULT_MODEL

    rows.append({
        "name": "default", "task": "extractor",
        "description": "French real-estate ads into a template (price, surface, rooms, town, owner, phone, ...)",
        "data": "bienici (Toulon) and immobilier.notaires.fr ads, weakly labelled from the sites' structured fields",
        "licence": "see benchmarks/README.md (extraction)", "present": (DEFAULT_MODEL / "config.json").is_file(),
        "size_mb": round(size_bytes(DEFAULT_MODEL) / 1e6, 2), "scores": {}, "command": "rnnlab extract fit ...",
    })  # fmt: skip
    return rows
