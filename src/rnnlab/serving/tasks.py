"""Saved models behind one interface for the service: which task a directory holds, and batched predictions.

A :class:`Served` model turns a batch of request items (texts, or CSV texts for a forecaster) into JSON-ready
results, and describes itself (task, config, metrics recorded at training) for ``GET /v1/models``.
"""

from __future__ import annotations

import io as _io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.errors import DataError
from rnnlab.tasks import detect_task, registry


@dataclass(frozen=True)
class Limits:
    """What one request may ask: characters per text, items per request, rows per CSV, bytes of body and the
    time its body may take to arrive."""

    max_chars: int = 20_000
    max_batch: int = 64
    max_csv_rows: int = 100_000
    max_body_bytes: int = 8 * 1024 * 1024  # counted as they arrive, Content-Length or not (413 beyond)
    body_timeout_s: float = 30.0  # for the whole body, from its first byte read (408 beyond)


class LimitError(DataError):
    """A request over a :class:`Limits` bound (answered 413)."""


class Served:
    """One loaded model: ``predict(items)`` over a batch, ``describe()`` for the model list."""

    task: str
    field: str = "texts"  # the request field its items come from

    def __init__(self, name: str, directory: str | Path, limits: Limits) -> None:
        self.name, self.directory, self.limits = name, str(directory), limits

    model_max_chars: int | None = None  # what the model itself reads at most, whatever --max-chars says

    def check(self, items: list[str]) -> None:
        """Raise :class:`LimitError` for an item over the limits, naming it."""
        cap = self.limits.max_chars if self.model_max_chars is None else min(self.limits.max_chars,
                                                                                self.model_max_chars)  # fmt: skip
        for i, text in enumerate(items):
            if len(text) > cap:
                hint = "split it, or start the service with a larger --max-chars"
                if cap < self.limits.max_chars:
                    hint = f"split it: the {self.task} reads at most {cap:,} characters per text, whatever --max-chars"
                raise LimitError(f"text {i + 1} has {len(text)} characters; the limit is {cap}", hint=hint)

    def predict(self, items: list[str]) -> list[Any]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "task": self.task, "directory": self.directory, "input": self.field,
                "config": self.config(), "metrics": self.metrics()}  # fmt: skip

    def config(self) -> dict[str, Any]:
        return {}

    def metrics(self) -> dict[str, Any]:
        return {}


class ServedTagger(Served):
    task = "tagger"

    def __init__(self, name: str, directory: str | Path, limits: Limits) -> None:
        super().__init__(name, directory, limits)
        from rnnlab.tag.tagger import Tagger

        self.tagger = Tagger.load(directory)

    def predict(self, items: list[str]) -> list[Any]:
        return self.tagger.predict(items)

    def config(self) -> dict[str, Any]:
        return {**self.tagger.config.to_dict(), "scheme": self.tagger.scheme}

    def metrics(self) -> dict[str, Any]:
        return self.tagger.info


class ServedClassifier(Served):
    task = "classifier"

    def __init__(self, name: str, directory: str | Path, limits: Limits) -> None:
        super().__init__(name, directory, limits)
        from rnnlab.classify.classifier import TextClassifier

        self.classifier = TextClassifier.load(directory)
        c = self.classifier.config  # models with word weights answer which words decided (the page draws them)
        self.explains = c.arch == "bilstm-pool" and c.pooling != "mean"

    def predict(self, items: list[str]) -> list[Any]:
        return self.classifier.predict_records(items, explain=self.explains)

    def config(self) -> dict[str, Any]:
        return {**self.classifier.config.to_dict(), "labels": list(self.classifier.labels)}

    def metrics(self) -> dict[str, Any]:
        return self.classifier.info


class ServedExtractor(Served):
    task = "extractor"

    def __init__(self, name: str, directory: str | Path, limits: Limits) -> None:
        super().__init__(name, directory, limits)
        from rnnlab.ie.extractor import MAX_CHARS, resolve

        self.extractor = resolve(directory)
        self.model_max_chars = MAX_CHARS  # an ad of more is refused by the extractor: answered 413 here, as the rest

    def predict(self, items: list[str]) -> list[Any]:
        return [{"text": t, "template": tpl} for t, tpl in zip(items, self.extractor.extract(items), strict=True)]

    def config(self) -> dict[str, Any]:
        tagger = self.extractor.tagger
        from rnnlab.ie.template import FIELDS

        return {"recogniser": self.extractor.kind, "fields": list(FIELDS),
                **({} if tagger is None else tagger.config.to_dict())}  # fmt: skip

    def metrics(self) -> dict[str, Any]:
        return {} if self.extractor.tagger is None else self.extractor.tagger.info


_LINE_BREAK = re.compile(r"\r\n?|\n")


class ServedForecaster(Served):
    """Items are CSV texts with the columns the forecaster was fitted on; results are history + forecast."""

    task = "forecaster"
    field = "csv"

    def __init__(self, name: str, directory: str | Path, limits: Limits) -> None:
        super().__init__(name, directory, limits)
        from rnnlab.forecast.forecaster import Forecaster

        self.forecaster = Forecaster.load(directory)

    def check(self, items: list[str]) -> None:
        for i, text in enumerate(items):
            rows = len(_LINE_BREAK.findall(text))  # as pandas' reader splits rows: \n, \r\n or a lone \r
            if rows > self.limits.max_csv_rows:
                raise LimitError(f"CSV {i + 1} has about {rows} rows; the limit is {self.limits.max_csv_rows}",
                                 hint="send the last rows, or start the service with a larger --max-rows")  # fmt: skip

    def predict(self, items: list[str]) -> list[Any]:
        return [self._one(text) for text in items]

    def _one(self, text: str) -> dict[str, Any]:
        import pandas as pd

        from rnnlab.data.series import read_like
        from rnnlab.forecast.frames import forecast_record

        settings = self.forecaster.data_settings
        try:
            frame = pd.read_csv(_io.StringIO(text))
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise DataError(f"the CSV cannot be read: {exc}", path="<csv>") from None
        data = read_like(frame, settings, future_rows=True)
        short = [s.id for s in data.series if len(s.values) < self.forecaster.config.input_width]
        if short:
            raise DataError(f"series {short[:3]} have fewer rows than the {self.forecaster.config.input_width} "
                            "the model reads", path="<csv>", hint="send a longer history")  # fmt: skip
        pred, bands = self.forecaster.predict_with_quantiles([s.values for s in data.series],
                                                             [s.id for s in data.series])  # fmt: skip
        # the same answer as `forecast predict --output f.json`
        return forecast_record(data, pred, settings, quantiles=bands, levels=self.forecaster.config.quantiles)

    def config(self) -> dict[str, Any]:
        return {**self.forecaster.config.to_dict(), "data": self.forecaster.data_settings}

    def metrics(self) -> dict[str, Any]:
        return self.forecaster.info


def load_served(name: str, directory: str | Path, limits: Limits | None = None) -> Served:
    """Load ``directory`` as the service's model ``name``, with the adapter its task registers."""
    task = registry()[detect_task(directory)]
    return task.served_class()(name, directory, limits or Limits())
