"""The command line: shapes beside Keras', info, version, one-line failures."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnnlab.cli import app

runner = CliRunner()


def test_shapes_json_matches_keras_outputs():
    result = runner.invoke(app, ["shapes", "--cells", "lstm,gru", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 16
    for row in rows:
        assert row["rnnlab"][0] == row["keras"][0]  # the output itself
        n_states = len(row["keras"]) - 1
        if row["return_state"]:
            per_dir = 2 if row["cell"] == "LSTM" else 1
            assert n_states == per_dir * (2 if row["bidirectional"] else 1)
            assert len(row["rnnlab"]) - 1 == per_dir
    lstm_bi = next(r for r in rows if r["cell"] == "LSTM" and r["bidirectional"] and r["return_state"])
    assert lstm_bi["rnnlab"][1] == [2, 32, 4]


def test_shapes_table():
    result = runner.invoke(app, ["shapes", "--cells", "rnn"])
    assert result.exit_code == 0
    assert "SimpleRNN" in result.output and "(32,10,8) (2,32,4)" in result.output


def test_info_and_version():
    assert "threads" in runner.invoke(app, ["info"]).output
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("rnnlab ")


def test_bad_option_is_one_line_and_exit_1():
    done = subprocess.run(
        [sys.executable, "-m", "rnnlab", "shapes", "--cells", "transformer"], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "error: --cells takes names among ['gru', 'lstm', 'rnn'], received 'transformer'"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["forcast"], "No such command 'forcast'"), (["extract", "fit", "--epoch", "2"], "No such option: --epoch"),
     (["extract", "fit", "--epochs", "abc", "--train", "x", "--out", "y"], "Invalid value for '--epochs'"),
     (["extract", "fit"], "Missing option")],
)  # fmt: skip
def test_usage_errors_through_the_console_script_are_one_line_and_exit_2(args, message):
    script = Path(sys.executable).with_name("rnnlab")
    if not script.is_file():
        pytest.skip("rnnlab is not installed as a console script in this environment")
    done = subprocess.run([str(script), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error: ") and message in done.stderr and "--help" in done.stderr


def test_an_os_error_is_one_line_naming_the_path(tmp_path):
    script = Path(sys.executable).with_name("rnnlab")
    if not script.is_file():
        pytest.skip("rnnlab is not installed as a console script in this environment")
    args = [str(script), "extract", "predict", "Maison à Vence", "--model", "rules", "--output", str(tmp_path),
            "--overwrite"]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == f"error: {tmp_path}: Is a directory; check the path and its permissions"


def test_serving_beyond_loopback_warns():
    from rnnlab.cli.serve import exposure_warning

    assert exposure_warning("127.0.0.1") is None and exposure_warning("::1") is None
    assert exposure_warning("localhost") is None and exposure_warning("127.0.0.2") is None
    for host in ("0.0.0.0", "::", "192.168.1.4", "myhost.example", "", " "):  # "": uvicorn binds every interface
        assert "serves every machine" in exposure_warning(host)


def test_the_command_line_imports_no_torch_lightning_or_pandas():
    """`rnnlab --help` (and every `<command> --help`) reads the CLI modules only: PyTorch (~2 s here),
    Lightning (~4 s) and pandas are imported by the commands that use them (issue 23: --help under 1 s)."""
    code = (
        "import sys, time; t = time.perf_counter(); import rnnlab.cli.main; "
        "heavy = [m for m in ('torch', 'lightning', 'pandas', 'matplotlib') if m in sys.modules]; "
        "print(time.perf_counter() - t, heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    seconds, heavy = done.stdout.split(" ", 1)
    assert heavy.strip() == "[]", f"importing the CLI imported {heavy.strip()}"
    assert float(seconds) < 3.0  # ~0.35 s on a 2-core CPU; the guard is loose to stay deterministic


def test_help_of_every_command_answers():
    from rnnlab.cli.main import app as root

    commands = [
        ["forecast", "fit"],
        ["classify", "fit"],
        ["tag", "fit"],
        ["extract", "fit"],
        ["lab"],
        ["memory"],
        ["serve"],
    ]
    for args in [["--help"], *([*c, "--help"] for c in [*commands, ["export"]])]:
        result = runner.invoke(root, args)
        assert result.exit_code == 0 and "Usage" in result.output, (args, result.output)


def test_results_are_json_when_piped_and_a_table_on_a_terminal(monkeypatch):
    """The output rule of every command (issue 23): a program reading a pipe gets JSON without --json, a person at
    a terminal a rich table (extract predict printed raw Markdown pipes there)."""
    script = Path(sys.executable).with_name("rnnlab")
    if not script.is_file():
        pytest.skip("rnnlab is not installed as a console script in this environment")
    ads = Path(__file__).parent / "ie" / "ads.jsonl"
    done = subprocess.run([str(script), "extract", "evaluate", str(ads), "--model", "rules"], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["micro"]["f1"] > 0.5  # piped: one JSON document

    from rnnlab.cli import common, extract

    monkeypatch.setattr(common, "to_terminal", lambda: True)
    monkeypatch.setattr(extract, "to_terminal", lambda: True)
    result = runner.invoke(app, ["extract", "predict", "Maison 4 pièces à Vence, 250 000 €", "--model", "rules"])
    assert result.exit_code == 0, result.output
    assert "┃ field" in result.output and "price_eur" in result.output and "|---|" not in result.output
    result = runner.invoke(app, ["extract", "evaluate", str(ads), "--model", "rules"])
    assert "micro P" in result.output and "┃ field" in result.output
