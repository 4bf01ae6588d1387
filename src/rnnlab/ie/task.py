"""The real-estate extractor's entry in the task registry, and how its models are told from taggers (a tagger
network whose training record says ``realestate-extraction``), without PyTorch: :mod:`rnnlab.tasks`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rnnlab.tasks import Task, register_task

EXTRACTION = "realestate-extraction"  # the task recorded in an extractor's tagging.json
DEFAULT_MODEL = Path(__file__).with_name("default_model")  # the extractor shipped with rnnlab
NAMES = ("default", "rules")  # what the extractor takes besides a directory


def is_named(model: object) -> bool:
    """Whether ``model`` names the shipped extractor or the rules rather than a directory (a directory wins)."""
    return str(model) in NAMES and not Path(str(model)).exists()


def is_extractor(directory: Path, header: dict[str, Any]) -> bool:
    tagging = Path(directory) / "tagging.json"
    try:
        training = json.loads(tagging.read_text(encoding="utf-8")).get("training", {}) if tagging.is_file() else {}
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return False  # the tagger's loader names the damaged file
    return isinstance(training, dict) and training.get("task") == EXTRACTION


def not_an_extractor(directory: Path, header: dict[str, Any]) -> bool:
    return not is_extractor(directory, header)


TASK = register_task(Task(
    name="extractor", kind="TaggerNet", loader="rnnlab.ie.extractor:resolve", command="rnnlab extract",
    served="rnnlab.serving.tasks:ServedExtractor", claims="rnnlab.ie.task:is_extractor",
    export="rnnlab.export.to_onnx:extractor_task_graph",
))  # fmt: skip
