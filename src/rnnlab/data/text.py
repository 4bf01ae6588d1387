"""Labelled text: readers (CSV/TSV, JSONL, aclImdb folder or tarball, SST-2) and a tokenizer for reviews.

>>> Tokenizer().tokenize("I didn't like it.<br /><br />L'histoire &amp; qu'il raconte: 10/10!")
['i', 'did', "n't", 'like', 'it', '.', "l'", 'histoire', '&', "qu'", 'il', 'raconte', ':', '10', '/', '10', '!']
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from rnnlab.config import Config
from rnnlab.errors import ConfigError, DataError

TEXT_COLUMNS = ("text", "sentence", "review", "content", "document")
LABEL_COLUMNS = ("label", "sentiment", "class", "target", "y")
TRUNCATIONS: tuple[str, ...] = ("head", "tail", "both")

_TAG = re.compile(r"<br\s*/?>|<[^<>]{1,200}>", re.I)
_TOKEN = re.compile(
    r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)'(?=[^\W\d_])"  # French elisions: l', qu', jusqu'
    r"|\w+(?=n't\b)|n't\b"  # English negation as PTB/GloVe split it: did n't
    r"|'(?:s|re|ve|ll|d|m)\b"  # English clitics: 's 're 've
    r"|\d+(?:[.,]\d+)*"  # numbers, with decimal or thousand separators
    r"|[^\W\d_]+(?:-[^\W\d_]+)*"  # words (any script), with inner hyphens
    r"|[^\w\s]",  # one punctuation mark or symbol per token
    re.IGNORECASE,
)


@dataclasses.dataclass(frozen=True)
class Tokenizer(Config):
    """Unicode words and punctuation; HTML tags (``<br />``) and entities (``&amp;``) cleaned first.

    French elisions become their own token (``l'``, ``qu'``), English negations and clitics
    are split as in GloVe's vocabulary (``did n't``, ``'s``). Curly apostrophes count as ``'``.
    """

    kind = "tokenizer"
    lowercase: bool = True

    def clean(self, text: str) -> str:
        text = _TAG.sub(" ", text)
        return html.unescape(text).replace("\u2019", "'").replace("`", "'")

    def tokenize(self, text: str) -> list[str]:
        text = self.clean(text)
        if self.lowercase:
            text = text.lower()
        return _TOKEN.findall(text)


@dataclasses.dataclass
class TextDataset:
    """Texts and their labels (strings, kept as given), with where each row came from."""

    texts: list[str]
    labels: list[str] | None
    source: str = "<memory>"

    def __len__(self) -> int:
        return len(self.texts)

    def split(self, fraction: float, *, seed: int = 0) -> tuple[TextDataset, TextDataset]:
        """A random (stratified by label) hold-out of ``fraction`` of the rows: (rest, held_out)."""
        if not 0 < fraction < 1:
            raise ConfigError(f"the dev fraction must be in (0, 1), received {fraction}")
        rng = np.random.default_rng(seed)
        labels = self.labels if self.labels is not None else ["_"] * len(self)
        held: list[int] = []
        for label in sorted(set(labels)):
            rows = np.flatnonzero(np.asarray(labels, dtype=object) == label)
            rng.shuffle(rows)
            held.extend(rows[: max(1, round(fraction * len(rows)))].tolist())
        mask = np.zeros(len(self), dtype=bool)
        mask[held] = True
        return self.subset(np.flatnonzero(~mask)), self.subset(np.flatnonzero(mask))

    def subset(self, rows: Sequence[int] | np.ndarray) -> TextDataset:
        labels = None if self.labels is None else [self.labels[i] for i in rows]
        return TextDataset([self.texts[i] for i in rows], labels, self.source)


def truncate(ids: Sequence[int], max_len: int | None, keep: str = "head") -> list[int]:
    """At most ``max_len`` ids, keeping the head, the tail, or both halves (reviews conclude at the end).

    >>> truncate(list(range(10)), 4, "both")
    [0, 1, 8, 9]
    """
    if keep not in TRUNCATIONS:
        raise ConfigError(f"truncation must be one of {list(TRUNCATIONS)}, received {keep!r}")
    ids = list(ids)
    if max_len is None or len(ids) <= max_len:
        return ids
    if keep == "head":
        return ids[:max_len]
    if keep == "tail":
        return ids[-max_len:]
    head = (max_len + 1) // 2
    return ids[:head] + ids[len(ids) - (max_len - head) :]


def read_labelled(
    path: str | Path,
    *,
    text_col: str | None = None,
    label_col: str | None = None,
    require_labels: bool = True,
    split: str = "train",
) -> TextDataset:
    """Read labelled texts from CSV/TSV, JSONL, an aclImdb folder or an aclImdb tarball.

    Columns default to the first of ``text, sentence, review, content`` and ``label,
    sentiment, class, target`` found. ``split`` picks ``train`` or ``test`` in aclImdb layouts.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("no such file or folder", path=path, hint="check the path")
    name = path.name.lower()
    if path.is_dir():
        return _read_imdb_dir(path, split)
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        return _read_imdb_tar(path, split)
    if name.endswith((".jsonl", ".ndjson", ".jsonl.gz")):
        return _read_jsonl(path, text_col, label_col, require_labels)
    if name.endswith((".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz")):
        return _read_table(path, text_col, label_col, require_labels)
    raise DataError(
        "unknown file type", path=path, hint="give a .csv, .tsv, .jsonl file, an aclImdb folder or its .tar.gz"
    )


def read_unlabelled(path: str | Path, *, text_col: str | None = None) -> list[str]:
    """Texts without labels, for language-model pretraining: the ``train/unsup/*.txt`` reviews of an
    aclImdb folder or tarball, or the text column of a CSV/TSV/JSONL file (a label column is ignored).
    """
    path = Path(path)
    if not path.exists():
        raise DataError("no such file or folder", path=path, hint="check the path")
    if path.is_dir():
        return _read_imdb_dir(path, "train", ("unsup",)).texts
    if path.name.lower().endswith((".tar.gz", ".tgz", ".tar")):
        return _read_imdb_tar(path, "train", ("unsup",)).texts
    return read_labelled(path, text_col=text_col, require_labels=False).texts


def _pick(columns: Sequence[str], wanted: str | None, defaults: Sequence[str], what: str, path: Path) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            raise DataError(
                f"no {what} column {wanted!r}; the columns are {list(columns)}",
                path=path,
                line=1,
                hint=f"pass --{what}-col with one of them",
            )
        return wanted
    lowered = {c.lower(): c for c in columns}
    return next((lowered[d] for d in defaults if d in lowered), None)


def _read_table(path: Path, text_col: str | None, label_col: str | None, require_labels: bool) -> TextDataset:
    import pandas as pd

    sep = "\t" if ".tsv" in path.name.lower() else ","
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, quoting=3 if sep == "\t" else 0)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(
            f"cannot parse the file: {exc}", path=path, hint="check quoting and the encoding (UTF-8)"
        ) from None
    columns = [str(c) for c in frame.columns]
    text = _pick(columns, text_col, TEXT_COLUMNS, "text", path)
    label = _pick(columns, label_col, LABEL_COLUMNS, "label", path)
    if text is None:
        raise DataError(f"cannot tell the text column among {columns}", path=path, line=1, hint="pass --text-col")
    if label is None and require_labels:
        raise DataError(f"cannot tell the label column among {columns}", path=path, line=1, hint="pass --label-col")
    texts = frame[text].tolist()
    labels = None if label is None else [s.strip() for s in frame[label].tolist()]
    for i, t in enumerate(texts):
        if not t.strip():
            raise DataError("empty text", path=path, line=i + 2, column=text, hint="remove the row or fill it")
        if labels is not None and not labels[i]:
            raise DataError("empty label", path=path, line=i + 2, column=label, hint="every row needs a label")
    return TextDataset(texts, labels, str(path))


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSON-lines file (``.gz`` too); bad lines are
    DataErrors naming file, line and column."""
    import gzip

    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"not valid JSON: {exc.msg}", path=path, line=n, column=exc.colno,
                                hint="one JSON object per line") from None  # fmt: skip
            if not isinstance(row, dict):
                raise DataError("each line must be a JSON object", path=path, line=n)
            yield n, row


def _read_jsonl(path: Path, text_col: str | None, label_col: str | None, require_labels: bool) -> TextDataset:
    texts: list[str] = []
    labels: list[str] = []
    for n, row in iter_jsonl(path):
        text = _pick(list(row), text_col, TEXT_COLUMNS, "text", path)
        label = _pick(list(row), label_col, LABEL_COLUMNS, "label", path)
        if text is None or not str(row[text]).strip():
            raise DataError("no text in this object", path=path, line=n, hint="pass --text-col")
        texts.append(str(row[text]))
        if label is None:
            if require_labels:
                raise DataError("no label in this object", path=path, line=n, hint="pass --label-col")
        else:
            labels.append(str(row[label]).strip())
    if not texts:
        raise DataError("no rows", path=path)
    return TextDataset(texts, labels if len(labels) == len(texts) else None, str(path))


def _imdb_label(parts: Sequence[str], split: str, classes: Sequence[str] = ("pos", "neg")) -> str | None:
    # .../train/pos/123_9.txt -> "pos"; unsup/ and other splits are skipped unless asked for in ``classes``
    if len(parts) >= 3 and parts[-3] == split and parts[-2] in classes and parts[-1].endswith(".txt"):
        return parts[-2]
    return None


def _imdb_files(split: str, classes: Sequence[str]) -> str:
    return " or ".join(f"{split}/{c}/*.txt" for c in classes)  # "train/pos/*.txt or train/neg/*.txt"


def _read_imdb_dir(path: Path, split: str, classes: Sequence[str] = ("pos", "neg")) -> TextDataset:
    # accepted: the split folder (pos/, neg/), aclImdb/ (train/pos/...) or its parent
    for folder in (path, path / split, path / "aclImdb" / split):
        if any((folder / c).is_dir() for c in classes):
            break
    files = sorted(folder.glob("*/*.txt"))
    rows = [(f.read_text(encoding="utf-8"), f.parent.name) for f in files if f.parent.name in classes]
    if not rows:
        raise DataError(
            f"no {_imdb_files(split, classes)} files",
            path=path,
            hint="point at the aclImdb folder (or a CSV/TSV/JSONL file)",
        )
    return TextDataset([t for t, _ in rows], [lab for _, lab in rows], str(path))


def _read_imdb_tar(path: Path, split: str, classes: Sequence[str] = ("pos", "neg")) -> TextDataset:
    rows: list[tuple[str, str, str]] = []
    try:
        with tarfile.open(path) as archive:
            for member in archive:
                label = _imdb_label(member.name.split("/"), split, classes) if member.isfile() else None
                if label is None:
                    continue
                f = archive.extractfile(member)
                if f is not None:
                    rows.append((member.name, f.read().decode("utf-8"), label))
    except tarfile.TarError as exc:
        raise DataError(f"cannot read the archive: {exc}", path=path) from None
    if not rows:
        raise DataError(f"no {_imdb_files(split, classes)} files in the archive", path=path)
    rows.sort()
    return TextDataset([t for _, t, _ in rows], [lab for _, _, lab in rows], str(path))
