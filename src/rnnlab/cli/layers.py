"""``rnnlab shapes`` and ``rnnlab info``: the layers' Keras-style output shapes, and what this machine runs."""

from __future__ import annotations

import itertools
import json
import platform

import typer

CELLS = ("lstm", "gru", "rnn")  # PyTorch and the layers are imported by the commands, not by `rnnlab --help`
B, T, I, H = 32, 10, 8, 4  # the example of Keras' LSTM docs: inputs (32, 10, 8), units 4


def keras_shapes(cell: str, bidirectional: bool, return_sequences: bool, return_state: bool) -> list[tuple]:
    """The shapes Keras documents for ``[Bidirectional(]LSTM(4, ...)[)]`` on (32, 10, 8)."""
    width = 2 * H if bidirectional else H
    out = [(B, T, width) if return_sequences else (B, width)]
    if return_state:
        per_direction = 2 if cell == "lstm" else 1  # [h, c] or [h]
        out += [(B, H)] * (per_direction * (2 if bidirectional else 1))
    return out


def shape_rows(cells: list[str]) -> list[dict]:
    import torch

    from rnnlab.nn import GRU, LSTM, SimpleRNN

    layers = {"lstm": LSTM, "gru": GRU, "rnn": SimpleRNN}
    rows = []
    x = torch.randn(B, T, I)
    for cell, (bi, seq, state) in itertools.product(cells, itertools.product([False, True], repeat=3)):
        layer = layers[cell](I, H, bidirectional=bi, return_sequences=seq, return_state=state)
        with torch.no_grad():
            out = layer(x)
        outs = out if isinstance(out, tuple) else (out,)
        rows.append({
            "cell": type(layer).__name__,
            "bidirectional": bi,
            "return_sequences": seq,
            "return_state": state,
            "rnnlab": [list(o.shape) for o in outs],
            "keras": [list(s) for s in keras_shapes(cell, bi, seq, state)],
            "path": layer.path,
        })  # fmt: skip
    return rows


def _fmt(shapes: list[list[int]]) -> str:
    return " ".join("(" + ",".join(map(str, s)) + ")" for s in shapes)


def shapes(
    cells: str = typer.Option("lstm,gru,rnn", help="Comma-separated cells: lstm, gru, rnn."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
) -> None:
    """Output shapes of every return_sequences/return_state/bidirectional combination, beside Keras'."""
    names = [c.strip().lower() for c in cells.split(",") if c.strip()]
    unknown = [c for c in names if c not in CELLS]
    if unknown or not names:
        raise ValueError(f"--cells takes names among {sorted(CELLS)}, received {cells!r}")
    from rich.console import Console
    from rich.table import Table

    rows = shape_rows(names)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"Layer outputs for x of shape (batch={B}, time={T}, features={I}), hidden={H}")
    for col in ("cell", "bidirectional", "return_sequences", "return_state", "rnnlab", "Keras (documented)"):
        table.add_column(col, no_wrap=col in ("rnnlab", "Keras (documented)"))
    yes = {True: "yes", False: "-"}
    for r in rows:
        table.add_row(r["cell"], yes[r["bidirectional"]], yes[r["return_sequences"]], yes[r["return_state"]],
                      _fmt(r["rnnlab"]), _fmt(r["keras"]))  # fmt: skip
    console = Console(width=max(Console().width, 120))
    console.print(table)
    console.print(
        "Outputs agree with Keras. States differ in layout on purpose: rnnlab returns h_n (and c_n) "
        "stacked as (num_layers*directions, batch, hidden) like PyTorch, where Keras returns one "
        "(batch, hidden) tensor per direction: h_n[0] is Keras' forward state, h_n[1] the backward one."
    )


def info() -> None:
    """Versions, threads and the fused kernels this machine can use."""
    import torch

    from rnnlab import __version__

    cuda = torch.cuda.is_available()
    lines = {
        "rnnlab": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": str(torch.get_num_threads()),
        "oneDNN (mkldnn)": str(torch.backends.mkldnn.is_available()),
        "CUDA": torch.cuda.get_device_name(0) if cuda else "not available",
        "cuDNN": str(torch.backends.cudnn.version()) if cuda else "-",
        "rnnlab kernels": _kernel_status(),
    }
    for key, value in lines.items():
        typer.echo(f"{key:>16}: {value}")


def _kernel_status() -> str:
    from rnnlab.nn import kernels

    return "built" if kernels.get() is not None else "not built (rnnlab kernels --build)"


def kernels_command(
    build: bool = typer.Option(False, "--build", help="Compile them now (a C++ compiler and ninja; about a minute)."),
) -> None:
    """rnnlab's C++ CPU kernels (LSTM/GRU inference at small batches): whether they are built; --build builds them."""
    from rnnlab.nn import kernels

    if build:
        typer.echo(f"building rnnlab's CPU kernels in {kernels.build_dir()} ...")
        typer.echo(f"built {kernels.build()}")
    typer.echo(f"rnnlab kernels: {_kernel_status()}")
