"""Robustness, sixth round: the command line says what the user typed (flags, not config field names) and refuses
an option given twice rather than silently keeping the last one."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import cli, refused

AIR = Path(__file__).resolve().parents[2] / "src" / "rnnlab" / "forecast" / "data" / "airpassengers.csv"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--epochs", "1", "--epochs", "3"], "--epochs given twice"),
        (["--epochs=1", "--epochs", "3"], "--epochs given twice"),
        (["--progress", "--no-progress"], "--progress and --no-progress both given"),
        (["--horizon", "2", "--horizon", "2"], "--horizon given twice"),
    ],
)
def test_an_option_given_twice_is_refused(monkeypatch, capsys, tmp_path, args, named):
    out = tmp_path / "model"
    code, _, err = cli(monkeypatch, capsys, "forecast", "fit", AIR, "--target", "value", "--time-col", "date",
                       *args, "--out", out)  # fmt: skip
    assert code == 2 and err.startswith(f"error: {named}: give one") and "rnnlab forecast fit --help" in err, err
    assert not out.exists()


def test_options_that_take_many_values_may_repeat(monkeypatch, capsys):
    from rnnlab.cli.main import _given_twice

    assert _given_twice(["extract", "fit", "--train", "a.jsonl", "--train", "b.jsonl", "--exclude", "c"]) is None
    assert _given_twice(["extract", "fit", "--train", "a", "--out", "x", "--out", "y"]).startswith("--out given twice")
    assert _given_twice(["nosuchcommand", "--x", "--x"]) is None  # click names the unknown command


@pytest.mark.parametrize(
    ("args", "flag"),
    [(["--members", "0"], "members (--members)"), (["--epochs", "-1"], "max_epochs (--max-epochs)"),
     (["--horizon", "0"], "horizon (--horizon)")],
)  # fmt: skip
def test_a_bad_setting_names_its_flag(monkeypatch, capsys, tmp_path, args, flag):
    err = refused(monkeypatch, capsys, "forecast", "fit", AIR, "--target", "value", "--time-col", "date", *args,
                  "--out", tmp_path / "m")  # fmt: skip
    assert flag in err, err
