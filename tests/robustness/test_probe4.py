"""Issue 22, the fourth round of probing: each case failed before its fix (data lost, a traceback, a silent wrong
answer or a hang) and is now a one-line error or the right answer."""

from __future__ import annotations

import json
import math
import re
import signal
import time

import numpy as np
import pandas as pd
import pytest
from cli_runner import cli, refused
from safetensors import safe_open
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.errors import ConfigError, DataError, ModelFileError

FIT = ["--time-col", "date", "--target", "y", "--input-width", "6", "--horizon", "2", "--hidden-size", "4",
       "--max-epochs", "1", "--no-progress", "--seed", "0"]  # fmt: skip


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    root = tmp_path_factory.mktemp("p4")
    stamps = pd.date_range("2000-01-01", periods=80, freq="MS")
    data = root / "ts.csv"
    pd.DataFrame({"date": stamps.strftime("%Y-%m-%d"), "y": [round(100 + 10 * math.sin(i / 3), 3) for i in range(80)]}
                 ).to_csv(data, index=False)  # fmt: skip
    result = CliRunner().invoke(app, ["forecast", "fit", str(data), *FIT, "--out", str(root / "m")])
    assert result.exit_code == 0, result.output
    return root


def edited_copy(model, to, edit):
    """A copy of the saved ``model`` at ``to`` whose config.json went through ``edit`` (a function of the dict)."""
    import shutil

    shutil.copytree(model, to)
    config = json.loads((to / "config.json").read_text())
    edit(config)
    (to / "config.json").write_text(json.dumps(config))
    return to


def test_a_plot_path_without_suffix_is_that_file_and_never_replaces_another(series, tmp_path, monkeypatch, capsys):
    # before: --plot userplot wrote userplot.png over the user's file (matplotlib adds .png), unchecked
    mine = tmp_path / "userplot.png"
    mine.write_text("precious")
    code, _, err = cli(monkeypatch, capsys, "forecast", "predict", series / "ts.csv", "--model", series / "m",
                       "--output", tmp_path / "f.csv", "--plot", tmp_path / "userplot")  # fmt: skip
    assert code == 0, err
    assert mine.read_text() == "precious"
    assert (tmp_path / "userplot").read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "adir").mkdir()
    err = refused(monkeypatch, capsys, "forecast", "predict", series / "ts.csv", "--model", series / "m",
                  "--output", tmp_path / "g.csv", "--plot", tmp_path / "adir")  # fmt: skip
    assert f"{tmp_path / 'adir'}: Is a directory" in err and not (tmp_path / "adir.png").exists()
    err = refused(monkeypatch, capsys, "forecast", "predict", series / "ts.csv", "--model", series / "m",
                  "--output", tmp_path / "adir", "--overwrite")  # fmt: skip
    assert f"{tmp_path / 'adir'}: Is a directory" in err  # before: '.adir.partial: Is a directory'


def test_ctrl_c_exits_130_with_a_message(series, tmp_path, monkeypatch, capsys):
    # before: rc 0, nothing on stderr (typer returned 130 without raising)
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("rnnlab.cli.forecast._read", interrupted)
    code, _, err = cli(monkeypatch, capsys, "forecast", "predict", series / "ts.csv", "--model", series / "m",
                       "--output", tmp_path / "f.csv")  # fmt: skip
    assert code == 130 and err.startswith("error: interrupted") and not (tmp_path / "f.csv").exists()


def test_sigterm_is_an_exit_that_runs_the_cleanup(series, tmp_path, monkeypatch, capsys):
    # before: killed on the spot, leaving .<output>.partial behind
    previous = signal.getsignal(signal.SIGTERM)

    def terminated(*args, **kwargs):
        signal.raise_signal(signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends

    monkeypatch.setattr("rnnlab.cli.forecast._read", terminated)
    try:
        code, _, err = cli(monkeypatch, capsys, "forecast", "predict", series / "ts.csv", "--model", series / "m",
                           "--output", tmp_path / "f.csv")  # fmt: skip
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert code == 143 and "terminated (SIGTERM)" in err


@pytest.mark.parametrize(
    ("extra", "says"),
    [(["--lr", "inf"], "lr (--lr) must be a finite positive number"),
     (["--lr", "nan"], "lr (--lr) must be a finite positive number"),
     (["--weight-decay", "-1"], "weight_decay (--weight-decay) must be"),
     (["--seed", "-1"], "seed (--seed) must be a whole number from 0"),
     (["--seed", "99999999999999999999"], "seed (--seed) must be a whole number from 0"),
     (["--devices", "0"], "devices (--devices) must be 'auto' or a positive number"),
     (["--monitor", "bogus"], "monitor (--monitor) 'bogus' is not a metric this task logs; choose one of val_loss"),
     (["--optimizer", "sgd", "--lr", "1e30"], "training diverged")],
)  # fmt: skip
def test_bad_training_settings_are_one_line_errors_and_leave_no_model(series, tmp_path, monkeypatch, capsys, extra,
                                                                      says):  # fmt: skip
    # before: Lightning's MisconfigurationException/RuntimeError tracebacks, raw numpy/torch messages, or (lr inf,
    # a diverged SGD) a saved model of NaN weights and exit 0
    given = {a for a in extra if a.startswith("--")}  # an option given twice is refused before its value is read
    fit = [a for i, a in enumerate(FIT) if a not in given and (i == 0 or FIT[i - 1] not in given)]
    err = refused(monkeypatch, capsys, "forecast", "fit", series / "ts.csv", *fit, "--out", tmp_path / "m", *extra)
    assert says in err
    assert not (tmp_path / "m").exists() and not (tmp_path / "m.partial").exists()


def test_an_accelerator_that_is_not_there_is_named(series, tmp_path, monkeypatch, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    err = refused(monkeypatch, capsys, "forecast", "fit", series / "ts.csv", *FIT, "--out", tmp_path / "m",
                  "--accelerator", "gpu")  # fmt: skip
    assert "accelerator (--accelerator) 'gpu' is not available here" in err


def test_resume_with_fewer_epochs_than_done_says_so(series, tmp_path, monkeypatch, capsys):
    # before: 68 lines ending in Lightning's 'You restored a checkpoint with current_epoch=273, but ...'
    from rnnlab.forecast.forecaster import Forecaster

    class Killed(Exception):
        pass

    def killed(*args, **kwargs):
        raise Killed

    def args(epochs: str) -> list[str]:
        return ["forecast", "fit", str(series / "ts.csv"), *FIT[:-5], "--seed", "0", "--no-progress", "--patience",
                "none", "--out", str(tmp_path / "m"), "--max-epochs", epochs]  # fmt: skip

    with monkeypatch.context() as m:
        m.setattr(Forecaster, "save", killed)
        assert isinstance(CliRunner().invoke(app, args("4")).exception, Killed)
    assert (tmp_path / "m.partial" / "checkpoints" / "last.ckpt").is_dir()
    state = json.loads((tmp_path / "m.partial" / "checkpoints" / "last.ckpt" / "state.json").read_text())
    done = state["checkpoint"]["epoch"] + 1  # the last checkpoint: the last epoch that improved
    err = refused(monkeypatch, capsys, *args(str(done - 1)), "--resume")
    assert f"--resume: the interrupted run's last checkpoint is after epoch {done}, past max_epochs" in err
    assert "larger --max-epochs" in err


def test_a_second_fit_into_the_same_out_is_refused_while_the_first_runs(tmp_path, monkeypatch):
    # before: told to delete the running fit's checkpoints, or (with --resume) both wrote them and one crashed
    from rnnlab.cli.resume import fit_checkpoints

    monkeypatch.chdir(tmp_path)
    with fit_checkpoints("m", resume=False, command="forecast fit", options={"lr": 0.1}) as run:
        (run / "checkpoints" / "last.ckpt").mkdir(parents=True)
        for resume in (False, True):
            with (
                pytest.raises(FileExistsError, match="another rnnlab fit into m is running"),
                fit_checkpoints("m", resume=resume, command="forecast fit", options={"lr": 0.1}),
            ):
                pass
    assert not run.exists()


def test_non_finite_word_vectors_are_refused_with_their_line(tmp_path):
    # before: accepted; the saved model held NaN weights and was refused at its first load
    from rnnlab.data.vectors import load_vectors

    for value in ("nan", "1e400", "-inf"):
        path = tmp_path / "v.txt"
        path.write_text(f"anna 0.1 0.2 0.3\nberlin 0.5 {value} 0.1\n", encoding="utf-8")
        with pytest.raises(DataError, match=rf"v\.txt:2:3: the vector of 'berlin' holds '{value}'"):
            load_vectors(path)


def test_integer_bytes_in_place_of_weights_are_refused(series, tmp_path):
    # before: a header whose dtype was rewritten F32 -> I32 loaded, and answered with garbage, exit 0
    import shutil
    import struct

    from rnnlab.forecast.forecaster import Forecaster

    model = tmp_path / "m"
    shutil.copytree(series / "m", model)
    raw = (model / "model.safetensors").read_bytes()
    size = struct.unpack("<Q", raw[:8])[0]
    header = raw[8 : 8 + size].replace(b'"F32"', b'"I32"')
    (model / "model.safetensors").write_bytes(raw[:8] + header + raw[8 + size :])
    with safe_open(model / "model.safetensors", "pt") as f:
        assert all(f.get_slice(k).get_dtype() == "I32" for k in f.keys())  # noqa: SIM118
    with pytest.raises(ModelFileError, match=r"is stored as torch\.int32 where the network holds torch\.float32"):
        Forecaster.load(model)


def test_an_absurd_layer_count_in_config_json_is_refused_at_once(series, tmp_path):
    # before: num_layers 20000 ran for minutes (killed at 120 s); 1000 gave a 263 KB error line
    from rnnlab.forecast.forecaster import Forecaster

    for layers, says in ((20000, "num_layers must be at most 256"), (100, "and ")):
        model = edited_copy(series / "m", tmp_path / f"m{layers}", lambda c, n=layers: c["config"].update(num_layers=n))
        start = time.perf_counter()
        with pytest.raises(ModelFileError, match=says) as caught:
            Forecaster.load(model)
        assert time.perf_counter() - start < 20 and len(str(caught.value)) < 1000


def test_gold_values_of_the_wrong_kind_are_refused(tmp_path):
    # before: "abc", NaN or an object as a gold price scored as a miss without a word
    from rnnlab.ie.extractor import read_ads

    for value in ('"abc"', "NaN", '{"value": 1}'):
        path = tmp_path / "g.jsonl"
        path.write_text(f'{{"text": "Maison 250000 euros", "gold": {{"price_eur": {value}}}}}\n', encoding="utf-8")
        with pytest.raises(DataError, match=r"gold 'price_eur' is .* it must be a finite number >= 0 or null"):
            read_ads(path)
    path.write_text('{"text": "Maison", "gold": {"city": 5}}\n', encoding="utf-8")
    with pytest.raises(DataError, match="gold 'city' is 5; it must be text or null"):
        read_ads(path)


def test_the_token_column_is_no_tag_column(tmp_path):
    # before: --tag-column 0 trained a tagger whose tags were the words
    from rnnlab.data.conll import tag_column_index

    for fmt, column in (("conll2003", "0"), ("conll2003", "word"), ("columns", 0), ("conllu", "form"), ("conllu", 0)):
        with pytest.raises(ConfigError, match="not tags"):
            tag_column_index(fmt, column)
    assert tag_column_index("columns", -1) == -1 and tag_column_index("conll2003", "ner") == 3


def test_a_column_named_twice_is_refused(series, tmp_path, monkeypatch, capsys):
    # before: the first of two 'y' columns was read without a word; --target y,y wrote a 'date,y,y' forecast
    frame = pd.read_csv(series / "ts.csv")
    dup = tmp_path / "dup.csv"
    dup.write_text("date,y,y\n" + "".join(f"{d},{v},1\n" for d, v in zip(frame["date"], frame["y"], strict=True)))
    err = refused(monkeypatch, capsys, "forecast", "predict", dup, "--model", series / "m", "--output",
                  tmp_path / "f.csv")  # fmt: skip
    assert "dup.csv:1: the header names column(s) ['y'] more than once" in err
    fit = [a for i, a in enumerate(FIT) if a != "--target" and FIT[i - 1] != "--target"]
    err = refused(monkeypatch, capsys, "forecast", "fit", series / "ts.csv", *fit, "--target", "y,y", "--out",
                  tmp_path / "m2")  # fmt: skip
    assert "--target names ['y'] more than once" in err


def test_the_exported_forecaster_checks_its_histories_like_pytorch(series, tmp_path):
    # before: a NaN history gave a NaN forecast; a 1-D array or 3 rows gave raw onnxruntime errors
    pytest.importorskip("onnxruntime")
    from rnnlab.export import OnnxForecaster, export_onnx

    export_onnx(series / "m", tmp_path / "f.onnx")
    onnx = OnnxForecaster(tmp_path / "f.onnx", series / "m")
    history = pd.read_csv(series / "ts.csv")[["y"]].to_numpy(np.float32)
    assert onnx.predict_arrays([history]).shape == (1, 2, 1)
    for bad, says in ((np.r_[history[:-1], [[np.nan]]], "holds nan"), (history[:, 0], "shape (80,)"),
                      (history[:3], "has 3 step(s)")):  # fmt: skip
        with pytest.raises(DataError, match=re.escape(says)):
            onnx.predict_arrays([bad])


def test_a_utf16_file_is_named_utf16_not_latin1(tmp_path):
    # before: 'byte 0xff is not UTF-8 (hint: ... iconv -f latin1 ...)', advice that makes garbage of UTF-16
    from rnnlab.data.readers import read_csv_checked
    from rnnlab.data.text import read_lines

    path = tmp_path / "s.csv"
    path.write_bytes("date,y\n2024-01-01,1\n".encode("utf-16"))
    for read in (read_csv_checked, read_lines):
        with pytest.raises(DataError, match="the file is UTF-16") as caught:
            read(path)
        assert "latin1" not in str(caught.value)


def test_format_version_zero_is_explained(series, tmp_path):
    # before: 'format_version must be a whole number (1 for this rnnlab), received 0' (0 is a whole number)

    from rnnlab.forecast.forecaster import Forecaster

    model = edited_copy(series / "m", tmp_path / "m", lambda c: c.update(format_version=0))
    with pytest.raises(ModelFileError, match="format_version must be a whole number from 1 to"):
        Forecaster.load(model)


def test_monthly_rows_on_the_15th_get_a_fix_not_an_hour_grid(tmp_path, monkeypatch, capsys):
    # before: 'timestamp 2000-03-15 00:00:00 is off the 744h grid'
    data = tmp_path / "m15.csv"
    stamps = pd.date_range("2000-01-01", periods=40, freq="MS") + pd.Timedelta(days=14)
    pd.DataFrame({"date": stamps.strftime("%Y-%m-%d"), "y": np.arange(40.0)}).to_csv(data, index=False)
    err = refused(monkeypatch, capsys, "forecast", "fit", data, *FIT, "--out", tmp_path / "m")
    assert "monthly, each on day 15 of its month" in err and "first day of its month" in err and "744h" not in err


def test_a_gap_at_predict_says_to_refit_with_fill(series, tmp_path, monkeypatch, capsys):
    # before: 'pass --fill ...', an option predict does not have
    frame = pd.read_csv(series / "ts.csv").drop(index=70)
    frame.to_csv(tmp_path / "gap.csv", index=False)
    err = refused(monkeypatch, capsys, "forecast", "predict", tmp_path / "gap.csv", "--model", series / "m",
                  "--output", tmp_path / "f.csv")  # fmt: skip
    assert "fit with --fill" in err and "fill the gap in the file" in err


def test_tag_predict_refuses_a_book_on_one_line(tmp_path, monkeypatch, capsys):
    # before: a 2 MB line took 83 s and 1 GB (a 10 MB one: several GB)
    from rnnlab.tag.models import TaggerConfig
    from rnnlab.tag.tagger import Tagger
    from rnnlab.training import TrainConfig

    tagger = Tagger(TaggerConfig(hidden_size=4, char="none"), TrainConfig(max_epochs=1))
    from rnnlab.data.conll import Sentence

    tagger.fit([Sentence(["Anna", "left"], ["B-PER", "O"], 1)], embeddings="none")
    tagger.save(tmp_path / "t")
    (tmp_path / "in.txt").write_text("Anna left\n" + "word " * 30_000 + "\n", encoding="utf-8")
    err = refused(monkeypatch, capsys, "tag", "predict", "--model", tmp_path / "t", "--input", tmp_path / "in.txt")
    assert "in.txt: line 2 has 150,000 characters; tag predict reads at most 100,000" in err


def test_extract_predict_reads_stdin(monkeypatch, capsys):
    # before: 'error: -: no such file'
    import io

    class Stdin:
        buffer = io.BytesIO(b"Maison 4 pi\xc3\xa8ces de 90 m2 \xc3\xa0 Toulon\n\nAppartement T2 de 45 m2\n")

    monkeypatch.setattr("sys.stdin", Stdin())
    code, out, err = cli(monkeypatch, capsys, "extract", "predict", "--input", "-", "--model", "rules")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [r["template"]["surface_m2"]["value"] for r in rows] == [90, 45]


def test_an_ensemble_of_a_hundred_thousand_members_is_refused():
    # before: accepted, and ran for good
    from rnnlab.forecast.models import ForecastConfig

    with pytest.raises(ConfigError, match=r"members .* must be at most 64"):
        ForecastConfig(members=100_000)
