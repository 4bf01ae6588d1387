"""Training checkpoints without pickle: each checkpoint is a folder of ``state.safetensors`` (every tensor of
Lightning's checkpoint dict) and ``state.json`` (everything else), written atomically; read back without torch.load.

Lightning hands a checkpoint as a nested dict: the model's and the optimizer's state, the loops' progress, the
callbacks' states, the learning-rate schedules. :func:`write_checkpoint` stores each tensor in the safetensors file
under its path in that dict (``state_dict/model.1.weight``, ``optimizer_states/0/state/0/exp_avg``) and leaves in
the JSON a ``{"$tensor": path}`` in its place. Values JSON has no word for are written explicitly and come back as
what Lightning and ``torch.optim`` expect: ``{"$tuple": [...]}`` (Adam's betas), ``{"$items": [[k, v], ...]}`` (a
dict keyed by numbers, as an optimizer's per-parameter state), ``{"$float": "inf"}``, ``{"$path": "..."}``,
``{"$ndarray": path}``; a NumPy scalar becomes the Python number and an enum its value. Anything else is refused
when saving, naming where it sits, rather than pickled.

The folder is written beside its final name and renamed into place (the previous one moved aside first and
removed after), so a process killed while saving leaves the previous checkpoint whole: :func:`find_checkpoint`
puts it back if the kill fell between the two renames. A file that is not such a folder (an older rnnlab's pickled
``last.ckpt``, a cut or edited ``state.json``) is a :class:`CheckpointError` naming it and saying why.

>>> import tempfile, torch
>>> with tempfile.TemporaryDirectory() as d:
...     write_checkpoint({"epoch": 2, "betas": (0.9, 0.999), "w": torch.ones(2)}, d + "/last.ckpt")
...     back = read_checkpoint(d + "/last.ckpt")
...     files = sorted(p.name for p in Path(d, "last.ckpt").iterdir())
>>> files, back["epoch"], back["betas"], back["w"].tolist()
(['state.json', 'state.safetensors'], 2, (0.9, 0.999), [1.0, 1.0])
"""

from __future__ import annotations

import enum
import json
import math
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import torch
from lightning.fabric.plugins.io.checkpoint_io import CheckpointIO
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from rnnlab.errors import ModelFileError

FORMAT = "rnnlab-training-checkpoint"
FORMAT_VERSION = 1
TENSORS = "state.safetensors"
STATE = "state.json"
_AGAIN = "delete it (or the run's folder) and start the run again without --resume (resume=False in Python)"


class CheckpointError(ModelFileError):
    """A checkpoint rnnlab cannot read; ``reason`` says why, ``path`` names it."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path} is not a training checkpoint rnnlab can read: {reason}; {_AGAIN}")


class SafetensorsCheckpointIO(CheckpointIO):
    """Lightning's checkpoint plugin writing :func:`write_checkpoint` folders instead of pickles:
    ``L.Trainer(plugins=[SafetensorsCheckpointIO()])``."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError("SafetensorsCheckpointIO takes no storage_options")
        write_checkpoint(checkpoint, path)

    def load_checkpoint(self, path: Any, map_location: Any | None = None, weights_only: bool | None = None) -> dict:
        # always tensors on the CPU and plain values (nothing to unpickle); Lightning moves them where they belong
        return read_checkpoint(path)

    def remove_checkpoint(self, path: Any) -> None:
        _remove(Path(path))


def write_checkpoint(checkpoint: Mapping[str, Any], path: str | Path) -> None:
    """Write ``checkpoint`` as the folder ``path`` (``state.safetensors`` + ``state.json``), replacing the one there
    in one rename."""
    path = Path(path)
    tensors: dict[str, torch.Tensor] = {}
    state = _encode(dict(checkpoint), (), tensors)
    token = uuid.uuid4().hex
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a process killed while saving
        shutil.rmtree(stale, ignore_errors=True)
    staging = path.parent / f".{path.name}.{token[:12]}.tmp"
    staging.mkdir()
    try:
        save_file(_own_storage(tensors), staging / TENSORS, metadata={"format": FORMAT, "checkpoint_id": token})
        record = {"format": FORMAT, "format_version": FORMAT_VERSION, "checkpoint_id": token, "checkpoint": state}
        (staging / STATE).write_text(json.dumps(record, indent=1, allow_nan=False) + "\n", encoding="utf-8")
        for name in (TENSORS, STATE):
            _fsync(staging / name)
        old = path.parent / f".{path.name}.{token[:12]}.old"
        if path.exists() or path.is_symlink():
            os.replace(path, old)  # a folder cannot be renamed over another: move the previous one aside first
        os.replace(staging, path)
        _fsync(path.parent, directory=True)
        _remove(old)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def find_checkpoint(path: str | Path) -> Path | None:
    """``path`` if a checkpoint is there (checked: see :func:`check_checkpoint`), after putting back the previous
    one if a save was killed between its two renames; None when there is none."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        aside = [p for p in path.parent.glob(f".{path.name}.*.old") if _complete(p)]
        if not aside:
            return None
        os.replace(max(aside, key=lambda p: p.stat().st_mtime), path)
    check_checkpoint(path)
    return path


def check_checkpoint(path: str | Path) -> dict[str, Any]:
    """The JSON record of the checkpoint folder ``path``, after checking that both files are there, are this format
    and belong together (the tensors' contents are read by :func:`read_checkpoint`)."""
    path = Path(path)
    if path.is_file():
        raise _not_ours(path, _what_file(path))
    if not path.is_dir():
        raise _not_ours(path, "nothing is there")
    for name in (STATE, TENSORS):
        if (path / name).is_symlink() or not (path / name).is_file():
            why = "is a symlink" if (path / name).is_symlink() else "is missing (a save cut short, or copied in part?)"
            raise _not_ours(path, f"its {name} {why}")
    try:
        record = json.loads((path / STATE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _not_ours(path, f"its {STATE} does not parse ({exc})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT or not isinstance(record.get("checkpoint"), dict):
        raise _not_ours(path, f"its {STATE} is not an rnnlab training checkpoint (edited?)")
    version = record.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise _not_ours(path, f"format_version {version!r}: this rnnlab reads up to {FORMAT_VERSION} (upgrade rnnlab)")
    try:
        with safe_open(path / TENSORS, framework="pt") as f:
            stored = f.metadata() or {}
    except Exception as exc:  # safetensors raises its own error type for a cut or foreign file
        raise _not_ours(path, f"its {TENSORS} is damaged ({exc})") from None
    if stored.get("checkpoint_id") != record.get("checkpoint_id"):
        raise _not_ours(path, f"its {TENSORS} and {STATE} come from different saves")
    return record


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint dict written by :func:`write_checkpoint` at ``path``, tensors on the CPU."""
    path = Path(path)
    record = check_checkpoint(path)
    try:
        tensors = load_file(path / TENSORS, device="cpu")
    except Exception as exc:
        raise _not_ours(path, f"its {TENSORS} is damaged ({exc})") from None
    used: set[str] = set()
    try:
        checkpoint = _decode(record["checkpoint"], tensors, used)
    except (KeyError, TypeError, ValueError) as exc:
        raise _not_ours(path, f"its {STATE} does not match {TENSORS} (edited?): {exc}") from None
    if used != set(tensors):
        raise _not_ours(path, f"{TENSORS} holds tensors {STATE} does not name: {sorted(set(tensors) - used)[:3]}")
    return checkpoint


def _encode(value: Any, at: tuple[str, ...], tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, torch.Tensor | np.ndarray):
        key = _key(at, tensors)
        tensors[key] = value.detach().cpu() if isinstance(value, torch.Tensor) else torch.from_numpy(value.copy())
        return {"$tensor" if isinstance(value, torch.Tensor) else "$ndarray": key}
    if isinstance(value, enum.Enum):
        return _encode(value.value, at, tensors)
    if isinstance(value, np.generic):
        return _encode(value.item(), at, tensors)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, PurePath):
        return {"$path": str(value)}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v, (*at, str(i)), tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, (*at, str(i)), tensors) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _encode(v, (*at, k), tensors) for k, v in value.items()}
        return {"$items": [[_encode(k, at, {}), _encode(v, (*at, str(k)), tensors)] for k, v in value.items()]}
    where = "/".join(at) or "the checkpoint"
    raise TypeError(
        f"checkpoint entry {where} is a {type(value).__name__}, which a safetensors + JSON checkpoint cannot hold "
        "(rnnlab writes no pickles); keep tensors, numbers, strings, lists, tuples and dicts in callback states"
    )


def _decode(value: Any, tensors: Mapping[str, torch.Tensor], used: set[str]) -> Any:
    if isinstance(value, list):
        return [_decode(v, tensors, used) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag in ("$tensor", "$ndarray"):
            used.add(inner)
            return tensors[inner] if tag == "$tensor" else tensors[inner].numpy()
        if tag == "$tuple":
            return tuple(_decode(v, tensors, used) for v in inner)
        if tag == "$items":
            return {_decode(k, tensors, used): _decode(v, tensors, used) for k, v in inner}
        if tag == "$float":
            if inner not in ("nan", "inf", "-inf"):
                raise ValueError(f"$float {inner!r} is not nan, inf or -inf")
            return float(inner)
        if tag == "$path":
            return Path(inner)
    if any(k.startswith("$") for k in value):
        raise ValueError(f"unknown entry {sorted(value)[0]!r}")
    return {k: _decode(v, tensors, used) for k, v in value.items()}


def _key(at: tuple[str, ...], taken: Mapping[str, Any]) -> str:
    """The tensor's path in the checkpoint dict, as a JSON pointer (``~`` and ``/`` in a name escaped)."""
    key = "/".join(part.replace("~", "~0").replace("/", "~1") for part in at)
    n = 1
    while key in taken:  # only when keys differ by type alone ({0: ..., "0": ...})
        key, n = f"{key}#{n}", n + 1
    return key


def _own_storage(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Tensors safetensors can write: contiguous, none sharing memory with another (tied weights are copied)."""
    seen: set[int] = set()
    out = {}
    for key, t in tensors.items():
        storage = t.untyped_storage()
        if storage.data_ptr() in seen or not t.is_contiguous() or storage.nbytes() != t.nbytes:
            t = t.clone(memory_format=torch.contiguous_format)
        seen.add(t.untyped_storage().data_ptr())
        out[key] = t
    return out


def _complete(folder: Path) -> bool:
    return (folder / STATE).is_file() and (folder / TENSORS).is_file()


def _fsync(path: Path, *, directory: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    except OSError:  # e.g. directories cannot be opened on Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _what_file(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        return "a pickled PyTorch/Lightning checkpoint (an older rnnlab wrote these); rnnlab no longer loads pickles"
    return "a file, where a checkpoint is a folder of state.safetensors and state.json"


def _not_ours(path: Path, why: str) -> CheckpointError:
    return CheckpointError(path, why)
