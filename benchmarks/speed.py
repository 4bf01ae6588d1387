"""CPU speed: rnnlab's C++ kernels (impl="native") vs PyTorch's kernels, at recurrent.py's shapes.

    python benchmarks/speed.py [--quick] [--reps 30]

For each shape of benchmarks/recurrent.py (plus batch 1 bidirectional, the tagger's case) and cell (LSTM, GRU)
it times a forward pass without gradients (and for the GRU a training step: forward + backward of a weighted sum
of the outputs) of raw ``torch.nn`` (the reference), rnnlab ``fused`` (PyTorch's kernels) and rnnlab ``native``
(rnnlab's kernels), interleaved in one process, medians; ratios are raw torch's time over the variant's (above 1:
faster than torch). Then the whole-task effect: single-sentence latency of a
BiLSTM-CRF tagger with a character encoder (untrained, the demo's shape) with the kernels off and on. Writes
benchmarks/results/speed[_quick].json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import environment, interleaved, write
from rnnlab.nn import GRU, LSTM, kernels
from rnnlab.nn.recurrent import Recurrent

SHAPES = [  # (batch, time, input, hidden, bidirectional)
    (1, 50, 100, 200, False),
    (1, 50, 100, 200, True),
    (4, 50, 100, 200, True),
    (32, 50, 100, 200, True),
    (256, 24, 7, 64, False),
    (64, 100, 128, 256, False),
]
CELLS = {"LSTM": (LSTM, torch.nn.LSTM), "GRU": (GRU, torch.nn.GRU)}


def bench(cell: str, shape, reps: int, train: bool) -> dict:
    B, T, I, H, bi = shape
    ours_cls, torch_cls = CELLS[cell]
    torch.manual_seed(0)
    raw = torch_cls(I, H, batch_first=True, bidirectional=bi)
    ours = ours_cls(I, H, bidirectional=bi, return_sequences=True)
    ours.load_state_dict({f"rnn.{k}": v for k, v in raw.state_dict().items()})
    raw.train(train)
    ours.train(train)
    x = torch.randn(B, T, I, requires_grad=train)
    weights = torch.randn(B, T, H * (2 if bi else 1))
    params = [x, *raw.parameters(), *ours.parameters()]

    def step(forward):
        def run():
            if not train:
                with torch.no_grad():
                    return forward()
            for p in params:
                p.grad = None
            y = forward()
            (y * weights).sum().backward()
            return y

        return run

    def ours_with(impl):
        def forward():
            ours.impl = impl
            return ours(x)

        return forward

    fns = {"torch": step(lambda: raw(x)[0]), "fused": step(ours_with("fused")), "native": step(ours_with("native"))}
    with torch.no_grad():
        diff = (ours_with("native")() - raw(x)[0]).abs().max().item()
    times = interleaved(fns, reps=reps, device="cpu")
    return {"cell": cell, "mode": "train" if train else "inference",
            "shape": {"batch": B, "time": T, "input": I, "hidden": H, "bidirectional": bi},
            "median_ms": {k: 1000 * v for k, v in times.items()},
            "speedup_vs_torch": {k: times["torch"] / v for k, v in times.items()}, "max_abs_diff": diff}  # fmt: skip


def tagger_latency(reps: int) -> dict:
    """One 20-token sentence through a BiLSTM-CRF tagger with a char LSTM: kernels off vs on (same weights)."""
    from rnnlab.tag.demo import demo_sentences
    from rnnlab.tag.models import TaggerConfig
    from rnnlab.tag.tagger import Tagger
    from rnnlab.training import TrainConfig

    tagger = Tagger(TaggerConfig(hidden_size=100, char="lstm", char_hidden=25, char_dim=25, output="crf"),
                    TrainConfig(max_epochs=1, batch_size=32))  # fmt: skip
    tagger.fit(demo_sentences(64, seed=0), embeddings="none")
    sentence = [(demo_sentences(1, seed=7)[0].tokens * 4)[:20]]
    layers = [m for m in tagger.net.modules() if isinstance(m, Recurrent)]

    def with_impl(impl):
        def run():
            for m in layers:
                m.impl = impl
            return tagger.predict_tags(sentence)

        return run

    assert with_impl("fused")() == with_impl("auto")()
    times: dict[str, list[float]] = {"fused": [], "auto": []}
    for _ in range(reps):
        for name in times:
            fn = with_impl(name)
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: 1000 * statistics.median(ts) for name, ts in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 shapes, 5 repetitions")
    parser.add_argument("--reps", type=int, default=30)
    args = parser.parse_args()
    if kernels.get() is None:
        sys.exit("error: rnnlab's kernels are not built; run `rnnlab kernels --build` first")
    shapes, reps = (SHAPES[:3], 5) if args.quick else (SHAPES, args.reps)
    rows = [bench(cell, shape, reps, train) for shape in shapes for cell in CELLS for train in (False, True)
            if not (train and cell == "LSTM")]  # fmt: skip
    print("| cell | shape (B,T,I,H) | mode | torch ms | fused ms | native ms | native speed-up vs torch | max diff |")
    print("|---|---|---|--:|--:|--:|--:|--:|")
    for r in rows:
        s, t = r["shape"], r["median_ms"]
        shape = f"({s['batch']},{s['time']},{s['input']},{s['hidden']}{',bi' if s['bidirectional'] else ''})"
        print(f"| {r['cell']} | {shape} | {r['mode']} | {t['torch']:.3f} | {t['fused']:.3f} | {t['native']:.3f} | "
              f"{r['speedup_vs_torch']['native']:.2f}× | {r['max_abs_diff']:.1e} |", flush=True)  # fmt: skip
    task = tagger_latency(reps)
    print(f"\ntagger, one 20-token sentence: {task['fused']:.2f} ms with PyTorch's kernels, {task['auto']:.2f} ms "
          "with auto (rnnlab's kernels at batch 1)")  # fmt: skip
    path = write(
        "speed_quick" if args.quick else "speed",
        {"environment": environment(), "reps": reps, "results": rows, "tagger_single_sentence_ms": task},
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
