"""Long-memory tasks: generators, baselines, a training run, and the lab's command line."""

import json

import pytest
import torch
from typer.testing import CliRunner

from rnnlab import load, save
from rnnlab.cli import app
from rnnlab.diagnostics.memory import MemoryModelConfig, MemoryRunConfig, train_memory
from rnnlab.diagnostics.memory_tasks import TaskBatches, adding_problem, baseline, recall_task
from rnnlab.errors import ConfigError


def test_adding_problem_structure_and_baseline():
    x, y = adding_problem(20_000, 30, generator=torch.Generator().manual_seed(0))
    markers = x[..., 1]
    assert torch.all(markers.sum(1) == 2)
    assert torch.all(markers[:, :15].sum(1) == 1) and torch.all(markers[:, 15:].sum(1) == 1)
    assert torch.allclose((x[..., 0] * markers).sum(1, keepdim=True), y)
    trivial = ((y - 1.0) ** 2).mean().item()  # always answering 1
    assert trivial == pytest.approx(baseline("adding")["mse"], abs=0.005)


def test_recall_task_and_seeded_batches():
    x, y = recall_task(5, 9, generator=torch.Generator().manual_seed(0))
    assert x.shape == (5, 9, 8) and torch.equal(x[:, 0].argmax(-1), y)
    data = TaskBatches("adding", 12, batch_size=4, n_batches=3, seed=1)
    assert len(data) == 3 and torch.equal(data[2][0], data[2][0]) and not torch.equal(data[0][0], data[1][0])
    with pytest.raises(ValueError, match="task must be one of"):
        TaskBatches("copy", 12, batch_size=4, n_batches=3, seed=1)


def test_lstm_learns_short_adding_and_saves(tmp_path):
    model, row = train_memory(MemoryModelConfig(cell="lstm", hidden_size=16),
                              MemoryRunConfig(length=8, steps=300, batch_size=32))  # fmt: skip
    assert row["test_mse"] < 0.05 and row["beats_baseline"]
    save(model, tmp_path / "m")
    x, _ = adding_problem(4, 8, generator=torch.Generator().manual_seed(3))
    assert torch.equal(load(tmp_path / "m")(x), model(x))


def test_residual_only_for_simple_rnn():
    with pytest.raises(ConfigError, match="residual=True is the SimpleRNN remedy"):
        MemoryModelConfig(cell="lstm", residual=True)


def test_cli_gradients_and_memory(tmp_path):
    runner = CliRunner()
    out = tmp_path / "g"
    result = runner.invoke(app, ["gradients", "--cells", "rnn,lstm", "--length", "12", "--hidden", "8",
                                 "--trained-on", "adding", "--steps", "100", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"gradients.png", "gradients.csv", "summary.md"}
    summary = (out / "summary.md").read_text()
    assert "| rnn | trained |" in summary and "1/4294967296" in summary
    lines = (out / "gradients.csv").read_text().splitlines()
    assert lines[0] == "cell,stage,lag,mean,std,median" and len(lines) == 1 + 2 * 2 * 12
    again = runner.invoke(app, ["gradients", "--cells", "rnn", "--length", "12", "--out", str(out)])
    assert again.exit_code != 0 and "pass --overwrite" in str(again.exception)

    out = tmp_path / "m"
    result = runner.invoke(app, ["memory", "--cells", "gru", "--lengths", "6,10", "--steps", "100", "--hidden", "8",
                                 "--residual", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "memory.json").read_text())
    assert [(r["cell"], r["length"]) for r in rows] == [("gru", 6), ("rnn+residual", 6), ("gru", 10),
                                                       ("rnn+residual", 10)]  # fmt: skip
    assert (out / "memory.png").stat().st_size > 10_000
