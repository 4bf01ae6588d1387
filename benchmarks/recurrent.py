"""Recurrent layer throughput: raw torch.nn vs the rnnlab fused path vs the rnnlab equation path.

    python benchmarks/recurrent.py [--quick] [--device cuda]

For each shape (batch, time, input, hidden[, bidirectional]) and cell (LSTM, GRU) it times a
training step (forward + backward) and a forward pass (no grad), interleaving the variants
in one process and keeping medians. Flops count 2·G·H·(I+H) per step, sample and direction
(G = 4 LSTM, 3 GRU); training = 3 × forward. With variable lengths (uniform in [T/2, T])
raw torch packs its batch, the fused path packs, the equation path masks, and flops count
the real steps only; "fused" is then the automatic choice, "fused_pack" and "fused_mask"
the two ways forced. Writes benchmarks/results/recurrent[_quick][_cuda].json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import environment, gemm_peak, interleaved, write
from rnnlab.nn import GRU, LSTM

SHAPES = [  # (batch, time, input, hidden, bidirectional)
    (64, 100, 128, 256, False),
    (32, 50, 100, 200, True),
    (1, 50, 100, 200, False),
    (256, 24, 7, 64, False),
]
CELLS = {"LSTM": (LSTM, torch.nn.LSTM, 4), "GRU": (GRU, torch.nn.GRU, 3)}
VARIANTS = ("torch", "fused", "equations", "fused_pack", "fused_mask")


def flops(gates: int, batch_steps: int, I: int, H: int, dirs: int, train: bool) -> float:
    return 2 * gates * H * (I + H) * batch_steps * dirs * (3 if train else 1)


def make_step(module, call, params, train: bool):
    """One timed unit: forward (+ backward of the sum of outputs)."""
    if train:

        def step():
            for p in params:
                p.grad = None
            call(module).sum().backward()
    else:

        def step():
            with torch.no_grad():
                call(module)

    return step


def bench_config(cell: str, shape, *, varlen: bool, train: bool, reps: int, device: str) -> dict:
    B, T, I, H, bi = shape
    ours_cls, torch_cls, G = CELLS[cell]
    torch.manual_seed(0)
    x = torch.randn(B, T, I, device=device)
    g = torch.Generator().manual_seed(1)
    lengths = torch.randint(T // 2, T + 1, (B,), generator=g) if varlen else None
    if varlen:
        lengths[0] = T  # the padded batch is T long
    ours = ours_cls(I, H, bidirectional=bi, return_sequences=True).to(device)
    raw = torch_cls(I, H, bidirectional=bi, batch_first=True).to(device)
    raw.load_state_dict(ours.rnn.state_dict())
    for m in (ours, raw):
        m.train(train)

    def raw_call(m):
        if lengths is None:
            return m(x)[0]
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(m(packed)[0], batch_first=True, total_length=T)[0]

    def ours_call(impl, strategy="auto"):
        def call(m):
            m.impl = impl
            m.lengths_strategy = strategy
            return m(x, lengths=lengths)

        return call

    params_raw, params_ours = list(raw.parameters()), list(ours.parameters())
    fns = {
        "torch": make_step(raw, raw_call, params_raw, train),
        "fused": make_step(ours, ours_call("fused"), params_ours, train),
        "equations": make_step(ours, ours_call("equations"), params_ours, train),
    }
    if varlen:  # the fused path's two ways with a padded batch, forced
        fns["fused_pack"] = make_step(ours, ours_call("fused", "pack"), params_ours, train)
        fns["fused_mask"] = make_step(ours, ours_call("fused", "mask"), params_ours, train)
    times = interleaved(fns, reps=reps, device=device)
    steps = int(lengths.sum()) if varlen else B * T
    f = flops(G, steps, I, H, 2 if bi else 1, train)
    return {
        "cell": cell,
        "shape": {"batch": B, "time": T, "input": I, "hidden": H, "bidirectional": bi},
        "lengths": "uniform[T/2,T]" if varlen else "full",
        "mode": "train" if train else "forward",
        "median_s": times,
        "seq_per_s": {k: B / t for k, t in times.items()},
        "gflops": {k: f / t / 1e9 for k, t in times.items()},
        "ratio_to_torch": {k: t / times["torch"] for k, t in times.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions, fewer configurations")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--reps", type=int, default=None)
    args = parser.parse_args()
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("error: --device cuda asked, but torch sees no CUDA device")
    reps = args.reps or (3 if args.quick else 15)
    peak = gemm_peak(device)
    rows = []
    header = (
        f"{'cell':5} {'shape (B,T,I,H)':22} {'len':5} {'mode':7} "
        + " ".join(f"{v + ' ms':>13}" for v in VARIANTS)
        + f" {'fused/t':>8} {'eq/fused':>8} {'torch GF/s':>10}"
    )
    print(f"fp32 GEMM peak measured: {peak:.0f} GFLOP/s on {device}, {torch.get_num_threads()} threads")
    print(header)
    for shape in SHAPES:
        for cell in CELLS:
            for varlen in (False, True):
                if args.quick and varlen:
                    continue
                for train in (True, False):
                    r = bench_config(cell, shape, varlen=varlen, train=train, reps=reps, device=device)
                    rows.append(r)
                    t = r["median_s"]
                    B, T, I, H, bi = shape
                    name = f"({B},{T},{I},{H}{',bi' if bi else ''})"
                    print(
                        f"{cell:5} {name:22} {'var' if varlen else 'full':5} {r['mode']:7} "
                        + " ".join(f"{t[v] * 1e3:13.2f}" if v in t else f"{'-':>13}" for v in VARIANTS)
                        + f" {t['fused'] / t['torch']:8.3f} {t['equations'] / t['fused']:8.3f}"
                        + f" {r['gflops']['torch']:10.1f}",
                        flush=True,
                    )
    suffix = ("_quick" if args.quick else "") + ("_cuda" if device.startswith("cuda") else "")
    path = write(
        f"recurrent{suffix}",
        {"environment": environment(device), "gemm_peak_gflops": peak, "reps": reps, "results": rows},
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
