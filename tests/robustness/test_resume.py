"""CLI fits keep checkpoints beside --out (<out>.partial) and continue an interrupted run with --resume
(issue 22, row 15): a killed fit resumes to the model an uninterrupted run gives."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from rnnlab.classify.classifier import TextClassifier
from rnnlab.cli import app
from rnnlab.forecast.forecaster import Forecaster
from rnnlab.training.checkpoints import read_checkpoint

ADS = Path(__file__).parents[1] / "ie" / "ads.jsonl"


class Killed(Exception):
    """Stands for the process dying after its training, before the model was saved."""


def _series_csv(tmp_path: Path, n: int = 120) -> Path:
    t = np.arange(n)
    csv = tmp_path / "data.csv"
    values = np.sin(2 * np.pi * t / 12) + 0.1 * np.random.default_rng(0).normal(size=n)
    pd.DataFrame({"date": pd.date_range("2020-01-01", periods=n, freq="h"), "load": values}).to_csv(csv, index=False)
    return csv


def _forecast_args(csv: Path, out: Path, epochs: int, *more: str) -> list[str]:
    return ["forecast", "fit", str(csv), "--time-col", "date", "--target", "load", "--input-width", "12",
            "--horizon", "3", "--model", "gru", "--hidden", "4", "--patience", "50", "--lr", "0.01",
            "--epochs", str(epochs), "--out", str(out), "--no-progress", "--json", *more]  # fmt: skip


def _weights(model) -> list[torch.Tensor]:
    return list(model.net.state_dict().values())


def _same(a, b) -> bool:
    return all(torch.allclose(u, v, atol=1e-6, rtol=0) for u, v in zip(_weights(a), _weights(b), strict=True))


def _killed_after_training(monkeypatch, cls, args: list[str]) -> None:
    with monkeypatch.context() as m:
        m.setattr(cls, "save", lambda *a, **k: (_ for _ in ()).throw(Killed()))
        result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, Killed), result.output


def test_forecast_fit_resumes_to_the_uninterrupted_model(tmp_path, monkeypatch):
    csv = _series_csv(tmp_path)
    straight = CliRunner().invoke(app, _forecast_args(csv, tmp_path / "a", 4))
    assert straight.exit_code == 0, straight.output
    assert not (tmp_path / "a.partial").exists()  # a finished fit leaves its model only
    _killed_after_training(monkeypatch, Forecaster, _forecast_args(csv, tmp_path / "b", 2))
    assert (tmp_path / "b.partial" / "checkpoints" / "last.ckpt" / "state.json").is_file()
    assert not (tmp_path / "b").exists()

    again = CliRunner().invoke(app, _forecast_args(csv, tmp_path / "b", 4))  # forgot --resume
    assert again.exit_code != 0 and "pass --resume to continue it" in str(again.exception)
    resumed = CliRunner().invoke(app, _forecast_args(csv, tmp_path / "b", 4, "--resume"))
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.output)["epochs"] == 4  # the epoch count continues
    assert _same(Forecaster.load(tmp_path / "a"), Forecaster.load(tmp_path / "b"))
    assert not (tmp_path / "b.partial").exists()


def test_resume_refuses_other_options_or_data_and_says_when_there_is_nothing_to_resume(tmp_path, monkeypatch):
    csv = _series_csv(tmp_path)
    nothing = CliRunner().invoke(app, _forecast_args(csv, tmp_path / "m", 2, "--resume"))
    assert nothing.exit_code != 0 and not (tmp_path / "m.partial").exists()
    message = str(nothing.exception)
    assert message.startswith("--resume: no interrupted `rnnlab forecast fit`") and "\n" not in message
    _killed_after_training(monkeypatch, Forecaster, _forecast_args(csv, tmp_path / "m", 1))
    other = CliRunner().invoke(app, [*_forecast_args(csv, tmp_path / "m", 2, "--resume"), "--hidden", "5"])
    assert other.exit_code != 0 and "--hidden-size was 4, now 5" in str(other.exception)
    _series_csv(tmp_path, n=130)
    changed = CliRunner().invoke(app, _forecast_args(csv, tmp_path / "m", 2, "--resume"))
    assert changed.exit_code != 0 and f"{csv} changed since" in str(changed.exception)


def test_a_fit_failing_early_leaves_nothing_and_a_foreign_partial_folder_is_kept(tmp_path, monkeypatch):
    csv = _series_csv(tmp_path)
    monkeypatch.setattr(Forecaster, "fit_arrays", lambda *a, **k: (_ for _ in ()).throw(ValueError("no")))
    result = CliRunner().invoke(app, _forecast_args(csv, tmp_path / "m", 1))
    assert str(result.exception) == "no" and sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]
    (tmp_path / "m.partial").mkdir()
    (tmp_path / "m.partial" / "mine.txt").write_text("x")
    result = CliRunner().invoke(app, _forecast_args(csv, tmp_path / "m", 1))
    assert "was not written by an rnnlab fit" in str(result.exception)
    assert (tmp_path / "m.partial" / "mine.txt").read_text() == "x"


def test_a_damaged_or_outside_checkpoint_is_refused(tmp_path, monkeypatch):
    csv = _series_csv(tmp_path)
    _killed_after_training(monkeypatch, Forecaster, _forecast_args(csv, tmp_path / "m", 1))
    last = tmp_path / "m.partial" / "checkpoints" / "last.ckpt"
    tensors = last / "state.safetensors"
    tensors.write_bytes(tensors.read_bytes()[:100])
    result = CliRunner().invoke(app, _forecast_args(csv, tmp_path / "m", 2, "--resume"))
    assert "is damaged" in str(result.exception)
    shutil.rmtree(last)
    (tmp_path / "elsewhere.ckpt").mkdir()
    last.symlink_to(tmp_path / "elsewhere.ckpt")
    result = CliRunner().invoke(app, _forecast_args(csv, tmp_path / "m", 2, "--resume"))
    assert "leads outside" in str(result.exception)


def test_a_forecast_fit_killed_with_sigkill_resumes(tmp_path):
    csv = _series_csv(tmp_path)
    out = tmp_path / "m"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-m", "rnnlab", *_forecast_args(csv, out, 10_000)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    last = tmp_path / "m.partial" / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 120
    while not last.is_dir() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert last.is_dir(), child.stderr.read().decode()
    epoch = read_checkpoint(last)["epoch"]  # the last epoch it finished
    resumed = CliRunner().invoke(app, _forecast_args(csv, out, epoch + 3, "--resume"))
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.output)["epochs"] == epoch + 3
    straight = CliRunner().invoke(app, _forecast_args(csv, tmp_path / "straight", epoch + 3))
    assert straight.exit_code == 0, straight.output
    assert _same(Forecaster.load(out), Forecaster.load(tmp_path / "straight"))


def _texts_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    good, bad = ["great", "fine", "lovely", "superb"], ["awful", "poor", "dull", "bad"]
    rows = [{"text": " ".join(rng.choice(good if y else bad, 4)) + " film", "label": "pos" if y else "neg"}
            for y in [0, 1] * 20]  # fmt: skip
    path = tmp_path / "texts.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_classify_fit_resumes_to_the_uninterrupted_model(tmp_path, monkeypatch):
    data = _texts_csv(tmp_path)

    def args(out: str, epochs: int, *more: str) -> list[str]:
        return ["classify", "fit", "--train", str(data), "--embeddings", "none", "--embedding-dim", "8",
                "--hidden", "4", "--min-freq", "1", "--patience", "50", "--epochs", str(epochs),
                "--out", str(tmp_path / out), "--no-progress", "--json", *more]  # fmt: skip

    straight = CliRunner().invoke(app, args("a", 3))
    assert straight.exit_code == 0, straight.output
    _killed_after_training(monkeypatch, TextClassifier, args("b", 1))
    resumed = CliRunner().invoke(app, args("b", 3, "--resume"))
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.output.strip().splitlines()[-1])["epochs"] == 3
    assert _same(TextClassifier.load(tmp_path / "a"), TextClassifier.load(tmp_path / "b"))


@pytest.mark.parametrize("command", ["classify", "tag", "extract"])
def test_every_fit_has_resume_and_says_when_there_is_nothing_to_resume(tmp_path, command):
    conll = tmp_path / "train.txt"
    conll.write_text("the DET\ncat NOUN\n\na DET\ndog NOUN\n\n", encoding="utf-8")
    data = {"classify": ["--train", str(_texts_csv(tmp_path)), "--embeddings", "none"],
            "tag": ["--train", str(conll), "--format", "columns", "--tag-column", "-1", "--embeddings", "none"],
            "extract": ["--train", str(ADS)]}[command]  # fmt: skip
    result = CliRunner().invoke(app, [command, "fit", *data, "--out", str(tmp_path / "m"), "--resume"])
    assert result.exit_code != 0, result.output
    assert str(result.exception).startswith(f"--resume: no interrupted `rnnlab {command} fit` into")
    assert not (tmp_path / "m").exists() and not (tmp_path / "m.partial").exists()
