"""ONNX export: every task's network reproduces PyTorch in onnxruntime, at other batch sizes and lengths too."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from rnnlab.classify.classifier import TextClassifier
from rnnlab.classify.demo import demo_dataset
from rnnlab.classify.models import ClassifierConfig
from rnnlab.cli import app
from rnnlab.errors import ConfigError
from rnnlab.export import ExportError, OnnxClassifier, OnnxForecaster, OnnxTagger, check_parity, export_onnx, viterbi
from rnnlab.export.graphs import EXAMPLE_SENTENCES, for_export, tagger_graph
from rnnlab.forecast.forecaster import Forecaster
from rnnlab.forecast.models import ForecastConfig
from rnnlab.nn import GRU
from rnnlab.nn.crf import CRF
from rnnlab.tag.demo import demo_sentences
from rnnlab.tag.models import TaggerConfig
from rnnlab.tag.tagger import Tagger
from rnnlab.training import TrainConfig

pytest.importorskip("onnxruntime")
ONE_EPOCH = TrainConfig(max_epochs=1, lr=1e-2, batch_size=16, patience=None)
SENTENCES = [s.tokens for s in demo_sentences(12, seed=5)]


def _tagger(tmp_path, **config):
    tagger = Tagger(TaggerConfig(hidden_size=8, char_hidden=4, char_dim=6, word_dim=8, **config), ONE_EPOCH)
    tagger.fit(demo_sentences(40, seed=0), embeddings="none")
    tagger.save(tmp_path / "tagger")
    return tagger, tmp_path / "tagger"


@pytest.mark.parametrize(
    "config",
    [
        {"arch": "lstm", "char": "lstm", "output": "crf"},
        {"arch": "gru", "char": "cnn", "output": "softmax", "num_layers": 2},
        {"arch": "rnn", "char": "none", "output": "crf", "bidirectional": False},
        {"arch": "window-mlp", "char": "cnn", "output": "crf"},
    ],
    ids=["bilstm-charlstm-crf", "bigru2-charcnn-softmax", "rnn-crf", "window-mlp-crf"],
)
def test_tagger_exports_and_decodes_like_pytorch(tmp_path, config):
    tagger, directory = _tagger(tmp_path, **config)
    report = export_onnx(directory, tmp_path / "t.onnx")
    assert report["parity"] == "passed" and report["task"] == "tagger"
    assert max(report["max_abs_diff"].values()) <= 1e-4
    assert report["batches_checked"] == [5, 1, 1, 3]  # other batch sizes and lengths than the traced one
    onnx_tagger = OnnxTagger(tmp_path / "t.onnx", directory)
    assert onnx_tagger.predict_tags(SENTENCES) == tagger.predict_tags(SENTENCES)
    assert onnx_tagger.predict_tags(SENTENCES[3:4]) == tagger.predict_tags(SENTENCES[3:4])


@pytest.mark.parametrize(
    "config",
    [
        {"arch": "bilstm-pool", "pooling": "attention"},
        {"arch": "bilstm-pool", "pooling": "max-mean", "cell": "gru"},
        {"arch": "lstm-last", "num_layers": 2},
        {"arch": "bilstm-pool", "members": 2},
        {"arch": "bilstm-pool", "weight_dropout": 0.5, "finetune_top": 20},
    ],
    ids=["bilstm-attention", "bigru-maxmean", "lstm2-last-step", "bilstm-ensemble", "bilstm-weightdrop-top20"],
)
def test_classifier_exports(tmp_path, config):
    clf = TextClassifier(ClassifierConfig(hidden_size=8, embedding_dim=8, **config), ONE_EPOCH)
    data = demo_dataset(60, seed=0)
    clf.fit(data, embeddings="none")
    clf.save(tmp_path / "clf")
    report = export_onnx(tmp_path / "clf", tmp_path / "c.onnx")
    assert report["parity"] == "passed" and report["outputs"] == ["logits", "probabilities"]
    texts = data.texts[:9]
    np.testing.assert_allclose(OnnxClassifier(tmp_path / "c.onnx", tmp_path / "clf").predict_proba(texts),
                               clf.predict_proba(texts), atol=1e-5)  # fmt: skip


def _series(n=160):
    t = np.arange(n)
    return (10 + 3 * np.sin(2 * np.pi * t / 24) + 0.1 * np.random.default_rng(0).normal(size=n)).astype(np.float32)


@pytest.mark.parametrize(
    ("model", "strategy", "bidirectional"),
    [("lstm", "single_shot", True), ("gru", "autoregressive", False), ("rnn", "per_step", False),
     ("lstm", "autoregressive", False), ("dense", "single_shot", False)],
)  # fmt: skip
def test_forecaster_exports(tmp_path, model, strategy, bidirectional):
    f = Forecaster(ForecastConfig(model=model, input_width=24, horizon=5, hidden_size=8, strategy=strategy,
                                  bidirectional=bidirectional), TrainConfig(max_epochs=1, seed=0))  # fmt: skip
    series = [_series()[:, None], _series()[::-1, None].copy()]
    f.fit_arrays(series)
    f.save(tmp_path / "f", extra={"time_col": None, "targets": ["y"], "features": [], "series_col": None,
                                  "fill": None, "freq": None})  # fmt: skip
    report = export_onnx(tmp_path / "f", tmp_path / "f.onnx")
    assert report["parity"] == "passed" and report["inputs"]["x"] == [8, 24, 1]
    np.testing.assert_allclose(OnnxForecaster(tmp_path / "f.onnx", tmp_path / "f").predict_arrays(series),
                               f.predict_arrays(series), rtol=1e-4, atol=1e-4)  # fmt: skip


@pytest.mark.parametrize(
    ("model", "distribution"), [("gru", "none"), ("dense", "none"), ("gru", "normal"), ("dense", "student_t")]
)
def test_quantile_forecaster_exports_its_levels_with_the_conformal_offsets(tmp_path, model, distribution):
    config = ForecastConfig(model=model, input_width=24, horizon=5, hidden_size=8, quantiles=(0.1, 0.9),
                            distribution=distribution)  # fmt: skip
    f = Forecaster(config, TrainConfig(max_epochs=1, seed=0), conformal=True)
    series = [_series()[:, None], _series()[::-1, None].copy()]
    f.fit_arrays(series, val_steps=40)
    assert f.offsets is not None
    f.save(tmp_path / "f", extra={"time_col": None, "targets": ["y"], "features": [], "series_col": None,
                                  "fill": None, "freq": None})  # fmt: skip
    report = export_onnx(tmp_path / "f", tmp_path / "f.onnx")
    assert report["parity"] == "passed" and report["outputs"] == ["forecast", "quantiles"]
    assert set(report["max_abs_diff"]) == {"forecast", "quantiles"}
    onnx = OnnxForecaster(tmp_path / "f.onnx", tmp_path / "f")
    np.testing.assert_allclose(onnx.predict_arrays(series, quantiles=True), f.predict_arrays(series, quantiles=True),
                               rtol=1e-4, atol=1e-4)  # fmt: skip
    np.testing.assert_allclose(onnx.predict_arrays(series), f.predict_arrays(series), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("members", [1, 2])
def test_segment_wise_forecaster_exports(tmp_path, members):
    f = Forecaster(ForecastConfig(model="gru", input_width=48, horizon=5, hidden_size=8, revin=True, patch=24,
                                  members=members), TrainConfig(max_epochs=1, seed=0), loss="scaled_mae")  # fmt: skip
    series = [_series()[:, None], _series()[::-1, None].copy()]
    f.fit_arrays(series)
    f.save(tmp_path / "f", extra={"time_col": None, "targets": ["y"], "features": [], "series_col": None,
                                  "fill": None, "freq": None})  # fmt: skip
    report = export_onnx(tmp_path / "f", tmp_path / "f.onnx")
    assert report["parity"] == "passed"
    np.testing.assert_allclose(OnnxForecaster(tmp_path / "f.onnx", tmp_path / "f").predict_arrays(series),
                               f.predict_arrays(series), rtol=1e-4, atol=1e-4)  # fmt: skip


def test_forecaster_parity_on_a_real_csv(tmp_path):
    import pandas as pd

    f = Forecaster(ForecastConfig(model="lstm", input_width=24, horizon=5, hidden_size=8), TrainConfig(max_epochs=1))
    f.fit_arrays([_series()[:, None]])
    f.save(tmp_path / "f", extra={"time_col": "date", "targets": ["y"], "features": [], "series_col": None,
                                  "fill": None, "freq": "h"})  # fmt: skip
    csv = tmp_path / "history.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=160, freq="h"), "y": _series()}).to_csv(csv, index=False)
    report = export_onnx(tmp_path / "f", tmp_path / "f.onnx", data=csv)
    assert report["examples"] == "history.csv" and report["inputs"]["x"][0] == 64


def test_shipped_extractor_exports(tmp_path):
    report = export_onnx("default", tmp_path / "ads.onnx")
    assert report["task"] == "extractor" and report["viterbi_agreement"] == 1.0
    assert "features" in report["inputs"]  # the rule hints are an input of the graph


def test_a_disagreeing_graph_is_refused(tmp_path):
    tagger, _ = _tagger(tmp_path, arch="lstm", char="lstm", output="crf")
    graph = tagger_graph(tagger, EXAMPLE_SENTENCES)
    export_onnx(tmp_path / "tagger", tmp_path / "t.onnx")
    with torch.no_grad():
        graph.module.net.head.bias.add_(0.01)  # PyTorch's side drifts from the exported file
    with pytest.raises(ExportError, match="disagrees"):
        check_parity(graph, tmp_path / "t.onnx", atol=1e-4)


def test_equation_only_layers_are_a_clear_error():
    with pytest.raises(ConfigError, match="fused kernels"):
        for_export(torch.nn.Sequential(GRU(3, 4, reset_after=False)))


def test_numpy_viterbi_matches_the_crf():
    g = torch.Generator().manual_seed(0)
    allowed = torch.rand(5, 5, generator=g) > 0.3
    allowed.fill_diagonal_(True)
    crf = CRF(5, allowed.tolist())
    with torch.no_grad():
        crf.transitions.normal_(generator=g)
        crf.start.normal_(generator=g)
        crf.end.normal_(generator=g)
    emissions = torch.randn(6, 9, 5, generator=g)
    lengths = torch.tensor([9, 1, 4, 9, 2, 7])
    mask = torch.arange(9)[None, :] < lengths[:, None]
    trans, start, end = (t.detach().numpy() for t in crf._scores())
    assert viterbi(emissions.numpy(), lengths.numpy(), trans, start, end) == crf.decode(emissions, mask)


def test_cli_export(tmp_path):
    runner = CliRunner()
    _, directory = _tagger(tmp_path, arch="lstm", char="none", output="crf")
    texts = tmp_path / "texts.txt"
    texts.write_text("Omar went to Lima .\nSony hired Maria Lopez in Tokyo .\n\nThe end .\n", encoding="utf-8")
    out = tmp_path / "m.onnx"
    result = runner.invoke(
        app, ["export", "--model", str(directory), "--out", str(out), "--data", str(texts), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["parity"] == "passed" and report["examples"] == "texts.txt" and report["inputs"]["words"][0] == 3
    again = runner.invoke(app, ["export", "--model", str(directory), "--out", str(out)])
    assert again.exit_code != 0 and "exists" in str(again.exception)
    wrong = runner.invoke(app, ["export", "--model", str(directory), "--out", str(out), "--format", "tflite"])
    assert "onnx" in str(wrong.exception)


def test_parity_never_passes_non_finite_outputs():
    from rnnlab.export.to_onnx import _max_diff

    nan = float("nan")
    assert _max_diff(np.array([1.0, nan]), torch.tensor([1.0, nan]), {}) == float("inf")
    assert _max_diff(np.array([1.0, np.inf]), torch.tensor([1.0, np.inf]), {}) == float("inf")
    assert _max_diff(np.array([1.0, 2.0]), torch.tensor([1.0, 2.5]), {}) == 0.5
    assert not max(0.0, _max_diff(np.array([nan]), torch.tensor([nan]), {})) <= 1e-4


@pytest.mark.parametrize("atol", [-1.0, float("nan"), float("inf")])
def test_a_negative_or_non_finite_atol_is_refused_before_any_work(tmp_path, atol):
    from rnnlab.export import ExportError, export_onnx

    with pytest.raises(ExportError, match="atol must be a finite number"):
        export_onnx("default", tmp_path / "x.onnx", atol=atol)
    assert not (tmp_path / "x.onnx").exists()


def test_the_onnx_forecaster_scales_each_series_by_its_id(tmp_path):
    """The exported forecaster scales as the PyTorch one: series by id, not by row position (probing round 3)."""
    f = Forecaster(ForecastConfig(model="gru", input_width=24, horizon=3, hidden_size=4, revin=False),
                   TrainConfig(max_epochs=1, seed=0))  # fmt: skip
    low, high = _series()[:, None], _series()[:, None] + 100.0
    f.fit_arrays([low, high], ids=["low", "high"])
    f.save(tmp_path / "f", extra={"time_col": None, "targets": ["y"], "features": [], "series_col": "sid",
                                  "fill": None, "freq": None})  # fmt: skip
    export_onnx(tmp_path / "f", tmp_path / "f.onnx")
    onnx = OnnxForecaster(tmp_path / "f.onnx", tmp_path / "f").predict_arrays([high], ids=["high"])
    np.testing.assert_allclose(onnx, f.predict_arrays([high], ids=["high"]), rtol=1e-4, atol=1e-3)
    assert onnx.mean() > 50  # the high series' scale, not the low one's (row 0)
