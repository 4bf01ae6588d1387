"""Information extraction from French real-estate ads: tokenizer, normalisers, rules, weak labels, template, model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rnnlab
from rnnlab.cli.main import app
from rnnlab.errors import DataError, ModelFileError
from rnnlab.ie import template, weak
from rnnlab.ie import text as T
from rnnlab.ie.extractor import DEFAULT_MODEL, HINTS, Extractor, default_train_config, hints, read_ads
from rnnlab.ie.template import FIELDS, Mention, fill, score

ADS = Path(__file__).with_name("ads.jsonl")
COURSE = (
    "Vente Villa 4 pièces Nice (06000)\nRéf. 12390: Sur les Hauteurs de Nice. Superbe villa moderne (190m²), 2 chambres"
    " et 1 suite parentale, 3 salles de bain. Très grand salon/salle à manger, cuisine américaine équipée. Prestations"
    " de haut standing. Vue panoramique sur la mer. Cette villa a été construite en 2005. 1 270 000 euros. Si vous êtes"
    " intéressés, contactez vite Mimi LASOURIS 06.43.43.43. 43"
)
COURSE_TEMPLATE = {
    "reference": "12390", "price_eur": 1270000, "surface_m2": 190, "land_m2": None, "rooms": 4, "bedrooms": 3,
    "bathrooms": 3, "year_built": 2005, "owner": "Mimi LASOURIS", "phone": "0643434343", "city": "Nice",
    "postcode": "06000", "property_type": "maison",
}  # fmt: skip


# -- text ------------------------------------------------------------------------------------------------------------
def test_tokens_keep_values_recoverable_as_spans():
    text = "Prix 1 270 000 €, tél 06.43.43.43. 43, 190m², 06000"
    tokens = T.tokenize(text)
    assert all(text[s:e] == t for t, s, e in tokens)
    assert [t for t, _, _ in tokens][1] == "1 270 000"
    assert "m²" in [t for t, _, _ in tokens]


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1 270 000", 1270000), ("1.270.000", 1270000), ("598K", 598000), ("598 K", 598000), ("57,5", 57.5),
     ("1 200", 1200), ("1,2 M", 1_200_000), ("23,62", 23.62)],
)  # fmt: skip
def test_french_numbers(raw, value):
    assert T.parse_number(raw) == pytest.approx(value)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("trois pièces", 3), ("T4", 4), ("F2", 2), ("type 5", 5), ("studio", 1), ("2 belles chambres", 2),
     ("une salle d'eau", 1), ("troisième chambre", 3), ("3ème chambre", 3), ("suite parentale", None)],
)  # fmt: skip
def test_counts(raw, value):
    assert T.parse_count(raw) == value


def test_phones_are_ten_digits():
    assert T.parse_phone("06 80 89 18 12") == "0680891812"
    assert T.parse_phone("O4 94 O8 O5 3O") == "0494080530"
    assert T.parse_phone("+33 (0)6 12 34 56 78") == "0612345678"
    assert T.parse_phone("1505") is None
    assert T.parse_phone("00 00 00 00 00") is None
    assert T.parse_phone("06 59 62 78 13   04 94 64 98 67") == "0659627813"  # two numbers in one span: the first


def test_property_types_and_cases():
    assert [T.parse_property_type(w) for w in ("Villa", "T3", "studio", "Pavillon", "immeuble", "péniche")] == [
        "maison", "appartement", "appartement", "maison", "immeuble", None]  # fmt: skip
    assert T.nice_case("SIX-FOURS-LES-PLAGES") == "Six-Fours-les-Plages"
    assert T.fold("Hyères") == T.fold("HYERES")


# -- template filling and scoring ----------------------------------------------------------------------------------
def test_course_example_with_rules_alone():
    filled = Extractor.rules().extract(COURSE)[0]
    assert template.values(filled) == COURSE_TEMPLATE
    span = filled["phone"]
    assert COURSE[span["start"] : span["end"]] == "06.43.43.43. 43"


def test_course_example_with_the_shipped_model():
    """The acceptance example of the issue, through the default model that ships in the package."""
    filled = rnnlab.extract(COURSE)
    assert template.values(filled) == COURSE_TEMPLATE
    for field, v in filled.items():
        if v is not None:
            assert COURSE[v["start"] : v["end"]] == v["text"], field
            assert 0.0 <= v["confidence"] <= 1.0


def test_surface_prefers_living_area_then_carrez_and_drops_rooms():
    text = "Appartement de 65 m2 au sol (57 m2 Carrez), séjour de 20 m2."
    ms = [Mention("SURFACE", text.index(n), text.index(n) + 2) for n in ("65", "57", "20")]
    assert fill(text, ms)["surface_m2"]["value"] == 57
    text2 = "Séjour de 30 m2 lumineux."
    assert fill(text2, [Mention("SURFACE", 10, 12)])["surface_m2"] is None


def test_price_prefers_fees_included():
    text = "Prix 190 000 € honoraires inclus (180 000 € hors honoraires). Charges 90 € par mois."
    ms = [Mention("PRICE", text.index(n), text.index(n) + len(n)) for n in ("190 000", "180 000")]
    assert fill(text, ms)["price_eur"]["value"] == 190000
    # the notaries' abbreviations, excluded figure first
    text2 = "Maison. Prix Hors Hon. Négo : 312 500 €. Prix Hon. Négo Inclus : 325 000 € dont 4,00% Hon. Négo TTC."
    ms = [Mention("PRICE", text2.index(n), text2.index(n) + len(n)) for n in ("312 500", "325 000")]
    assert fill(text2, ms)["price_eur"]["value"] == 325000


def test_bedrooms_add_up_in_a_sentence_but_not_a_subset():
    text = "Trois chambres dont une suite parentale. Salle d'eau."
    ms = [Mention("BEDROOMS", 0, 14), Mention("BEDROOMS", 20, 39)]
    assert fill(text, ms)["bedrooms"]["value"] == 3
    text2 = "Deux chambres et une suite parentale."
    assert fill(text2, [Mention("BEDROOMS", 0, 13), Mention("BEDROOMS", 17, 36)])["bedrooms"]["value"] == 3


def _mentions(text: str, *marked: str) -> list[Mention]:
    """Mentions from "LABEL:phrase" items in text order (a phrase may occur several times: the next one is taken)."""
    out, at = [], 0
    for item in marked:
        label, phrase = item.split(":", 1)
        at = text.index(phrase, at)
        out.append(Mention(label, at, at + len(phrase)))
        at += len(phrase)
    return out


# (text, marked mentions, field, expected value): how the template filler counts rooms
COUNTS = {
    "floors add up": (
        "Maison\nBelle maison composée au rez-de-chaussée d'un séjour, deux chambres et une salle d'eau. "
        "À l'étage, un bureau, trois chambres et une salle d'eau.",
        ("BEDROOMS:deux chambres", "BATHROOMS:une salle d'eau", "BEDROOMS:trois chambres",
         "BATHROOMS:une salle d'eau"), "bedrooms", 5),  # each sentence alone says 2 or 3
    "a bathroom phrase once per floor": (
        "Maison\nBelle maison composée au rez-de-chaussée d'un séjour, deux chambres et une salle d'eau. "
        "À l'étage, un bureau, trois chambres et une salle d'eau.",
        ("BATHROOMS:une salle d'eau", "BATHROOMS:une salle d'eau"), "bathrooms", 2),
    "a summary is not added to the floors": (
        "Maison\nMaison de 3 chambres. Au rez-de-chaussée: 1 chambre. À l'étage: 2 chambres, soit 3 au total.",
        ("BEDROOMS:3 chambres", "BEDROOMS:1 chambre", "BEDROOMS:2 chambres"), "bedrooms", 3),
    "one floor: no floor sum": (
        "T3\nAppartement au 3ème étage: 2 chambres. Les 2 chambres donnent sur cour.",
        ("BEDROOMS:2 chambres", "BEDROOMS:2 chambres"), "bedrooms", 2),
    "an ordinal after a bedroom of its floor counts the floor": (
        "Maison\nAu rez-de-chaussée, une chambre. A l'étage, une belle chambre, une deuxième chambre.",
        ("BEDROOMS:une chambre", "BEDROOMS:une belle chambre", "BEDROOMS:deuxième chambre"), "bedrooms", 3),
    "an ordinal opening its floor counts the house": (
        "Maison\nAu rez-de-chaussée, une chambre. À l'étage, une seconde chambre avec placard.",
        ("BEDROOMS:une chambre", "BEDROOMS:seconde chambre"), "bedrooms", 2),
    "an ordinal just before a count-less span joins it": (
        "Trois chambres dont deux avec une salle d'eau privative; une troisième salle d'eau.",
        ("BATHROOMS:une salle d'eau", "BATHROOMS:salle d'eau"), "bathrooms", 3),
    "'3 ou 4 chambres' is not counted": (
        "Maison\nAu rez-de-chaussée: 1 chambre. Au niveau inférieur: 2 chambres, ou une maison avec 3 ou 4 chambres.",
        ("BEDROOMS:1 chambre", "BEDROOMS:2 chambres", "BEDROOMS:4 chambres"), "bedrooms", 3),
    "'à aménager (...)' is not counted": (
        "Maison\nAu rez-de-chaussée: une pièce à aménager selon vos besoins (salle de jeux, bureau, suite "
        "parentale). À l'étage: deux chambres.",
        ("BEDROOMS:suite parentale", "BEDROOMS:deux chambres"), "bedrooms", 2),
    "a studio annex does not make the house one room": (
        "Vente Maison 4 pièces\nMaison avec studio indépendant. Studio indépendant au rez-de-chaussée.",
        ("ROOMS:4 pièces", "ROOMS:studio", "ROOMS:Studio"), "rooms", 4),
    "a studio is one room": ("Studio\nJoli studio meublé.", ("ROOMS:Studio", "ROOMS:studio"), "rooms", 1),
    "a bedroom or bathroom mention names the room": (
        "Terrain de 12 a 50 ca, salle d'eau et salle de bains, deux chambres.",
        ("BATHROOMS:12 a 50 ca", "BATHROOMS:salle d'eau", "BATHROOMS:salle de bains", "BEDROOMS:deux chambres"),
        "bathrooms", 2),
}  # fmt: skip


@pytest.mark.parametrize(("text", "marked", "field", "value"), COUNTS.values(), ids=COUNTS.keys())
def test_counts_in_the_template(text, marked, field, value):
    assert fill(text, _mentions(text, *marked))[field]["value"] == value


def test_owner_civilities_are_dropped():
    assert template.PARSERS["owner"]("Maître Jean DUPONT") == "Jean DUPONT"
    assert template.PARSERS["owner"]("Mme Claire MARTIN") == "Claire MARTIN"


def test_land_in_hectares_and_ares():
    assert [T.parse_area(a) for a in ("1 200", "45 ha", "2,5 hectares", "12 a 50 ca", "1 ha 20 a 35 ca")] == [
        1200, 450_000, 25_000, 1250, 12_035]  # fmt: skip
    text = "Maison sur un terrain de 12 a 50 ca. Prix 250 000 €."
    assert Extractor.rules().extract(text)[0]["land_m2"]["value"] == 1250
    # a tagger that marks the number alone: the unit after it still counts
    at = text.index("12")
    filled = fill(text, [Mention("LAND", at, at + 2)])["land_m2"]
    assert (filled["value"], filled["text"]) == (1250, "12 a 50 ca")


def test_unstated_fields_are_null_and_implausible_values_dropped():
    text = "Maison 5 pièces, taxe 12 €."
    filled = fill(text, [Mention("ROOMS", 7, 15), Mention("PRICE", 22, 24)])
    assert filled["rooms"]["value"] == 5
    assert filled["price_eur"] is None and filled["owner"] is None
    assert set(filled) == set(FIELDS)


def test_score_counts_nulls_and_wrong_values():
    gold = [{**dict.fromkeys(FIELDS), "rooms": 3, "city": "Toulon"}]
    predicted = [{**dict.fromkeys(FIELDS), "rooms": 4, "city": "TOULON", "phone": "0611223344"}]
    report = score(gold, predicted)
    assert report["per_field"]["city"]["accuracy"] == 1.0  # case-insensitive
    assert report["per_field"]["rooms"]["fp"] == 1 and report["per_field"]["rooms"]["fn"] == 1
    assert report["micro"]["recall"] == 0.5
    assert report["micro"]["precision"] == pytest.approx(1 / 3)
    assert report["null_accuracy"] == pytest.approx(10 / 11)


# -- weak labels -----------------------------------------------------------------------------------------------------
def test_weak_labels_keep_mentions_that_agree_with_structured_values():
    text = "Appartement T3 de 68 m². Charges 1 200 € par an. Prix 215 000 €."
    fields = {"price_eur": 215000, "surface_m2": 68, "rooms": 3}
    labelled = {(m.label, text[m.start : m.end]) for m in weak.weak_mentions(text, fields)}
    assert ("PRICE", "215 000") in labelled
    assert ("PRICE", "1 200") not in labelled  # disagrees with the site's price
    assert ("SURFACE", "68") in labelled and ("ROOMS", "T3") in labelled


def test_weak_labels_sum_bedrooms_and_align_to_tokens():
    text = "Villa: 2 chambres et 1 suite parentale."
    mentions = weak.weak_mentions(text, {"bedrooms": 3})
    assert [text[m.start : m.end] for m in mentions if m.label == "BEDROOMS"] == ["2 chambres", "1 suite parentale"]
    sentence = weak.to_sentence(text, mentions)
    assert sentence.tags[sentence.tokens.index("2")] == "B-BEDROOMS"
    assert sentence.tags[sentence.tokens.index("parentale")] == "I-BEDROOMS"
    assert len(sentence.tokens) == len(sentence.tags)


def test_weak_labels_mark_the_sites_postcode_but_not_an_agencys_address():
    text = ("Appartement T3 - 83200 Toulon\nBel appartement, 83200, TOULON, Pont du Las.\n"
            "AGENCE DU PORT 9 rue Renaudel 83200 Toulon Contactez-nous\nRSAC de TOULON (83200) n° 123")  # fmt: skip
    postcodes = [m.start for m in weak.weak_mentions(text, {"postcode": "83200"}) if m.label == "POSTCODE"]
    assert postcodes == [text.index("83200"), text.index("83200, TOULON")]
    assert not [m for m in weak.weak_mentions(text, {"postcode": "83100"}) if m.label == "POSTCODE"]


# -- reading ads ---------------------------------------------------------------------------------------------------
def test_read_ads_errors_name_the_line(tmp_path):
    bad = tmp_path / "ads.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(DataError, match=r"ads.jsonl:2:"):
        read_ads(bad)
    bad.write_text('{"text": "ok", "gold": {"prix": 1}}\n', encoding="utf-8")
    with pytest.raises(DataError, match="unknown gold fields"):
        read_ads(bad)
    with pytest.raises(DataError, match=r"every ad .* has its id in the --exclude"):
        read_ads(ADS, exclude=[ADS])


def test_read_ads_excludes_ids_and_reads_text_files(tmp_path):
    keep = tmp_path / "gold.jsonl"
    keep.write_text(json.dumps({"id": "t1", "text": "x"}) + "\n", encoding="utf-8")
    ids = [ad["id"] for ad in read_ads(ADS, exclude=[keep])]
    assert "t1" not in ids and len(ids) == 5
    txt = tmp_path / "ads.txt"
    txt.write_text("Studio 20 m2.\n\nMaison T4\navec jardin.\n", encoding="utf-8")
    assert [ad["text"] for ad in read_ads(txt)] == ["Studio 20 m2.", "Maison T4\navec jardin."]


def test_hint_dropout_hides_whole_rule_mentions():
    import random

    text = "Villa 4 pièces, 2 chambres, 06 12 34 56 78."
    tokens = T.tokenize(text)
    full = hints(text, tokens)
    assert hints(text, tokens, drop=0.0) == full and len(set(full)) > 2
    assert set(hints(text, tokens, drop=0.999999, rng=random.Random(0))) == {1}  # every mention hidden
    some = [hints(text, tokens, drop=0.5, rng=random.Random(seed)) for seed in range(20)]
    assert any(h != full and set(h) != {1} for h in some)
    # a hidden mention is hidden on all its tokens: "2 chambres" is labelled on both or on neither
    i = [t for t, _, _ in tokens].index("chambres")
    assert all(h[i] == h[i - 1] for h in some)
    with pytest.raises(DataError, match="hint_dropout"):
        Extractor().fit(read_ads(ADS), hint_dropout=1.0)


# -- the trained extractor -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    ads = [{k: v for k, v in ad.items() if k != "gold"} for ad in read_ads(ADS)] * 4  # the sites' fields only
    extractor = Extractor()
    config = dataclasses.replace(default_train_config(), max_epochs=3, batch_size=4)
    info = extractor.fit(ads, train_config=config, dev_fraction=0.25)
    path = extractor.save(tmp_path_factory.mktemp("x") / "model")
    return extractor, info, path


def test_fit_save_load_predicts_the_same(tiny):
    extractor, info, path = tiny
    assert info["train_sentences"] == 18 + 9  # 18 ads + half as many relocated copies
    assert info["history"][-1]["train_loss"] < info["history"][0]["train_loss"]
    loaded = Extractor.load(path)
    texts = [ad["text"] for ad in read_ads(ADS)]
    assert loaded.extract(texts) == extractor.extract(texts)
    assert (path / "model.safetensors").is_file() and not list(path.glob("*.pt*"))


def test_personal_names_stay_out_of_the_vocabulary(tiny):
    extractor, _, _ = tiny
    words = set(extractor.tagger.words.tokens)
    assert "lasouris" not in words and "durand" not in words
    assert "chambres" in words


def test_a_tagger_of_another_task_is_refused(tmp_path, tiny):
    extractor, _, _ = tiny
    extractor.tagger.info["task"] = "ner"
    try:
        extractor.save(tmp_path / "ner")
    finally:
        extractor.tagger.info["task"] = "realestate-extraction"
    with pytest.raises(ModelFileError, match="not a real-estate extractor"):
        Extractor.load(tmp_path / "ner")


def test_shipped_model_is_small_and_safe():
    files = {p.name: p.stat().st_size for p in DEFAULT_MODEL.iterdir()}
    assert "model.safetensors" in files and "config.json" in files
    assert sum(files.values()) < 5_000_000
    assert not [n for n in files if n.endswith((".pt", ".pkl", ".ckpt"))]


def test_batch_form_and_bad_input():
    texts = [ad["text"] for ad in read_ads(ADS)]
    batch = rnnlab.extract_batch(texts)
    assert len(batch) == len(texts)
    assert batch[0] == rnnlab.extract(texts[0])
    with pytest.raises(DataError, match="extract_batch"):
        rnnlab.extract(texts)  # type: ignore[arg-type]


# -- CLI -------------------------------------------------------------------------------------------------------------
def test_cli_predict_and_evaluate(tmp_path):
    runner = CliRunner()
    out = tmp_path / "templates.jsonl"
    result = runner.invoke(app, ["extract", "predict", "--input", str(ADS), "--output", str(out), "--model", "rules"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["id"] == "t1" and rows[0]["template"]["price_eur"]["value"] == 1270000
    again = runner.invoke(app, ["extract", "predict", "--input", str(ADS), "--output", str(out)])
    assert again.exit_code != 0  # never overwrites without --overwrite
    result = runner.invoke(app, ["extract", "evaluate", str(ADS), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"micro", "null_accuracy", "per_field", "ads_per_s"} <= set(report)
    assert report["micro"]["f1"] > 0.8
    result = runner.invoke(app, ["extract", "predict", COURSE])
    assert json.loads(result.output)["template"]["owner"]["value"] == "Mimi LASOURIS"


def test_cli_fit_writes_a_loadable_model_and_refuses_to_overwrite(tmp_path):
    runner = CliRunner()
    out = tmp_path / "model"
    args = ["extract", "fit", "--train", str(ADS), "--out", str(out), "--epochs", "1", "--no-progress", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["epochs"] == 1
    assert Extractor.load(out).tagger.config.n_features == len(HINTS) + 1
    again = runner.invoke(app, args)
    assert again.exit_code != 0 and (out / "model.safetensors").is_file()
