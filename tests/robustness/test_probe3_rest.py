"""Issue 22, the rest of the third probing round: each case failed (a traceback-like message, a silent wrong
answer, or a refusal that came only after training) before its fix."""

from __future__ import annotations

import json
import math
import os
import sys

import pandas as pd
import pytest
from cli_runner import cli, refused
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.errors import ModelFileError

FIT = ["--time-col", "date", "--target", "y", "--input-width", "8", "--horizon", "2", "--hidden-size", "4",
       "--max-epochs", "1", "--no-progress", "--seed", "0"]  # fmt: skip


def hourly_csv(path, n=80, start="2024-01-01", tz=None):
    stamps = pd.date_range(start, periods=n, freq="h", tz=tz)
    pd.DataFrame({"date": [t.isoformat() for t in stamps], "y": [round(math.sin(i / 5), 3) for i in range(n)]}).to_csv(
        path, index=False
    )
    return path


@pytest.mark.parametrize("value", ["10000", "0", "-3", "1"])
def test_val_steps_out_of_range_names_the_option_and_the_range(tmp_path, monkeypatch, capsys, value):
    # before: 'cannot reshape array of size 0 ...' (10000) or 'a series of 8 steps is shorter than one window' (0)
    data = hourly_csv(tmp_path / "s.csv")
    err = refused(monkeypatch, capsys, "forecast", "fit", data, *FIT, "--val-steps", value, "--out", tmp_path / "m")
    assert f"--val-steps) = {value} must be between 2 and 70" in err
    assert not (tmp_path / "m").exists() and not (tmp_path / "m.partial").exists()


def test_daylight_saving_offsets_are_read_as_utc_and_forecast_on_the_right_clock(tmp_path, monkeypatch, capsys):
    # before: pandas' 'Mixed timezones detected. Pass utc=True ...'; a single offset gave step numbers (96, 97)
    data = hourly_csv(tmp_path / "dst.csv", n=97, start="2024-03-29", tz="Europe/Paris")  # 31 March: +01 -> +02
    assert "+01:00" in data.read_text() and "+02:00" in data.read_text()
    code, _, err = cli(monkeypatch, capsys, "forecast", "fit", data, *FIT, "--out", tmp_path / "m")
    assert code == 0, err
    code, _, err = cli(monkeypatch, capsys, "forecast", "predict", data, "--model", tmp_path / "m",
                       "--output", tmp_path / "f.csv")  # fmt: skip
    assert code == 0, err
    last = pd.Timestamp(pd.read_csv(data)["date"].iloc[-1])  # 2024-04-02T01:00:00+02:00 = 23:00 UTC
    forecast = pd.read_csv(tmp_path / "f.csv")
    assert [pd.Timestamp(t) for t in forecast["date"]] == [last + pd.Timedelta(hours=h) for h in (1, 2)]
    assert forecast["date"].iloc[0] == "2024-04-02 00:00:00+00:00"


def test_resume_with_another_spelling_of_the_same_data_file_continues(tmp_path, monkeypatch):
    # before: '--resume ... but data.csv changed since' when the data was named ./data.csv the second time
    from rnnlab.cli.resume import start_run

    data = hourly_csv(tmp_path / "data.csv")
    monkeypatch.chdir(tmp_path)
    run = start_run("m", resume=False, command="forecast fit", options={"data": "data.csv", "lr": 0.1})
    (run / "checkpoints" / "last.ckpt").mkdir(parents=True)
    from rnnlab.cli import resume

    monkeypatch.setattr("rnnlab.training.checkpoints.check_checkpoint", lambda path: None)
    again = resume.start_run("m", resume=True, command="forecast fit", options={"data": "./data.csv", "lr": 0.1})
    assert again == run
    data.write_text(data.read_text() + "2024-01-04 08:00:00,0.5\n")  # a changed file is still refused
    with pytest.raises(ValueError, match=r"data\.csv changed since"):
        resume.start_run("m", resume=True, command="forecast fit", options={"data": str(data), "lr": 0.1})


def test_overwrite_into_a_folder_of_folders_is_refused_before_training(tmp_path, monkeypatch, capsys):
    # before: refused by the save after the whole training, leaving <out>.partial behind
    data = hourly_csv(tmp_path / "s.csv")
    (tmp_path / "mine" / "photos").mkdir(parents=True)
    trained = []
    monkeypatch.setattr("rnnlab.forecast.forecaster.Forecaster.fit_arrays", lambda *a, **k: trained.append(1))
    err = refused(monkeypatch, capsys, "forecast", "fit", data, *FIT, "--out", tmp_path / "mine", "--overwrite")
    assert "holds folders (photos) and no saved model" in err and not trained
    assert not (tmp_path / "mine.partial").exists() and (tmp_path / "mine" / "photos").is_dir()


def test_out_at_the_filesystem_root_says_so(tmp_path, monkeypatch, capsys):
    # before: '/ is not empty; pass overwrite=True' (advice that must not be followed)
    data = hourly_csv(tmp_path / "s.csv")
    for more in ([], ["--overwrite"]):
        err = refused(monkeypatch, capsys, "forecast", "fit", data, *FIT, "--out", "/", *more)
        assert "is the filesystem root" in err and "overwrite" not in err


def _tagger(tmp_path):
    train = tmp_path / "train.txt"
    train.write_text("Omar B-PER\nvisited O\nLima B-LOC\n\nAnna B-PER\nleft O\n\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["tag", "fit", "--train", str(train), "--dev", str(train), "--format", "columns",
                                      "--max-epochs", "1", "--hidden-size", "4", "--out", str(tmp_path / "t"),
                                      "--no-progress", "--embeddings", "none"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return tmp_path / "t"


@pytest.mark.parametrize("asset", ["words", "chars"])
def test_a_cut_vocabulary_file_is_refused_not_read_as_unknown_words(tmp_path, asset):
    from rnnlab.tag.tagger import Tagger

    model = _tagger(tmp_path)
    path = model / f"{asset}.json"
    entries = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(entries[:-2]), encoding="utf-8")  # the last two entries gone
    with pytest.raises(ModelFileError, match=rf"{asset}.json holds {len(entries) - 2} entries for the network's "):
        Tagger.load(model)


def test_a_cut_classifier_vocabulary_is_refused(tmp_path):
    from rnnlab.classify.classifier import TextClassifier

    data = tmp_path / "d.csv"
    pd.DataFrame({"text": ["good film", "bad film", "great fun", "awful plot"] * 3,
                  "label": ["pos", "neg", "pos", "neg"] * 3}).to_csv(data, index=False)  # fmt: skip
    result = CliRunner().invoke(app, ["classify", "fit", "--train", str(data), "--max-epochs", "1", "--hidden-size",
                                      "4", "--out", str(tmp_path / "c"), "--no-progress"])  # fmt: skip
    assert result.exit_code == 0, result.output
    vocab = tmp_path / "c" / "vocab.json"
    vocab.write_text(json.dumps(json.loads(vocab.read_text(encoding="utf-8"))[:-1]), encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"vocab\.json: .* tokens for the network's"):
        TextClassifier.load(tmp_path / "c")


def test_conll2003_prediction_keeps_the_docstart_lines_for_conlleval(tmp_path, monkeypatch, capsys):
    # before: the -DOCSTART- lines vanished from the file written back
    model = _tagger(tmp_path)
    gold = tmp_path / "eng.testb"
    gold.write_text("-DOCSTART- -X- -X- O\n\nOmar NNP I-NP B-PER\nleft VBD I-VP O\n\n"
                    "-DOCSTART- -X- -X- O\n\nAnna NNP I-NP B-PER\n", encoding="utf-8")  # fmt: skip
    code, out, err = cli(monkeypatch, capsys, "tag", "predict", "--model", model, "--input", gold, "--input-format",
                         "conll2003", "--output-format", "conll")  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "-DOCSTART- -X- -X- O O" and lines[1] == ""
    assert lines.count("-DOCSTART- -X- -X- O O") == 2
    words = [line.split() for line in lines if line and not line.startswith("-DOCSTART-")]
    assert [w[0] for w in words] == ["Omar", "left", "Anna"] and all(len(w) == 5 for w in words)


def test_a_lone_carriage_return_inside_a_line_does_not_cut_the_text(tmp_path, monkeypatch, capsys):
    # before: 'Omar visited\rLima' was tagged as two texts (universal newlines cut it)
    model = _tagger(tmp_path)
    texts = tmp_path / "in.txt"
    texts.write_bytes(b"Omar visited\rLima\r\nAnna left\xe2\x80\xa8today\n")
    code, out, err = cli(monkeypatch, capsys, "tag", "predict", "--model", model, "--input", texts)
    assert code == 0, err
    rows = [json.loads(line) for line in out.split("\n") if line]
    assert len(rows) == 2 and [t["text"] for t in rows[0]["tokens"]] == ["Omar", "visited", "Lima"]


def test_a_failing_onnx_export_prints_one_line_not_the_graph(tmp_path, capfd):
    # before: torch.onnx's C++ side printed the IR of the whole graph to stderr, then rnnlab's error line
    import torch

    from rnnlab.export.to_onnx import ExportError, export_onnx

    model = _tagger(tmp_path)

    def fails(*args, **kwargs):
        os.write(2, b"graph(%words : Long(*, *)) ... a dump of 300 lines\n" * 3)
        raise RuntimeError("Exporting the operator 'aten::thing' to ONNX opset version 12 is not supported.\nmore")

    original = torch.onnx.export
    torch.onnx.export = fails
    try:
        with pytest.raises(ExportError, match="is not supported") as caught:
            export_onnx(model, tmp_path / "t.onnx")
    finally:
        torch.onnx.export = original
    sys.stderr.flush()
    captured = capfd.readouterr()
    assert "graph(%words" not in captured.err + captured.out
    assert "more" not in str(caught.value) and not (tmp_path / "t.onnx").exists()
