"""Labelled text: readers (CSV/TSV, JSONL, aclImdb folder or tarball, SST-2) and a tokenizer for reviews.

>>> Tokenizer().tokenize("I didn't like it.<br /><br />L'histoire &amp; qu'il raconte: 10/10!")
['i', 'did', "n't", 'like', 'it', '.', "l'", 'histoire', '&', "qu'", 'il', 'raconte', ':', '10', '/', '10', '!']
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import html
import io
import json
import re
import tarfile
import unicodedata
import warnings
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.config import Config
from rnnlab.data.readers import UTF8_HINT, utf8_hint
from rnnlab.errors import ConfigError, DataError, DataWarning

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
    lines: list[int] | None = None  # the line of its file each text starts on (blank lines are skipped)
    columns: list[dict[str, Any]] | None = None  # each row's other columns (an id, the gold label), in file order

    def __len__(self) -> int:
        return len(self.texts)

    def split(self, fraction: float, *, seed: int = 0) -> tuple[TextDataset, TextDataset]:
        """A random (stratified by label) hold-out of ``fraction`` of the rows: (rest, held_out)."""
        if not 0 < fraction < 1:
            raise ConfigError(f"the dev fraction must be in (0, 1), received {fraction}")
        rng = np.random.default_rng(seed)
        labels = self.labels if self.labels is not None else ["_"] * len(self)
        held: list[int] = []
        alone = []
        for label in sorted(set(labels)):
            rows = np.flatnonzero(np.asarray(labels, dtype=object) == label)
            rng.shuffle(rows)
            # at least one text of each label in dev, never the last one training has: a label met once is trained on
            take = min(max(1, round(fraction * len(rows))), len(rows) - 1)
            alone += [label] if take == 0 else []
            held.extend(rows[:take].tolist())
        if alone:
            warnings.warn(DataWarning(f"{self.source}: label(s) {alone[:5]} have a single text: kept for training, "
                                      "none in the dev split"), stacklevel=2)  # fmt: skip
        mask = np.zeros(len(self), dtype=bool)
        mask[held] = True
        return self.subset(np.flatnonzero(~mask)), self.subset(np.flatnonzero(mask))

    def subset(self, rows: Sequence[int] | np.ndarray) -> TextDataset:
        labels = None if self.labels is None else [self.labels[i] for i in rows]
        lines = None if self.lines is None else [self.lines[i] for i in rows]
        columns = None if self.columns is None else [self.columns[i] for i in rows]
        return TextDataset([self.texts[i] for i in rows], labels, self.source, lines, columns)


def _is_mark(c: str) -> bool:
    """A combining mark or a variation selector: it belongs to the character before it."""
    return unicodedata.category(c)[0] == "M" or "\ufe00" <= c <= "\ufe0f"


def _cuttable(text: str, i: int) -> bool:
    # a cut before text[i] never separates a combining mark (or a variation selector) from its base character
    return 0 < i < len(text) and not _is_mark(text[i])


def pieces(text: str, max_chars: int) -> Iterator[tuple[int, int]]:
    """(start, end) of consecutive pieces of at most ``max_chars`` characters covering ``text``, cut after a line
    break, else after a sentence's end, else at a space, else anywhere but inside a combining sequence: a long
    text is tagged piece by piece in bounded memory.

    >>> text = "One. Two three. Four five six."
    >>> [text[a:b] for a, b in pieces(text, 12)]
    ['One. ', 'Two three. ', 'Four five ', 'six.']
    """
    if max_chars < 1:
        raise ConfigError(f"max_chars must be at least 1, received {max_chars}")
    start = 0
    while len(text) - start > max_chars:
        window = text[start : start + max_chars]
        cut = max(window.rfind("\n"), *(window.rfind(end) for end in (". ", "! ", "? ", "; ")))
        cut = cut + 1 if cut > 0 else max(window.rfind(" "), window.rfind("\t"))
        cut = start + cut if cut > 0 else start + max_chars
        while cut < len(text) and text[cut].isspace() and cut - start < max_chars:
            cut += 1  # the spaces after a sentence's end stay with it
        while not _cuttable(text, cut) and cut > start + 1:
            cut -= 1
        yield start, cut
        start = cut
    if start < len(text) or not text:
        yield start, len(text)


def nfc_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """``text`` in Unicode NFC, and where in ``text`` each of its characters comes from (None: nothing moves:
    ASCII, or NFC text without combining marks).

    Each base character is normalised with the combining marks that follow it; ``origin[i]`` is the offset
    in ``text`` of the sequence the i-th normalised character belongs to, ``origin[len]`` is ``len(text)``,
    so a span of the normalised text maps back to whole sequences (:func:`original_span`).

    >>> normal, origin = nfc_with_offsets("Lo\u0301pez")
    >>> normal, origin
    ('López', [0, 1, 3, 4, 5, 6])
    >>> nfc_with_offsets("Villa à Nice, 1 270 000 €")  # typed French: nothing to map (4x faster tagging input)
    ('Villa à Nice, 1 270 000 €', None)
    >>> nfc_with_offsets("Ve\u0301lo, café")[1][:4]  # one decomposed letter: the whole text is mapped
    [0, 1, 3, 4]
    """
    if text.isascii():
        return text, None
    if _INVISIBLE.search(text):  # soft hyphens, zero-width characters, a BOM: never tokens of their own
        return _visible(*_nfc_with_offsets(text))
    return _nfc_with_offsets(text)


# invisible format characters: dropped inside words (soft hyphen, zero-width (non-)joiner, word joiner, BOM, marks
# of direction); the zero-width space separates words (it is read as a space)
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
_ZWSP = "\u200b"


def _visible(normal: str, origin: list[int] | None) -> tuple[str, list[int]]:
    """``normal`` without its invisible format characters (a zero-width space as a space), and the origins kept.

    >>> _visible("Bundes\u00adkanzlerin\u200bin", None)
    ('Bundeskanzlerin in', [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    """
    origin = list(range(len(normal) + 1)) if origin is None else origin
    chars, kept = [], []
    for i, c in enumerate(normal):
        if _INVISIBLE.match(c) and c != _ZWSP:
            continue
        chars.append(" " if c == _ZWSP else c)
        kept.append(origin[i])
    kept.append(origin[-1])
    return "".join(chars), kept


def _nfc_with_offsets(text: str) -> tuple[str, list[int] | None]:
    if unicodedata.is_normalized("NFC", text) and not any(c >= "\u0300" and _is_mark(c) for c in text):
        return text, None  # accented text as typed (no mark of its own): nothing moves, as for ASCII
    parts: list[str] = []
    origin: list[int] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or _cuttable(text, i):
            piece = unicodedata.normalize("NFC", text[start:i])
            parts.append(piece)
            origin.extend([start] * len(piece))
            start = i
    origin.append(len(text))
    return "".join(parts), origin


def original_span(origin: list[int] | None, start: int, end: int) -> tuple[int, int]:
    """The span of the original text that normalised characters ``[start, end)`` come from, whole sequences."""
    if origin is None:
        return start, end
    stop = end
    while stop < len(origin) - 1 and origin[stop] == origin[end - 1]:
        stop += 1  # ``end`` falls inside a sequence (a mark without a composed form): take the whole of it
    return origin[start], origin[stop]


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


def _distinct(text: str | None, label: str | None, path: Path, line: int) -> None:
    """The text and the label are two columns (``--text-col label`` classified the labels' own words)."""
    if text is not None and text == label:
        raise DataError(f"the column {text!r} is read as both the text and the label", path=path, line=line,
                        hint="pass --text-col and --label-col naming two columns")  # fmt: skip


def read_text(path: str | Path) -> str:
    """The text of a UTF-8 file (``.gz`` too; a leading BOM dropped); an empty, compressed-but-broken or
    non-UTF-8 file is a DataError naming the file (and the line and column of the first byte that is not UTF-8).

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "reviews.txt"
    >>> _ = path.write_bytes("good\\ncaf\\xe9 bad\\n".encode("latin-1"))
    >>> read_text(path)
    Traceback (most recent call last):
    ...
    rnnlab.errors.DataError: ...reviews.txt:2:4: byte 0xe9 is not UTF-8 (hint: save the file as UTF-8 ...)
    """
    path = Path(path)
    try:
        data = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            data = gzip.decompress(data)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(
            f"not a readable .gz file ({exc})", path=path, hint="check the download, or gunzip it"
        ) from None
    except FileNotFoundError:
        raise DataError("no such file", path=path, hint="check the path") from None
    return decode_text(data, path)


def decode_text(data: bytes, path: str | Path) -> str:
    """``data`` decoded as UTF-8 (a leading BOM dropped); empty, or a byte that is not UTF-8, is a DataError
    naming ``path`` (and the line and column of that byte)."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not data.strip():
        raise DataError("the file is empty", path=path, hint="give a file with data in it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = data[: exc.start]
        line = head.count(b"\n") + 1
        column = len(head[head.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
        raise DataError(
            f"byte 0x{data[exc.start]:02x} is not UTF-8", path=path, line=line, column=column, hint=utf8_hint(data)
        ) from None


def read_lines(path: str | Path) -> list[str]:
    """The non-blank lines of a UTF-8 text file (one text per line); a file without any is a DataError."""
    return [line for line in text_lines(read_text(path)) if line.strip()]


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of each non-blank line of ``text`` (numbered as :func:`text_lines` cuts them).

    >>> numbered_lines("a\\n\\n  \\nb\\n")
    [(1, 'a'), (4, 'b')]
    """
    return [(n, line) for n, line in enumerate(text_lines(text), 1) if line.strip()]


def text_lines(text: str) -> list[str]:
    """One text per line: lines end at \\n or \\r\\n only (a file with no \\n at all: at \\r, the old Mac
    convention). A lone \\r, a form feed or U+2028 inside a line stays in it (``str.splitlines`` would cut the
    text there).

    >>> text_lines("a\\rb c\\r\\nd\\u2028e\\n"), text_lines("a\\rb")
    (['a\\rb c', 'd\\u2028e'], ['a', 'b'])
    """
    if "\n" not in text:
        return [line for line in text.split("\r") if line] if text else []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


MAX_FIELD_CHARS = 16 * 1024 * 1024  # one CSV field (a text) at most: a book, not a whole file in one open quote


def _csv_rows(path: Path, sep: str) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, fields) of each non-blank record; csv.Error becomes a DataError with the line."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS))  # the module's 131,072 is a long article
    reader = csv.reader(
        io.StringIO(read_text(path), newline=""),
        delimiter=sep,
        quoting=csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL,
        strict=True,
    )
    last = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            hint = 'a quoted field starts and ends with " and writes a " inside as ""'
            if "field larger than field limit" in str(exc) or "unexpected end of data" in str(exc):
                hint = (f'a quote (") opened in the record that starts on line {last + 1} is likely never closed: '
                        f"close it, or write a \" inside a field as \"\"")  # fmt: skip
            raise DataError(f"cannot read this record: {exc}", path=path, line=last + 1, hint=hint) from None
        first, last = last + 1, reader.line_num
        if row and any(field.strip() for field in row):
            yield first, last, row


def _check_width(path: Path, sep: str, header: list[str], rows: list[tuple[int, int, list[str]]]) -> None:
    """Every record has as many fields as the header; an unquoted separator in a text is named, not guessed."""
    bad = [(first, last, row) for first, last, row in rows if len(row) != len(header)]
    if not bad:
        return
    first, last, row = bad[0]
    more = f" (and {len(bad) - 1} more records)" if len(bad) > 1 else ""
    name = "tab" if sep == "\t" else "comma"
    other = next((c for c in ";\t|" if c != sep and c in header[0]), None) if len(header) == 1 else None
    if other is not None:  # Excel's ';' (decimal commas), a TSV named .csv: the header read as one column
        which = {";": "semicolons", "\t": "tabs", "|": "bars"}[other]
        raise DataError(f"the header {header[0][:60]!r} is one column: the file separates its fields with {which}, "
                        f"not {name}s", path=path, line=1,
                        hint="save it as CSV with ',' between the fields (or as .tsv with tabs)")  # fmt: skip
    if last > first:
        raise DataError(
            f"a record runs from line {first} to line {last} with {len(row)} fields where the header has "
            f"{len(header)}{more}",
            path=path,
            line=first,
            hint='an opening " without its closing "? quote whole fields: "text, with commas",label',
        )
    if len(row) > len(header):
        raise DataError(
            f"{len(row)} fields where the header {header} has {len(header)}{more}: an unquoted {name} inside a text?",
            path=path,
            line=first,
            hint='quote the text: "Good, really",pos (spreadsheets and csv writers do so)',
        )
    raise DataError(
        f"{len(row)} fields where the header {header} has {len(header)}{more}",
        path=path,
        line=first,
        hint=f"every record needs a value for each column, separated by a {name}",
    )


def _read_table(path: Path, text_col: str | None, label_col: str | None, require_labels: bool) -> TextDataset:
    # the csv module, not pandas: pandas makes the first fields of a row that has one too many the index, so the
    # text before an unquoted comma vanished without a word (issue 22, row 9); here every record is checked
    sep = "\t" if ".tsv" in path.name.lower() else ","
    records = list(_csv_rows(path, sep))
    if not records:
        raise DataError("no header line", path=path, hint="the first line names the columns, e.g. text,label")
    header = [c.strip() for c in records[0][2]]
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise DataError(
            f"columns {twice} appear more than once in the header {header}",
            path=path,
            line=1,
            hint="give each column its own name",
        )
    rows = records[1:]
    if not rows:
        raise DataError(
            f"no rows under the header {header}",
            path=path,
            line=records[0][0],
            hint="give one text per line under the header",
        )
    _check_width(path, sep, header, rows)
    text = _pick(header, text_col, TEXT_COLUMNS, "text", path)
    label = _pick(header, label_col, LABEL_COLUMNS, "label", path)
    _distinct(text, label, path, 1)
    if text is None:
        raise DataError(f"cannot tell the text column among {header}", path=path, line=1, hint="pass --text-col")
    if label is None and require_labels:
        raise DataError(f"cannot tell the label column among {header}", path=path, line=1, hint="pass --label-col")
    t, y = header.index(text), None if label is None else header.index(label)
    texts = [row[t] for _, _, row in rows]
    labels = None if y is None else [row[y].strip() for _, _, row in rows]
    for i, (first, _, _) in enumerate(rows):
        if not texts[i].strip():
            raise DataError("empty text", path=path, line=first, column=text, hint="remove the row or fill it")
        if labels is not None and not labels[i] and require_labels:  # predict carries a partly labelled file
            raise DataError("empty label", path=path, line=first, column=label, hint="every row needs a label")
    columns = [{c: v for c, v in zip(header, row, strict=True) if c != text} for _, _, row in rows]
    lines = [first for first, _, _ in rows]
    if labels is not None and require_labels:
        _one_spelling(labels, lines, path, label)
    return TextDataset(texts, labels, str(path), lines, columns)


def iter_jsonl(path: str | Path, example: str = '{"text": "...", "label": "pos"}') -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSON-lines file (``.gz`` too); bad lines are
    DataErrors naming file, line and column; ``example`` is the line shown in the hint of a line that is not an
    object (what the caller reads)."""
    path = Path(path)
    for n, line in enumerate(io.StringIO(read_text(path), newline=None), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"not valid JSON: {exc.msg}", path=path, line=n, column=exc.colno, hint="one JSON object per line"
            ) from None
        except RecursionError:
            raise DataError("JSON nested too deeply", path=path, line=n, hint="one flat JSON object per line") from None
        if not isinstance(row, dict):
            raise DataError(
                f"each line must be a JSON object, found {type(row).__name__}",
                path=path,
                line=n,
                hint=f"lines like {example}",
            )
        yield n, row


def _field(row: dict, key: str, what: str, path: Path, n: int) -> str:
    # a text must be a string; a label a string or an integer (0/1): str(None) or str(nan) would be read silently
    value = row[key]
    if isinstance(value, str) or (what == "label" and isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    raise DataError(
        f"the {what} {key!r} is {json.dumps(value)[:40]}, not a string",
        path=path,
        line=n,
        hint=f"write the {what} as a JSON string",
    )


def _read_jsonl(path: Path, text_col: str | None, label_col: str | None, require_labels: bool) -> TextDataset:
    texts: list[str] = []
    labels: list[str] = []
    lines: list[int] = []
    columns: list[dict[str, Any]] = []
    for n, row in iter_jsonl(path):
        text = _pick(list(row), text_col, TEXT_COLUMNS, "text", path)
        label = _pick(list(row), label_col, LABEL_COLUMNS, "label", path)
        _distinct(text, label, path, n)
        if text is None:
            raise DataError(f"no text in this object (keys {list(row)[:8]})", path=path, line=n, hint="pass --text-col")
        texts.append(_field(row, text, "text", path, n))
        lines.append(n)
        columns.append({k: v for k, v in row.items() if k != text})
        if not texts[-1].strip():
            raise DataError("empty text", path=path, line=n, column=text, hint="remove the line or fill it")
        if label is None:
            if require_labels:
                raise DataError("no label in this object", path=path, line=n, hint="pass --label-col")
        elif not require_labels and (row[label] is None or row[label] == ""):  # predict: a row without its gold
            labels.append("")
        else:
            labels.append(_field(row, label, "label", path, n).strip())
            if not labels[-1] and require_labels:
                raise DataError("empty label", path=path, line=n, column=label, hint="every row needs a label")
    if not texts:
        raise DataError("no rows", path=path)
    if labels and require_labels:
        _one_spelling(labels, lines, path, label_col or "label")
    return TextDataset(texts, labels if len(labels) == len(texts) else None, str(path), lines, columns)


def _one_spelling(labels: Sequence[str], lines: Sequence[int], path: Path, column: str | None) -> None:
    """Labels are classes as written; one number written two ways (``1`` and ``1.0``, ``01``: a spreadsheet's
    export) would be two classes, each with part of the texts: refused, naming both.

    >>> _one_spelling(["1", "0", "1.0"], [2, 3, 4], Path("a.csv"), "label")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    rnnlab.errors.DataError: a.csv:4:label: the labels '1' (line 2) and '1.0' (line 4) are one number written ...
    """
    seen: dict[float, tuple[str, int]] = {}
    for label, n in zip(labels, lines, strict=True):
        try:
            value = float(label)
        except ValueError:
            continue
        first = seen.setdefault(value, (label, n))
        if first[0] != label:
            raise DataError(f"the labels {first[0]!r} (line {first[1]}) and {label!r} (line {n}) are one number "
                            "written two ways, which would make two classes", path=path, line=n, column=column,
                            hint="write each label one way (1, not 1.0 or 01)")  # fmt: skip


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
    rows = [(read_text(f), f.parent.name) for f in files if f.parent.name in classes]
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
                    data = f.read()
                    try:
                        rows.append((member.name, data.decode("utf-8"), label))
                    except UnicodeDecodeError as exc:
                        raise DataError(
                            f"{member.name}: byte 0x{data[exc.start]:02x} at byte {exc.start + 1} is not UTF-8",
                            path=path,
                            hint=UTF8_HINT,
                        ) from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise DataError(f"cannot read the archive: {exc}", path=path) from None
    if not rows:
        raise DataError(f"no {_imdb_files(split, classes)} files in the archive", path=path)
    rows.sort()
    return TextDataset([t for _, t, _ in rows], [lab for _, _, lab in rows], str(path))
