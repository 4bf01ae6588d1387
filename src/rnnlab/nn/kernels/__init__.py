"""rnnlab's C++ CPU kernels (``rnn_cpu.cpp``): built once, ahead of use, and optional.

``build()`` compiles them with PyTorch's extension builder into a per-user cache (``make install`` and
``rnnlab kernels --build`` call it; it takes about a minute); ``get()`` returns the built module, or None when
they were never built, cannot load, or ``RNNLAB_KERNELS=0``: nothing ever compiles on first use, and without
the kernels every layer runs PyTorch's own path, which computes the same function (tests check both agree).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import torch

SOURCE = Path(__file__).with_name("rnn_cpu.cpp")
NAME = "rnnlab_rnn_cpu"


def build_dir() -> Path:
    """Where the kernels of this source and this torch live: ``$RNNLAB_CACHE`` or ``~/.cache/rnnlab``."""
    digest = hashlib.sha256(SOURCE.read_bytes() + torch.__version__.encode()).hexdigest()[:12]
    root = Path(os.environ.get("RNNLAB_CACHE", Path.home() / ".cache" / "rnnlab"))
    return root / "kernels" / digest


def _built() -> Path | None:
    found = sorted(build_dir().glob(f"{NAME}*.so"))
    return found[0] if found else None


def build(*, verbose: bool = False) -> Path:
    """Compile the kernels (needs a C++ compiler and ninja); returns the shared library's path."""
    from torch.utils.cpp_extension import load

    directory = build_dir()
    directory.mkdir(parents=True, exist_ok=True)
    load(
        NAME,
        [str(SOURCE)],
        build_directory=str(directory),
        extra_cflags=["-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math"],
        verbose=verbose,
    )
    get.cache_clear()
    path = _built()
    assert path is not None, f"the build left no {NAME}*.so in {directory}"
    return path


@lru_cache(maxsize=1)
def get() -> ModuleType | None:
    """The built kernels, or None (never built here, disabled by ``RNNLAB_KERNELS=0``, or unloadable)."""
    if os.environ.get("RNNLAB_KERNELS", "1") == "0":
        return None
    path = _built()
    if path is None:
        return None
    try:
        loader = importlib.machinery.ExtensionFileLoader(NAME, str(path))
        spec = importlib.util.spec_from_file_location(NAME, path, loader=loader)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        loader.exec_module(module)
    except (ImportError, OSError):
        return None
    _check_onednn(module)
    return module


def _check_onednn(module: ModuleType) -> None:
    """Products on oneDNN only where this CPU runs them: some PyTorch builds refuse oneDNN's matmul on CPUs
    without AVX-512 ("mkldnn_matmul bf16 path needs the cpu support ..."), even for float32; at::mm then."""
    import torch

    try:
        module.matmul(torch.ones(16, 16), torch.ones(16, 16))
    except RuntimeError:
        module.use_onednn(False)
        module.onednn_refused = True


def onednn_runs() -> bool:
    """Whether the built kernels can run their products on oneDNN on this CPU (False when not built)."""
    module = get()
    return module is not None and not getattr(module, "onednn_refused", False)
