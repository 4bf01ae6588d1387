"""The task registry's contract, checked on every registered task: fit on tiny data, predict, save, load through
``rnnlab.load`` (the task object, ready to predict), identical predictions, ONNX export parity; a directory given
to another task's command names the command that takes it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rnnlab
from rnnlab.errors import ModelFileError
from rnnlab.tasks import detect_task, find_task, registry
from rnnlab.training import TrainConfig

ONE_EPOCH = TrainConfig(max_epochs=1, lr=1e-2, batch_size=16, patience=None, seed=0)
ADS = Path(__file__).parent / "ie" / "ads.jsonl"


def _tagger():
    from rnnlab.tag.demo import demo_sentences
    from rnnlab.tag.models import TaggerConfig
    from rnnlab.tag.tagger import Tagger

    tagger = Tagger(TaggerConfig(hidden_size=8, char_hidden=4, char_dim=6, word_dim=8), ONE_EPOCH)
    tagger.fit(demo_sentences(30, seed=0), embeddings="none")
    sentences = [s.tokens for s in demo_sentences(6, seed=5)]
    return tagger, lambda t: t.predict_tags(sentences)


def _classifier():
    from rnnlab.classify.classifier import TextClassifier
    from rnnlab.classify.demo import demo_dataset
    from rnnlab.classify.models import ClassifierConfig

    clf = TextClassifier(ClassifierConfig(hidden_size=8, embedding_dim=8), ONE_EPOCH)
    data = demo_dataset(40, seed=0)
    clf.fit(data, embeddings="none")
    return clf, lambda c: c.predict_proba(data.texts[:7])


def _forecaster():
    import pandas as pd

    from rnnlab.forecast.forecaster import Forecaster
    from rnnlab.forecast.models import ForecastConfig

    t = np.arange(200)
    df = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=200, freq="h"), "y": np.sin(2 * np.pi * t / 24)})
    f = Forecaster(ForecastConfig(model="gru", input_width=24, horizon=4, hidden_size=8), ONE_EPOCH)
    f.fit(df)
    return f, lambda g: g.predict(df)["y"].to_numpy()


def _extractor():
    from rnnlab.ie.extractor import Extractor, default_train_config, read_ads

    extractor = Extractor()
    extractor.fit(read_ads(ADS) * 2, train_config=dataclasses.replace(default_train_config(), max_epochs=1,
                                                                      batch_size=8), dev_fraction=0.25)  # fmt: skip
    texts = [ad["text"] for ad in read_ads(ADS)][:4]
    return extractor, lambda e: e.extract(texts)


FIT = {"tagger": _tagger, "classifier": _classifier, "forecaster": _forecaster, "extractor": _extractor}


def test_every_registered_task_has_a_contract_recipe():
    assert set(registry()) == set(FIT)


@pytest.fixture(scope="module", params=sorted(FIT))
def saved(request, tmp_path_factory):
    name = request.param
    model, predict = FIT[name]()
    directory = tmp_path_factory.mktemp(name) / "model"
    model.save(directory)
    return name, model, predict, directory


def test_check_task_fit_predict_save_load_same_predictions(saved):
    name, model, predict, directory = saved
    assert detect_task(directory) == name and find_task(directory) is registry()[name]
    again = rnnlab.load(directory)  # the task object with its vocabularies / scaler / labels, not the network
    assert type(again) is type(model)
    before, after = predict(model), predict(again)
    if isinstance(before, np.ndarray):
        np.testing.assert_allclose(after, before, atol=1e-6)
    else:
        assert after == before


def test_check_task_export_parity(saved, tmp_path):
    pytest.importorskip("onnxruntime")
    from rnnlab.export import export_onnx

    name, _, _, directory = saved
    report = export_onnx(directory, tmp_path / "m.onnx")  # the graph function the task registers
    assert report["parity"] == "passed" and report["task"] == name
    assert registry()[name].exporter().__name__ == f"{name}_task_graph"


def test_check_task_service_adapter(saved):
    pytest.importorskip("fastapi", reason="rnnlab serve needs fastapi (absent on some GPU images)")
    from rnnlab.serving.tasks import load_served

    name, _, _, directory = saved
    served = load_served("m", directory)
    assert served.task == name and type(served) is registry()[name].served_class()


def test_another_task_given_to_a_command_names_the_right_one(saved):
    name, _, _, directory = saved
    other = {"tagger": "classifier", "classifier": "forecaster", "forecaster": "tagger", "extractor": "classifier"}
    loader = registry()[other[name]]
    said = rf"holds an? {name}, not a {other[name]}: use `{registry()[name].command} "
    with pytest.raises(ModelFileError, match=said):
        loader.load(directory)


def test_a_tagger_given_to_classify_predict_names_tag_predict(saved, tmp_path):
    name, _, _, directory = saved
    if name != "tagger":
        pytest.skip("one command line is enough")
    script = Path(sys.executable).with_name("rnnlab")
    if not script.is_file():
        pytest.skip("rnnlab is not installed as a console script in this environment")
    texts = tmp_path / "t.txt"
    texts.write_text("a text\n", encoding="utf-8")
    done = subprocess.run([str(script), "classify", "predict", str(texts), "--model", str(directory)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"holds a tagger, not a classifier: use `rnnlab tag predict --model {directory}`" in done.stderr


def test_rnnlab_load_still_gives_bare_networks(tmp_path):
    from rnnlab.nn import GRU

    rnnlab.save(GRU(3, 4), tmp_path / "gru")
    assert type(rnnlab.load(tmp_path / "gru")) is GRU
    with pytest.raises(ModelFileError, match="is a network, not a task model"):
        detect_task(tmp_path / "gru")
