"""The task registry: which tasks rnnlab has, how each is recognised in a saved directory, loaded, commanded and
served. The CLI, the service, the exporter and :func:`rnnlab.load` ask it instead of matching strings.

Each task package registers itself in a small module without PyTorch (``rnnlab/<task>/task.py``), naming its
classes by import path, so that ``rnnlab --help`` and :func:`detect_task` stay fast and a task's code is imported
only when one of its models is used.

>>> sorted(registry())
['classifier', 'extractor', 'forecaster', 'tagger']
>>> registry()["classifier"].command
'rnnlab classify'
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from pathlib import Path
from typing import Any

from rnnlab.errors import ModelFileError

TASKS = ("tagger", "classifier", "forecaster", "extractor")  # the built-in ones, in the order commands list them
_PACKAGES = ("rnnlab.tag.task", "rnnlab.classify.task", "rnnlab.forecast.task", "rnnlab.ie.task")


@dataclasses.dataclass(frozen=True)
class Task:
    """One task: ``kind`` (the network's kind in config.json), ``loader`` ("module:callable" taking the directory),
    ``command`` (its CLI family), ``served`` ("module:Class", the service's adapter), ``export``
    ("module:function", its ONNX graph with example inputs); ``claims`` ("module:function(directory, header) ->
    bool") tells two tasks apart that share a network kind."""

    name: str
    kind: str
    loader: str
    command: str
    served: str
    claims: str | None = None
    export: str | None = None  # "module:function(model_dir, data, source) -> TaskGraph": its ONNX graph

    def exporter(self) -> Any:
        return _resolve(self.export) if self.export else None

    def served_class(self) -> Any:
        return _resolve(self.served)

    def load(self, directory: str | Path) -> Any:
        """The task object of a saved directory (tokenizer, scaler, labels included), ready to predict."""
        return _resolve(self.loader)(directory)

    def owns(self, directory: Path, header: dict[str, Any]) -> bool:
        return header.get("kind") == self.kind and (self.claims is None or _resolve(self.claims)(directory, header))


_REGISTRY: dict[str, Task] = {}


def register_task(task: Task) -> Task:
    """Make ``task`` known to :func:`detect_task`, :func:`load`, the CLI, the service and the exporter."""
    if task.name in _REGISTRY and _REGISTRY[task.name] != task:
        raise ValueError(f"task {task.name!r} is already registered")
    _REGISTRY[task.name] = task
    return task


def registry() -> dict[str, Task]:
    """Every registered task, by name (the built-in ones registered on first use)."""
    for module in _PACKAGES:
        importlib.import_module(module)
    return dict(_REGISTRY)


def _resolve(path: str) -> Any:
    module, _, name = path.partition(":")
    found: Any = importlib.import_module(module)
    for part in name.split("."):
        found = getattr(found, part)
    return found


def _header(directory: Path) -> dict[str, Any]:
    path = directory / "config.json"
    if not path.is_file():
        raise ModelFileError(f"{path} is missing; give the directory of a model saved by rnnlab")
    try:
        header = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg})") from None
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{path} is not UTF-8 text ({exc.reason}); save the model again") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path} holds no JSON object; it was not written by rnnlab.save")
    return header


def find_task(directory: str | Path) -> Task | None:
    """The task a saved directory holds (or the extractor's ``default`` / ``rules`` names); None for a bare network
    (a layer, a Sequential)."""
    from rnnlab.hub import locate
    from rnnlab.ie.task import is_named

    tasks = registry()
    if is_named(directory):
        return tasks["extractor"]
    directory = Path(locate(directory))
    header = _header(directory)
    return next((t for t in tasks.values() if t.owns(directory, header)), None)


def detect_task(directory: str | Path) -> str:
    """The name of the task a saved model directory holds."""
    task = find_task(directory)
    if task is None:
        kind = _header(Path(directory)).get("kind")
        raise ModelFileError(f"{Path(directory) / 'config.json'}: a {kind!r} is a network, not a task model "
                             f"({', '.join(registry())}); load it with rnnlab.load")  # fmt: skip
    return task.name


def expect(directory: str | Path, *names: str) -> None:
    """Refuse a directory holding another task than ``names``, naming the command that takes it (a directory
    without config.json is left to the loader, which names what is missing)."""
    from rnnlab.hub import locate
    from rnnlab.ie.task import is_named

    given = directory  # named as the user wrote it: 'pos-en', not the package's folder
    if is_named(given) and names[0] != "extractor":  # 'default' / 'rules' name only the extractor
        raise ModelFileError(f"{given} names the shipped real-estate extractor, not a {names[0]}: use `rnnlab "
                             f"extract predict --model {given}`; `rnnlab models` lists the others")  # fmt: skip
    directory = locate(directory)
    if not (Path(directory) / "config.json").is_file():
        return
    task = find_task(directory)
    if task is not None and task.name not in names:
        article = "an" if task.name[0] in "aeiou" else "a"
        raise ModelFileError(f"{given} holds {article} {task.name}, not a {names[0]}: use `{task.command} predict "
                             f"--model {given}` (or its other commands) with it")  # fmt: skip


def load(directory: str | Path, *, device: str | Any = "cpu") -> Any:
    """``rnnlab.load``: the task object of a task's directory (a Tagger, TextClassifier, Forecaster or Extractor,
    with its vocabularies, labels and scaler; on the CPU), else the network or Sequential that
    :func:`rnnlab.io.load` rebuilds, on ``device``."""
    from rnnlab.hub import locate
    from rnnlab.ie.task import is_named

    directory = locate(directory)  # a shipped model's name: its directory in the package
    if is_named(directory) or (Path(directory) / "config.json").is_file():
        task = find_task(directory)
        if task is not None:
            return task.load(directory)
    from rnnlab import io

    return io.load(directory, device=device)
