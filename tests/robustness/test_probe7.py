"""Robustness, seventh round (issue 22): what a fresh probing of the newest inputs found. Each test failed before
its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import refused

from rnnlab.data.conll import Sentence
from rnnlab.tag.models import TaggerConfig
from rnnlab.tag.tagger import Tagger
from rnnlab.training import TrainConfig

ADS = Path(__file__).resolve().parents[1] / "ie" / "ads.jsonl"


def test_a_one_word_chunk_in_dev_of_a_type_trained_on_longer_chunks_is_scored():
    # training holds PER only as two-word names (B-PER I-PER -> B-PER E-PER in BIOES), dev a one-word name
    # (B-PER -> S-PER): before the fix fit stopped with "tags ['B-PER'] were not seen in training (known: [...,
    # 'B-PER', ...])", naming a tag that the list shows as known
    train = [Sentence(["Ann", "Lee", "runs"], ["B-PER", "I-PER", "O"]), Sentence(["a", "dog"], ["O", "O"])] * 8
    dev = [Sentence(["Ann", "runs"], ["B-PER", "O"])]
    tagger = Tagger(TaggerConfig(arch="window-mlp", hidden_size=8, word_dim=8),
                    TrainConfig(max_epochs=2, batch_size=4, patience=None, seed=0))  # fmt: skip
    info = tagger.fit(train, dev, embeddings="none")
    assert {"S-PER", "B-PER", "E-PER", "I-PER"} <= set(info["tags"])
    report = tagger.evaluate(dev)
    assert 0.0 <= report["micro"]["f1"] <= 1.0


def _ad_with_gold(tmp_path: Path, gold) -> Path:
    ad = json.loads(ADS.read_text(encoding="utf-8").splitlines()[0])
    ad["gold"] = gold if not isinstance(gold, dict) else {**ad["gold"], **gold}
    path = tmp_path / "ads.jsonl"
    path.write_text(json.dumps(ad) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("gold", "said"),
    [
        (
            "yes",
            "ads.jsonl:1: 'gold' is \"yes\"; it must be an object of the template's fields",
        ),  # was ['<not an object>']
        ([1, 2], "ads.jsonl:1: 'gold' is [1, 2]; it must be an object"),
        ({"rooms": -3}, "ads.jsonl:1: gold 'rooms' is -3; it must be a finite number >= 0 or null"),  # was scored
        ({"price_eur": -250000.0}, "gold 'price_eur' is -250000.0; it must be a finite number >= 0"),
    ],
)
def test_a_gold_template_of_the_wrong_shape_is_refused_by_line(monkeypatch, capsys, tmp_path, gold, said):
    err = refused(monkeypatch, capsys, "extract", "evaluate", _ad_with_gold(tmp_path, gold))
    assert said in err, err


@pytest.mark.parametrize(
    ("ad", "price"),
    [
        ("Maison 4 pièces 100 m2 350 000 €", 350000),  # was 2,350,000: the 2 of m2 read as the first group
        ("Maison 100m2 350 000 €", 350000),
        ("Appartement T2 199 000 €", 199000),  # was 2,199,000 (rules), no price at all (model)
        ("Appartement 65 m2 199 000 euros", 199000),
        ("Prix 1 270 000 euros", 1270000),  # a grouped amount after a space is still one number
    ],
)
@pytest.mark.parametrize("model", ["rules", "default"])
def test_a_price_right_after_m2_or_t2_keeps_its_own_digits(ad, price, model):
    from rnnlab.ie import template
    from rnnlab.ie.extractor import DEFAULT_MODEL, Extractor

    extractor = Extractor.rules() if model == "rules" else Extractor.load(DEFAULT_MODEL)
    assert template.values(extractor.extract(ad)[0])["price_eur"] == price


def test_a_reference_ending_in_digits_does_not_take_the_price():
    from rnnlab.ie import template
    from rnnlab.ie.extractor import DEFAULT_MODEL, Extractor

    values = template.values(Extractor.load(DEFAULT_MODEL).extract("Réf. A12 250 000 €")[0])
    assert values["reference"] == "A12" and values["price_eur"] == 250000  # was reference 'A12 250 000', no price


@pytest.mark.parametrize(
    "ad",
    ["Villa, tel 0033 (0)4 93 12 34 56", "Villa, tel +33 (0)4 93 12 34 56", "Villa, tel 04/93/12/34/56"],
)
@pytest.mark.parametrize("model", ["rules", "default"])
def test_phones_written_with_a_bracketed_zero_or_slashes_are_found(ad, model):
    from rnnlab.ie import template
    from rnnlab.ie.extractor import DEFAULT_MODEL, Extractor

    extractor = Extractor.rules() if model == "rules" else Extractor.load(DEFAULT_MODEL)
    assert template.values(extractor.extract(ad)[0])["phone"] == "0493123456"  # was None for both


CONLLU = (
    "# sent_id = 1\n# text = The cat sat.\n1-2\tThe cat\t_\t_\t_\t_\t_\t_\t_\t_\n"
    "1\tThe\tthe\tDET\t_\t_\t2\tdet\t_\t_\n2\tcat\tcat\tNOUN\t_\t_\t3\tnsubj\t_\t_\n3\tsat\tsit\tVERB\t_\t_\t0\troot\t_\t_\n\n"
)


def test_a_conllu_file_is_read_as_conllu_without_format_options(tmp_path, monkeypatch, capsys):
    from cli_runner import cli

    data = tmp_path / "train.conllu"
    data.write_text(CONLLU * 4, encoding="utf-8")
    # no --format / --tag-column (before: read as CoNLL-2003 columns, 'expected 4 columns as on the line above')
    code, _, err = cli(monkeypatch, capsys, "tag", "fit", "--train", data, "--arch", "window-mlp", "--embeddings",
                       "none", "--max-epochs", "1", "--no-progress", "--out", tmp_path / "m")  # fmt: skip
    assert code == 0, err
    code, out, err = cli(monkeypatch, capsys, "tag", "evaluate", "--model", tmp_path / "m", data, "--json")
    assert code == 0 and json.loads(out)["tokens"] == 12, err
    # before: each line of the file tagged as text, '# SYM / sent_id NOUN / = PUNCT ...', exit 0
    code, out, err = cli(monkeypatch, capsys, "tag", "predict", "--model", tmp_path / "m", "--input", data,
                         "--output-format", "conll")  # fmt: skip
    assert code == 0 and out.startswith("# sent_id = 1\n# text = The cat sat.\n1-2\tThe cat\t"), out[:200]
    assert len(out.strip().splitlines()) == len(CONLLU.strip().splitlines()) * 4 + 3


def test_a_conllu_file_read_as_columns_is_named_with_the_fix(tmp_path, monkeypatch, capsys):
    data = tmp_path / "dev.conllu"
    data.write_text(CONLLU, encoding="utf-8")
    err = refused(monkeypatch, capsys, "tag", "evaluate", "--model", tmp_path / "absent", data, "--format",
                  "conll2003")  # fmt: skip
    assert "dev.conllu:1: a CoNLL-U comment line" in err and "--format conllu" in err


AIR = Path(__file__).resolve().parents[2] / "src" / "rnnlab" / "forecast" / "data" / "airpassengers.csv"


@pytest.mark.parametrize(
    ("args", "said"),
    [  # before: 'use fewer splits, a larger test_size or a shorter window', the wrong advice and no flags
        (
            ["--splits", "2", "--horizon", "500"],
            "no training window: a window spans 524 steps (input width + horizon); "
            "48 steps come before it: use fewer splits (--splits) or a shorter",
        ),
        (
            ["--splits", "2", "--test-size", "3"],
            "a fold of 3 steps holds no 12-step forecast: give test_size (--test-size) >= 12",
        ),
        (["--splits", "200"], "use fewer splits (--splits) or a smaller test_size (--test-size)"),
    ],
)
def test_cross_validation_folds_that_do_not_fit_say_which_flag_to_change(monkeypatch, capsys, args, said):
    err = refused(monkeypatch, capsys, "forecast", "cv", AIR, "--time-col", "date", "--target", "value", *args)
    assert said in err, err


@pytest.mark.parametrize(
    ("args", "said"),
    [  # before: the package's absolute folder in the message and in the suggested command
        (
            ["classify", "predict", "--model", "pos-en", "good"],
            "error: pos-en holds a tagger, not a classifier: use `rnnlab tag predict --model pos-en`",
        ),
        # before: 'default is not a directory; a saved rnnlab model is a directory'
        (
            ["tag", "predict", "--model", "default", "Angela Merkel"],
            "error: default names the shipped real-estate extractor, not a tagger: use `rnnlab extract predict --model "
            "default`",
        ),
        (["classify", "predict", "--model", "rules", "good"], "error: rules names the shipped real-estate extractor"),
    ],
)
def test_a_shipped_model_given_to_the_wrong_command_is_named_as_typed(monkeypatch, capsys, args, said):
    err = refused(monkeypatch, capsys, *args)
    assert err.startswith(said) and "shipped/" not in err, err


@pytest.mark.parametrize(
    ("ad", "price"),
    [("Appartement à Toulon. Prix 1,5 millions d'euros.", 1500000), ("Château 2 millions €", 2000000),
     ("Villa 1 million d’euros, 300 m2", 1000000)],
)  # fmt: skip
def test_a_price_in_millions_written_out_is_read_by_the_rules(ad, price):
    from rnnlab.ie import template
    from rnnlab.ie.extractor import Extractor

    assert template.values(Extractor.rules().extract(ad)[0])["price_eur"] == price  # was None


def test_fit_never_writes_into_the_shipped_models(monkeypatch, capsys, tmp_path):
    from rnnlab.hub import SHIPPED_DIR

    train = tmp_path / "train.conll"
    train.write_text("John B-PER\nruns O\n\nMary B-PER\nsits O\n\n", encoding="utf-8")
    before = sorted(p.name for p in (SHIPPED_DIR / "ner-en").iterdir())
    # before: exit 0, the 9.5 MB ner-en replaced by a toy model for every later `--model ner-en`
    err = refused(monkeypatch, capsys, "tag", "fit", "--train", train, "--embeddings", "none", "--max-epochs", "1",
                  "--no-progress", "--out", SHIPPED_DIR / "ner-en", "--overwrite")  # fmt: skip
    assert "is inside the models shipped with rnnlab" in err
    assert sorted(p.name for p in (SHIPPED_DIR / "ner-en").iterdir()) == before


def test_export_never_writes_into_the_model_it_exports(monkeypatch, capsys, tmp_path):
    import shutil

    from rnnlab.hub import SHIPPED_DIR

    model = tmp_path / "m"
    shutil.copytree(SHIPPED_DIR / "pos-fr", model)
    weights = (model / "model.safetensors").read_bytes()
    # before: "wrote m/model.safetensors", the weights replaced by the ONNX graph
    err = refused(monkeypatch, capsys, "export", "--model", model, "--out", model / "model.safetensors", "--overwrite")
    assert "is inside m/, a model's own directory" in err
    assert (model / "model.safetensors").read_bytes() == weights


def test_a_classifier_whose_training_record_is_not_an_object_is_named(monkeypatch, capsys, tmp_path):
    import shutil

    from rnnlab.hub import SHIPPED_DIR

    model = tmp_path / "m"
    shutil.copytree(SHIPPED_DIR / "sentiment-en", model)
    (model / "training.json").write_text("[1]", encoding="utf-8")  # before: a TypeError traceback
    err = refused(monkeypatch, capsys, "classify", "predict", "--model", model, "great film")
    assert "training.json must hold a JSON object" in err


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ({"id": {"x": 1}, "text": "Maison 100 m2"}, "ads.jsonl:1: 'id' is {\"x\": 1}; it must be a string or a whole"),
        ({"id": float("nan"), "text": "Maison 100 m2"}, "ads.jsonl:1: 'id' is NaN"),  # was written back as NaN
        ({"text": "Appartement 50 m2", "fields": "x"}, "ads.jsonl:1: 'fields' is \"x\"; it must be an object"),
        ({"text": "Maison à Toulon", "fields": {"city": 5}}, "ads.jsonl:1: fields 'city' is 5; it must be text"),
        ({"text": "Maison", "fields": {"prix": 1}}, "ads.jsonl:1: unknown fields ['prix']"),
    ],
)
def test_ads_with_an_id_or_fields_of_the_wrong_kind_are_refused_by_line(monkeypatch, capsys, tmp_path, line, said):
    path = tmp_path / "ads.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")  # before: TypeError / AttributeError tracebacks
    err = refused(monkeypatch, capsys, "extract", "predict", "--input", path)
    assert said in err, err


def test_an_empty_api_key_variable_does_not_open_the_service(monkeypatch, capsys):
    monkeypatch.setenv("RNNLAB_API_KEY", "")  # before: served without a key, unannounced
    err = refused(monkeypatch, capsys, "serve", "--model", "ads=rules", "--port", "8767")
    assert "RNNLAB_API_KEY is set but empty" in err


def test_predict_and_export_never_write_over_the_model_or_the_data(monkeypatch, capsys, tmp_path):
    import shutil

    data = tmp_path / "air.csv"
    shutil.copy(AIR, data)
    model = tmp_path / "m"
    code, _, err = _fit_small(monkeypatch, capsys, data, model)
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in model.iterdir()}, data.read_bytes()
    # before: exit 0, config.json replaced by the forecasts (the model no longer loaded), the data by forecasts/ONNX
    for args, said in [
        (["forecast", "predict", data, "--model", model, "--output", model / "config.json"], "inside the model's"),
        (["forecast", "predict", data, "--model", model, "--output", data], "is the input data"),
        (["export", "--model", model, "--data", data, "--out", data], "is the --data file"),
    ]:
        assert said in refused(monkeypatch, capsys, *args, "--overwrite")
    assert ({p.name: p.read_bytes() for p in model.iterdir()}, data.read_bytes()) == before


def _fit_small(monkeypatch, capsys, data, model):
    from cli_runner import cli

    return cli(monkeypatch, capsys, "forecast", "fit", data, "--target", "value", "--time-col", "date",
               "--input-width", "12", "--horizon", "3", "--hidden-size", "4", "--max-epochs", "1", "--no-progress",
               "--out", model)  # fmt: skip
