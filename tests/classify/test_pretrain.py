"""Language-model pretraining of a text classifier: the loss, its alignment, the fit option, unlabelled texts, CLI."""

import json
import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from typer.testing import CliRunner

from rnnlab.classify.classifier import TextClassifier, TextConfig
from rnnlab.classify.demo import demo_dataset
from rnnlab.classify.models import ClassifierConfig, TextClassifierNet
from rnnlab.classify.pretrain import LanguageModel, adaptive_nll
from rnnlab.cli.main import app
from rnnlab.data.text import read_unlabelled
from rnnlab.errors import ConfigError, DataError
from rnnlab.training import TrainConfig

tokens = torch.tensor([[2, 3, 4, 5, 6], [7, 8, 9, 0, 0], [10, 0, 0, 0, 0]])
lengths = torch.tensor([5, 3, 1])


def _net(**kw):
    torch.manual_seed(0)
    config = dict(vocab_size=12, n_classes=2, embedding_dim=6, hidden_size=5, dropout=0.0, embedding_dropout=0.0)
    return TextClassifierNet.from_config(ClassifierConfig(**{**config, **kw}))  # members > 1: an Ensemble


def _by_hand(lm, pairs):
    """Mean -log p(target | state) over (state, target) pairs, from the adaptive softmax's full log-probabilities."""
    return -torch.stack([lm.softmax.log_prob(h[None])[0, t] for h, t in pairs]).mean()


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("targets", [[1, 2, 15, 3], [25, 1, 2, 3], [1, 12, 15, 27, 29, 0]])
def test_adaptive_nll_is_the_modules_loss_with_one_target_in_a_cluster(device, targets):
    """One target alone in a cluster: torch's forward squeezes its row index to 0-d, which CUDA refuses."""
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    torch.manual_seed(0)
    softmax = torch.nn.AdaptiveLogSoftmaxWithLoss(6, 30, [10, 20], div_value=2.0).to(device)
    h, target = torch.randn(len(targets), 6, device=device), torch.tensor(targets, device=device)
    ours = adaptive_nll(softmax, h, target)
    ours.backward()
    grads = [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in softmax.parameters()]  # unused tail
    softmax.zero_grad()
    reference = -softmax.log_prob(h).gather(1, target.unsqueeze(1)).mean()  # the full distribution
    reference.backward()
    assert ours.item() == pytest.approx(reference.item(), rel=1e-5)
    for mine, theirs in zip(grads, [p.grad for p in softmax.parameters()], strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)
    if device == "cpu":
        assert ours.item() == pytest.approx(softmax(h, target).loss.item(), rel=1e-5)


@pytest.mark.parametrize("arch", ["bilstm-pool", "lstm-last"])
def test_each_direction_predicts_its_neighbouring_word(arch):
    net = _net(arch=arch)
    lm = LanguageModel(net).eval()
    with net.rnn.returning_sequences():
        y = net.rnn(net.embedding(tokens), lengths=lengths)  # (B, T, D·H)
    pairs = []
    for b, n in enumerate(lengths.tolist()):
        pairs += [(y[b, t, :5], tokens[b, t + 1]) for t in range(n - 1)]  # forward: next word
    if arch == "bilstm-pool":
        for b, n in enumerate(lengths.tolist()):
            pairs += [(y[b, t + 1, 5:], tokens[b, t]) for t in range(n - 1)]  # backward: previous word
    assert len(pairs) == (12 if arch == "bilstm-pool" else 6)  # padding and 1-token texts predict nothing
    torch.testing.assert_close(lm(tokens, lengths), _by_hand(lm, pairs))
    assert lm.directions == (2 if arch == "bilstm-pool" else 1)
    assert net.rnn.config.return_sequences is (arch == "bilstm-pool")  # the layer's own setting is back


def test_no_direction_reads_the_word_it_predicts():
    """Changing word t leaves the forward states before t and the backward states after t as they were."""
    net = _net()
    changed = tokens.clone()
    changed[0, 2] = 11
    with net.rnn.returning_sequences():
        a, b = (net.rnn(net.embedding(t), lengths=lengths) for t in (tokens, changed))
    torch.testing.assert_close(a[0, :2, :5], b[0, :2, :5])  # forward states at 0, 1 predict words 1, 2
    torch.testing.assert_close(a[0, 3:, 5:], b[0, 3:, 5:])  # backward states at 3, 4 predict words 2, 3
    assert not torch.allclose(a[0, 2, :5], b[0, 2, :5]) and not torch.allclose(a[0, 2, 5:], b[0, 2, 5:])


def test_sampling_predicts_a_share_of_positions_in_training_only():
    net = _net()
    full, half = LanguageModel(net).eval(), LanguageModel(net, sample=0.5).eval()
    half.softmax.load_state_dict(full.softmax.state_dict())
    torch.testing.assert_close(half(tokens, lengths), full(tokens, lengths))  # evaluation: every position
    half.train()
    torch.manual_seed(1)
    assert not torch.allclose(half(tokens, lengths), full(tokens, lengths))
    with pytest.raises(ConfigError, match=r"positions predicted \(pretrain sample\) must be in"):
        LanguageModel(net, sample=0.0)


def test_a_stacked_bidirectional_layer_or_an_ensemble_is_refused():
    with pytest.raises(ConfigError, match="would see the word it has to predict"):
        LanguageModel(_net(num_layers=2))
    LanguageModel(_net(arch="lstm-last", num_layers=2))  # one direction: stacking leaks nothing
    with pytest.raises(ConfigError, match="one by one"):
        LanguageModel(_net(members=2))
    for vocab in (2, 3, 50_000):  # the adaptive softmax's clusters fit any vocabulary and hidden size
        softmax = LanguageModel(_net(vocab_size=vocab)).softmax
        assert softmax.n_classes == vocab and all(p.numel() > 0 for p in softmax.parameters())


def _clf(**train):
    return TextClassifier(
        ClassifierConfig(arch="bilstm-pool", hidden_size=8, embedding_dim=8),
        TrainConfig(**{"max_epochs": 2, "batch_size": 8, "lr": 1e-2, "patience": None, **train}),
        text=TextConfig(min_freq=1),
    )


def test_fit_pretrains_then_trains_the_classifier_from_there():
    data = demo_dataset(64, seed=3)
    train, dev = data.split(0.25, seed=0)
    clf = _clf()
    with warnings.catch_warnings():  # the classifier trains in training mode (dropout on) after the language model
        warnings.filterwarnings("error", ".*in eval mode at the start of training.*")
        info = clf.fit(train, dev, embeddings="none", pretrain_epochs=4, pretrain_sample=1.0,
                       unlabelled=demo_dataset(32, seed=4).texts)  # fmt: skip
    losses = [h["train_loss"] for h in info["pretrain_history"]]
    assert len(losses) == 4 and losses[-1] < losses[0] < math.log(len(clf.vocab)) + 0.5
    assert info["pretrain_texts"] == len(train) + 32 and info["pretrain_seconds"] > 0
    assert info["pretrain_epochs"] == 4 and info["epochs"] == 2 and len(info["history"]) == 2
    # the classifier starts where the language model ended: it differs from the one trained without pretraining
    plain = _clf()
    plain.fit(train, dev, embeddings="none")
    assert not torch.allclose(clf.net.rnn.rnn.weight_hh_l0, plain.net.rnn.rnn.weight_hh_l0)
    # and the whole is deterministic
    again = _clf()
    again.fit(train, dev, embeddings="none", pretrain_epochs=4, pretrain_sample=1.0,
              unlabelled=demo_dataset(32, seed=4).texts)  # fmt: skip
    for a, b in zip(clf.net.state_dict().values(), again.net.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    with pytest.raises(ConfigError, match="pretrain_epochs must be"):
        _clf().fit(train, pretrain_epochs=-1, embeddings="none")
    with pytest.raises(ConfigError, match="only read for language-model pretraining"):
        _clf().fit(train, unlabelled=["more text"], embeddings="none")


def test_pretraining_comes_out_of_the_time_budget():
    data = demo_dataset(64, seed=3)
    clf = _clf(max_epochs=50, max_time=3.0)
    info = clf.fit(data, embeddings="none", pretrain_epochs=200, pretrain_sample=1.0)
    assert info["pretrain_seconds"] + info["seconds"] < 6.0 and len(info["pretrain_history"]) < 200


def test_ensemble_members_are_each_pretrained():
    data = demo_dataset(48, seed=2)
    clf = TextClassifier(
        ClassifierConfig(arch="lstm-last", hidden_size=6, embedding_dim=8, members=2),
        TrainConfig(max_epochs=1, batch_size=8, patience=None),
        text=TextConfig(min_freq=1),
    )
    info = clf.fit(data, embeddings="none", pretrain_epochs=1)
    assert [h["member"] for h in info["pretrain_history"]] == [0, 1]


def _imdb(root, split="train"):
    for folder, text in (("pos", "A fine film."), ("neg", "Dull."), ("unsup", "Seen it twice. Still odd.")):
        (root / "aclImdb" / split / folder).mkdir(parents=True)
        (root / "aclImdb" / split / folder / "0_0.txt").write_text(text, encoding="utf-8")
    return root / "aclImdb"


def test_read_unlabelled_texts(tmp_path):
    import tarfile

    root = _imdb(tmp_path / "imdb")
    assert read_unlabelled(root) == ["Seen it twice. Still odd."]
    with tarfile.open(tmp_path / "imdb.tar.gz", "w:gz") as archive:
        archive.add(root, arcname="aclImdb")
    assert read_unlabelled(tmp_path / "imdb.tar.gz") == ["Seen it twice. Still odd."]
    csv = tmp_path / "more.csv"
    csv.write_text("id,body\n1,first text\n2,second text\n", encoding="utf-8")
    assert read_unlabelled(csv, text_col="body") == ["first text", "second text"]
    with pytest.raises(DataError, match=r"no train/unsup/\*\.txt files"):
        read_unlabelled(_imdb(tmp_path / "other", split="test"))
    with pytest.raises(DataError, match="no such file"):
        read_unlabelled(tmp_path / "absent.csv")


def test_cli_pretrain_lm(tmp_path):
    data = demo_dataset(60, seed=5)
    csv = tmp_path / "reviews.csv"
    csv.write_text("text,label\n" + "".join(f'"{t}",{y}\n' for t, y in zip(data.texts, data.labels, strict=True)),
                   encoding="utf-8")  # fmt: skip
    more = tmp_path / "more.jsonl"
    more.write_text("".join(json.dumps({"text": t}) + "\n" for t in demo_dataset(20, seed=6).texts), encoding="utf-8")
    runner = CliRunner()
    base = ["classify", "fit", "--train", str(csv), "--embeddings", "none", "--embedding-dim", "8", "--hidden", "4",
            "--epochs", "1", "--min-freq", "1", "--no-progress"]  # fmt: skip
    result = runner.invoke(app, [*base, "--unlabelled", str(more), "--out", str(tmp_path / "a")])
    assert result.exit_code != 0 and "only read for --pretrain-epochs" in str(result.exception)
    assert not (tmp_path / "a").exists()
    result = runner.invoke(app, [*base, "--layers", "2", "--pretrain-lm", "1", "--out", str(tmp_path / "b")])
    # a ConfigError: `rnnlab` prints its message alone, without a traceback
    assert isinstance(result.exception, ConfigError) and "would see the word" in str(result.exception)
    assert not (tmp_path / "b").exists()
    args = [*base, "--pretrain-lm", "2", "--unlabelled", str(more), "--out", str(tmp_path / "m"), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["pretrain_epochs"] == 2 and summary["pretrain_texts"] == 54 + 20
    assert len(summary["pretrain_history"]) == 2
    assert TextClassifier.load(tmp_path / "m").predict(["a fine film"])[0] in ("negative", "positive")


def test_lm_loss_is_cross_entropy_for_a_plain_softmax_cluster():
    """With every target in the head cluster, the adaptive softmax is an ordinary softmax over it."""
    net = _net(vocab_size=12)
    lm = LanguageModel(net, cutoffs=(11,)).eval()
    with net.rnn.returning_sequences():
        y = net.rnn(net.embedding(tokens[:1, :4]))
    logits = lm.softmax.head(y[0, :3, :5])  # (3, 11 + 1 cluster)
    expected = F.cross_entropy(torch.cat([logits, lm.softmax.head(y[0, 1:, 5:])]),
                               torch.cat([tokens[0, 1:4], tokens[0, :3]]))  # fmt: skip
    torch.testing.assert_close(lm(tokens[:1, :4]), expected)
