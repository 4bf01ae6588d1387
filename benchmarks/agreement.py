"""How far apart the fused kernels and the equation path are: largest differences over many configurations.

    python benchmarks/agreement.py [--device cuda]

For every cell x layers x direction x return_sequences x lengths configuration it runs the
same parameters on both paths (eval mode, TF32 off) and records the largest absolute
difference of outputs/states and of gradients (input and parameters), and the size of the
largest gradient. Writes benchmarks/results/agreement[_cuda].json.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import environment, write
from rnnlab.nn import GRU, LSTM, SimpleRNN
from rnnlab.testing import outputs_and_gradients


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    device = args.device
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    rows = []
    configs = itertools.product([LSTM, GRU, SimpleRNN], [1, 2], [False, True], [False, True], [False, True])
    print(f"{'cell':9} {'L':>2} {'bi':>3} {'seq':>4} {'len':>4} {'max|Δout|':>10} {'max|Δgrad|':>10} {'max|grad|':>9}")
    for cls, layers, bi, seq, varlen in configs:
        d_out = d_grad = g_max = 0.0
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            layer = cls(5, 7, num_layers=layers, bidirectional=bi, return_sequences=seq, return_state=True)
            layer = layer.to(device).eval()
            x = torch.randn(4, 9, 5, device=device)
            lengths = torch.tensor([9, 1, 4, 7]) if varlen else None
            fused = outputs_and_gradients(layer, x, lengths=lengths)
            layer.impl = "equations"
            eqs = outputs_and_gradients(layer, x, lengths=lengths)
            d_out = max(d_out, *[(a - b).abs().max().item() for a, b in zip(fused[0], eqs[0], strict=True)])
            d_grad = max(d_grad, *[(a - b).abs().max().item() for a, b in zip(fused[1], eqs[1], strict=True)])
            g_max = max(g_max, *[a.abs().max().item() for a in fused[1]])
        rows.append({"cell": cls.__name__, "num_layers": layers, "bidirectional": bi, "return_sequences": seq,
                     "lengths": varlen, "max_abs_diff_outputs": d_out, "max_abs_diff_grads": d_grad,
                     "max_abs_grad": g_max})  # fmt: skip
        flags = f"{bi!s:>3.1} {seq!s:>4.1} {varlen!s:>4.1}"
        print(f"{cls.__name__:9} {layers:>2} {flags} {d_out:10.2e} {d_grad:10.2e} {g_max:9.2f}")
    worst = {k: max(r[k] for r in rows) for k in ("max_abs_diff_outputs", "max_abs_diff_grads")}
    print(f"worst: outputs/states {worst['max_abs_diff_outputs']:.2e}, gradients {worst['max_abs_diff_grads']:.2e}")
    suffix = "_cuda" if device.startswith("cuda") else ""
    path = write(f"agreement{suffix}", {"environment": environment(device), "worst": worst, "results": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
