"""The vanishing-gradient lab's acceptance run: who solves the adding problem at which lag, and why.

    python benchmarks/memory.py [--quick]

Part A trains SimpleRNN (tanh), LSTM, GRU and the skip-connection SimpleRNN on the adding
problem at T in {10, 25, 50, 100, 200, 400} with one budget (hidden 64, at most 3000 Adam
steps of 64 sequences, lr 1e-2, clip 1.0, stop once the dev MSE < 1e-3) and reports the test
MSE against the trivial baseline 1/6. Part B measures the gradient by lag at T = 100 at
initialisation and after the part-A training. Writes results/memory.json, memory.png and
memory_gradients.png; prints the acceptance checks of the issue.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import RESULTS, environment, write
from rnnlab.diagnostics import gradient_by_lag
from rnnlab.diagnostics.memory import MemoryModel, MemoryModelConfig, MemoryRunConfig, train_memory
from rnnlab.diagnostics.memory_tasks import ADDING_BASELINE_MSE, make_batch
from rnnlab.diagnostics.plots import plot_gradient_by_lag, plot_memory

VARIANTS = [("rnn", False), ("lstm", False), ("gru", False), ("rnn", True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T in {25, 50}, 300 steps")
    args = parser.parse_args()
    lengths = [25, 50] if args.quick else [10, 25, 50, 100, 200, 400]
    steps = 300 if args.quick else 3000
    probe_length = 50 if args.quick else 100
    suffix = "_quick" if args.quick else ""
    start = time.perf_counter()
    rows, trained = [], {}
    print(f"{'cell':13} {'T':>4} {'test MSE':>10} {'beats 1/6':>9} {'solved':>6} {'steps':>6} {'s':>6}")
    for length in lengths:
        for cell, residual in VARIANTS:
            model_config = MemoryModelConfig(cell=cell, hidden_size=64, residual=residual)
            run = MemoryRunConfig(length=length, steps=steps, batch_size=64, lr=1e-2, gradient_clip=1.0)
            model, row = train_memory(model_config, run)
            rows.append(row)
            if length == probe_length:
                trained[row["cell"]] = model
            print(f"{row['cell']:13} {length:>4} {row['test_mse']:10.2e} {row['beats_baseline']!s:>9} "
                  f"{row['solved']!s:>6} {row['steps']:>6} {row['seconds']:>6}", flush=True)  # fmt: skip
    train_seconds = time.perf_counter() - start

    x, _ = make_batch("adding", 64, probe_length, torch.Generator().manual_seed(123))
    curves, decay = {}, []
    for cell, residual in VARIANTS:
        label = cell + ("+residual" if residual else "")
        torch.manual_seed(0)
        fresh = MemoryModel(MemoryModelConfig(cell=cell, hidden_size=64, residual=residual))
        for stage, model in (("init", fresh), ("trained", trained[label])):
            profile = gradient_by_lag(model, x, wrt="hidden")["rnn"]
            curves[(label, stage)] = profile
            decay.append(
                {
                    "cell": label,
                    "stage": stage,
                    **{f"lag_{n}": profile.decay(n) for n in sorted({10, 50, probe_length - 1}) if n < probe_length},
                }
            )
    total = time.perf_counter() - start
    plot_memory(rows, RESULTS / f"memory{suffix}.png", metric="test_mse", baseline=ADDING_BASELINE_MSE,
                title="Adding problem: test MSE by lag (hidden 64, ≤3000 steps)")  # fmt: skip
    title = f"Gradient by lag at T={probe_length}: init (solid) vs trained on adding (dashed)"
    plot_gradient_by_lag(curves, RESULTS / f"memory_gradients{suffix}.png", title=title)

    by = {(r["cell"], r["length"]): r for r in rows}
    last = max(lengths) if args.quick else 200
    d = {(r["cell"], r["stage"]): r[f"lag_{probe_length - 1}"] for r in decay}
    checks = {
        f"lstm solves T={last} (test MSE < 0.01)": by[("lstm", last)]["test_mse"] < 0.01,
        f"gru solves T={last} (test MSE < 0.01)": by[("gru", last)]["test_mse"] < 0.01,
        f"tanh rnn does not beat the baseline at T={last}": not by[("rnn", last)]["beats_baseline"],
        f"rnn gradient at lag {probe_length - 1} falls >= 100x more than lstm's (init)": d[("rnn", "init")] * 100
        < d[("lstm", "init")],
        f"rnn gradient at lag {probe_length - 1} falls >= 100x more than lstm's (trained)": d[("rnn", "trained")] * 100
        < d[("lstm", "trained")],
        "whole run under 20 minutes": total < 1200,
    }
    print("\ngradient surviving n steps (mean ‖∂y_T/∂h_{T-1-n}‖ / lag 0):")
    for r in decay:
        print(
            f"  {r['cell']:13} {r['stage']:8} " + "  ".join(f"{k}={v:.2e}" for k, v in r.items() if k.startswith("lag"))
        )
    print(f"\ntraining {train_seconds:.0f} s, total {total:.0f} s")
    for name, ok in checks.items():
        print(f"  [{'x' if ok else ' '}] {name}")
    path = write(
        "memory" + suffix,
        {"environment": environment(), "budget": {"hidden_size": 64, "max_steps": steps, "batch_size": 64,
         "lr": 1e-2, "optimizer": "adam", "gradient_clip": 1.0, "stop_at_dev_mse": 1e-3},
         "baseline_mse": ADDING_BASELINE_MSE, "results": rows, "gradient_decay": decay,
         "checks": checks, "seconds": {"training": train_seconds, "total": total}},
    )  # fmt: skip
    print(f"wrote {path}, {RESULTS / f'memory{suffix}.png'}, {RESULTS / f'memory_gradients{suffix}.png'}")


if __name__ == "__main__":
    main()
