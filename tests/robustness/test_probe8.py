"""Robustness, eighth round (issue 22): the silent wrong results the seventh round's probing left open. Each test
failed before its fix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rnnlab.data.series import read_series
from rnnlab.errors import DataError


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_dates_written_day_first_are_read_day_first(tmp_path):
    # before: pandas read the first row month first and stopped at 13/01/2024 ("unparseable timestamp")
    path = _csv(tmp_path, "date,y\n" + "".join(f"{d:02d}/01/2024,{d}\n" for d in range(1, 20)))
    data = read_series(path, time_col="date", targets=["y"])
    assert str(data.series[0].times[0])[:10] == "2024-01-01" and str(data.series[0].times[-1])[:10] == "2024-01-19"
    assert data.freq == "D"


def test_dates_that_read_both_ways_are_refused_with_the_fix(tmp_path):
    # before: '01/02/2024' ... monthly rows written day first were read as daily rows, month first, without a word
    path = _csv(tmp_path, "date,y\n" + "".join(f"01/{m:02d}/2024,{m}\n" for m in range(1, 13)))
    with pytest.raises(DataError, match=r"read two ways, day first or month first.*write the dates as ISO dates"):
        read_series(path, time_col="date", targets=["y"])


def test_iso_dates_are_never_read_day_first(tmp_path):
    path = _csv(tmp_path, "date,y\n" + "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 6)))
    data = read_series(path, time_col="date", targets=["y"])
    assert str(data.series[0].times[1])[:10] == "2024-01-02"


def test_series_ids_are_kept_as_written(tmp_path):
    # before: '01' and '1' were read as the number 1 and merged into one series ("duplicated timestamp")
    rows = [f"{sid},2024-01-{d:02d},{d}\n" for sid in ("01", "1") for d in range(1, 6)]
    data = read_series(_csv(tmp_path, "id,date,y\n" + "".join(rows)), time_col="date", targets=["y"], series_col="id")
    assert [s.id for s in data.series] == ["01", "1"]


def test_a_row_without_a_series_id_is_named(tmp_path):
    # before: pandas' groupby dropped the rows with an empty id, and the series was fitted without them
    rows = [f"{sid},2024-01-{d:02d},{d}\n" for sid in ("a", "") for d in range(1, 6)]
    with pytest.raises(DataError, match=r"data.csv:7:id: empty series id"):
        read_series(_csv(tmp_path, "id,date,y\n" + "".join(rows)), time_col="date", targets=["y"], series_col="id")


def test_series_of_different_frequencies_are_refused(tmp_path):
    # before: a daily and an hourly series were fitted as one model, on no grid (frequency None)
    rows = [f"a,2024-01-{d:02d},{d}\n" for d in range(1, 6)] + [f"b,2024-01-01 {h:02d}:00,{h}\n" for h in range(5)]
    with pytest.raises(DataError, match=r"series 'a' steps at D, series 'b' at h"):
        read_series(_csv(tmp_path, "id,date,y\n" + "".join(rows)), time_col="date", targets=["y"], series_col="id")


def test_a_data_frame_with_numeric_ids_still_reads():
    df = pd.DataFrame({"id": [1, 1, 1, 2, 2, 2], "t": [0, 1, 2, 0, 1, 2], "y": [1.0, 2, 3, 4, 5, 6]})
    data = read_series(df, time_col=None, targets=["y"], series_col="id")
    assert [s.id for s in data.series] == ["1", "2"]


def test_a_forecast_step_row_with_an_unreadable_date_is_named():
    # before: the rows after the history were cut before the reader saw their dates, and the date check skipped them
    from rnnlab.data.series import with_leads

    df = pd.DataFrame({"date": ["2024-01-01", "2024-01-02", "2024-01-03", "tomorrow"], "y": [1.0, 2, 3, None],
                       "p": [0.0, 1, 0, 1]})  # fmt: skip
    settings = {"future_features": ["p"], "future_horizon": 1, "targets": ["y"], "time_col": "date", "freq": "D"}
    with pytest.raises(DataError, match=r"d.csv:5:date: unparseable timestamp 'tomorrow'"):
        with_leads(df, settings, "d.csv", future_rows=True)


def test_evaluate_start_is_each_series_own_row_of_that_time(tmp_path, monkeypatch, capsys):
    # before: --start was looked up in the first series' times only: series b, starting 20 hours later, was scored
    # from 20 hours after the stamp given
    import math

    from cli_runner import cli

    from rnnlab.forecast.forecaster import Forecaster

    rows = [(str(pd.Timestamp("2024-01-01") + pd.Timedelta(hours=i + shift)), sid, round(math.sin(i / 5), 3))
            for sid, shift in (("a", 0), ("b", 20)) for i in range(60)]  # fmt: skip
    data = tmp_path / "ab.csv"
    pd.DataFrame(rows, columns=["date", "sid", "y"]).to_csv(data, index=False)
    code, _, err = cli(monkeypatch, capsys, "forecast", "fit", data, "--time-col", "date", "--series-col", "sid",
                       "--target", "y", "--input-width", "8", "--horizon", "2", "--hidden-size", "4", "--max-epochs",
                       "1", "--out", tmp_path / "m", "--no-progress", "--seed", "0")  # fmt: skip
    assert code == 0, err
    model = Forecaster.load(tmp_path / "m")
    stamp = "2024-01-02 20:00"  # row 44 of a, row 24 of b
    by_time = model.evaluate(data, start=stamp)
    series = [part["y"].to_numpy()[:, None] for _, part in pd.read_csv(data).groupby("sid")]
    by_rows = model.evaluate_arrays(series, start=[44, 24], ids=["a", "b"])
    assert by_time["mse"] == pytest.approx(by_rows["mse"])
    assert by_time["mse"] != pytest.approx(model.evaluate_arrays(series, start=44, ids=["a", "b"])["mse"])
    code, out, err = cli(monkeypatch, capsys, "forecast", "evaluate", data, "--model", tmp_path / "m", "--start",
                         stamp, "--json")  # fmt: skip
    assert code == 0, err
    import json

    assert json.loads(out)["mse"] == pytest.approx(by_rows["mse"], rel=1e-5)


FIT = ["--time-col", "date", "--target", "y", "--input-width", "8", "--horizon", "2", "--hidden-size", "4",
       "--max-epochs", "1", "--no-progress"]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "said"),
    [  # before: each was accepted and silently did nothing
        (["--calendar", "month,month"], "--calendar names ['month'] more than once"),
        (["--model", "dense", "--num-layers", "3"], "the dense model is one hidden layer over the whole window"),
        (["--model", "dense", "--bidirectional"], "are for the recurrent models"),
        (["--distribution", "normal", "--loss", "mae"], "--distribution normal trains on its negative log-likeli"),
        (["--quantiles", "0.1,0.9", "--loss", "mse"], "--quantiles train on the pinball loss"),
    ],
)
def test_fit_options_that_would_be_ignored_are_refused(tmp_path, monkeypatch, capsys, args, said):
    from cli_runner import refused

    data = _csv(tmp_path, "date,y\n" + "".join(f"2024-01-01 {h:02d}:00,{h % 5}\n" for h in range(24)))
    err = refused(monkeypatch, capsys, "forecast", "fit", data, *FIT, *args, "--out", tmp_path / "m")
    assert said in err, err
    assert not (tmp_path / "m").exists()


def test_quantiles_with_scaled_mae_still_fit(tmp_path, monkeypatch, capsys):
    from cli_runner import cli

    data = _csv(tmp_path, "date,y\n" + "".join(f"2024-01-01 {h:02d}:00,{h % 5}\n" for h in range(24)))
    code, _, err = cli(monkeypatch, capsys, "forecast", "fit", data, *FIT, "--quantiles", "0.1,0.9", "--loss",
                       "scaled_mae", "--out", tmp_path / "m")  # fmt: skip
    assert code == 0, err


@pytest.fixture(scope="module")
def forecaster_dir(tmp_path_factory):
    """A small forecaster saved by the CLI, and the data it was fitted on."""
    import sys

    from rnnlab.cli.main import main

    root = tmp_path_factory.mktemp("p8")
    data = _csv(root, "date,y\n" + "".join(f"2024-01-{1 + h // 24:02d} {h % 24:02d}:00,{h % 5}\n" for h in range(72)))
    argv = sys.argv
    sys.argv = ["rnnlab", "forecast", "fit", str(data), *FIT, "--out", str(root / "m")]
    try:
        main()
    except SystemExit as exc:
        assert exc.code in (0, None)
    finally:
        sys.argv = argv
    return root


@pytest.mark.parametrize(
    ("edit", "said"),
    [  # before: KeyError / TypeError tracebacks, or a JSON error that did not name the file
        (lambda d: d.pop("train"), "forecaster.json lacks ['train']; save the model again"),
        (lambda d: d.pop("scaler"), "forecaster.json lacks ['scaler']"),
        (lambda d: d.update(training=[]), "forecaster.json: 'training' must be an object, not list"),
        (lambda d: d.update(train={"lr": "x"}), "forecaster.json: TrainConfig.lr must be float"),
        (lambda d: d.update(loss="x"), "forecaster.json: loss must be one of"),
        (None, "forecaster.json must hold a JSON object, not list"),
        ("{", "forecaster.json is not valid JSON (Expecting"),
    ],
)
def test_a_hand_edited_forecaster_json_is_named(forecaster_dir, tmp_path, monkeypatch, capsys, edit, said):
    import json
    import shutil

    from cli_runner import refused

    model = tmp_path / "m"
    shutil.copytree(forecaster_dir / "m", model)
    path = model / "forecaster.json"
    settings = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(edit, str):
        path.write_text(edit, encoding="utf-8")
    else:
        if edit is None:
            settings = []
        else:
            edit(settings)
        path.write_text(json.dumps(settings), encoding="utf-8")
    err = refused(monkeypatch, capsys, "forecast", "predict", forecaster_dir / "data.csv", "--model", model,
                  "--output", tmp_path / "f.csv")  # fmt: skip
    assert said in err, err


def test_too_few_windows_for_conformal_calibration_are_refused_before_training(forecaster_dir, tmp_path, monkeypatch,
                                                                              capsys):  # fmt: skip
    # before: the fit trained, then failed to calibrate and left m.partial, which refused the next fit into m
    from cli_runner import cli, refused

    args = ["forecast", "fit", forecaster_dir / "data.csv", *FIT, "--quantiles", "0.1,0.9", "--conformal"]
    err = refused(monkeypatch, capsys, *args, "--val-steps", "3", "--out", tmp_path / "m")
    assert "2 dev window(s) cannot calibrate a 80% interval: it needs at least 4" in err, err
    assert not (tmp_path / "m.partial").exists() and not (tmp_path / "m").exists()
    code, _, err = cli(monkeypatch, capsys, *args, "--val-steps", "9", "--out", tmp_path / "m")
    assert code == 0, err


@pytest.mark.parametrize(
    ("args", "said"),
    [  # before: the forecasts were written, then the plot failed with a bare OSError / matplotlib's format list
        (["--output", "{t}/f.csv", "--plot", "{t}/nodir/p.png"], "the folder {t}/nodir does not exist; create it"),
        (["--output", "{t}/f.csv", "--plot", "{t}/p.txt"], "a plot is written as .png, .svg, .pdf, .jpg, .jpeg"),
        (["--output", "{t}/nodir/f.csv"], "--output {t}/nodir/f.csv: the folder {t}/nodir does not exist"),
    ],
)
def test_output_paths_that_cannot_be_written_are_refused_before_any_work(forecaster_dir, tmp_path, monkeypatch,
                                                                         capsys, args, said):  # fmt: skip
    from cli_runner import refused

    args = [a.format(t=tmp_path) for a in args]
    err = refused(monkeypatch, capsys, "forecast", "predict", forecaster_dir / "data.csv", "--model",
                  forecaster_dir / "m", *args)  # fmt: skip
    assert said.format(t=tmp_path) in err, err
    assert not (tmp_path / "f.csv").exists()


def test_tag_predict_into_a_missing_folder_names_the_folder(tmp_path, monkeypatch, capsys):
    # before: the error named the temporary file nodir/out.txt.partial
    from cli_runner import refused

    text = tmp_path / "in.txt"
    text.write_text("Angela Merkel met Tim Cook in Paris .\n", encoding="utf-8")
    err = refused(monkeypatch, capsys, "tag", "predict", "--model", "ner-en", "--input", text, "--output",
                  tmp_path / "nodir" / "out.txt")  # fmt: skip
    assert "the folder" in err and "nodir does not exist" in err and ".partial" not in err, err


@pytest.mark.parametrize("command", [["tag", "predict", "--model", "ner-en"], ["classify", "predict", "--model",
                                                                                 "sentiment-en"]])  # fmt: skip
def test_texts_and_an_input_file_together_are_refused(tmp_path, monkeypatch, capsys, command):
    # before: the texts given as arguments were dropped without a word, only the file was read
    from cli_runner import refused

    text = tmp_path / "in.txt"
    text.write_text("Paris is nice\n", encoding="utf-8")
    err = refused(monkeypatch, capsys, *command, "Berlin is nice", "--input", text)
    assert "give texts as arguments or --input FILE, not both" in err, err


def test_a_blank_text_argument_to_tag_is_refused(monkeypatch, capsys):
    # before: dropped, so the answers no longer lined up with the arguments
    from cli_runner import refused

    err = refused(monkeypatch, capsys, "tag", "predict", "--model", "ner-en", "Paris", " ", "Berlin")
    assert "text argument 2 is empty" in err, err


def test_invisible_characters_are_never_tokens_and_never_split_words():
    # before: a zero-width space, a soft hyphen, a BOM were tokens of their own and split 'Mer\xadkel' in two
    from rnnlab.tag.tagger import Tagger

    tagger = Tagger.load("ner-en")
    text = "Angela Mer\u00adkel visits \ufeffBerlin\u200btoday"
    result = tagger.predict([text])[0]
    assert [text[t["start"] : t["end"]] for t in result["tokens"]] == ["Angela", "Mer\u00adkel", "visits", "Berlin",
                                                                      "today"]  # fmt: skip
    assert [(s["type"], s["text"]) for s in result["spans"]] == [("PER", "Angela Mer\u00adkel"), ("LOC", "Berlin")]
    assert tagger.predict(["\u200b\u200b"])[0]["tokens"] == []


CONLLU = """# sent_id = 1
# text = Angela Merkel visited Paris.
1\tAngela\tAngela\tPROPN\t_\t_\t2\tnsubj\t_\t_
2\tMerkel\tMerkel\tPROPN\t_\t_\t3\tflat\t_\t_
3\tvisited\tvisit\tVERB\t_\t_\t0\troot\t_\t_
4\tParis\tParis\tPROPN\t_\t_\t3\tobj\t_\tSpaceAfter=No
5\t.\t.\tPUNCT\t_\t_\t3\tpunct\t_\t_

"""


def test_an_ner_model_never_writes_over_a_conllu_files_upos(tmp_path, monkeypatch, capsys):
    # before: B-PER, I-PER ... were written into the UPOS column, exit 0
    from cli_runner import cli, refused

    path = tmp_path / "dev.conllu"
    path.write_text(CONLLU, encoding="utf-8")
    err = refused(monkeypatch, capsys, "tag", "predict", "--model", "ner-en", "--input", path)
    assert "the model tags" in err and "upos column holds ['PROPN', 'PUNCT', 'VERB']" in err, err
    code, out, err = cli(monkeypatch, capsys, "tag", "predict", "--model", "pos-en", "--input", path)
    assert code == 0, err
    assert "4\tParis\tParis\tPROPN" in out


def test_a_negative_tag_column_that_reaches_the_tokens_is_refused(tmp_path):
    # before: --tag-column -4 on CoNLL-2003's four columns read the words as tags
    from rnnlab.data.conll import read_tagged

    path = tmp_path / "eng.txt"
    path.write_text("EU NNP I-NP I-ORG\nrejects VBZ I-VP O\n\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"eng.txt:1: --tag-column -4 is the token column"):
        read_tagged(path, "columns", "-4")
    assert read_tagged(path, "columns", "-3")[0].tags == ["NNP", "VBZ"]


@pytest.mark.parametrize(
    ("ad", "price"),
    [  # before: 300000 / 250000, the net price, which 'net vendeur' before 'soit' was taken to describe
        ("Maison 4 pièces. Prix : 300 000 € net vendeur, soit 315 000 € honoraires inclus.", 315000),
        ("Appartement T3 au prix de 250 000 euros net vendeur soit 262 500 euros FAI", 262500),
        ("Maison. Prix 315 000 € honoraires inclus, soit 300 000 € net vendeur.", 315000),
    ],
)
@pytest.mark.parametrize("model", ["rules", "default"])
def test_the_price_fees_included_wins_over_the_net_price_said_before_it(ad, price, model):
    from rnnlab.ie.extractor import Extractor

    extractor = Extractor.rules() if model == "rules" else Extractor.load(None)
    assert extractor.extract(ad)[0]["price_eur"]["value"] == price


def test_the_extractor_served_with_a_larger_max_chars_answers_413_at_its_own_cap():
    # before: --max-chars 50000 let a 30,000-character ad through to the extractor, which refused it (not a 413,
    # and the limit the service announced was not the one applied)
    from fastapi.testclient import TestClient

    from rnnlab.serving import Limits, create_app

    app = create_app({"ads": "rules"}, limits=Limits(max_chars=50_000))
    with TestClient(app) as client:
        answer = client.post("/v1/models/ads/predict", json={"text": "Maison 4 pièces " * 2000})
        assert answer.status_code == 413, answer.text
        assert "the limit is 20000" in answer.text and "the extractor reads at most 20,000" in answer.text
        assert client.post("/v1/models/ads/predict", json={"text": "Maison 4 pièces, 250 000 €"}).status_code == 200


@pytest.mark.parametrize(
    ("model", "edit", "said"),
    [  # before: loaded, and every answer decoded in the wrong scheme (spans lost, POS tags read as chunks)
        ("ner-en", {"input_scheme": None}, '"input_scheme" is null (tags as written'),
        ("pos-en", {"input_scheme": "IOB2"}, "name chunk tags, but the network tags"),
        ("ner-en", {"scheme": "IOB2"}, "name chunk tags, but the network tags ['E-"),
    ],
)
def test_a_tagging_json_whose_schemes_disagree_with_the_tags_is_named(tmp_path, model, edit, said):
    import json
    import shutil

    from rnnlab.errors import ModelFileError
    from rnnlab.hub import locate
    from rnnlab.tag.tagger import Tagger

    copy = tmp_path / model
    shutil.copytree(locate(model), copy)
    settings = json.loads((copy / "tagging.json").read_text(encoding="utf-8"))
    (copy / "tagging.json").write_text(json.dumps({**settings, **edit}), encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"tagging\.json: ") as caught:
        Tagger.load(copy)
    assert said in str(caught.value)


def test_excluding_every_ad_says_so(tmp_path):
    # before: "no ads (hint: one JSON object with a 'text' per line)", about a file full of ads
    from rnnlab.ie.extractor import read_ads

    path = tmp_path / "ads.jsonl"
    path.write_text('{"id": "a1", "text": "Maison 4 pièces"}\n{"id": "a2", "text": "T2 50 m2"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"every ad \(2\) has its id in the --exclude file"):
        read_ads(path, exclude=[path])


def test_a_label_with_a_single_text_is_trained_on_not_held_out():
    # before: the only 'neutral' text went to the dev split and fit stopped: "labels ['neutral'] were not seen in
    # training"
    from rnnlab.data.text import TextDataset
    from rnnlab.errors import DataWarning

    data = TextDataset([f"t{i}" for i in range(21)], ["pos"] * 10 + ["neg"] * 10 + ["neutral"], "cls.csv")
    with pytest.warns(DataWarning, match=r"cls.csv: label\(s\) \['neutral'\] have a single text"):
        train, dev = data.split(0.1)
    assert "neutral" in train.labels and "neutral" not in dev.labels
    assert set(dev.labels) == {"pos", "neg"}


def test_a_csv_text_longer_than_the_csv_modules_limit_is_read_and_an_unclosed_quote_named(tmp_path):
    # before: both stopped with "field larger than field limit (131072)" and a hint about doubling quotes
    from rnnlab.data.text import read_labelled

    long = tmp_path / "long.csv"
    long.write_text('text,label\n"' + "word " * 30_000 + '",pos\nok,neg\n', encoding="utf-8")
    assert len(read_labelled(long).texts[0]) > 131_072
    unclosed = tmp_path / "unclosed.csv"
    unclosed.write_text('text,label\n"never closed,pos\n' + "ok,neg\n" * 30_000, encoding="utf-8")
    with pytest.raises(DataError, match=r"unclosed.csv:2: .*opened in the record that starts on line 2 is likely "):
        read_labelled(unclosed)


def test_ads_in_a_txt_file_are_separated_by_a_line_of_spaces_too(tmp_path):
    # before: a separator line holding spaces merged two ads into one (the first one's price lost); ads.TXT was
    # read as JSONL
    from rnnlab.ie.extractor import read_ads

    path = tmp_path / "ads.TXT"
    path.write_text("Maison 100 m², prix 350 000 €.\n  \nAppartement 50 m², prix 150 000 €.\n", encoding="utf-8")
    assert [ad["text"] for ad in read_ads(path)] == ["Maison 100 m², prix 350 000 €.",
                                                     "Appartement 50 m², prix 150 000 €."]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "said"),
    [  # before: exit 0, each option silently did nothing (or scored the labels' own words)
        (["classify", "evaluate", "--model", "sentiment-en", "{data}", "--text-col", "label"],
         "the column 'label' is read as both the text and the label"),
        (["classify", "predict", "--model", "sentiment-en", "good", "--text-col", "review"],
         "--text-col names a column of a CSV or JSONL --input"),
        (["tag", "predict", "--model", "ner-en", "John lives in Paris", "--tag-column", "pos"],
         "--tag-column names the gold column of a tagged --input"),
    ],
)  # fmt: skip
def test_options_a_command_would_ignore_are_refused(tmp_path, monkeypatch, capsys, args, said):
    from cli_runner import refused

    data = tmp_path / "rev.csv"
    data.write_text('id,review,label\n1,"A wonderful film.",pos\n2,"Awful.",neg\n', encoding="utf-8")
    err = refused(monkeypatch, capsys, *[a.format(data=data) for a in args])
    assert said in err, err


def test_a_cross_validation_test_size_of_zero_is_refused(forecaster_dir, monkeypatch, capsys):
    # before: 0 was read as "the default size", silently
    from cli_runner import refused

    err = refused(monkeypatch, capsys, "forecast", "cv", forecaster_dir / "data.csv", "--time-col", "date", "--target",
                  "y", "--splits", "2", "--test-size", "0")  # fmt: skip
    assert "test_size (--test-size) is a number of steps >= 1, received 0" in err, err


def test_evaluate_start_with_a_utc_offset(forecaster_dir, tmp_path, monkeypatch, capsys):
    # before: a TypeError traceback (tz-naive vs tz-aware), on data with offsets as on data without
    import json

    from cli_runner import cli, refused

    err = refused(monkeypatch, capsys, "forecast", "evaluate", forecaster_dir / "data.csv", "--model",
                  forecaster_dir / "m", "--start", "2024-01-02T00:00:00+05:00")  # fmt: skip
    assert "carries a UTC offset, the data's times none" in err, err
    rows = [f"2024-01-{1 + h // 24:02d} {h % 24:02d}:00:00+02:00,{h % 5}\n" for h in range(72)]
    data = _csv(tmp_path, "date,y\n" + "".join(rows))
    code, _, err = cli(monkeypatch, capsys, "forecast", "fit", data, *FIT, "--out", tmp_path / "m")
    assert code == 0, err
    scores = {}
    for start in ("2024-01-02 02:00+02:00", "2024-01-02 00:00"):  # one instant: local with its offset, and UTC
        code, out, err = cli(monkeypatch, capsys, "forecast", "evaluate", data, "--model", tmp_path / "m", "--start",
                             start, "--json")  # fmt: skip
        assert code == 0, err
        scores[start] = json.loads(out)
    assert scores["2024-01-02 02:00+02:00"] == scores["2024-01-02 00:00"]


@pytest.mark.parametrize("model", ["rules", "default"])
def test_a_decimal_surface_written_in_groups_keeps_its_thousands(model):
    # before: the model read '1 250,5 m²' as 250.5 (the tokenizer cut '1' from '250,5')
    from rnnlab.ie.extractor import Extractor

    extractor = Extractor.rules() if model == "rules" else Extractor.load(None)
    template = extractor.extract("Appartement de 1 250,5 m² à 3 500 000 €")[0]
    assert template["surface_m2"]["value"] == 1250.5 and template["price_eur"]["value"] == 3_500_000


def test_times_mixing_offsets_and_none_are_named_as_such():
    # before: "unparseable timestamp '2024-01-01 03:00:00' (hint: use ISO dates ...)", about an ISO date
    rows = [f"2024-01-01 {h:02d}:00:00+02:00" for h in range(3)] + [f"2024-01-01 {h:02d}:00:00" for h in range(3, 6)]
    with pytest.raises(DataError, match="mixes times with a UTC offset"):
        read_series(pd.DataFrame({"d": rows, "y": range(6)}), time_col="d", targets=["y"])


def test_the_series_column_cannot_be_the_target():
    # before: "the shortest series has 1 steps; fitting needs at least 16"
    df = pd.DataFrame({"d": pd.date_range("2024-01-01", periods=4, freq="h"), "y": [1.0, 2, 3, 4]})
    with pytest.raises(DataError, match="--series-col y is also a --target / --features column"):
        read_series(df, time_col="d", targets=["y"], series_col="y")


def test_a_gap_past_the_series_start_is_said_so():
    # before: "... -16 steps come before it"
    from rnnlab.data.splits import WindowSplit
    from rnnlab.data.windows import WindowSpec

    with pytest.raises(ValueError, match=r"the gap \(--gap 30\) reaches back past the series' start"):
        list(WindowSplit(2, 5, gap=30).split(30, WindowSpec(input_width=4, label_width=2, shift=2)))


def test_forecast_json_writes_times_one_way_and_values_as_given(forecaster_dir, tmp_path, monkeypatch, capsys):
    # before: history times '2024-01-03T23:00:00.000000' beside forecast times '2024-01-04 00:00:00', and history
    # values as float32 read back in float64 (59.894001007 for 59.894)
    import json

    from cli_runner import cli

    data = _csv(
        tmp_path, "date,y\n" + "".join(f"2024-01-{1 + h // 24:02d} {h % 24:02d}:00,59.894\n" for h in range(72))
    )
    code, _, err = cli(monkeypatch, capsys, "forecast", "predict", data, "--model", forecaster_dir / "m", "--output",
                       tmp_path / "f.json")  # fmt: skip
    assert code == 0, err
    series = json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))["series"][0]
    assert series["history"]["time"][-1] == "2024-01-03 23:00:00"
    assert series["forecast"]["time"][0] == "2024-01-04 00:00:00"
    assert series["history"]["y"][-1] == 59.894


def test_a_semicolon_separated_file_is_named_as_such(tmp_path):
    # before: "3 fields where the header ['text;label'] has 1: an unquoted comma inside a text?"
    from rnnlab.data.text import read_labelled

    path = tmp_path / "reviews.csv"
    path.write_text("text;label\nGood, really good;pos\nBad, so bad;neg\n", encoding="utf-8")
    with pytest.raises(DataError, match="one column: the file separates its fields with semicolons, not commas"):
        read_labelled(path)


def test_a_tab_separated_tagged_file_is_written_back_with_tabs(tmp_path, monkeypatch, capsys):
    # before: written back with spaces, which a tab-reading tool splits differently
    from cli_runner import cli

    path = tmp_path / "dev.txt"
    path.write_text("Angela\tB-PER\nMerkel\tI-PER\nvisited\tO\nParis\tB-LOC\n\n", encoding="utf-8")
    code, out, err = cli(monkeypatch, capsys, "tag", "predict", "--model", "ner-en", "--input", path,
                         "--input-format", "columns")  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[0] == "Angela\tB-PER\tB-PER", out
