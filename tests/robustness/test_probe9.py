"""Robustness, ninth round (issue 22): the silent wrong results the eighth round left open, and a fresh probe.
Each test failed before its fix."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import cli, refused

from rnnlab.data.conll import convert, read_tagged
from rnnlab.data.series import read_series, with_calendar
from rnnlab.data.text import read_labelled
from rnnlab.errors import DataError, DataWarning


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _classified_csv(tmp_path: Path, monkeypatch, capsys, name: str, text: str) -> tuple[int, list[dict]]:
    """classify predict (sentiment-en) of a CSV written from ``text``, to a CSV read back: (exit status, rows)."""
    code, _, _ = cli(monkeypatch, capsys, "classify", "predict", "--model", "sentiment-en", "--input",
                     _write(tmp_path, name, text), "--output", tmp_path / "out.csv")  # fmt: skip
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as f:
        return code, list(csv.DictReader(f))


def test_tag_predict_names_the_input_line_of_each_answer(tmp_path, monkeypatch, capsys):
    # before: blank lines were skipped and nothing said which line an answer was for (answer 2 was line 4)
    path = _write(tmp_path, "in.txt", "Angela Merkel visited Paris.\n\n   \nBarack Obama lives in Washington.\n")
    code, out, _ = cli(monkeypatch, capsys, "tag", "predict", "--model", "ner-en", "--input", path)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [(r["line"], r["text"][:6]) for r in records] == [(1, "Angela"), (4, "Barack")]


def test_classify_predict_names_the_input_line_of_each_answer(tmp_path, monkeypatch, capsys):
    path = _write(tmp_path, "in.txt", "great\n\nawful\n")
    code, out, _ = cli(monkeypatch, capsys, "classify", "predict", "--model", "sentiment-en", "--input", path)
    assert code == 0 and [json.loads(line)["line"] for line in out.splitlines()] == [1, 3]


def test_classify_predict_keeps_the_other_columns_of_a_csv(tmp_path, monkeypatch, capsys):
    # before: the id and the gold label were dropped: the predictions could not be joined back to the rows
    text = 'id,text,label\nr1,"A wonderful, moving film.",pos\n\nr2,Dull and long.,neg\n'
    code, rows = _classified_csv(tmp_path, monkeypatch, capsys, "test.csv", text)
    assert code == 0 and list(rows[0]) == ["text", "label", "p_neg", "p_pos", "line", "id", "input_label"]
    assert [(r["line"], r["id"], r["input_label"]) for r in rows] == [("2", "r1", "pos"), ("4", "r2", "neg")]


def test_classify_predict_keeps_the_other_keys_of_jsonl(tmp_path, monkeypatch, capsys):
    path = _write(tmp_path, "in.jsonl", '{"text": "great fun", "id": 7}\n{"text": "awful", "source": "web"}\n')
    code, _, _ = cli(monkeypatch, capsys, "classify", "predict", "--model", "sentiment-en", "--input", path,
                     "--output", tmp_path / "out.csv")  # fmt: skip
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as f:  # before: DictWriter refused the 2nd row
        rows = list(csv.DictReader(f))
    assert code == 0 and [(r["id"], r["source"]) for r in rows] == [("7", ""), ("", "web")]


def test_a_label_number_written_two_ways_is_refused(tmp_path):
    # before: 1, 1.0 and 01 were three classes, each with part of the texts
    path = _write(tmp_path, "train.csv", "text,label\ngood,1\nbad,0\nfine,1.0\n")
    with pytest.raises(DataError, match=r"train.csv:4:label: the labels '1' \(line 2\) and '1.0' \(line 4\)"):
        read_labelled(path)
    assert read_labelled(_write(tmp_path, "ok.csv", "text,label\ngood,1\nbad,0\n")).labels == ["1", "0"]


def test_tag_evaluate_accuracy_does_not_count_the_notation_of_iob1(tmp_path):
    # before: gold IOB1 that starts some chunks with B- (as CoNLL-2003 files do after another chunk, and some
    # exports at every start) against predictions converted to pure IOB1: F1 1.0, accuracy 0.8
    from rnnlab.tag.tagger import Tagger

    path = _write(tmp_path, "gold.txt", "Anna B-PER\nvisited O\nParis I-LOC\n\nBob I-PER\nleft O\n")
    sentences = read_tagged(path, "columns", -1)
    tagger = Tagger.load("ner-en")
    tagger.predict_tags = lambda tokens, batch_size=64, scheme=None: [  # a perfect tagger, in the gold's scheme
        convert(convert(s.tags, "IOB1", "BIOES"), "BIOES", scheme) for s in sentences
    ]
    report = tagger.evaluate(sentences)
    assert report["micro"]["f1"] == 1.0 and report["accuracy"] == 1.0


def test_tag_predict_writes_back_the_lines_after_the_last_sentence(tmp_path, monkeypatch, capsys):
    # before: a closing -DOCSTART- (or CoNLL-U comment) after the last sentence vanished from the file
    path = _write(tmp_path, "in.conll", "-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\n\n-DOCSTART- -X- O O\n")
    code, out, _ = cli(monkeypatch, capsys, "tag", "predict", "--model", "ner-en", "--input", path,
                       "--input-format", "conll2003")  # fmt: skip
    expected = ["-DOCSTART- -X- O O O", "", "EU NNP I-NP I-ORG I-ORG", "", "-DOCSTART- -X- O O O"]
    assert code == 0 and out.splitlines() == expected  # line for line; I-ORG in the file's own scheme (IOB1)
    conllu = _write(tmp_path, "in.conllu", "# sent_id = 1\n1\tHi\thi\tINTJ\t_\t_\t0\troot\t_\t_\n\n# end\n")
    code, out, _ = cli(monkeypatch, capsys, "tag", "predict", "--model", "pos-en", "--input", conllu)
    assert code == 0 and out.splitlines()[-1] == "# end"


def test_calendar_hours_on_changing_offsets_are_said_to_be_utc(tmp_path):
    # before: the hour feature was UTC's without a word; under daylight saving time it moves against local hours
    times = pd.date_range("2024-03-30", "2024-04-01", freq="h", tz="Europe/Paris")
    path = tmp_path / "dst.csv"
    pd.DataFrame({"time": [t.isoformat() for t in times], "y": range(len(times))}).to_csv(path, index=False)
    data = read_series(path, time_col="time", targets=["y"])
    with pytest.warns(DataWarning, match="change their UTC offset.*the hour and day-of-week features are UTC's"):
        with_calendar(data, ["hour"])
    fixed = tmp_path / "fixed.csv"
    pd.DataFrame({"time": [t.isoformat() for t in times[:20]], "y": range(20)}).to_csv(fixed, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # one offset (+01:00): a constant shift, nothing to say
        with_calendar(read_series(fixed, time_col="time", targets=["y"]), ["hour"])


def test_a_txt_of_blank_lines_is_named(tmp_path, monkeypatch, capsys):
    path = _write(tmp_path, "in.txt", "\n  \n\n")
    err = refused(monkeypatch, capsys, "classify", "predict", "--model", "sentiment-en", "--input", path)
    assert "in.txt: the file is empty" in err  # read_lines said so; read_text must too


def test_export_parity_texts_from_jsonl_are_read_strictly(tmp_path):
    # before: {"text": null} was the text "None", and a .JSONL file was read as lines of JSON
    from rnnlab.export.to_onnx import example_texts

    with pytest.raises(DataError, match=r"e.jsonl:2: the text 'text' is null, not a string"):
        example_texts(_write(tmp_path, "e.jsonl", '{"text": "great"}\n{"text": null}\n'))
    assert example_texts(_write(tmp_path, "E.JSONL", '{"text": "great"}\n{"text": "bad"}\n')) == ["great", "bad"]


def test_timezone_puts_calendar_hours_on_the_local_clock_across_daylight_saving_time(tmp_path):
    times = pd.date_range("2024-03-30", "2024-04-01", freq="h", tz="Europe/Paris")  # +01:00, then +02:00
    path = tmp_path / "dst.csv"
    pd.DataFrame({"time": [t.isoformat() for t in times], "y": range(len(times))}).to_csv(path, index=False)
    data = read_series(path, time_col="time", targets=["y"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # the zone given: nothing to warn of
        local = with_calendar(data, ["hour"], "Europe/Paris").series[0].values[:, 1:]
    utc = with_calendar(data, ["hour"]).series[0].values[:, 1:]
    day = 24  # 09:00 local on the 30th (UTC+1) and on the 31st (UTC+2): one hour feature; UTC's differ
    assert times[9].hour == times[9 + day - 1].hour == 9  # the 31st has 23 hours
    assert abs(local[9] - local[9 + day - 1]).max() < 1e-6 and abs(utc[9] - utc[9 + day - 1]).max() > 0.1


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--timezone", "Europe/Paris"], "--timezone sets the clock of the --calendar features: give --calendar too"),
        (["--calendar", "hour", "--timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_timezone_options_that_cannot_work_are_refused(tmp_path, monkeypatch, capsys, args, said):
    times = pd.date_range("2024-03-30", periods=60, freq="h", tz="Europe/Paris")
    path = tmp_path / "dst.csv"
    pd.DataFrame({"time": [t.isoformat() for t in times], "y": range(60)}).to_csv(path, index=False)
    err = refused(monkeypatch, capsys, "forecast", "fit", path, "--time-col", "time", "--target", "y", *args,
                  "--epochs", "1", "--out", tmp_path / "m")  # fmt: skip
    assert said in err and not (tmp_path / "m").exists()


def test_timezone_on_times_without_offsets_is_refused(tmp_path):
    path = tmp_path / "naive.csv"
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=30, freq="h"), "y": range(30)}).to_csv(path, index=False)
    with pytest.raises(DataError, match="these times have none and are read as local times already"):
        with_calendar(read_series(path, time_col="time", targets=["y"]), ["hour"], "Europe/Paris")


# -- the ninth round's fresh probe --------------------------------------------------------------------------------


def test_a_text_without_words_gets_no_label(tmp_path, monkeypatch, capsys):
    # before: '<br /><br />' (nothing once cleaned) was labelled pos 0.537 from the bias alone, and '' over HTTP
    import rnnlab

    path = _write(tmp_path, "in.txt", "A moving, beautiful film.\n<br /><br />\n")
    err = refused(monkeypatch, capsys, "classify", "predict", "--model", "sentiment-en", "--input", path)
    assert "in.txt:2: the text has no words once cleaned ('<br /><br />'): nothing to classify" in err
    with pytest.raises(DataError, match=r"text 2 has no words once cleaned"):
        rnnlab.load("sentiment-en").predict_records(["good", "   "])


def test_a_phone_written_with_no_break_spaces_is_read():
    # before: 06 11 22 33 44 with U+00A0 / U+202F / U+2009 between the pairs: phone null (rules and model)
    from rnnlab.ie.extractor import Extractor

    for space in ("\u00a0", "\u202f", "\u2009"):
        phone = space.join(["06", "11", "22", "33", "44"])
        ad = f"Appartement T3 à Toulon. Prix : 215 000 €. Contactez Paul MARTIN au {phone}."
        for extractor in (Extractor.rules(), Extractor.load(None)):
            assert extractor.extract(ad)[0]["phone"]["value"] == "0611223344"


def test_extract_batch_refuses_one_string():
    # before: one empty template per character
    import rnnlab

    with pytest.raises(DataError, match="extract_batch takes a list of ads, received one string"):
        rnnlab.extract_batch("Maison à Nice, 250 000 €", model="rules")


def test_memory_steps_are_trained_as_asked(tmp_path, monkeypatch, capsys):
    # before: --steps 37 and 150 trained 100 steps (whole epochs of 100); 0 and -5 were accepted
    from rnnlab.diagnostics.memory import MemoryModelConfig, MemoryRunConfig, train_memory

    for steps in (37, 150):
        run = MemoryRunConfig(length=5, steps=steps, batch_size=4, seed=0, solved_mse=0.0, test_size=8)
        _, row = train_memory(MemoryModelConfig(cell="rnn", task="adding", hidden_size=4), run)
        assert row["max_steps"] == steps
    code, _, err = cli(monkeypatch, capsys, "memory", "--out", tmp_path / "m", "--steps", "0")
    assert code == 2 and "'--steps'" in err and "greater than or equal to 1" in err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["gradients", "--batch", "0"], "'--batch'"),
        (["gradients", "--length", "1"], "'--length'"),
        (["gradients", "--hidden", "0"], "'--hidden'"),
        (["memory", "--clip", "-1"], "'--clip'"),
    ],
)
def test_lab_options_are_checked_up_front_by_name(tmp_path, monkeypatch, capsys, args, said):
    # before: "SimpleRNN received an empty batch or sequence: shape (0, 10, 2)", "gradient_clip must be positive"
    code, _, err = cli(monkeypatch, capsys, *args, "--out", tmp_path / "g")
    assert code == 2 and said in err and not (tmp_path / "g").exists()


def test_a_gold_template_that_leaves_out_a_field_is_refused(tmp_path):
    # before: a forgotten "phone" key scored the model's correct phone as a false positive
    from rnnlab.ie.extractor import read_ads
    from rnnlab.ie.template import FIELDS

    gold = {**dict.fromkeys(FIELDS), "price_eur": 250000}
    del gold["phone"]
    path = _write(tmp_path, "gold.jsonl", json.dumps({"text": "Maison, 250 000 €", "gold": gold}) + "\n")
    with pytest.raises(DataError, match=r"gold.jsonl:1: the gold template lacks \['phone'\].*write null"):
        read_ads(path)


def test_tag_predict_writes_a_conll_file_back_line_for_line(tmp_path, monkeypatch, capsys):
    # before: runs of blank (or space-only) lines were merged, and a tab-separated -DOCSTART- came back with spaces
    text = "-DOCSTART-\t-X-\tO\tO\n\nEU\tNNP\tI-NP\tI-ORG\n\n\n   \nPeter\tNNP\tI-NP\tI-PER\n"
    path = _write(tmp_path, "in.conll", text)
    code, out, _ = cli(monkeypatch, capsys, "tag", "predict", "--model", "ner-en", "--input", path,
                       "--input-format", "conll2003")  # fmt: skip
    lines = out.splitlines()
    assert code == 0 and lines[:7] == ["-DOCSTART-\t-X-\tO\tO\tO", "", "EU\tNNP\tI-NP\tI-ORG\tI-ORG", "", "", "",
                                       "Peter\tNNP\tI-NP\tI-PER\tI-PER"]  # fmt: skip


def test_classify_max_len_zero_is_documented_as_none(monkeypatch, capsys):
    code, out, _ = cli(monkeypatch, capsys, "classify", "fit", "--help")
    assert code == 0 and "0 also means" in out


@pytest.mark.parametrize(
    ("option", "flag"), [("--max-vocab", "max_vocab (--max-vocab)"), ("--min-freq", "(--min-freq)")]
)
def test_vocabulary_options_are_named_by_their_flag(tmp_path, monkeypatch, capsys, option, flag):
    data = _write(tmp_path, "d.csv", "text,label\ngood,pos\nbad,neg\n")
    err = refused(monkeypatch, capsys, "classify", "fit", "--train", data, option, "0", "--out", tmp_path / "m")
    assert flag in err


def test_onnx_runners_answer_an_empty_batch_as_pytorch_does(monkeypatch):
    from rnnlab.export.runtime import OnnxClassifier, OnnxTagger

    monkeypatch.setattr("rnnlab.export.runtime.session", lambda path: None)  # the graph is never run
    assert OnnxClassifier("x.onnx", "sentiment-en").predict_proba([]).shape == (0, 2)
    assert OnnxTagger("x.onnx", "ner-en").predict_tags([]) == []


# -- the tenth round's probe ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["classify", "predict", "--model", "sentiment-en"],
                                     ["tag", "predict", "--model", "ner-en"], ["extract", "predict"]])  # fmt: skip
def test_predict_never_writes_over_its_input(tmp_path, monkeypatch, capsys, command):
    # before: --output naming the --input (or a link to it) with --overwrite replaced the data with predictions
    name = {"classify": "in.csv", "tag": "in.txt", "extract": "in.txt"}[command[0]]
    path = _write(tmp_path, name, "text,label\ngood,pos\n" if name.endswith(".csv") else "Anna flew to Nice.\n")
    before = path.read_text(encoding="utf-8")
    link = tmp_path / f"link{path.suffix}"
    link.symlink_to(path)
    err = refused(monkeypatch, capsys, *command, "--input", path, "--output", link, "--overwrite")
    assert "is the input" in err and path.read_text(encoding="utf-8") == before


def test_carried_columns_never_replace_a_prediction(tmp_path, monkeypatch, capsys):
    # before: an input column p_neg replaced the model's p_neg in the CSV; input_label and the gold label collided
    code, (row,) = _classified_csv(tmp_path, monkeypatch, capsys, "in.csv",
                                   "text,p_neg,input_label,label\nloved it,0.9,foo,pos\n")  # fmt: skip
    assert code == 0 and abs(float(row["p_neg"]) + float(row["p_pos"]) - 1) < 1e-5
    assert (row["input_p_neg"], row["input_label"], row["input_input_label"]) == ("0.9", "foo", "pos")


def test_predict_takes_a_partly_labelled_file(tmp_path, monkeypatch, capsys):
    # before: a row with an empty gold label (csv) or a null one (jsonl) stopped classify predict
    for name, text in (
        ("p.csv", "text,label\nloved it,pos\ngood film,\n"),
        ("p.jsonl", '{"text": "loved it", "label": "pos"}\n{"text": "good film", "label": null}\n'),
    ):
        code, out, _ = cli(monkeypatch, capsys, "classify", "predict", "--model", "sentiment-en", "--input",
                           _write(tmp_path, name, text))  # fmt: skip
        assert code == 0 and len(out.splitlines()) == 2


def test_json_metrics_are_valid_json():
    from rnnlab.cli.common import finite

    text = json.dumps(finite({"mse": float("inf"), "folds": [{"smape": float("nan")}]}))
    assert json.loads(text, parse_constant=lambda c: pytest.fail(c)) == {"mse": None, "folds": [{"smape": None}]}


def test_backoff_and_backoff_fields_together_are_refused(tmp_path, monkeypatch, capsys):
    err = refused(monkeypatch, capsys, "extract", "fit", "--train", "x.jsonl", "--backoff", "--backoff-fields",
                  "phone", "--out", tmp_path / "m")  # fmt: skip
    assert "say the same thing two ways: give one" in err


def test_extract_predict_names_the_line_of_each_ad(tmp_path, monkeypatch, capsys):
    path = _write(tmp_path, "ads.txt", "\n\nMaison à Nice, 250 000 €.\n\n  \nAppartement T2\nà Toulon 150 000 €\n")
    code, out, _ = cli(monkeypatch, capsys, "extract", "predict", "--input", path, "--model", "rules")
    assert code == 0 and [json.loads(line)["line"] for line in out.splitlines()] == [3, 6]
    err = refused(monkeypatch, capsys, "extract", "predict", "--input", _write(tmp_path, "e.txt", "\n \n"))
    assert "e.txt" in err


def test_the_python_api_refuses_a_string_where_a_list_is_expected():
    # before: one record (or one tagged "sentence") per letter
    import rnnlab
    from rnnlab.tag.tagger import Tagger

    with pytest.raises(DataError, match="give a list of texts, received str"):
        rnnlab.load("sentiment-en").predict_records("abc")
    with pytest.raises(DataError, match="predict_tags takes sentences as lists of tokens"):
        Tagger.load("pos-en").predict_tags(["The", "cat"])


def test_the_onnx_classifier_refuses_a_text_without_words(monkeypatch):
    from rnnlab.export.runtime import OnnxClassifier

    monkeypatch.setattr("rnnlab.export.runtime.session", lambda path: None)
    with pytest.raises(DataError, match="text 1 has no words once cleaned"):
        OnnxClassifier("x.onnx", "sentiment-en").predict_proba(["<br />"])


def test_a_forecaster_fitted_on_arrays_is_named_at_the_cli(tmp_path, monkeypatch, capsys):
    import numpy as np

    from rnnlab.forecast.forecaster import Forecaster
    from rnnlab.forecast.models import ForecastConfig
    from rnnlab.training import TrainConfig

    f = Forecaster(ForecastConfig(model="gru", input_width=8, horizon=2, hidden_size=4), TrainConfig(max_epochs=1))
    with pytest.raises(RuntimeError, match="fit the forecaster before saving it"):
        f.save(tmp_path / "unfitted")
    f.fit_arrays([np.sin(np.arange(60.0))[:, None]])
    f.save(tmp_path / "m")
    data = _write(tmp_path, "s.csv", "y\n" + "".join(f"{v}\n" for v in np.sin(np.arange(30.0))))
    err = refused(monkeypatch, capsys, "forecast", "predict", data, "--model", tmp_path / "m", "--output",
                  tmp_path / "o.csv")  # fmt: skip
    assert "the model was fitted on arrays (Forecaster.fit_arrays)" in err  # before: KeyError 'targets' traceback


def test_the_page_slices_texts_by_code_points():
    # before: text.slice(start, end) counted UTF-16 units: after an emoji every highlight was one character off
    from importlib.resources import files

    script = files("rnnlab.serving").joinpath("static/app.js").read_text(encoding="utf-8")
    body = script[script.index("function highlighted(") :]
    body = body[: body.index("\n}\n")]
    assert "Array.from(text)" in body and "text.slice(" not in body


def test_extract_fit_names_dev_ads_with_a_field_no_training_ad_has():
    # before: "tags ['B-PHONE'] were not seen in training (hint: evaluate with the training data's tag column)"
    from rnnlab.data.conll import Sentence
    from rnnlab.ie.extractor import _dev_fields_trained

    train = [Sentence(["250", "000"], ["B-PRICE", "I-PRICE"], 1)]
    dev = [Sentence(["06", "11"], ["B-PHONE", "I-PHONE"], 1)]
    with pytest.raises(DataError, match=r"the dev ads .*ids \['a7'\]\) mention \['PHONE'\], which no training ad"):
        _dev_fields_trained(train, dev, [{"id": "a7"}])
    _dev_fields_trained(train + dev, dev, [{"id": "a7"}])


def test_tag_commands_send_an_extractor_directory_to_extract(monkeypatch, capsys):
    # before: "this tagger was trained with per-token features: pass them (featurizer=...)"
    from rnnlab.ie.extractor import DEFAULT_MODEL

    err = refused(monkeypatch, capsys, "tag", "predict", "--model", DEFAULT_MODEL, "Maison à Nice")
    assert "holds a real-estate extractor, not a tagger: use `rnnlab extract predict" in err


def test_compare_on_log_scale_names_a_value_that_is_not_positive():
    # before: a RuntimeWarning from np.log, then "every value must be finite (fill missing values ...)"
    import numpy as np

    from rnnlab.data.splits import WindowSplit
    from rnnlab.forecast.compare import compare

    values = np.r_[np.arange(1.0, 30), [0.0], np.arange(1.0, 31)][:, None]
    with pytest.raises(ValueError, match=r"needs values > 0; step 29 holds 0: pass --no-log"):
        compare(values, models=["last_value"], input_width=8, horizon=4, splitter=WindowSplit(2), period=7, log=True)
