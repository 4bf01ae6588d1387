"""Shipped models by name (rnnlab.hub), model cards, compacting (issue 26's infrastructure)."""

import json
import time

import pytest
import torch
from typer.testing import CliRunner

import rnnlab
from rnnlab import hub
from rnnlab.cards import model_card
from rnnlab.cli.main import app
from rnnlab.compact import keep_words
from rnnlab.errors import ModelFileError
from rnnlab.tag.demo import demo_sentences
from rnnlab.tag.models import TaggerConfig
from rnnlab.tag.tagger import Tagger
from rnnlab.training import TrainConfig


@pytest.fixture(scope="module")
def tagger():
    torch.manual_seed(0)
    t = Tagger(TaggerConfig(hidden_size=8, char="none", word_dim=8), TrainConfig(max_epochs=2, lr=1e-2,
               batch_size=16, patience=None))  # fmt: skip
    t.fit(demo_sentences(40, seed=0), demo_sentences(10, seed=1), embeddings="none")
    return t


def test_a_name_without_its_files_says_how_to_build_it(monkeypatch, tmp_path):
    monkeypatch.setattr(hub, "SHIPPED_DIR", tmp_path)
    with pytest.raises(ModelFileError, match=r"build_models.py ner-en"):
        Tagger.load("ner-en")


def test_a_shipped_name_loads_from_the_package(monkeypatch, tmp_path, tagger):
    monkeypatch.setattr(hub, "SHIPPED_DIR", tmp_path)
    tagger.save(tmp_path / "pos-en")
    loaded = rnnlab.load("pos-en")
    assert isinstance(loaded, Tagger)
    assert rnnlab.pipeline("pos").predict_tags([["a", "b"]]) == tagger.predict_tags([["a", "b"]])
    assert [r["present"] for r in hub.catalog() if r["name"] == "pos-en"] == [True]


def test_a_directory_of_that_name_wins(monkeypatch, tmp_path, tagger):
    monkeypatch.chdir(tmp_path)
    tagger.save(tmp_path / "ner-en")
    assert hub.locate("ner-en") == "ner-en"


def test_pipeline_refuses_unknown_tasks():
    with pytest.raises(ValueError, match="no shipped model for 'nerr'"):
        rnnlab.pipeline("nerr")


def test_models_command_lists_every_shipped_name():
    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["name"] for r in rows] == ["ner-en", "pos-en", "pos-fr", "sentiment-en", "default"]
    assert all({"task", "data", "size_mb", "scores", "present"} <= set(r) for r in rows)


def test_fit_writes_a_card_with_the_recorded_figures(tmp_path, tagger):
    tagger.save(tmp_path / "m")
    card = (tmp_path / "m" / "README.md").read_text(encoding="utf-8")
    assert "A tagger model written by rnnlab" in card
    assert f"| epochs | {tagger.info['epochs']} |" in card
    assert json.loads((tmp_path / "m" / "config.json").read_text())["card"] == "README.md"
    assert isinstance(Tagger.load(tmp_path / "m"), Tagger)  # the card is no asset


def test_a_users_readme_is_kept_and_the_card_goes_beside_it(tmp_path, tagger):
    tagger.save(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text(  # a model saved before cards: its README.md is the user's
        json.dumps({k: v for k, v in json.loads((tmp_path / "m" / "config.json").read_text()).items() if k != "card"})
    )
    (tmp_path / "m" / "README.md").write_text("my notes", encoding="utf-8")
    tagger.save(tmp_path / "m", overwrite=True)
    assert (tmp_path / "m" / "README.md").read_text(encoding="utf-8") == "my notes"
    assert "rnnlab" in (tmp_path / "m" / "MODEL_CARD.md").read_text(encoding="utf-8")


def test_shipped_card_names_data_licence_and_limits():
    card = model_card("tagger", {"best_dev": 0.9}, name="ner-en", shipped=hub.CATALOG["ner-en"],
                      scores={"dev_f1": 0.94})  # fmt: skip
    assert "CoNLL-2003" in card and "four entity types" in card and "| dev_f1 | 0.94 |" in card
    assert 'rnnlab tag predict --model ner-en "..."' in card


def test_compact_keeps_the_first_words_and_half_precision_reloads(tmp_path, tagger):
    tokens = [s.tokens for s in demo_sentences(10, seed=1)]
    before = tagger.predict_tags(tokens)
    n = len(tagger.words)
    small = Tagger.load(tagger.save(tmp_path / "full"))
    assert keep_words(small, n - 3) == 3
    assert len(small.words) == n - 3 and small.net.words.weight.shape[0] == n - 3
    small.save(tmp_path / "small", half=True)
    again = Tagger.load(tmp_path / "small")
    assert again.net.words.weight.dtype == torch.float32  # read back as the network's dtype
    assert (tmp_path / "small" / "model.safetensors").stat().st_size < (tmp_path / "full" / "model.safetensors").stat(
    ).st_size * 0.6  # fmt: skip
    agree = sum(a == b for x, y in zip(again.predict_tags(tokens), before, strict=True) for a, b in zip(x, y,
                strict=True)) / sum(len(x) for x in before)  # fmt: skip
    assert agree > 0.9


SHIPPED = ["ner-en", "pos-en", "pos-fr", "sentiment-en"]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_model_is_in_the_package_small_with_its_card_and_loads_in_a_second(name):
    directory = hub.SHIPPED_DIR / name
    assert (directory / "config.json").is_file(), f"{name} is missing: python benchmarks/build_models.py {name}"
    card = (directory / "README.md").read_text(encoding="utf-8")
    entry = hub.CATALOG[name]
    assert entry.data in card and entry.licence in card and entry.limits in card  # the card's data, licence, limits
    assert ("rnnlab tag fit " if entry.task == "tagger" else "rnnlab classify fit ") in card  # the exact recipe
    assert hub.size_bytes(directory) < 10e6  # the bound for one model
    rnnlab.load(name)  # the first load imports the task's modules
    start = time.perf_counter()
    rnnlab.load(name)
    assert time.perf_counter() - start < 1.0
    assert name in json.loads(hub.MANIFEST.read_text(encoding="utf-8"))


def test_the_shipped_models_fit_the_size_budget():
    assert sum(hub.size_bytes(hub.SHIPPED_DIR / name) for name in SHIPPED) < 35e6


def _tag(model, text):
    result = CliRunner().invoke(app, ["tag", "predict", "--model", model, text])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_shipped_english_ner_model_finds_people_places_and_organisations():
    found = _tag("ner-en", "Angela Merkel met Tim Cook in Paris.")["spans"]
    assert [(s["text"], s["type"]) for s in found] == [("Angela Merkel", "PER"), ("Tim Cook", "PER"), ("Paris", "LOC")]
    found = _tag("ner-en", "The European Commission fined Google 2.4 billion euros in Brussels.")["spans"]
    assert {(s["text"], s["type"]) for s in found} >= {("European Commission", "ORG"), ("Google", "ORG"),
                                                        ("Brussels", "LOC")}  # fmt: skip


def test_the_shipped_english_pos_tagger():
    assert _tag("pos-en", "The cat sat on the mat .")["tags"] == ["DET", "NOUN", "VERB", "ADP", "DET", "NOUN", "PUNCT"]
    assert _tag("pos-en", "She quickly reads two books .")["tags"] == ["PRON", "ADV", "VERB", "NUM", "NOUN", "PUNCT"]


def test_the_shipped_french_pos_tagger_answers_by_name():
    tags = _tag("pos-fr", "Le petit chat dort sur le canapé .")["tags"]
    assert tags == ["DET", "ADJ", "NOUN", "VERB", "ADP", "DET", "NOUN", "PUNCT"]


def test_the_shipped_sentiment_model_reads_reviews():
    reviews = ["One of the best films I have seen in years: superb acting and a gripping story.",
               "A dull, predictable plot and wooden acting. I wanted my two hours back.",
               "I expected to hate it, but it turned out to be a charming and genuinely funny film.",
               "The first half is promising, then it falls apart: a waste of a good cast."]  # fmt: skip
    result = CliRunner().invoke(app, ["classify", "predict", "--model", "sentiment-en", *reviews])
    assert result.exit_code == 0, result.output
    labels = [json.loads(line)["label"] for line in result.output.splitlines()]
    assert labels == ["pos", "neg", "pos", "neg"]  # the IMDB folders name the classes
