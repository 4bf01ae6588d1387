"""Issue 24, points 3 and 4: which words decided (attention / max-pool weights, `predict --explain`) and
probabilities that mean what they say (expected calibration error, temperature scaling)."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from rnnlab.classify.classifier import TextClassifier, TextConfig
from rnnlab.classify.demo import demo_dataset
from rnnlab.classify.models import ClassifierConfig, TextClassifierNet
from rnnlab.cli.main import app
from rnnlab.errors import ConfigError
from rnnlab.metrics.classification import expected_calibration_error
from rnnlab.training import TrainConfig

tokens = torch.tensor([[2, 3, 4, 5], [6, 7, 0, 0], [8, 0, 0, 0]])
lengths = torch.tensor([4, 2, 1])


@pytest.mark.parametrize("pooling", ["attention", "max", "max-mean"])
def test_word_weights_sum_to_one_over_the_real_tokens_and_are_zero_on_padding(pooling):
    torch.manual_seed(0)
    net = TextClassifierNet(ClassifierConfig(vocab_size=10, n_classes=2, embedding_dim=6, hidden_size=5,
                                             pooling=pooling)).eval()  # fmt: skip
    w = net.token_weights(tokens, lengths)
    assert w.shape == (3, 4) and (w >= 0).all()
    torch.testing.assert_close(w.sum(1), torch.ones(3))
    assert w[1, 2:].abs().sum() == 0 and w[2, 1:].abs().sum() == 0
    torch.testing.assert_close(net.token_weights(tokens[1:2, :2], lengths[1:2]), w[1:2, :2])  # padding-free


def test_attention_weights_are_the_ones_the_pooling_uses():
    torch.manual_seed(0)
    net = TextClassifierNet(ClassifierConfig(vocab_size=10, n_classes=2, embedding_dim=6, hidden_size=5,
                                             pooling="attention")).eval()  # fmt: skip
    w = net.token_weights(tokens, lengths)
    y = net.rnn(net.embed(tokens), lengths=lengths)
    torch.testing.assert_close(net.head((w[:, :, None] * y).sum(1)), net(tokens, lengths))


@pytest.mark.parametrize("kw", [dict(arch="lstm-last"), dict(pooling="mean")])
def test_models_without_word_weights_say_so(kw):
    net = TextClassifierNet(ClassifierConfig(vocab_size=10, n_classes=2, embedding_dim=6, hidden_size=5, **kw))
    with pytest.raises(ConfigError, match="--pooling attention"):
        net.token_weights(tokens, lengths)


def test_expected_calibration_error_by_hand():
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    # bins of 0.2: (0.4, 0.6] holds 0.6 (right), (0.6, 0.8] 0.7 (right) and 0.8 (wrong), (0.8, 1] 0.9 (right)
    assert expected_calibration_error(p, [0, 1, 1, 1], bins=5) == pytest.approx(0.4 / 4 + 0.25 * 2 / 4 + 0.1 / 4)
    assert expected_calibration_error(np.array([[0.5, 0.5]] * 4), [0, 1, 0, 1]) == pytest.approx(0.0)
    assert expected_calibration_error(np.array([[1.0, 0.0]] * 2), [1, 1]) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def attention_model():
    torch.manual_seed(0)
    data = demo_dataset(240, seed=1)
    train, dev = data.split(0.3, seed=0)
    clf = TextClassifier(ClassifierConfig(arch="bilstm-pool", pooling="attention", hidden_size=8, embedding_dim=8),
                         TrainConfig(max_epochs=8, lr=3e-2, batch_size=16, patience=None),
                         text=TextConfig(min_freq=1))  # fmt: skip
    clf.fit(train, dev, embeddings="none")
    return clf, dev


def test_explain_gives_one_weight_per_token_read(attention_model):
    clf, dev = attention_model
    texts = [*dev.texts[:3], "What a wonderful film"]
    records = clf.predict_records(texts, explain=True)
    for text, r in zip(texts, records, strict=True):
        why = r["explanation"]
        assert why["method"] == "attention" and why["tokens"] == clf.tokenizer.tokenize(text)
        assert len(why["weights"]) == len(why["tokens"]) and sum(why["weights"]) == pytest.approx(1.0, abs=1e-5)


def test_temperature_scaling_keeps_labels_lowers_dev_log_loss_and_travels_with_the_model(attention_model, tmp_path):
    clf, dev = attention_model
    labels_before, p_before = clf.predict(dev.texts), clf.predict_proba(dev.texts)
    fitted = clf.calibrate(dev)
    assert fitted["temperature"] > 0 and fitted["log_loss_after"] <= fitted["log_loss_before"] + 1e-9
    assert fitted["ece_before"] == pytest.approx(expected_calibration_error(p_before, [clf.labels.index(y)
                                                                                     for y in dev.labels]))  # fmt: skip
    assert clf.predict(dev.texts) == labels_before
    assert clf.evaluate(dev)["ece"] == pytest.approx(fitted["ece_after"], abs=1e-6)
    clf.save(tmp_path / "m")
    again = TextClassifier.load(tmp_path / "m")
    assert again.temperature == pytest.approx(fitted["temperature"])
    np.testing.assert_allclose(again.predict_proba(dev.texts), clf.predict_proba(dev.texts), rtol=1e-5, atol=1e-6)
    (tmp_path / "m" / "calibration.json").write_text('{"temperature": -1}', encoding="utf-8")
    with pytest.raises(Exception, match=r"calibration.json.*positive number"):
        TextClassifier.load(tmp_path / "m")
    clf.calibration = {}


def test_cli_predict_explain_and_fit_calibrate(attention_model, tmp_path):
    clf, dev = attention_model
    clf.save(tmp_path / "m")
    runner = CliRunner()
    result = runner.invoke(app, ["classify", "predict", "--model", str(tmp_path / "m"), "--explain", "a great film"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output.splitlines()[0])
    assert row["explanation"]["tokens"] == ["a", "great", "film"] and len(row["explanation"]["weights"]) == 3
    refused = runner.invoke(app, ["classify", "predict", "--model", str(tmp_path / "m"), "--explain", "x",
                                  "--output", str(tmp_path / "p.csv")])  # fmt: skip
    assert refused.exit_code != 0 and "write .jsonl" in str(refused.exception)
    data = tmp_path / "d.csv"
    data.write_text("text,label\n" + "".join(f'"{t}",{y}\n' for t, y in zip(dev.texts, dev.labels, strict=True)))
    fit = runner.invoke(app, ["classify", "fit", "--train", str(data), "--dev", str(data), "--embeddings", "none",
                              "--hidden", "4", "--embedding-dim", "4", "--epochs", "1", "--min-freq", "1",
                              "--calibrate", "--json", "--no-progress", "--out", str(tmp_path / "c")])  # fmt: skip
    assert fit.exit_code == 0, fit.output
    assert json.loads(fit.output)["calibration"]["temperature"] > 0
    assert (tmp_path / "c" / "calibration.json").is_file()
