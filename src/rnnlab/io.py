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

import contextlib
import ctypes
import errno
import functools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

try:
    import fcntl
except ImportError:  # Windows: staging directories are not locked, so stale ones are not removed
    fcntl = None  # type: ignore[assignment]

from rnnlab.cards import CARD_BESIDE_README, CARD_FILE
from rnnlab.config import Config
from rnnlab.errors import ConfigError, ModelFileError
from rnnlab.nn.ensemble import Ensemble
from rnnlab.nn.layers import LAYERS
from rnnlab.nn.stack import Stack, StackConfig

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


_REGISTRY: dict[str, type[nn.Module]] = {**LAYERS, "Sequential": Stack}  # type: ignore[dict-item]


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


def check_target(directory: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse, before any work, a directory :func:`save` would refuse: a file, the filesystem root, the current
    directory or one holding it, a non-empty one without ``overwrite``, or one holding folders and no model
    (saving replaces the directory as a whole). The fit commands call it before training."""
    target = Path(directory)
    real = target.resolve()
    if real.parent == real:
        raise FileExistsError(f"{target} is the filesystem root; save the model to a new directory (e.g. ./model)")
    if real.exists() and not real.is_dir():
        raise FileExistsError(f"{target} exists and is not a directory; choose another path")
    from rnnlab.hub import model_home

    if (shipped := model_home(real)) is not None:
        raise FileExistsError(f"{target} is inside the models shipped with rnnlab ({shipped}); save to a directory "
                              "of your own (build_models.py --install rebuilds the shipped ones)")  # fmt: skip
    if real.exists() and real in (Path.cwd(), *Path.cwd().parents):
        raise FileExistsError(f"{target} is the current directory (or holds it) and cannot be replaced; "
                              "save to a new directory")  # fmt: skip
    if not overwrite and real.exists() and any(real.iterdir()):
        raise FileExistsError(f"{target} is not empty; pass overwrite=True (CLI: --overwrite) to replace it")
    if real.is_dir():
        _foreign_entries(real)  # refuses folders in a directory that holds no model
    return target


def save(
    model: nn.Module,
    directory: str | Path,
    *,
    overwrite: bool = False,
    files: Mapping[str, Any] | None = None,
    card: str | None = None,
    half: bool = False,
) -> Path:
    """Write ``model`` to ``directory`` (created); refuses to replace a saved model unless ``overwrite``.

    The whole directory is written beside the target (``.<name>.tmp-*``), its files synced, then swapped in
    with one atomic rename: killed at any moment, ``directory`` holds the old model or the new one, complete,
    never a mix. ``files``: more JSON files of the model (name -> value, e.g. a forecaster's scaler), written
    with it. ``card``: the model card (:mod:`rnnlab.cards`), written as README.md (MODEL_CARD.md when the directory
    holds a README.md of the user's). Replacing a directory keeps the files in it that are not part of a saved model
    (a user's notes). ``half``: floating-point weights stored as float16 (half the size; loaded back as float32,
    the network's own dtype) for shipped models whose measured cost allows it.
    """
    target = Path(directory)
    config = StackConfig.describe(model) if type(model) is nn.Sequential else getattr(model, "config", None)
    known = type(model) in _REGISTRY.values() or type(model) is nn.Sequential or isinstance(model, Ensemble)
    if not isinstance(config, Config) or not known:
        raise TypeError(
            f"cannot save a {type(model).__name__}: rnnlab saves registered models with a Config "
            f"(known kinds: {sorted(_REGISTRY)}) and torch.nn.Sequential stacks of rnnlab's and torch's layers"
        )
    real = target.resolve()  # a symlink: replace what it points to, keep the link
    _remove_stale(real)
    check_target(target, overwrite=overwrite)
    assets: dict[str, Any] = model.get_assets() if hasattr(model, "get_assets") else {}
    for name in assets:
        _asset_name(name, target)
    files = dict(files or {})
    for name in files:
        if not _PLAIN_NAME.fullmatch(name) or name in {CONFIG_FILE, WEIGHTS_FILE} | {f"{a}.json" for a in assets}:
            raise ValueError(f"extra model file {name!r} must be a plain file name other than the model's own")
    header = {
        "format_version": FORMAT_VERSION,
        "kind": config.kind,
        "rnnlab_version": _version(),
        "torch_version": torch.__version__.split("+")[0],
        "config": config.to_dict(),
        "assets": sorted(assets),
    }
    if files:
        header["files"] = sorted(files)
    # clone: safetensors refuses tensors that share memory (tied weights)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    if half:
        tensors = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    kept = _foreign_entries(real) if real.is_dir() else []
    if card is not None:
        header["card"] = CARD_BESIDE_README if any(p.name == CARD_FILE for p in kept) else CARD_FILE
    real.parent.mkdir(parents=True, exist_ok=True)
    with _staging(real) as tmp:
        _write_file(tmp / WEIGHTS_FILE, lambda p: save_file(tensors, p, metadata={"format": "pt"}))
        for name, value in [*((f"{a}.json", v) for a, v in assets.items()), *files.items()]:
            _write_file(tmp / name, lambda p, v=value: _write_json(p, v))
        if card is not None:
            _write_file(tmp / header["card"], lambda p: Path(p).write_text(card, encoding="utf-8"))
        _write_file(tmp / CONFIG_FILE, lambda p: _write_json(p, header))  # last: a directory without it is no model
        for entry in kept:
            _carry(entry, tmp / entry.name)
        _fsync(tmp)
        _swap(tmp, real)
    return target


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
    try:
        model = cls.from_config(config)  # type: ignore[attr-defined]
    except ConfigError as exc:  # e.g. a stack's layer that is not one
        raise ModelFileError(f"{directory / CONFIG_FILE}: {exc}") from None
    assets = {}
    for name in json_field(directory / CONFIG_FILE, "assets", header.get("assets", []), list):
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
    except ConfigError as exc:  # a setting no model takes (num_layers 20000): the file was edited
        raise ModelFileError(f"{path.parent / CONFIG_FILE}: {exc}; was the file edited? save the model again") from None
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
    if not all(isinstance(m, cls) for m in (net.members if isinstance(net, Ensemble) else [net])):
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
    _inside(directory, path)  # config.json symlinked out of the directory is refused like every asset
    try:
        header = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg})") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path} holds {_JSON_TYPES.get(type(header), 'something else')} in JSON, not the "
                             "object rnnlab.save writes; was the file edited? save the model again")  # fmt: skip
    missing = [k for k in ("format_version", "kind", "config") if k not in header]
    if missing:
        raise ModelFileError(f"{path} lacks the key(s) {missing}; it was not written by rnnlab.save")
    version = header["format_version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: format_version must be a whole number from 1 to {FORMAT_VERSION}, received "
                             f"{version!r}; was the file edited? save the model again")  # fmt: skip
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has format_version {version!r} (written by rnnlab "
            f"{header.get('rnnlab_version', '?')}); this rnnlab {_version()} reads format "
            f"<= {FORMAT_VERSION}: upgrade rnnlab to load it"
        )
    json_field(path, "kind", header["kind"], str)
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
    state = model.state_dict()
    _check_shapes(path, {k: tuple(v.shape) for k, v in state.items()}, {k: tuple(v.shape) for k, v in tensors.items()})
    kinds = [k for k, t in tensors.items() if t.is_floating_point() != state[k].is_floating_point()]
    if kinds:  # integer bytes read as weights (an edited header's dtype) would answer with garbage
        k = kinds[0]
        raise ModelFileError(f"{path}: tensor {k} is stored as {tensors[k].dtype} where the network holds "
                             f"{state[k].dtype} ({len(kinds)} such tensors); the file is damaged or edited: restore a "
                             "good copy")  # fmt: skip
    broken = sorted(k for k, t in tensors.items() if t.is_floating_point() and not bool(t.isfinite().all()))
    if broken:  # every prediction would be NaN, or one tag everywhere with a NaN score: refuse, whatever the task
        count = sum(int((~tensors[k].isfinite()).sum()) for k in broken)
        raise ModelFileError(f"{path.parent}: the network holds {count} non-finite weight(s) (NaN or inf) in "
                             f"{broken[:3]}{' ...' if len(broken) > 3 else ''} ({path.name}); the model file is "
                             "damaged or its training diverged: retrain it or restore a good copy")  # fmt: skip
    model.load_state_dict(tensors, strict=True)


_JSON_TYPES: dict[type, str] = {dict: "an object", list: "a list", str: "a string", int: "a whole number",
                                float: "a number", bool: "true or false", type(None): "null"}  # fmt: skip


def json_field(path: str | Path, key: str, value: Any, *expected: type) -> Any:
    """``value``, the field ``key`` of the model file ``path``, if it is of an ``expected`` JSON type (``int``
    excludes ``true``/``false``; ``float`` takes whole numbers too); else a one-line :class:`ModelFileError` naming
    the file, the field, what it should hold and what it holds.

    >>> json_field("m/config.json", "assets", "words", list)
    Traceback (most recent call last):
    ...
    rnnlab.errors.ModelFileError: m/config.json: "assets" must be a list, received "words"; was the file edited? \
save the model again
    """
    ok = any(
        isinstance(value, (int, float) if t is float else t) and (t is bool or not isinstance(value, bool))
        for t in expected
    )
    if not ok:
        wanted = " or ".join(_JSON_TYPES[t] for t in expected)
        received = json.dumps(value, ensure_ascii=False, default=repr)
        received = received if len(received) <= 80 else received[:77] + "..."
        raise ModelFileError(f"{path}: {json.dumps(key)} must be {wanted}, received {received}; was the file "
                             "edited? save the model again")  # fmt: skip
    return value


def _check_shapes(path: Path, expected: Mapping[str, tuple[int, ...]], found: Mapping[str, tuple[int, ...]]) -> None:
    """Every tensor the model built from config.json has, at its shape, in the weights file, and no other."""
    problems = []
    if missing := sorted(set(expected) - set(found)):
        problems.append(f"missing tensors {_some(missing)}")
    if unexpected := sorted(set(found) - set(expected)):
        problems.append(f"unexpected tensors {_some(unexpected)}")
    problems += [f"{k} has shape {found[k]} in the file but {expected[k]} in the model built from config.json"
                 for k in sorted(set(expected) & set(found)) if found[k] != expected[k]]  # fmt: skip
    if problems:  # a few of each kind: an edited num_layers would list thousands of tensors
        more = f"; and {len(problems) - 3} more differences" if len(problems) > 3 else ""
        raise ModelFileError(f"{path} does not match its config.json: " + "; ".join(problems[:3]) + more +
                             " (was config.json edited? save the model again)")  # fmt: skip


def _some(names: list[str], shown: int = 5) -> str:
    """The first ``shown`` names, and how many more."""
    return str(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _write_json(path: str, value: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, sort_keys=True, indent=2, ensure_ascii=False)
        f.write("\n")


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# --- writing a model directory atomically ----------------------------------------------------------------------
_TMP, _OLD = ".tmp-", ".old-"  # .<name>.tmp-*: a directory being written; .<name>.old-*: the model it replaces


def _sibling(target: Path, kind: str) -> str:
    return f".{target.name[:200]}{kind}"


def _is_sibling(path: Path, target: Path, kind: str) -> bool:
    """``path`` is a staging (or set-aside) directory of ``target``: the prefix and mkdtemp's 8 random letters."""
    return re.fullmatch(re.escape(_sibling(target, kind)) + r"[a-z0-9_]{8}", path.name) is not None


def _write_file(path: Path, write: Callable[[str], None]) -> None:
    """One file of the directory being written, synced to disk (the fault tests count these calls)."""
    write(str(path))
    os.chmod(path, 0o666 & ~_umask())
    _fsync(path)


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # a directory cannot be opened on Windows; nothing to sync there
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse to sync a directory
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """A fresh directory beside ``target``, locked while this process writes it, removed afterwards (after the
    swap it holds the replaced model)."""
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=_sibling(target, _TMP)))
    mode = (target.stat().st_mode & 0o7777) if target.is_dir() else (0o777 & ~_umask())
    os.chmod(tmp, mode)  # mkdtemp's 0700 would hide the model from a service of another user
    fd = os.open(tmp, os.O_RDONLY)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel if this process dies: see _remove_stale
        yield tmp
    finally:
        os.close(fd)
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_stale(target: Path) -> None:
    """Remove what a save killed on the way left beside ``target``: staging directories no living process holds,
    and a replaced model moved aside (put back if the target is missing)."""
    if not target.parent.is_dir():
        return
    for path in sorted(target.parent.iterdir()):
        if not path.name.startswith(_sibling(target, "")) or path.is_symlink() or not path.is_dir():
            continue
        if _is_sibling(path, target, _OLD):
            if not target.exists():
                os.rename(path, target)  # killed between the two renames of _swap's fallback: the old model back
            else:
                shutil.rmtree(path, ignore_errors=True)
        elif _is_sibling(path, target, _TMP) and fcntl is not None:
            fd = os.open(path, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # another process is writing it
                continue
            finally:
                os.close(fd)
            shutil.rmtree(path, ignore_errors=True)


def _foreign_entries(directory: Path) -> list[Path]:
    """What in ``directory`` is not a file of the model saved there (a user's notes): kept when it is replaced."""
    own = {CONFIG_FILE, WEIGHTS_FILE}
    is_model = False
    try:
        header = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        own |= {f"{a}.json" for a in header.get("assets", []) if isinstance(a, str)}
        own |= {f for f in header.get("files", []) if isinstance(f, str)}
        own |= {header["card"]} if isinstance(header.get("card"), str) else set()
        is_model = "kind" in header
    except (OSError, ValueError, TypeError, AttributeError):  # no model there (or a broken one)
        pass
    entries = [p for p in sorted(directory.iterdir()) if p.name not in own]
    folders = [p.name for p in entries if p.is_dir() and not p.is_symlink()]
    if folders and not is_model:
        raise FileExistsError(f"{directory} holds folders ({', '.join(folders[:5])}) and no saved model; rnnlab "
                              "replaces a model directory as a whole: choose an empty or new directory")  # fmt: skip
    return entries


def _carry(source: Path, dest: Path) -> None:
    """``source`` into the new directory: hard links (nothing copied), copies where links are refused."""
    if source.is_symlink():
        os.symlink(os.readlink(source), dest)
    elif source.is_dir():
        shutil.copytree(source, dest, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(str(source), str(dest))


def _link_or_copy(source: str, dest: str) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def _swap(new: Path, target: Path) -> None:
    """Put the directory ``new`` at ``target`` in one atomic step; the replaced model ends at ``new``."""
    if not target.exists():
        os.rename(new, target)
    elif not _exchange(new, target):  # no atomic exchange here: two renames, the old model restored on failure
        aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=_sibling(target, _OLD)))
        os.rename(target, aside)
        try:
            os.rename(new, target)
        except BaseException:
            os.rename(aside, target)
            raise
        os.rename(aside, new)
    _fsync(target.parent)


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where that is not available."""
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    at_cwd = -100
    if renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):  # the file system cannot exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


@functools.cache
def _libc() -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        return libc
    except (OSError, AttributeError, TypeError):
        return None
