"""Checkpoints of a CLI fit: kept beside --out in ``<out>.partial/`` while it trains, continued with --resume,
removed once the model is saved.

A killed ``rnnlab classify fit --out m`` leaves ``m.partial/`` (the training engine's ``checkpoints/last.ckpt/``
and ``best.ckpt/``, each a folder of ``state.safetensors`` + ``state.json``, no pickle; one folder per ensemble
member; ``run.json``: the command, its options and a fingerprint of its input files; ``run.lock``, held while it runs).
The same command with ``--resume`` continues from the last epoch; with other options or changed data it is
refused, since the checkpoint belongs to that run. --out itself is only written at the end
(atomically, :func:`rnnlab.io.save`), so ``--overwrite`` of an older model never meets the checkpoints.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     with fit_checkpoints(d + "/m", resume=False, command="demo fit", options={"lr": 0.1}) as run:
...         kept = sorted(p.name for p in run.iterdir())  # the engine writes checkpoints/ here
...     gone = not run.exists()
>>> run.name, kept, gone
('m.partial', ['run.json', 'run.lock'], True)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rnnlab import runtime

RUN_FILE = "run.json"
LOCK_FILE = "run.lock"  # held by the running fit (fcntl.flock)
# options a resumed run may change: how long it trains and what it prints (the checkpoint does not depend on them)
MAY_CHANGE = frozenset({"max_epochs", "max_time", "progress", "as_json", "overwrite", "resume", "out"})


def partial_dir(out: str | Path) -> Path:
    """Where a fit into ``out`` keeps its checkpoints: the sibling ``<out>.partial``."""
    out = Path(out).resolve()
    return out.with_name(out.name + ".partial")


def start_run(out: str | Path, *, resume: bool, command: str, options: Mapping[str, Any]) -> Path:
    """The checkpoint folder of a fit of ``command`` into ``out``: a new one, or with ``resume`` the folder of the
    interrupted run with the same ``options`` (JSON values; others are ignored) and unchanged input files."""
    run = partial_dir(out)
    if _busy(run):
        raise _running(out, run)
    record = {"command": command, "options": _resolved(_plain(options))}  # ./a.csv and a.csv: the same input
    record["inputs"] = {k: [v, _fingerprint(Path(v))] for k, v in _paths(record["options"]).items()}
    checkpoints = sorted(run.rglob("*.ckpt")) if run.is_dir() else []
    if run.exists() and not (run / RUN_FILE).is_file():
        raise FileExistsError(f"{run} exists and was not written by an rnnlab fit; move it or choose another --out")
    if resume:
        if not checkpoints:
            why = "does not exist" if not run.exists() else "holds no checkpoint (stopped before an epoch ended)"
            raise ValueError(
                f"--resume: no interrupted `rnnlab {command}` into {out} to continue ({run} {why}); "
                "run without --resume to start one"
            )
        _check_same_run(run, record, checkpoints)
        return run
    if checkpoints:
        raise FileExistsError(
            f"{run} holds the checkpoints of an interrupted fit into {out}: pass --resume to "
            f"continue it, or delete {run} to start again"
        )
    shutil.rmtree(run, ignore_errors=True)  # a run that stopped before its first checkpoint: nothing to keep
    run.mkdir(parents=True)
    tmp = run / f".{RUN_FILE}.tmp"
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, run / RUN_FILE)
    return run


@contextlib.contextmanager
def fit_checkpoints(out: str | Path, *, resume: bool, command: str, options: Mapping[str, Any]) -> Iterator[Path]:
    """:func:`start_run`'s folder for the block that trains and saves; removed when the block ends, or when it
    fails before any checkpoint was written (a failure after one keeps them for --resume). In the other processes
    of a multi-device fit the first process's folder, untouched: it alone writes, locks and removes it."""
    if runtime.secondary_process():
        yield partial_dir(out)
        return
    run = start_run(out, resume=resume, command=command, options=options)
    lock = _lock(run, out)
    try:
        yield run
    except BaseException as exc:
        if not any(run.rglob("*.ckpt")) or getattr(exc, "discard_checkpoints", False):  # nothing worth resuming
            finish_run(run)
        raise
    finally:
        if lock is not None:
            os.close(lock)
    finish_run(run)


def _lock(run: Path, out: str | Path) -> int | None:
    """Hold ``run/run.lock`` while the fit runs (released by the system if the process dies): a second fit into
    the same --out is refused instead of both writing the same checkpoints. None where locks are not available."""
    fd = _try_lock(run / LOCK_FILE, create=True)
    if fd == -1:
        raise _running(out, run)
    return fd


def _running(out: str | Path, run: Path) -> FileExistsError:
    return FileExistsError(f"another rnnlab fit into {out} is running (its checkpoints are in {run}); wait for it "
                           "to end, or choose another --out")  # fmt: skip


def _busy(run: Path) -> bool:
    """Whether a running fit holds ``run``'s lock."""
    if not (run / LOCK_FILE).is_file():
        return False
    fd = _try_lock(run / LOCK_FILE, create=False)
    if fd is not None and fd >= 0:
        os.close(fd)  # closing releases the lock taken here
    return fd == -1


def _try_lock(path: Path, *, create: bool) -> int | None:
    """An open descriptor holding an exclusive lock on ``path``; -1 if another process holds it; None where
    advisory locks are not available (Windows: fits into one --out are the user's to keep apart)."""
    try:
        import fcntl
    except ImportError:
        return None
    fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return -1
    return fd


def finish_run(run: Path) -> None:
    """The model is saved: its checkpoints are no longer needed."""
    shutil.rmtree(run, ignore_errors=True)


def _check_same_run(run: Path, record: dict[str, Any], checkpoints: list[Path]) -> None:
    from rnnlab.training.checkpoints import CheckpointError, check_checkpoint  # torch: only when resuming

    for path in checkpoints:  # the engine loads these: they must be this run's own files
        if path.is_symlink() or not path.resolve().is_relative_to(run.resolve()):
            raise ValueError(f"{path} leads outside {run} (a symlink?); --resume reads only the run's own files")
        try:  # a folder of state.safetensors + state.json from one save, never a pickle
            check_checkpoint(path)
        except CheckpointError as exc:
            raise ValueError(f"{path} is damaged or not a checkpoint rnnlab reads ({exc.reason}); "
                             f"delete {run} to start again") from None  # fmt: skip
    try:
        before = json.loads((run / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{run / RUN_FILE} is unreadable ({exc}); delete {run} to start again") from None
    if not isinstance(before, dict):
        raise ValueError(f"{run / RUN_FILE} is not a run record (edited?); delete {run} to start again")
    if before.get("command") != record["command"]:
        raise ValueError(
            f"--resume: {run} holds a `rnnlab {before.get('command')}` run, not a "
            f"`rnnlab {record['command']}` one; delete it to start again"
        )
    old, new = before.get("options", {}), record["options"]
    changed = [
        f"--{k.replace('_', '-')} was {old.get(k)!r}, now {new.get(k)!r}"
        for k in sorted(set(old) | set(new))
        if k not in MAY_CHANGE and old.get(k) != new.get(k)
    ]
    was, now = before.get("inputs", {}), record["inputs"]
    changed += [
        f"{(now.get(k) or was.get(k))[0]} changed since"
        for k in sorted(set(was) | set(now))
        if was.get(k) != now.get(k)
    ]
    if changed:
        raise ValueError(
            "--resume continues the interrupted run with its options and data, but "
            + "; ".join(changed)
            + f"; give the same ones, or delete {run} to start again"
        )


def _plain(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options that are JSON values (str, number, bool, None, or lists of them)."""

    def plain(v: Any) -> bool:
        return v is None or isinstance(v, str | int | float | bool)

    kept: dict[str, Any] = {}
    for k, v in options.items():
        if plain(v):
            kept[k] = v
        elif isinstance(v, list | tuple) and all(map(plain, v)):
            kept[k] = list(v)
    return kept


def _resolved(options: dict[str, Any]) -> dict[str, Any]:
    """The options with each existing input path written absolute, so that another spelling of the same file
    (``./a.csv``, ``../run/a.csv``) is the same run."""

    def one(k: str, v: Any) -> Any:
        if k in MAY_CHANGE or not isinstance(v, str) or not v or not Path(v).exists():
            return v
        return str(Path(v).resolve())

    return {k: [one(k, x) for x in v] if isinstance(v, list) else one(k, v) for k, v in options.items()}


def _paths(options: Mapping[str, Any]) -> dict[str, str]:
    """Options naming existing files or folders (the inputs), keyed ``name`` or ``name[i]`` for lists."""
    found = {}
    for k, v in options.items():
        for i, item in enumerate(v if isinstance(v, list) else [v]):
            if k not in MAY_CHANGE and isinstance(item, str) and item and Path(item).exists():
                found[k if not isinstance(v, list) else f"{k}[{i}]"] = item
    return found


def _fingerprint(path: Path) -> str:
    """A file's SHA-256; for a folder, its files' names, sizes and modification times."""
    digest = hashlib.sha256()
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file():
                st = p.stat()
                digest.update(f"{p.relative_to(path)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return "dir:" + digest.hexdigest()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
