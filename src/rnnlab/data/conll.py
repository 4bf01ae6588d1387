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
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

from rnnlab.data.text import read_text
from rnnlab.errors import ConfigError, DataError

SCHEMES: tuple[str, ...] = ("IOB1", "IOB2", "BIOES")
FORMATS: tuple[str, ...] = ("conll2003", "conllu", "columns")
CONLL2003_COLUMNS = {"word": 0, "pos": 1, "chunk": 2, "ner": 3}
CONLLU_COLUMNS = {"form": 1, "lemma": 2, "upos": 3, "xpos": 4, "feats": 5, "deprel": 7}


@dataclasses.dataclass
class Sentence:
    """Tokens and their tags; ``line`` is where the sentence starts in its file (1-based); ``rows`` every
    column of each token's line as read (for writing the file back with predictions); ``lines`` each token's
    line and ``path`` the file (for errors that name them); ``other_lines`` the lines that are not tokens
    (CoNLL-U comments, multiword ranges, empty nodes), each with the number of tokens before it."""

    tokens: list[str]
    tags: list[str]
    line: int = 0
    rows: list[list[str]] | None = None
    lines: list[int] | None = None
    path: str | None = None
    other_lines: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    sep: str | None = None  # what separated the columns of its lines ("\t" or " "; None: CoNLL-U's tabs / unknown)

    def token_line(self, i: int) -> int | None:
        """The line of token ``i`` in its file (the sentence's line when unknown, None when that is too)."""
        return self.lines[i] if self.lines is not None and i < len(self.lines) else (self.line or None)


def _open(path: Path) -> IO[str]:
    # decoded whole with errors that name the line and column of a byte that is not UTF-8 (.gz too)
    return io.StringIO(read_text(path), newline=None)


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
    column = tag_column_index(fmt, tag_column)
    sentences = list(_read_conllu(path, column) if fmt == "conllu" else _read_columns(path, column))
    if not sentences:
        raise DataError("no sentences in the file", path=path, hint=f"is it in {fmt} format?")
    return sentences


class _Builder:
    """The sentence being read: tokens, tags, rows, lines, and the non-token lines kept in place."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.tokens: list[str] = []
        self.tags: list[str] = []
        self.rows: list[list[str]] = []
        self.lines: list[int] = []
        self.other: list[tuple[int, str]] = []
        self.sep: str | None = None

    def add(self, n: int, parts: list[str], column: int, *, token_column: int = 0) -> None:
        self.tokens.append(parts[token_column])
        self.tags.append(parts[column])
        self.rows.append(parts)
        self.lines.append(n)

    def take(self) -> Sentence | None:
        """The sentence read so far (None when no token yet: lines before it stay for the next one)."""
        if not self.tokens:
            return None
        sentence = Sentence(self.tokens, self.tags, self.lines[0], self.rows, self.lines, self.path, self.other,
                            self.sep)  # fmt: skip
        self.tokens, self.tags, self.rows, self.lines, self.other, self.sep = [], [], [], [], [], None
        return sentence


def _trailing_lines(sentences: Iterator[Sentence], builder: _Builder) -> Iterator[Sentence]:
    """The sentences, the file's last one holding the lines after it (a closing ``-DOCSTART-``, comments) at
    position ``len(tokens) + 1``: written back after its blank line, where they were."""
    held = None
    for sentence in sentences:
        if held is not None:
            yield held
        held = sentence
    if held is not None:
        held.other_lines.extend((len(held.tokens) + 1, line) for _, line in builder.other)
        yield held


def _read_columns(path: Path, column: int) -> Iterator[Sentence]:
    builder = _Builder(path)
    return _trailing_lines(_columns(path, column, builder), builder)


def _columns(path: Path, column: int, sentence: _Builder) -> Iterator[Sentence]:
    width = None
    with _open(path) as f:
        for n, raw in enumerate(f, 1):
            parts = raw.split()
            if not parts or parts[0] == "-DOCSTART-":
                if (done := sentence.take()) is not None:
                    yield done  # the blank line after a sentence is written back with it
                elif not parts:  # one more blank line (or spaces): written back, so line n stays line n
                    sentence.other.append((0, ""))
                if parts:  # written back before the next sentence, a column "O" longer, with its separator
                    sentence.other.append((0, ("\t" if "\t" in raw.strip() else " ").join([*parts, "O"])))
                width = None
                continue
            if raw.startswith("# ") and " = " in raw:  # "# sent_id = 1", "# text = ...": read as columns, garbage
                raise DataError(
                    "a CoNLL-U comment line in a file read as CoNLL-2003 columns",
                    path=path,
                    line=n,
                    hint="read CoNLL-U with --format conllu (tag predict: --input-format conllu)",
                )
            if len(parts) < 2:
                raise DataError(f"expected a token and a tag, found {len(parts)} column", path=path, line=n,
                                hint="columns are separated by spaces or tabs")  # fmt: skip
            if width is not None and len(parts) != width:
                raise DataError(f"expected {width} columns as on the line above, found {len(parts)}", path=path,
                                line=n)  # fmt: skip
            if not -len(parts) <= column < len(parts):
                raise DataError(f"no column {column} in a line of {len(parts)} columns", path=path, line=n,
                                hint="pick --tag-column among the columns of the file")  # fmt: skip
            if column == -len(parts):  # counted from the end, the token column: words would be learnt as tags
                raise DataError(f"--tag-column {column} is the token column of these {len(parts)}-column lines, "
                                "not tags", path=path, line=n, hint="pick a tag column: -1 is the last")  # fmt: skip
            width = len(parts)
            sentence.sep = sentence.sep or ("\t" if "\t" in raw.strip() else " ")  # written back the same way
            sentence.add(n, parts, column)
    if (done := sentence.take()) is not None:
        yield done


def _read_conllu(path: Path, column: int) -> Iterator[Sentence]:
    builder = _Builder(path)
    return _trailing_lines(_conllu(path, column, builder), builder)


def _conllu(path: Path, column: int, sentence: _Builder) -> Iterator[Sentence]:
    with _open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip():
                if (done := sentence.take()) is not None:
                    yield done
                else:  # one more blank line: written back, so line n stays line n
                    sentence.other.append((0, ""))
                continue
            if line.startswith("#"):
                sentence.other.append((len(sentence.tokens), line))
                continue
            parts = line.split("\t")
            if len(parts) != 10:
                raise DataError(f"a CoNLL-U word line has 10 tab-separated fields, found {len(parts)}", path=path,
                                line=n, hint="check for spaces used instead of tabs")  # fmt: skip
            if not _CONLLU_ID.fullmatch(parts[0]):
                raise DataError(
                    f"the ID field is {parts[0][:20]!r}, not a word index (1), a range (1-2) or an empty node (1.1)",
                    path=path,
                    line=n,
                    hint="the first field numbers the words",
                )
            if "-" in parts[0] or "." in parts[0]:
                # a multiword-token range (its words follow) or an empty node (not a surface word): written back as is
                sentence.other.append((len(sentence.tokens), line))
                continue
            if not 0 <= column < 10 and not -10 <= column < 0:
                raise DataError(
                    f"no column {column} in a CoNLL-U line of 10 fields",
                    path=path,
                    line=n,
                    hint="--tag-column upos, xpos or a number from 0 to 9",
                )
            sentence.add(n, parts, column, token_column=1)
    if (done := sentence.take()) is not None:
        yield done


_CONLLU_ID = re.compile(r"[1-9]\d*(?:-[1-9]\d*|\.[1-9]\d*)?|0\.[1-9]\d*")


def tag_column_index(fmt: str, tag_column: str | int) -> int:
    """The column number ``read_tagged`` reads the tags from (``upos`` -> 3 in CoNLL-U)."""
    if fmt == "conllu":
        column = _column("upos" if tag_column == "ner" else tag_column, CONLLU_COLUMNS, fmt)
        if column in (0, 1, -10, -9):  # ID, FORM: a tagger trained on them would learn words as tags
            raise ConfigError(f"--tag-column {tag_column} is CoNLL-U's {'ID' if column in (0, -10) else 'FORM'} "
                              "column, not tags; use upos, xpos or another column number")  # fmt: skip
        return column
    names = CONLL2003_COLUMNS if fmt == "conll2003" else {"last": -1}
    column = _column("last" if fmt == "columns" and tag_column == "ner" else tag_column, names, fmt)
    if column == 0:  # the token column: a tagger trained on it would learn words as tags
        raise ConfigError(f"--tag-column {tag_column} is the token column (0), not tags; use "
                          f"{'ner, pos, chunk or ' if fmt == 'conll2003' else ''}a column number from 1 (or -1, the "
                          "last)")  # fmt: skip
    return column


def write_predictions(
    sentences: Sequence[Sentence], predicted: Sequence[Sequence[str]], stream: IO[str], *, column: int | None = None
) -> None:
    """Each sentence's lines as read with the predicted tags, a blank line after each sentence.

    CoNLL-2003 / column lines get the predicted tag appended as a last column (conlleval's input:
    ``... GOLD PRED``). CoNLL-U comes back as CoNLL-U, line for line: comments, multiword ranges and empty
    nodes as they were, the prediction written into the tag ``column`` of each word line (then compare the
    file with the gold one, as the UD evaluation script does).

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
        sep = sentence.sep or ("\t" if rows and len(rows[0]) == 10 else " ")
        in_place = sentence.sep is None and sep == "\t" and column is not None  # CoNLL-U: into its tag column
        other = iter(sentence.other_lines)
        pending = next(other, None)
        for k, (row, tag) in enumerate(zip(rows, tags, strict=True)):
            while pending is not None and pending[0] <= k:
                stream.write(pending[1] + "\n")
                pending = next(other, None)
            if in_place:
                stream.write("\t".join(tag if i == column % 10 else field for i, field in enumerate(row)) + "\n")
            else:
                stream.write(sep.join([*row, tag]) + "\n")
        while pending is not None and pending[0] <= len(rows):
            stream.write(pending[1] + "\n")
            pending = next(other, None)
        stream.write("\n")
        while pending is not None:  # the lines after a file's last sentence (read_conll: trailing_lines)
            stream.write(pending[1] + "\n")
            pending = next(other, None)


def write_tagged(sentences: Iterable[tuple[Sequence[str], Sequence[str]]], stream: IO[str]) -> None:
    """``token TAG`` lines, a blank line after each sentence (readable back as ``columns``)."""
    for tokens, tags in sentences:
        for token, tag in zip(tokens, tags, strict=True):
            stream.write(f"{token} {tag}\n")
        stream.write("\n")


def _listing(tags: Iterable[str], at_most: int = 8) -> str:
    tags = sorted(tags)
    return ", ".join(tags[:at_most]) + (", …" if len(tags) > at_most else "")


def check_gold(sentences: Sequence[Sentence], known: Sequence[str], *, chunked: bool) -> None:
    """Refuse gold tags that a tagger with the tags ``known`` cannot score, before any work.

    A file whose tags are none of the model's (a UPOS file given to an NER model) is named with both tag
    sets; otherwise the first tag that is not one of the model's (``garbage``, ``B-DATE``) is named with its
    file and line. Chunk tags may come in any scheme: ``O`` or B-/I-/E-/S- and one of the model's types.
    """
    types = {_split(t)[1] for t in known if t != "O"}

    def valid(tag: str) -> bool:
        if not chunked:
            return tag in known
        match = _CHUNK_TAG.fullmatch(tag)
        return tag == "O" or (match is not None and match.group(1) in types)

    seen: dict[str, tuple[Sentence, int]] = {}
    for sentence in sentences:
        for i, tag in enumerate(sentence.tags):
            seen.setdefault(tag, (sentence, i))
    bad = {tag: place for tag, place in seen.items() if not valid(tag)}
    if not bad:
        return
    model = f"types {_listing(types)} as O, B-, I-, E-, S- tags" if chunked else _listing(known)
    first_sentence = next(iter(seen.values()))[0]
    if len(bad) == len(seen) and not (chunked and any(_CHUNK_TAG.fullmatch(tag) for tag in seen)):
        raise DataError(
            f"this file's tags ({_listing(seen)}) are none of the model's ({model}): is it the right "
            "file, tag column and model?",
            path=first_sentence.path,
            hint="--tag-column picks the column (ner, pos, chunk; upos, xpos; or a number)",
        )
    tag, (sentence, i) = min(bad.items(), key=lambda item: (item[1][0].line, item[1][1]))
    if chunked and _CHUNK_TAG.fullmatch(tag) is None:
        raise DataError(
            f"the tag {tag!r} is neither O nor a chunk tag (B-, I-, E-, S- and a type)",
            path=sentence.path,
            line=sentence.token_line(i),
            hint=f"the model knows {model}",
        )
    raise DataError(
        f"tags {sorted(bad)[:5]} were not seen in training (known: {model})",
        path=sentence.path,
        line=sentence.token_line(i),
        hint="evaluate with the training data's tag column and scheme",
    )


def check_training_tags(sentences: Sequence[Sentence]) -> None:
    """Refuse training tags that mix chunk tags (B-PER) with tags that are neither chunk tags nor O: the
    tagger would silently take them all for part-of-speech tags."""
    chunk, other = None, None
    for sentence in sentences:
        for i, tag in enumerate(sentence.tags):
            if _CHUNK_TAG.fullmatch(tag):
                chunk = chunk or tag
            elif tag != "O" and other is None:
                other = (tag, sentence, i)
        if chunk and other:
            tag, sentence, i = other
            raise DataError(
                f"the tag {tag!r} is neither O nor a chunk tag like {chunk!r}",
                path=sentence.path,
                line=sentence.token_line(i),
                hint="fix the tag, or pick the right --tag-column",
            )


_CHUNK_TAG = re.compile(r"[BIES]-(.+)")


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
