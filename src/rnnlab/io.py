"""Saved models: a directory with config.json + model.safetensors (+ assets as JSON); versioned, strict, no pickle.

>>> import tempfile, torch
>>> from rnnlab.nn import GRU
>>> layer = GRU(3, 4, bidirectional=True)
>>> with tempfile.TemporaryDirectory() as d:
...     _ = save(layer, d + "/gru")
...     again = load(d + "/gru")
>>> x = torch.randn(2, 5, 3)
>>> torch.equal(layer.eval()(x), again(x))
True
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from rnnlab.config import Config
from rnnlab.errors import ConfigError, ModelFileError
from rnnlab.nn.layers import LAYERS

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


class Saveable(Protocol):
    """What :func:`save` needs: a ``config`` (a :class:`Config` with a ``kind``) and
    ``from_config``; models with vocabularies or scalers also define ``get_assets()``
    (name -> JSON value) and ``load_assets(assets)``."""

    config: Config

    def state_dict(self) -> Mapping[str, torch.Tensor]: ...


class AssetsMixin:
    """For task networks whose vocabularies / label names / settings travel beside the weights as JSON:
    ``self.assets`` (name -> JSON value) is written by :func:`save` and restored by :func:`load`."""

    assets: dict[str, Any]

    def get_assets(self) -> dict[str, Any]:
        return dict(self.assets)

    def load_assets(self, assets: dict[str, Any]) -> None:
        self.assets = dict(assets)


_REGISTRY: dict[str, type[nn.Module]] = dict(LAYERS)


def register_model(cls: type[nn.Module]) -> type[nn.Module]:
    """Class decorator: make a model class loadable by :func:`load` under its config's kind."""
    kind = cls.config_class.kind  # type: ignore[attr-defined]
    if kind in _REGISTRY and _REGISTRY[kind] is not cls:
        raise ValueError(f"model kind {kind!r} is already registered by {_REGISTRY[kind].__name__}")
    _REGISTRY[kind] = cls
    return cls


def _version() -> str:
    from rnnlab import __version__

    return __version__


def save(model: nn.Module, directory: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``model`` to ``directory`` (created); refuses to replace a saved model unless ``overwrite``."""
    directory = Path(directory)
    config = getattr(model, "config", None)
    if not isinstance(config, Config) or type(model) not in _REGISTRY.values():
        raise TypeError(
            f"cannot save a {type(model).__name__}: rnnlab saves registered models with a Config "
            f"(known kinds: {sorted(_REGISTRY)})"
        )
    if directory.exists() and not directory.is_dir():
        raise FileExistsError(f"{directory} exists and is not a directory; choose another path")
    if not overwrite and directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"{directory} is not empty; pass overwrite=True (CLI: --overwrite) to replace it")
    assets: dict[str, Any] = model.get_assets() if hasattr(model, "get_assets") else {}
    for name in assets:
        _asset_name(name, directory)
    directory.mkdir(parents=True, exist_ok=True)
    header = {
        "format_version": FORMAT_VERSION,
        "kind": config.kind,
        "rnnlab_version": _version(),
        "torch_version": torch.__version__.split("+")[0],
        "config": config.to_dict(),
        "assets": sorted(assets),
    }
    # clone: safetensors refuses tensors that share memory (tied weights)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    _atomic_write(directory / WEIGHTS_FILE, lambda p: save_file(tensors, p, metadata={"format": "pt"}))
    for name, value in assets.items():
        _atomic_write(directory / f"{name}.json", lambda p, v=value: _write_json(p, v))
    _atomic_write(directory / CONFIG_FILE, lambda p: _write_json(p, header))
    return directory


def load(directory: str | Path, *, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model saved by :func:`save`, in eval mode, on ``device``."""
    directory = Path(directory)
    header = _read_header(directory)
    kind = header["kind"]
    cls = _REGISTRY[kind]
    try:
        config = cls.config_class.from_dict(header["config"])  # type: ignore[attr-defined]
    except ConfigError as exc:
        raise ModelFileError(f"{directory / CONFIG_FILE}: {exc}") from None
    weights = _inside(directory, directory / WEIGHTS_FILE)
    _check_shapes_before_building(cls, config, weights)
    model = cls.from_config(config)  # type: ignore[attr-defined]
    assets = {}
    for name in header.get("assets", []):
        path = _inside(directory, directory / f"{_asset_name(name, directory)}.json")
        if not path.is_file():
            raise ModelFileError(f"{path} is missing; config.json lists it as an asset of this model")
        try:
            assets[name] = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelFileError(f"{path} is not valid JSON ({exc}); save the model again") from None
    if assets:
        model.load_assets(assets)
    _load_weights(model, weights)
    return model.to(device).eval()


def _check_shapes_before_building(cls: type[nn.Module], config: Config, path: Path) -> None:
    """Compare the tensors config.json describes (the model built on the meta device: no memory) with the
    safetensors header (no tensor read) before anything is allocated: an edited config ("hidden_size": 10**9)
    is a one-line error, not 13 GB."""
    try:
        with torch.device("meta"):
            meta = cls.from_config(config)  # type: ignore[attr-defined]
        expected = {k: tuple(v.shape) for k, v in meta.state_dict().items()}
    except (RuntimeError, ValueError, OverflowError) as exc:
        if re.search(r"overflow|size|greater than|negative", str(exc), re.I):  # sizes no machine can hold
            raise ModelFileError(f"{path.parent / CONFIG_FILE} describes a model that cannot be built: "
                                 f"{str(exc)[:200]}; was the file edited? save the model again") from None  # fmt: skip
        return  # a model that cannot be built on the meta device: _load_weights still checks after building
    except Exception:  # the meta device is an optimisation here, not a requirement
        return
    if not path.is_file():
        raise ModelFileError(f"{path} is missing; the model directory is incomplete")
    try:
        with safe_open(path, "pt") as f:
            found = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except (SafetensorError, OSError) as exc:
        raise ModelFileError(f"{path} is not a readable safetensors file: {exc}") from None
    _check_shapes(path, expected, found)


_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def _asset_name(name: object, directory: Path) -> str:
    """An asset's name: a plain file name inside the model directory ("words", "labels"), never a path."""
    if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name) or ".." in name:
        raise ModelFileError(f"{directory / CONFIG_FILE}: asset name {name!r} is not a plain name (letters, digits, "
                             "'_', '-', '.'); a model's files stay inside its directory")  # fmt: skip
    return name


def _inside(directory: Path, path: Path) -> Path:
    """``path``, refused when it (or a symlink on the way) leads out of ``directory``."""
    if not path.resolve().is_relative_to(directory.resolve()):
        raise ModelFileError(f"{path} leads outside {directory} (a symlink?); a model's files stay inside its "
                             "directory: copy the file in instead")  # fmt: skip
    return path


def load_task(directory: str | Path, cls: type[nn.Module], required: set[str], owner: str) -> Any:
    """:func:`load`, checking that ``directory`` holds a ``cls`` with the ``required`` assets saved by ``owner``."""
    net = load(directory)
    if not isinstance(net, cls):
        raise ModelFileError(f"{directory} holds a {type(net).__name__}, not a {cls.__name__}")
    missing = required - set(getattr(net, "assets", {}))
    if missing:
        raise ModelFileError(f"{directory} lacks {sorted(missing)}.json; was it saved by {owner}.save?")
    return net


def _read_header(directory: Path) -> dict[str, Any]:
    path = directory / CONFIG_FILE
    if not directory.is_dir():
        raise ModelFileError(f"{directory} is not a directory; a saved rnnlab model is a directory")
    if not path.is_file():
        raise ModelFileError(f"{path} is missing; is {directory} a model saved by rnnlab.save?")
    try:
        header = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg})") from None
    missing = [k for k in ("format_version", "kind", "config") if k not in header]
    if missing:
        raise ModelFileError(f"{path} lacks the key(s) {missing}; it was not written by rnnlab.save")
    version = header["format_version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: format_version must be a whole number (1 for this rnnlab), received "
                             f"{version!r}; was the file edited? save the model again")  # fmt: skip
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has format_version {version!r} (written by rnnlab "
            f"{header.get('rnnlab_version', '?')}); this rnnlab {_version()} reads format "
            f"<= {FORMAT_VERSION}: upgrade rnnlab to load it"
        )
    if header["kind"] not in _REGISTRY:
        raise ModelFileError(
            f"{path}: unknown model kind {header['kind']!r}; known kinds: {sorted(_REGISTRY)} "
            "(a task model may need its module imported first)"
        )
    return header


def _load_weights(model: nn.Module, path: Path) -> None:
    if not path.is_file():
        raise ModelFileError(f"{path} is missing; the model directory is incomplete")
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError) as exc:
        raise ModelFileError(f"{path} is not a readable safetensors file: {exc}") from None
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    _check_shapes(path, expected, {k: tuple(v.shape) for k, v in tensors.items()})
    model.load_state_dict(tensors, strict=True)


def _check_shapes(path: Path, expected: Mapping[str, tuple[int, ...]], found: Mapping[str, tuple[int, ...]]) -> None:
    """Every tensor the model built from config.json has, at its shape, in the weights file, and no other."""
    problems = []
    if missing := sorted(set(expected) - set(found)):
        problems.append(f"missing tensors {missing}")
    if unexpected := sorted(set(found) - set(expected)):
        problems.append(f"unexpected tensors {unexpected}")
    problems += [f"{k} has shape {found[k]} in the file but {expected[k]} in the model built from config.json"
                 for k in sorted(set(expected) & set(found)) if found[k] != expected[k]]  # fmt: skip
    if problems:
        raise ModelFileError(f"{path} does not match its config.json: " + "; ".join(problems))


def _write_json(path: str, value: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, sort_keys=True, indent=2, ensure_ascii=False)
        f.write("\n")


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_write(target: Path, write: Callable[[str], None]) -> None:
    """Write to a temporary file beside ``target``, then rename: no half-written model files."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide the model from a service of another user
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
