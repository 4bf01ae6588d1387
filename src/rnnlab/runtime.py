"""Process-wide settings that make PyTorch's CPU kernels faster; the ``rnnlab`` command applies them.

glibc's malloc serves big blocks with ``mmap`` and hands them back to the OS when freed, and trims the top
of its heap as soon as enough of it is free. A recurrent layer's training step allocates and frees blocks of
megabytes at every call (oneDNN's LSTM workspace, the outputs, their gradients), so each step pays fresh page
faults. Keeping the memory in the process removes that cost: a fused LSTM training step took 57–67 ms instead
of 98–108 at (batch 32, 400 steps, input 50, hidden 128, bidirectional) and 42–47 ms instead of 63–65 at
(64, 100, 128, 256) on the project's 2-core AMD EPYC (``benchmarks/speed.py --only allocator``); no gain at small
shapes. The price: the process keeps
its peak memory until it exits. The same effect as running under jemalloc or tcmalloc, or with
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` set.

Only the command line calls :func:`tune_allocator` (a library should not change its host process's malloc);
``RNNLAB_TUNE_MALLOC=0`` turns it off there. From Python, call it once at start-up.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
# True in the `rnnlab` command. With --devices N (N > 1) Lightning re-runs the command once per extra device: those
# processes train, then leave (rnnlab.training.fit) before the command saves the model and prints its result.
COMMAND_LINE = False
TERMINATED = False  # set by the command's SIGTERM handler: a training loop stopped by it exits 143, not as a Ctrl-C

_RANK_VARIABLES = ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID")  # torchrun, Lightning's launcher, SLURM


def secondary_process() -> bool:
    """Whether this is one of a multi-process fit's other processes (Lightning's launcher, torchrun or SLURM set a
    non-zero rank): they train, and leave the checkpoints, the saved model and the report to the first."""
    return any(os.environ.get(name, "0") not in ("", "0") for name in _RANK_VARIABLES)


_KEEP = 1 << 30  # bytes: blocks below stay on the heap, and the heap is trimmed only past this much free


def tune_allocator() -> bool:
    """Keep freed memory in the process (glibc on Linux); True when applied, False where it does not apply."""
    if os.environ.get("RNNLAB_TUNE_MALLOC", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    if os.environ.get("MALLOC_MMAP_THRESHOLD_") or os.environ.get("MALLOC_TRIM_THRESHOLD_"):
        return False  # the user chose already
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl, or no libc found: nothing to tune
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _KEEP)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP))
