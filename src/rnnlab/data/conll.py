"""Tagged sentences: CoNLL-2003 / CoNLL-U / ``token TAG`` column readers and writers, IOB1 / IOB2 / BIOES schemes.

Chunks follow the ``conlleval`` rules (Tjong Kim Sang's script, also seqeval's default
mode), so an ill-formed sequence such as ``O I-PER`` still yields a chunk.

>>> convert(["I-PER", "I-PER", "O", "I-LOC", "B-LOC"], "IOB1", "BIOES")
['B-PER', 'E-PER', 'O', 'S-LOC', 'S-LOC']
>>> chunks(["B-PER", "I-PER", "O", "I-LOC"])
[('PER', 0, 2), ('LOC', 3, 4)]
"""

from __future__ import annotations

import dataclasses
import gzip
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

from rnnlab.errors import ConfigError, DataError

SCHEMES: tuple[str, ...] = ("IOB1", "IOB2", "BIOES")
FORMATS: tuple[str, ...] = ("conll2003", "conllu", "columns")
CONLL2003_COLUMNS = {"word": 0, "pos": 1, "chunk": 2, "ner": 3}
CONLLU_COLUMNS = {"form": 1, "lemma": 2, "upos": 3, "xpos": 4, "feats": 5, "deprel": 7}


@dataclasses.dataclass
class Sentence:
    """Tokens and their tags; ``line`` is where the sentence starts in its file (1-based); ``rows`` every
    column of each token's line as read (for writing the file back with predictions)."""

    tokens: list[str]
    tags: list[str]
    line: int = 0
    rows: list[list[str]] | None = None


def _open(path: Path) -> IO[str]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _column(tag_column: str | int, names: dict[str, int], fmt: str) -> int:
    if isinstance(tag_column, int) or str(tag_column).lstrip("-").isdigit():
        return int(tag_column)
    if tag_column not in names:
        raise ConfigError(f"--tag-column for {fmt} must be a column number or one of {sorted(names)}, "
                          f"received {tag_column!r}")  # fmt: skip
    return names[tag_column]


def read_tagged(path: str | Path, fmt: str = "conll2003", tag_column: str | int = "ner") -> list[Sentence]:
    """Read ``fmt`` (conll2003, conllu or columns) with ``tag_column`` as the tags.

    conll2003: whitespace-separated columns, ``-DOCSTART-`` lines skipped, tag column by name
    (word, pos, chunk, ner) or number. conllu: 10 tab-separated columns, comments, multiword
    ranges (``1-2``) and empty nodes (``1.1``) skipped, tag ``upos``/``xpos`` or a number.
    columns: ``token ... TAG``, the tag column by number (default: the last).
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise ConfigError(f"format must be one of {list(FORMATS)}, received {fmt!r}")
    if not path.is_file():
        raise DataError("no such file", path=path, hint="check the path")
    if fmt == "conllu":
        column = _column("upos" if tag_column == "ner" else tag_column, CONLLU_COLUMNS, fmt)
        sentences = list(_read_conllu(path, column))
    else:
        names = CONLL2003_COLUMNS if fmt == "conll2003" else {"last": -1}
        column = _column("last" if fmt == "columns" and tag_column == "ner" else tag_column, names, fmt)
        sentences = list(_read_columns(path, column))
    if not sentences:
        raise DataError("no sentences in the file", path=path, hint=f"is it in {fmt} format?")
    return sentences


def _read_columns(path: Path, column: int) -> Iterator[Sentence]:
    tokens: list[str] = []
    tags: list[str] = []
    rows: list[list[str]] = []
    width, start = None, 0
    with _open(path) as f:
        for n, raw in enumerate(f, 1):
            parts = raw.split()
            if not parts or parts[0] == "-DOCSTART-":
                if tokens:
                    yield Sentence(tokens, tags, start, rows)
                tokens, tags, rows, width = [], [], [], None
                continue
            if len(parts) < 2:
                raise DataError(f"expected a token and a tag, found {len(parts)} column", path=path, line=n,
                                hint="columns are separated by spaces or tabs")  # fmt: skip
            if width is not None and len(parts) != width:
                raise DataError(f"expected {width} columns as on the line above, found {len(parts)}", path=path,
                                line=n)  # fmt: skip
            if not -len(parts) <= column < len(parts):
                raise DataError(f"no column {column} in a line of {len(parts)} columns", path=path, line=n,
                                hint="pick --tag-column among the columns of the file")  # fmt: skip
            if not tokens:
                start = n
            width = len(parts)
            tokens.append(parts[0])
            tags.append(parts[column])
            rows.append(parts)
    if tokens:
        yield Sentence(tokens, tags, start, rows)


def _read_conllu(path: Path, column: int) -> Iterator[Sentence]:
    tokens: list[str] = []
    tags: list[str] = []
    rows: list[list[str]] = []
    start = 0
    with _open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip():
                if tokens:
                    yield Sentence(tokens, tags, start, rows)
                tokens, tags, rows = [], [], []
                continue
            if line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 10:
                raise DataError(f"a CoNLL-U word line has 10 tab-separated fields, found {len(parts)}", path=path,
                                line=n, hint="check for spaces used instead of tabs")  # fmt: skip
            if "-" in parts[0] or "." in parts[0]:
                continue  # multiword-token range (the words follow) or empty node (not a surface word)
            if not tokens:
                start = n
            tokens.append(parts[1])
            tags.append(parts[column])
            rows.append(parts)
    if tokens:
        yield Sentence(tokens, tags, start, rows)


def write_predictions(sentences: Sequence[Sentence], predicted: Sequence[Sequence[str]], stream: IO[str]) -> None:
    """Each sentence's lines as read, with the predicted tag appended as a last column (conlleval's input:
    ``... GOLD PRED``), a blank line after each sentence; CoNLL-U lines are written tab-separated.

    >>> import io
    >>> out = io.StringIO()
    >>> write_predictions([Sentence(["EU", "rejects"], ["I-ORG", "O"], 1, [["EU", "NNP", "I-NP", "I-ORG"],
    ...                   ["rejects", "VBZ", "I-VP", "O"]])], [["I-ORG", "O"]], out)
    >>> print(out.getvalue(), end="")
    EU NNP I-NP I-ORG I-ORG
    rejects VBZ I-VP O O
    <BLANKLINE>
    """
    for sentence, tags in zip(sentences, predicted, strict=True):
        rows = sentence.rows or [[token, gold] for token, gold in zip(sentence.tokens, sentence.tags, strict=True)]
        sep = "\t" if rows and len(rows[0]) == 10 else " "
        for row, tag in zip(rows, tags, strict=True):
            stream.write(sep.join([*row, tag]) + "\n")
        stream.write("\n")


def write_tagged(sentences: Iterable[tuple[Sequence[str], Sequence[str]]], stream: IO[str]) -> None:
    """``token TAG`` lines, a blank line after each sentence (readable back as ``columns``)."""
    for tokens, tags in sentences:
        for token, tag in zip(tokens, tags, strict=True):
            stream.write(f"{token} {tag}\n")
        stream.write("\n")


# -- tagging schemes -----------------------------------------------------------------------------
def _split(tag: str) -> tuple[str, str]:
    if tag == "O" or "-" not in tag:
        return ("O", "") if tag == "O" else (tag, "")
    prefix, kind = tag.split("-", 1)
    return prefix, kind


def chunks(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """(type, start, end) chunks with conlleval's start/end rules; works for IOB1, IOB2 and BIOES."""
    out: list[tuple[str, int, int]] = []
    prev_tag, prev_type, begin = "O", "", None
    for i, tag in enumerate([*tags, "O"]):
        t, kind = _split(tag)
        if begin is not None and _ends(prev_tag, t, prev_type, kind):
            out.append((prev_type, begin, i))
            begin = None
        if _starts(prev_tag, t, prev_type, kind):
            begin = i
        prev_tag, prev_type = t, kind
    return out


def _ends(prev: str, tag: str, prev_type: str, kind: str) -> bool:
    return (prev in ("E", "S") or (prev in ("B", "I") and tag in ("B", "S", "O"))
            or (prev != "O" and prev_type != kind))  # fmt: skip


def _starts(prev: str, tag: str, prev_type: str, kind: str) -> bool:
    return (tag in ("B", "S") or (prev in ("E", "S", "O") and tag in ("E", "I"))
            or (tag != "O" and prev_type != kind))  # fmt: skip


def convert(tags: Sequence[str], source: str, target: str) -> list[str]:
    """Re-encode a tag sequence from one scheme to another through its chunks."""
    for scheme in (source, target):
        if scheme not in SCHEMES:
            raise ConfigError(f"scheme must be one of {list(SCHEMES)}, received {scheme!r}")
    if source == target:
        return list(tags)
    out = ["O"] * len(tags)
    previous_end, previous_type = -1, ""
    for kind, begin, end in chunks(tags):
        for i in range(begin, end):
            out[i] = f"I-{kind}"
        if target == "IOB2" or (target == "IOB1" and previous_end == begin and previous_type == kind):
            out[begin] = f"B-{kind}"
        elif target == "BIOES":
            if end - begin == 1:
                out[begin] = f"S-{kind}"
            else:
                out[begin], out[end - 1] = f"B-{kind}", f"E-{kind}"
        previous_end, previous_type = end, kind
    return out


def detect_scheme(sentences: Iterable[Sequence[str]]) -> str | None:
    """IOB1, IOB2 or BIOES as the tags read; None for tags that are not chunks (POS)."""
    prefixes: set[str] = set()
    starts_with_i = False
    for tags in sentences:
        prev = "O"
        for tag in tags:
            p, _ = _split(tag)
            if "-" not in tag and tag != "O":
                return None
            prefixes.add(p)
            if p == "I" and prev == "O":
                starts_with_i = True
            prev = p
    if prefixes & {"E", "S"}:
        return "BIOES"
    if starts_with_i:
        return "IOB1"
    return "IOB2" if prefixes - {"O"} else None


def allowed_transitions(tags: Sequence[str], scheme: str | None) -> tuple[list[list[bool]], list[bool], list[bool]]:
    """(from, to) allowed matrix plus allowed start and end tags of ``scheme`` (all allowed when None)."""
    K = len(tags)
    if scheme is None or scheme == "IOB1":
        # IOB1 only forbids B-X after anything but X; the CRF may learn the rest
        trans = [[True] * K for _ in range(K)]
        if scheme == "IOB1":
            for i, a in enumerate(tags):
                for j, b in enumerate(tags):
                    pb, tb = _split(b)
                    pa, ta = _split(a)
                    trans[i][j] = not (pb == "B" and (pa == "O" or ta != tb))
        return trans, [True] * K, [True] * K
    parts = [_split(t) for t in tags]
    trans = [[_allowed(a, b, scheme) for b in parts] for a in parts]
    start = [p in ("O", "B", "S") for p, _ in parts]
    end = [p in ("O", "E", "S") if scheme == "BIOES" else True for p, _ in parts]
    return trans, start, end


def _allowed(a: tuple[str, str], b: tuple[str, str], scheme: str) -> bool:
    (pa, ta), (pb, tb) = a, b
    if scheme == "IOB2":
        return pb != "I" or (pa in ("B", "I") and ta == tb)
    # BIOES: inside a chunk only I/E of the same type may follow; after O/E/S a chunk must open with B or S
    if pa in ("B", "I"):
        return pb in ("I", "E") and ta == tb
    return pb in ("O", "B", "S")
