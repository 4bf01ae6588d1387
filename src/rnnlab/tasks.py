"""Which task a saved model directory holds (tagger, classifier, forecaster, extractor), read off its files."""

from __future__ import annotations

import json
from pathlib import Path

from rnnlab.errors import ModelFileError

TASKS = ("tagger", "classifier", "forecaster", "extractor")


def detect_task(directory: str | Path) -> str:
    """The task of a saved model directory (or the extractor's ``rules`` / ``default`` names)."""
    from rnnlab.ie.extractor import TASK, is_named

    if is_named(directory):
        return "extractor"
    path = Path(directory) / "config.json"
    if not path.is_file():
        raise ModelFileError(f"{path} is missing; give the directory of a model saved by rnnlab")
    try:
        kind = json.loads(path.read_text(encoding="utf-8")).get("kind")
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg})") from None
    if kind == "TaggerNet":
        tagging = Path(directory) / "tagging.json"
        training = json.loads(tagging.read_text(encoding="utf-8")).get("training", {}) if tagging.is_file() else {}
        return "extractor" if training.get("task") == TASK else "tagger"
    found = {"TextClassifierNet": "classifier", "ForecastNet": "forecaster"}.get(kind)
    if found is None:
        raise ModelFileError(f"{path}: a {kind!r} is a layer, not a task model ({', '.join(TASKS)})")
    return found
