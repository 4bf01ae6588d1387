"""Issue 22, the fifth round of probing: each case failed before its fix (a silent wrong answer, a misleading
hint) and is now a one-line error, a one-line warning or the right answer."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from cli_runner import cli, refused

from rnnlab.data.series import read_series
from rnnlab.errors import DataWarning


def test_a_value_that_alone_sets_the_scale_is_named_in_a_warning(tmp_path, monkeypatch, capsys):
    values = [100.0 + 10 * np.sin(i / 3) for i in range(40)]
    values[17] = 1e25  # a typing or unit error: the scaler's std becomes 1.6e24 and every forecast is the mean
    data = tmp_path / "ts.csv"
    pd.DataFrame({"date": pd.date_range("2000-01-01", periods=40, freq="MS").strftime("%Y-%m-%d"), "y": values}
                 ).to_csv(data, index=False)  # fmt: skip
    with pytest.warns(DataWarning, match=r"ts.csv, row 19, column y: 1e\+25 lies .* standard deviations"):
        read_series(data, time_col="date", targets=["y"])
    code, _, err = cli(monkeypatch, capsys, "forecast", "fit", data, "--time-col", "date", "--target", "y",
                       "--input-width", "6", "--horizon", "2", "--hidden-size", "4", "--max-epochs", "1",
                       "--no-progress", "--out", tmp_path / "m")  # fmt: skip
    assert code == 0 and err.startswith("warning: ") and "row 19, column y" in err and "UserWarning" not in err
    values[17] = 130.0  # an ordinary spike is not flagged
    pd.DataFrame({"date": pd.date_range("2000-01-01", periods=40, freq="MS"), "y": values}).to_csv(data, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        read_series(data, time_col="date", targets=["y"])


@pytest.mark.parametrize("command", [["extract", "evaluate"], ["extract", "predict", "--input"]])
def test_a_non_object_line_of_ads_gets_the_ads_hint_not_the_classifiers(tmp_path, monkeypatch, capsys, command):
    ads = tmp_path / "ads.jsonl"
    ads.write_text('{"text": "Vente maison"}\n[1, 2]\n', encoding="utf-8")
    err = refused(monkeypatch, capsys, *command, ads)
    assert "ads.jsonl:2: each line must be a JSON object, found list" in err
    assert '"text": "Vente appartement T3 ..."' in err and '"label"' not in err


@pytest.mark.parametrize("text, message", [
    ('{"train": {"lr": 0.1}, "lr": 0.2}', "'lr' is given twice, in the 'train' object and beside it"),
    ('{"lr": 0.1, "lr": 0.2}', "key(s) ['lr'] given twice in one object"),
])  # fmt: skip
def test_a_config_file_that_sets_one_setting_twice_is_refused(tmp_path, monkeypatch, capsys, text, message):
    config = tmp_path / "settings.json"
    config.write_text(text, encoding="utf-8")  # json.loads kept one of the two values without a word
    data = tmp_path / "ts.csv"
    pd.DataFrame({"y": np.arange(30.0)}).to_csv(data, index=False)
    err = refused(monkeypatch, capsys, "forecast", "fit", data, "--target", "y", "--config", config,
                  "--out", tmp_path / "m")  # fmt: skip
    assert str(config) in err and message in err
    assert not (tmp_path / "m").exists()


def test_a_fit_on_two_processes_saves_once_and_prints_one_result(tmp_path):
    """--devices 2 on CPU: Lightning re-runs the command for the second process; before the fix both processes
    saved the model and printed the JSON summary (twice on stdout, two saves racing on one directory)."""
    import json
    import os
    import subprocess
    import sys

    data = tmp_path / "ts.csv"
    pd.DataFrame({"y": [float(i % 7) for i in range(60)]}).to_csv(data, index=False)
    env = {k: v for k, v in os.environ.items() if k not in ("LOCAL_RANK", "WORLD_SIZE", "MASTER_PORT", "NODE_RANK")}
    env.update(OMP_NUM_THREADS="1", RNNLAB_TUNE_MALLOC="0")
    script = [sys.executable, "-m", "rnnlab"]  # Lightning re-runs `python -m rnnlab ...` for the second process
    done = subprocess.run([*script, "forecast", "fit", str(data), "--target", "y", "--input-width", "6", "--horizon",
                           "1", "--hidden-size", "4", "--max-epochs", "1", "--no-progress", "--accelerator", "cpu",
                           "--devices", "2", "--json", "--out", str(tmp_path / "m")],
                          env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and json.loads(lines[0])["epochs"] >= 1, done.stdout
    assert (tmp_path / "m" / "config.json").is_file() and not list(tmp_path.glob("m.*"))
