"""The exceptions rnnlab raises: each says what was wrong, what was received and how to fix it."""

from __future__ import annotations

from pathlib import Path


class RnnlabError(Exception):
    """Base class of every error rnnlab raises on purpose."""


class ConfigError(RnnlabError, ValueError):
    """A configuration (model, training, file header) is invalid."""


class ModelFileError(RnnlabError):
    """A saved model directory cannot be read: missing file, newer format, mismatched shapes."""


class DataWarning(UserWarning):
    """Input that is accepted but is probably a mistake (a value far outside all the others): the command line
    prints it as one ``warning:`` line naming the file, row and column."""


class DataError(RnnlabError, ValueError):
    """Bad input data, located by file, line and column when known.

    >>> str(DataError("expected 4 columns, got 3", path="eng.train", line=12, hint="use spaces"))
    'eng.train:12: expected 4 columns, got 3 (hint: use spaces)'
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: int | str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        self.hint = hint
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
            if self.column is not None:
                where += f" (column {self.column})" if self.line is None else f":{self.column}"
            where += ": "
        text = where + self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text
