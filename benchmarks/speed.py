"""CPU speed: rnnlab's C++ kernels (impl="native") vs PyTorch's kernels, at recurrent.py's shapes.

    python benchmarks/speed.py [--quick] [--reps 30]

For each shape of benchmarks/recurrent.py (plus batch 1 bidirectional, the tagger's case) and cell (LSTM, GRU)
it times a forward pass without gradients and a training step (forward + backward of a weighted sum of the
outputs) of raw ``torch.nn`` (the reference), rnnlab ``fused`` (PyTorch's kernels), rnnlab ``native`` (rnnlab's
kernels, products on oneDNN's matmul) and ``native_mm`` (the same kernels on at::mm, i.e. MKL), interleaved in one
process, medians; ratios are raw torch's time over the variant's (above 1:
faster than torch). Then the whole-task effect: training the ETTh1 GRU forecaster (forecast_ett.py's settings) for
3 epochs with PyTorch's GRU and with rnnlab's, interleaved, twice each. (The taggers are LSTMs, which keep oneDNN.)
Then the allocator: the fused LSTM's training step with glibc's default malloc and with the setting the ``rnnlab``
command applies (``rnnlab.runtime.tune_allocator``). Last, bf16 autocast (opt-in ``precision="bf16-mixed"``): an
LSTM training step, and the ETTh1 LSTM forecaster's time and validation MSE, fp32 vs bf16. Writes
benchmarks/results/speed[_quick].json (``--only`` one part).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import RESULTS, environment, interleaved, write
from rnnlab.nn import GRU, LSTM, kernels

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

    def ours_with(impl, onednn=True):
        def forward():
            ours.impl = impl
            kernels.get().use_onednn(onednn)
            return ours(x)

        return forward

    fns = {"torch": step(lambda: raw(x)[0]), "fused": step(ours_with("fused")), "native": step(ours_with("native")),
           "native_mm": step(ours_with("native", onednn=False))}  # fmt: skip
    with torch.no_grad():
        diff = (ours_with("native")() - raw(x)[0]).abs().max().item()
    times = interleaved(fns, reps=reps, device="cpu")
    kernels.get().use_onednn(True)
    return {"cell": cell, "mode": "train" if train else "inference",
            "shape": {"batch": B, "time": T, "input": I, "hidden": H, "bidirectional": bi},
            "median_ms": {k: 1000 * v for k, v in times.items()},
            "speedup_vs_torch": {k: times["torch"] / v for k, v in times.items()}, "max_abs_diff": diff}  # fmt: skip


def ett_fits(model: str, epochs: int, variants: dict[str, dict]) -> dict | None:
    """ETTh1 univariate h=24 (forecast_ett.py's settings: RevIN, input 96, hidden 64, batch 64, seed 0), a fixed
    number of epochs per variant (``{"impl": ..., "precision": ...}``), the variants interleaved, twice each:
    {variant: [{seconds, val_mse, path}] * 2, "train_windows": N}; None without the data."""
    import numpy as np
    import pandas as pd

    from rnnlab.forecast.forecaster import Forecaster
    from rnnlab.forecast.models import ForecastConfig
    from rnnlab.forecast.protocols import ett_windows
    from rnnlab.training import TrainConfig

    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "ett" / "ETTh1.csv"
    if not data.is_file():
        return None
    w, _ = ett_windows(pd.read_csv(data)[["OT"]].to_numpy(np.float64), input_width=96, horizon=24, inputs=range(1),
                       targets=range(1))  # fmt: skip
    out: dict = {"train_windows": len(w["train"].x)}
    for name in [*variants, *variants]:
        settings = variants[name]
        f = Forecaster(ForecastConfig(model=model, input_width=96, horizon=24, n_inputs=1, targets=(0,),
                                      hidden_size=64, revin=True),
                       TrainConfig(max_epochs=epochs, lr=1e-3, batch_size=64, patience=None, seed=0,
                                   precision=settings.get("precision", "32-true")))  # fmt: skip
        f.net.body.impl = settings.get("impl", "auto")
        start = time.perf_counter()
        f.fit_windows(w["train"].x, w["train"].y, w["val"].x, w["val"].y)
        seconds = time.perf_counter() - start
        val = float(np.mean((f.predict_windows(w["val"].x) - w["val"].y) ** 2))
        out.setdefault(name, []).append({"seconds": seconds, "val_mse": val, "path": f.net.body.last_path})
    return out


def forecaster_training(epochs: int) -> dict | None:
    """The ETTh1 GRU forecaster with PyTorch's GRU kernels ("fused") and with rnnlab's ("auto")."""
    runs = ett_fits("gru", epochs, {"fused": {"impl": "fused"}, "auto": {"impl": "auto"}})
    return None if runs is None else {"epochs": epochs, **runs}


def tagger_training(sentences: int | None = None, rounds: int = 3) -> dict | None:
    """Whole task: one epoch of the CoNLL-2003 tagger (tag_conll.py's main settings: char LSTM, word BiLSTM-CRF,
    hidden 100, batch 16, GloVe) on eng.train (or its first ``sentences``), with the word/char layers on
    PyTorch's kernels ("fused") and as ``impl="auto"`` picks; LSTM and GRU taggers, interleaved, ``rounds`` each."""
    from rnnlab.data.conll import read_tagged
    from rnnlab.nn.recurrent import Recurrent
    from rnnlab.tag import models as tag_models
    from rnnlab.tag.models import TaggerConfig
    from rnnlab.tag.tagger import Tagger
    from rnnlab.training import TrainConfig

    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "conll2003"
    if not (data / "eng.train").is_file():
        return None
    train, dev = read_tagged(data / "eng.train")[:sentences], read_tagged(data / "eng.testa")[:500]
    original = tag_models.TaggerNet.__init__
    out: dict = {"train_sentences": len(train), "dev_sentences": len(dev)}
    variants = [(arch, impl) for arch in ("lstm", "gru") for impl in ("fused", "auto")]
    try:
        for arch, impl in variants * rounds:

            def init(net, config, _impl=impl):  # the tagger builds its network inside fit: set impl right after
                original(net, config)
                for module in net.modules():
                    if isinstance(module, Recurrent):
                        module.impl = _impl

            tag_models.TaggerNet.__init__ = init
            tagger = Tagger(TaggerConfig(arch=arch, char="lstm", output="crf", hidden_size=100, char_dim=25,
                                         char_hidden=25, dropout=0.5),
                            TrainConfig(max_epochs=1, lr=2e-3, optimizer="adam", batch_size=16, gradient_clip=5.0,
                                        seed=0))  # fmt: skip
            info = tagger.fit(train, dev, embeddings="glove-6b-50d")
            paths = sorted({m.last_path for m in tagger.net.modules() if isinstance(m, Recurrent)})
            out.setdefault(f"{arch} {impl}", []).append(
                {"seconds": info["seconds"], "dev_f1": info["best_dev"], "paths_at_last_dev_call": paths}
            )
    finally:
        tag_models.TaggerNet.__init__ = original
    return out


def bf16_effect(epochs: int, reps: int) -> dict:
    """bf16 autocast (Lightning's bf16-mixed), opt-in: an LSTM training step at (64,100,128,256), then the ETTh1
    LSTM forecaster, fp32 vs bf16: time and validation MSE."""
    torch.manual_seed(0)
    lstm, x = LSTM(128, 256, return_sequences=True), torch.randn(64, 100, 128)

    def step(bf16):
        def run():
            lstm.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                y = lstm(x)
            y.float().sum().backward()

        return run

    layer = interleaved({"fp32": step(False), "bf16": step(True)}, reps=reps, device="cpu")
    runs = ett_fits("lstm", epochs, {p: {"precision": p} for p in ("32-true", "bf16-mixed")})
    return {"lstm_train_step_ms": {k: 1000 * v for k, v in layer.items()}, **(runs or {})}


ALLOCATOR_SHAPES = [(32, 400, 50, 128, True), (64, 100, 128, 256, False), (32, 40, 150, 100, True)]
_ALLOCATOR_CHILD = """
import json, statistics, sys, time, torch
if sys.argv[1] == "tuned":
    from rnnlab.runtime import tune_allocator
    assert tune_allocator()
from rnnlab.nn import LSTM
out = {}
for B, T, I, H, bi in json.loads(sys.argv[2]):
    torch.manual_seed(0)
    layer, x = LSTM(I, H, bidirectional=bi, return_sequences=True), torch.randn(B, T, I)
    times = []
    for i in range(int(sys.argv[3]) + 3):
        start = time.perf_counter()
        layer.zero_grad()
        layer(x).sum().backward()
        times.append(time.perf_counter() - start)
    out[str((B, T, I, H, bi))] = 1000 * statistics.median(times[3:])
print(json.dumps(out))
"""


def allocator_effect(reps: int) -> dict:
    """The fused LSTM's training step with glibc's default malloc and with ``rnnlab.runtime.tune_allocator``
    (what the ``rnnlab`` command applies): one child process per run (the setting cannot be undone in a
    process), the two settings alternated, twice each. {setting: [{shape: ms}, ...]}."""
    import subprocess

    out: dict[str, list] = {"default": [], "tuned": []}
    for setting in ("default", "tuned") * 2:
        env = {**os.environ, "RNNLAB_TUNE_MALLOC": "1"}
        env.pop("MALLOC_MMAP_THRESHOLD_", None)
        env.pop("MALLOC_TRIM_THRESHOLD_", None)
        run = subprocess.run([sys.executable, "-c", _ALLOCATOR_CHILD, setting, json.dumps(ALLOCATOR_SHAPES),
                              str(reps)], capture_output=True, text=True, check=True, env=env)  # fmt: skip
        out[setting].append(json.loads(run.stdout))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 shapes, 5 repetitions")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--only", choices=["kernels", "bf16", "allocator", "tagger"], default=None,
                        help="one part; the others' figures stay")  # fmt: skip
    args = parser.parse_args()
    if kernels.get() is None:
        sys.exit("error: rnnlab's kernels are not built; run `rnnlab kernels --build` first")
    shapes, reps = (SHAPES[:3], 5) if args.quick else (SHAPES, args.reps)
    name = "speed_quick" if args.quick else "speed"
    payload = json.loads((RESULTS / f"{name}.json").read_text()) if args.only and (RESULTS / f"{name}.json").is_file() \
        else {}  # fmt: skip
    if args.only in (None, "kernels"):
        rows = [bench(cell, shape, reps, train) for shape in shapes for cell in CELLS for train in (False, True)]
        print("| cell | shape (B,T,I,H) | mode | torch ms | fused ms | native ms | native speed-up vs torch "
              "| native on at::mm ms | max diff |")  # fmt: skip
        print("|---|---|---|--:|--:|--:|--:|--:|--:|")
        for r in rows:
            s, t = r["shape"], r["median_ms"]
            shape = f"({s['batch']},{s['time']},{s['input']},{s['hidden']}{',bi' if s['bidirectional'] else ''})"
            print(f"| {r['cell']} | {shape} | {r['mode']} | {t['torch']:.3f} | {t['fused']:.3f} | {t['native']:.3f} | "
                  f"{r['speedup_vs_torch']['native']:.2f}× | {t['native_mm']:.3f} | {r['max_abs_diff']:.1e} |",
                  flush=True)  # fmt: skip
        forecaster = None if args.quick else forecaster_training(epochs=3)
        if forecaster is not None:
            for impl, runs in (("PyTorch's GRU", forecaster["fused"]), ("rnnlab's GRU", forecaster["auto"])):
                print(f"ETTh1 GRU forecaster, {forecaster['epochs']} epochs with {impl}: "
                      + ", ".join(f"{r['seconds']:.1f} s (val MSE {r['val_mse']:.4f})" for r in runs))  # fmt: skip
        payload.update(reps=reps, results=rows, forecaster_training=forecaster)
    if args.only in (None, "tagger") and not args.quick:
        tagger = tagger_training()
        if tagger is not None:
            for key, runs in tagger.items():
                if isinstance(runs, list):
                    print(
                        f"CoNLL tagger, 1 epoch on {tagger['train_sentences']} sentences, {key}: "
                        + ", ".join(
                            f"{r['seconds']:.1f} s (dev F1 {r['dev_f1']:.4f}, {r['paths_at_last_dev_call']})"
                            for r in runs
                        )
                    )
        payload["tagger_training"] = tagger
    if args.only in (None, "allocator") and not args.quick:
        allocator = allocator_effect(reps=15)
        for setting, runs in allocator.items():
            print(f"fused LSTM training step, {setting} malloc: "
                  + "; ".join(", ".join(f"{k} {v:.1f} ms" for k, v in r.items()) for r in runs))  # fmt: skip
        payload["allocator"] = allocator
    if args.only in (None, "bf16") and not args.quick:
        bf16 = bf16_effect(epochs=3, reps=10)
        print(f"bf16 autocast: LSTM training step {bf16['lstm_train_step_ms']}")
        for precision in ("32-true", "bf16-mixed"):
            runs = bf16.get(precision, [])
            print(f"ETTh1 LSTM forecaster, 3 epochs, {precision}: "
                  + ", ".join(f"{r['seconds']:.1f} s (val MSE {r['val_mse']:.4f})" for r in runs))  # fmt: skip
        payload["bf16"] = bf16
    path = write(name, {**payload, "environment": environment()})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
