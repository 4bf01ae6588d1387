"""Reading a CSV file with every failure a one-line ``DataError`` naming the file (and the line where known).

pandas says "No columns to parse from file" for an empty file and "'utf-8' codec can't decode
byte 0xe9 in position 3" (a position inside its read buffer) for a Latin-1 file, without the
file's name. :func:`read_csv_checked` names the file, the line and column of the first byte
that is not UTF-8, and says how to fix it; the text is never guessed in another encoding.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "prices.csv"
>>> _ = path.write_bytes("item,price\\ncaf\\xe9,2\\n".encode("latin-1"))
>>> read_csv_checked(path)
Traceback (most recent call last):
...
rnnlab.errors.DataError: ...prices.csv:2:4: byte 0xe9 is not UTF-8 (hint: save the file as UTF-8 (e.g. ...))
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import Any

from rnnlab.errors import DataError

UTF8_HINT = "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`, or 'CSV UTF-8' in a spreadsheet)"


def read_csv_checked(path: str | Path, **kwargs: Any):  # -> pd.DataFrame
    """``pd.read_csv(path, **kwargs)`` (UTF-8, a leading BOM allowed); any failure is a ``DataError`` naming ``path``.

    An empty file or a file with a header but no rows is an error too (a frame with no rows
    only leads to an obscure failure later).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError("file not found" if not path.exists() else "not a file", path=path, hint="check the path")
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", **kwargs)
    except UnicodeDecodeError:
        raise _decode_error(path) from None
    except pd.errors.EmptyDataError:
        raise DataError(
            "the file is empty", path=path, hint="give a CSV file with a header row and data rows"
        ) from None
    except (pd.errors.ParserError, csv.Error, ValueError, OverflowError) as exc:
        message = " ".join(str(exc).split())  # pandas' messages may span lines; keep the error on one
        hint = "check the quoting and the number of fields on each line"
        raise DataError(f"not a readable CSV file: {message}", path=path, hint=hint) from None
    if len(frame) == 0:
        raise DataError("no data rows (only a header)", path=path, line=1, hint="give the rows under the header")
    first = pd.read_csv(path, encoding="utf-8-sig", header=None, nrows=1, **kwargs).iloc[0].tolist()
    header = [name for name in first if isinstance(name, str)]  # an empty cell is NaN: pandas names it Unnamed
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:  # pandas would rename the second "y" to "y.1" and the first would be read without a word
        raise DataError(f"the header names column(s) {repeated} more than once", path=path, line=1,
                        hint="give each column its own name")  # fmt: skip
    return frame


def first_undecodable(path: str | Path, encoding: str = "utf-8-sig") -> tuple[int, int, bytes] | None:
    """(line, column, bad bytes) of the first bytes of ``path`` that are not ``encoding``, 1-based; None if none.

    Read in blocks with an incremental decoder, so a large file costs no more memory than a block.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line, column = 1, 1
    with open(path, "rb") as handle:
        while True:
            block = handle.read(1 << 20)
            final = not block
            try:
                text = decoder.decode(block, final=final)
            except UnicodeDecodeError as exc:
                # exc.object: the bytes not yet decoded (this block and any partial character before it)
                good = exc.object[: exc.start].decode("utf-8", errors="replace")
                line += good.count("\n")
                column = len(good) - good.rfind("\n") if "\n" in good else column + len(good)
                return line, column, exc.object[exc.start : exc.end]
            line += text.count("\n")
            column = len(text) - text.rfind("\n") if "\n" in text else column + len(text)
            if final:
                return None


def utf8_hint(start: bytes) -> str:
    """How to make a file that does not decode as UTF-8 readable, from its first bytes: a UTF-16 byte-order mark
    says which encoding to convert from (latin-1 would make garbage of it).

    >>> utf8_hint("é".encode("utf-16"))[:40]
    'the file is UTF-16 (it starts with a UTF'
    """
    if start[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return ("the file is UTF-16 (it starts with a UTF-16 byte-order mark): save it as UTF-8, e.g. "
                "`iconv -f utf-16 -t utf-8 in.csv > out.csv`")  # fmt: skip
    return UTF8_HINT


def _decode_error(path: Path) -> DataError:
    with path.open("rb") as f:
        hint = utf8_hint(f.read(2))
    found = first_undecodable(path)
    if found is None:  # pandas failed but a plain decode does not: report without a position
        return DataError("the file is not valid UTF-8", path=path, hint=hint)
    line, column, bad = found
    return DataError(f"byte 0x{bad.hex()} is not UTF-8", path=path, line=line, column=column, hint=hint)
