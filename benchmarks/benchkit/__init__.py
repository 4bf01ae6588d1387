"""Shared by the benchmarks (a package, not a benchmark): machine facts, interleaved timing, JSON results."""

from __future__ import annotations

import datetime as dt
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parents[1] / "results"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: str = "cpu") -> dict:
    import lightning
    import numpy

    import rnnlab

    env = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "lightning": lightning.__version__,
        "numpy": numpy.__version__,
        "rnnlab": rnnlab.__version__,
        "device": device,
    }
    if device.startswith("cuda"):
        env["gpu"] = torch.cuda.get_device_name(0)
        env["cudnn"] = torch.backends.cudnn.version()
    return env


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def interleaved(fns: dict[str, Callable[[], object]], *, reps: int, device: str, warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each function, timed in turns (A B C A B C ...) to share the noise."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    sync(device)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def gemm_peak(device: str, n: int = 2048, reps: int = 5) -> float:
    """Measured fp32 GEMM GFLOP/s on this device (context for the percentages)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    t = interleaved({"mm": lambda: a @ b}, reps=reps, device=device)["mm"]
    return 2 * n**3 / t / 1e9


def write(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path


def merged_results(name: str, results: dict[str, dict]) -> dict[str, dict]:
    """``results`` over the rows an earlier run wrote to results/NAME.json (a run of some variants
    keeps the others); each row carries the environment it was measured in."""
    path = RESULTS / f"{name}.json"
    old = json.loads(path.read_text()).get("results", {}) if path.is_file() else {}
    env = environment()
    return {**old, **{k: {**v, "measured": env} for k, v in results.items()}}
