"""``rnnlab gradients`` and ``rnnlab memory``: the vanishing-gradient lab from the command line."""

from __future__ import annotations

import json

import typer

from rnnlab.cli.common import markdown_table, output_dir, parse_ints, parse_list, write_csv

# PyTorch, the diagnostics and matplotlib are imported by the commands, not by `rnnlab --help`


def gradients(
    cells: str = typer.Option("rnn,lstm,gru", help="Cells to compare: rnn, lstm, gru."),
    length: int = typer.Option(100, min=2, help="Sequence length T (lags 0..T-1)."),
    trained_on: str | None = typer.Option(None, "--trained-on", help="Also measure after training on this task."),
    out: str = typer.Option(..., "--out", help="Output folder (PNG, CSV, summary.md)."),
    hidden: int = typer.Option(64, min=1, help="Hidden units."),
    steps: int = typer.Option(2000, min=1, help="Training steps for --trained-on (same for every cell)."),
    batch: int = typer.Option(64, min=1, help="Sequences in the measured batch."),
    wrt: str = typer.Option("hidden", help="Gradient with respect to 'hidden' states or 'input' steps."),
    seed: int = typer.Option(0, help="Seed for weights and data."),
    overwrite: bool = typer.Option(False, help="Replace files of an earlier run in --out."),
) -> None:
    """Gradient norm by time lag for each cell, at initialisation (and after training): PNG + CSV + summary."""
    import torch

    from rnnlab.diagnostics import bounds_table, derivative_bounds, gradient_by_lag
    from rnnlab.diagnostics.memory import CELLS, MemoryModel, MemoryModelConfig, MemoryRunConfig, train_memory
    from rnnlab.diagnostics.memory_tasks import TASKS, make_batch
    from rnnlab.diagnostics.plots import plot_gradient_by_lag

    names = parse_list(cells, allowed=list(CELLS), option="--cells")
    if trained_on is not None and trained_on not in TASKS:
        raise ValueError(f"--trained-on takes one of {list(TASKS)}, received {trained_on!r}")
    if wrt not in ("hidden", "input"):
        raise ValueError(f"--wrt takes 'hidden' or 'input', received {wrt!r}")
    folder = output_dir(out, ["gradients.png", "gradients.csv", "summary.md"], overwrite=overwrite)
    task = trained_on or "adding"
    x, _ = make_batch(task, batch, length, torch.Generator().manual_seed(seed + 30_000))
    curves, rows, summary = {}, [], []
    for cell in names:
        torch.manual_seed(seed)
        model = MemoryModel(MemoryModelConfig(cell=cell, task=task, hidden_size=hidden))
        stages = [("init", model)]
        if trained_on is not None:
            _say(f"training {cell} on {task} (T={length}, {steps} steps)")
            run = MemoryRunConfig(length=length, steps=steps, seed=seed)
            trained, row = train_memory(model.config, run)
            stages.append(("trained", trained))
            summary.append(row)
        for stage, m in stages:
            profile = next(iter(gradient_by_lag(m, x, wrt=wrt, seed=seed).values()))
            curves[(cell, stage)] = profile
            rows += [{"cell": cell, "stage": stage, "lag": int(n), "mean": float(a), "std": float(s),
                      "median": float(md)} for n, a, s, md in zip(profile.lags, profile.mean, profile.std,
                                                                  profile.median, strict=True)]  # fmt: skip
    write_csv(folder / "gradients.csv", rows)
    plot_gradient_by_lag(curves, folder / "gradients.png",
                         title=f"Gradient by lag, T={length}, H={hidden}, w.r.t. {wrt} (log scale)")  # fmt: skip
    decay = _decay_rows(curves, length)
    text = [f"# Gradient by lag (T = {length}, hidden = {hidden}, w.r.t. {wrt})", "",
            "Mean ‖∂y_T/∂·_k‖ at lag n, divided by its value at lag 0 (how much gradient survives n steps).", "",
            markdown_table(decay), ""]  # fmt: skip
    if summary:
        text += ["## Training (same budget for every cell)", "", markdown_table(summary), ""]
    text += ["## Why: the bounds", "", markdown_table(derivative_bounds()), "", markdown_table(bounds_table()), ""]
    (folder / "summary.md").write_text("\n".join(text), encoding="utf-8")
    _print_table(decay, "Gradient surviving n steps (relative to lag 0)")
    typer.echo(f"wrote {folder / 'gradients.png'}, {folder / 'gradients.csv'}, {folder / 'summary.md'}")


def _decay_rows(curves, length: int) -> list[dict]:
    lags = [n for n in (1, 10, 25, 50, 100, 200, 400) if n < length] + [length - 1]
    rows = []
    for (cell, stage), profile in curves.items():
        row = {"cell": cell, "stage": stage}
        row.update({f"lag {n}": f"{profile.decay(n):.2e}" for n in dict.fromkeys(lags)})
        rows.append(row)
    return rows


def memory(
    task: str = typer.Option("adding", help="Task: adding or recall."),
    cells: str = typer.Option("rnn,lstm,gru", help="Cells: rnn, lstm, gru (rnn+residual with --residual)."),
    lengths: str = typer.Option("25,50,100,200", help="Comma-separated lags T."),
    out: str = typer.Option(..., "--out", help="Output folder (CSV, markdown, PNG, JSON)."),
    hidden: int = typer.Option(64, min=1, help="Hidden units (same for every cell)."),
    steps: int = typer.Option(2000, min=1, help="Training steps at most (same for every cell)."),
    batch: int = typer.Option(64, min=1, help="Batch size."),
    lr: float = typer.Option(1e-2, help="Adam learning rate."),
    clip: float = typer.Option(1.0, min=0.0, help="Gradient-norm clipping; 0 turns it off."),
    residual: bool = typer.Option(False, help="Add the skip-connection SimpleRNN (rnn+residual)."),
    seed: int = typer.Option(0, help="Seed."),
    overwrite: bool = typer.Option(False, help="Replace files of an earlier run in --out."),
) -> None:
    """Train each cell on a long-memory task at each lag with one budget; table + PNG of final error vs T."""
    from rnnlab.diagnostics.memory import CELLS, MemoryModelConfig, MemoryRunConfig, train_memory
    from rnnlab.diagnostics.memory_tasks import TASKS, baseline
    from rnnlab.diagnostics.plots import plot_memory

    if task not in TASKS:
        raise ValueError(f"--task takes one of {list(TASKS)}, received {task!r}")
    names = parse_list(cells, allowed=list(CELLS), option="--cells")
    ts = parse_ints(lengths, option="--lengths", minimum=2)
    folder = output_dir(out, ["memory.csv", "memory.md", "memory.png", "memory.json"], overwrite=overwrite)
    variants = [(c, False) for c in names] + ([("rnn", True)] if residual else [])
    rows = []
    for length in ts:
        for cell, res in variants:
            label = cell + ("+residual" if res else "")
            _say(f"{label} on {task}, T={length}")
            model_config = MemoryModelConfig(cell=cell, task=task, hidden_size=hidden, residual=res)
            run = MemoryRunConfig(length=length, steps=steps, batch_size=batch, lr=lr,
                                  gradient_clip=clip or None, seed=seed)  # fmt: skip
            _, row = train_memory(model_config, run)
            rows.append(row)
    metric = "test_mse" if task == "adding" else "test_accuracy"
    base = baseline(task)["mse" if task == "adding" else "accuracy"]
    write_csv(folder / "memory.csv", rows)
    (folder / "memory.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    columns = ["cell", "length", metric, f"baseline_{metric[5:]}", "beats_baseline", "solved", "steps", "seconds"]
    (folder / "memory.md").write_text(
        f"# {task}: final test {metric[5:]} by lag (hidden {hidden}, at most {rows[0]['max_steps']} steps, "
        f"Adam lr {lr}, "
        f"clip {clip or 'off'})\n\n" + markdown_table(rows, columns) + "\n", encoding="utf-8"
    )  # fmt: skip
    plot_memory(rows, folder / "memory.png", metric=metric, baseline=base, title=f"{task}: final test {metric[5:]}")
    _print_table([{k: r[k] for k in columns} for r in rows], f"{task} problem")
    typer.echo(f"wrote {folder / 'memory.md'}, {folder / 'memory.csv'}, {folder / 'memory.png'}")


def _say(text: str) -> None:
    """A progress line on stderr (stdout stays the command's result)."""
    from rich.console import Console

    Console(stderr=True).print(text)


def _print_table(rows: list[dict], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in rows[0]:
        table.add_column(str(col))
    for r in rows:
        table.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in r.values()])
    Console(width=max(Console().width, 120)).print(table)
