"""Issue 22, rows 9-12 and 14 (text part): text, tagging and extraction inputs that used to be read wrongly in silence.

Each test names its row; each fails without its fix. The taggers here are built by hand (a word → tag lexicon in
the weights), not trained: instant and exact.
"""

import json
import sys
import unicodedata

import pytest
import torch
from typer.testing import CliRunner

from rnnlab.cli.main import app, main
from rnnlab.data.conll import Sentence, check_training_tags, read_tagged
from rnnlab.data.text import pieces, read_labelled, read_lines
from rnnlab.data.vocab import Vocabulary
from rnnlab.errors import DataError
from rnnlab.tag import tagger as tagger_module
from rnnlab.tag.features import tokenize_with_offsets
from rnnlab.tag.models import TaggerConfig, TaggerNet
from rnnlab.tag.tagger import Tagger

runner = CliRunner()


def lexicon_tagger(lexicon: dict[str, str], *, chunked: bool) -> Tagger:
    """A tagger whose weights spell ``lexicon`` (lowercased word → tag; any other word → the first tag, or O)."""
    names = tuple(sorted({*lexicon.values(), *(["O"] if chunked else [])}))
    K = len(names)
    words = Vocabulary(["<pad>", "<unk>", *lexicon])
    scheme = "IOB2" if chunked else None
    config = TaggerConfig(n_words=len(words), n_chars=2, tag_names=names, scheme=scheme, arch="window-mlp",
                          window=0, word_dim=K, casing_dim=0, hidden_size=K, dropout=0.0)  # fmt: skip
    net = TaggerNet(config).eval()
    with torch.no_grad():
        net.words.weight.zero_()
        net.words.weight[1, names.index("O") if chunked else 0] = 1.0
        for i, word in enumerate(lexicon, 2):
            net.words.weight[i, names.index(lexicon[word])] = 1.0
        net.encoder[0].weight.copy_(5 * torch.eye(K))
        net.encoder[0].bias.zero_()
        net.head.weight.copy_(5 * torch.eye(K))
        net.head.bias.zero_()
    tagger = Tagger(config, scheme="IOB2")
    tagger.input_scheme = "IOB2" if chunked else None
    tagger.net, tagger.words, tagger.chars = net, words, Vocabulary(["<pad>", "<unk>"])
    return tagger


NER = {"lópez": "B-PER", "mary": "B-PER", "paris": "B-LOC", "rome": "B-LOC"}
POS = {"i": "PRON", "did": "AUX", "n't": "PART", "go": "VERB", "yes": "INTJ", "the": "DET", "dog": "NOUN"}


@pytest.fixture(scope="module")
def ner_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ner") / "model"
    lexicon_tagger(NER, chunked=True).save(directory)
    return directory


@pytest.fixture(scope="module")
def pos_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pos") / "model"
    lexicon_tagger(POS, chunked=False).save(directory)
    return directory


def refused(monkeypatch, capsys, args, *fragments):
    """Run the `rnnlab` entry point in-process on ``args``: it must exit 1 with one line naming ``fragments``."""
    monkeypatch.setenv("RNNLAB_TUNE_MALLOC", "0")
    monkeypatch.setattr(sys, "argv", ["rnnlab", *map(str, args)])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    assert exit_.value.code == 1, (out, err)
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, err
    return err.strip()


# -- row 9: CSV with an unquoted comma; unknown gold tags; a gold file of another tag set ---------------------------
@pytest.mark.parametrize("bad_line", [2, 4])  # line 2: pandas made "Good" the index and kept " really good"
def test_row9_unquoted_comma_in_the_text_is_refused_naming_the_line(tmp_path, bad_line):
    rows = ["Fine film,pos", "Dull,neg", "Long but fine,pos"]
    rows.insert(bad_line - 2, "Good, really good,pos")
    path = tmp_path / "r.csv"
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"r.csv:{bad_line}: 3 fields where the header \['text', 'label'\] has 2: "
                                        r"an unquoted comma inside a text\?.*quote the text"):  # fmt: skip
        read_labelled(path)
    quoted = tmp_path / "q.csv"
    quoted.write_text('text,label\n"Good, really good",pos\nDull,neg\n', encoding="utf-8")
    assert read_labelled(quoted).texts == ["Good, really good", "Dull"]


def test_row9_short_rows_and_open_quotes_are_refused(tmp_path):
    short = tmp_path / "s.csv"
    short.write_text("text,label\nFine,pos\nNo label here\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"s.csv:3: 1 fields where the header \['text', 'label'\] has 2"):
        read_labelled(short)
    quote = tmp_path / "o.csv"
    quote.write_text('text,label\n"Good, really,pos\nDull,neg\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"o.csv:2: "):
        read_labelled(quote)


def test_row9_cli_refuses_the_csv_in_one_line(tmp_path, monkeypatch, capsys):
    path = tmp_path / "r.csv"
    path.write_text("text,label\nGood, really good,pos\n", encoding="utf-8")
    args = ["classify", "predict", "--model", tmp_path / "none", "--input", path]
    refused(monkeypatch, capsys, args, "r.csv:2:", "unquoted comma")


def test_row9_garbage_gold_tag_is_refused_with_file_and_line(tmp_path, ner_dir, monkeypatch, capsys):
    gold = tmp_path / "gold.txt"
    gold.write_text("Mary B-PER\nsaw O\nRome B-LOC\n\nParis garbage\n", encoding="utf-8")
    tagger = Tagger.load(ner_dir)
    with pytest.raises(DataError, match=r"gold.txt:5: the tag 'garbage' is neither O nor a chunk tag"):
        tagger.evaluate(read_tagged(gold, "columns"))
    args = ["tag", "evaluate", "--model", ner_dir, gold, "--format", "columns"]
    refused(monkeypatch, capsys, args, "gold.txt:5:", "'garbage'", "PER")
    unseen = tmp_path / "date.txt"
    unseen.write_text("Mary B-PER\nMonday B-DATE\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"date.txt:2: tags \['B-DATE'\] were not seen in training"):
        tagger.evaluate(read_tagged(unseen, "columns"))


def test_row9_ner_model_on_a_upos_file_names_both_tag_sets(tmp_path, ner_dir, monkeypatch, capsys):
    upos = tmp_path / "ud.conllu"
    upos.write_text("1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\tNN\t_\t0\troot\t_\t_\n\n",
                    encoding="utf-8")  # fmt: skip
    args = ["tag", "evaluate", "--model", ner_dir, upos, "--format", "conllu"]
    line = refused(monkeypatch, capsys, args, "ud.conllu", "DET, NOUN", "are none of the model's", "LOC, PER")
    assert "right file" in line


def test_row9_training_tags_mixing_chunks_and_garbage_are_refused(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("Mary B-PER\nsaw O\n\nRome garbage\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"train.txt:4: the tag 'garbage' is neither O nor a chunk tag like 'B-PER'"):
        check_training_tags(read_tagged(path, "columns"))
    check_training_tags([Sentence(["the", "dog"], ["DET", "NOUN"])])  # POS tags are fine


# -- row 10: long inputs ----------------------------------------------------------------------------------------------
def test_row10_long_text_pieces_are_bounded_and_cover_it():
    sentence = "Mary saw Rome and Paris again. "
    text = sentence * 60_000 + "x" * 50_000 + " tail\n" + "e\u0301" * 30_000  # 1.9 M characters
    spans = list(pieces(text, 20_000))
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a == b_prev for (a, _), (_, b_prev) in zip(spans[1:], spans, strict=False))
    assert all(0 < b - a <= 20_000 for a, b in spans)
    assert all(unicodedata.category(text[a])[0] != "M" for a, _ in spans)  # never between e and its accent
    assert sum(text[a:b].endswith(". ") for a, b in spans[:-3]) >= len(spans) - 6  # cut at sentence ends


def test_row10_tag_predict_streams_a_long_text_in_bounded_batches(monkeypatch):
    tagger = lexicon_tagger(NER, chunked=True)
    text = "Mary saw Rome and Paris again . " * 6_000  # 192,000 characters, 42,000 tokens, one line
    shapes = []
    decode = tagger.net.decode

    def recording(batch, **kw):
        shapes.append(tuple(batch.words.shape))
        return decode(batch, **kw)

    monkeypatch.setattr(tagger.net, "decode", recording)
    (result,) = tagger.predict(text)
    assert max(b * t for b, t in shapes) <= tagger_module.MAX_BATCH_TOKENS and len(shapes) > 1
    expected = tokenize_with_offsets(text)
    assert [(t["start"], t["end"]) for t in result["tokens"]] == [(s, e) for _, s, e in expected]
    assert len(result["spans"]) == 3 * 6_000 and result["spans"][-1]["text"] == "Paris"


def test_row10_cli_tags_a_long_line_whole(tmp_path, ner_dir):
    path = tmp_path / "long.txt"
    path.write_text("Mary saw Rome . " * 3_000 + "\nParis\n", encoding="utf-8")  # a 48,000-character line
    result = runner.invoke(app, ["tag", "predict", "--model", str(ner_dir), "--input", str(path)])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert len(first["tokens"]) == 4 * 3_000 and first["tokens"][-1]["end"] == 48_000 - 1
    assert second["spans"][0]["type"] == "LOC"


def test_row10_extract_refuses_an_ad_over_the_limit_naming_it(tmp_path, monkeypatch, capsys):
    from rnnlab.ie.extractor import Extractor

    ad = "Appartement T3 à Toulon. " * 1_000 + "Prix : 250 000 €."  # 25,017 characters, the price at the end
    with pytest.raises(DataError, match=r"ad 1 has 25,017 characters; the extractor reads at most 20,000"):
        Extractor.rules().extract(ad)
    ads = tmp_path / "ads.jsonl"
    ads.write_text(json.dumps({"text": "T2 à Nice, 100 000 €"}) + "\n" + json.dumps({"text": ad}) + "\n")
    args = ["extract", "predict", "--model", "rules", "--input", ads]
    refused(monkeypatch, capsys, args, "ads.jsonl:2:", "ad 2 has 25,017 characters", "20,000")


# -- row 11: CoNLL-U back line for line ------------------------------------------------------------------------------
CONLLU = """# newdoc id = d1
# sent_id = 1
# text = I didn't go.
1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_
2-3\tdidn't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdid\tdo\tAUX\tVBD\t_\t4\taux\t_\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_
3.1\tgone\tgo\tVERB\tVBN\t_\t_\t_\t_\t_
4\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_

# sent_id = 2
1\tYes\tyes\tINTJ\tUH\t_\t0\troot\t_\t_

"""


def test_row11_conllu_comes_back_line_for_line_with_the_prediction_in_its_column(tmp_path, pos_dir):
    gold = tmp_path / "x.conllu"
    gold.write_text(CONLLU.replace("\tAUX\t", "\tX\t"), encoding="utf-8")  # the gold says X, the model AUX
    out = tmp_path / "pred.conllu"
    args = ["tag", "predict", "--model", str(pos_dir), "--input", str(gold), "--input-format", "conllu",
            "--tag-column", "upos", "--output-format", "conll", "--output", str(out)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == CONLLU


# -- row 12: decomposed Unicode --------------------------------------------------------------------------------------
def test_row12_decomposed_accent_stays_inside_the_entity():
    tagger = lexicon_tagger(NER, chunked=True)
    text = "Lo\u0301pez visited Paris"
    (result,) = tagger.predict(text)
    assert [(s["text"], s["start"], s["end"], s["type"]) for s in result["spans"]] == [
        ("Lo\u0301pez", 0, 6, "PER"),
        ("Paris", 15, 20, "LOC"),
    ]
    assert result["tokens"][0] == {"text": "Lo\u0301pez", "start": 0, "end": 6}


def test_row12_a_mark_without_a_composed_form_is_never_cut_off():
    tagger = lexicon_tagger(NER, chunked=True)
    text = "Ma\u0360ry and q\u0307 saw Rome"  # U+0360 and q + U+0307 have no precomposed form
    (result,) = tagger.predict(text)
    for token in result["tokens"]:
        assert text[token["start"] : token["end"]] == token["text"]
        for edge in (token["start"], token["end"]):
            assert edge == len(text) or unicodedata.category(text[edge])[0] != "M", (token, text[edge])
    assert result["spans"][-1]["text"] == "Rome"


# -- row 14 (text part): empty, header-only and Latin-1 files --------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("e.csv", b"", r"e.csv: the file is empty"),
        ("h.csv", b"text,label\n", r"h.csv:1: no rows under the header \['text', 'label'\]"),
        ("l.csv", "text,label\nbon,pos\ncaf\u00e9 froid,neg\n".encode("latin-1"), r"l.csv:3:4: byte 0xe9 is not UTF-8"),
        ("l.jsonl", '{"text": "caf\u00e9", "label": "x"}\n'.encode("latin-1"), r"l.jsonl:1:14: byte 0xe9 is not UTF-8"),
        ("n.jsonl", b'{"text": null, "label": "x"}\n', r"n.jsonl:1: the text 'text' is null, not a string"),
        ("e.jsonl", b"\n\n", r"e.jsonl: the file is empty"),
    ],
)
def test_row14_classify_inputs_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_labelled(path)


def test_row14_text_and_conll_inputs_name_the_file(tmp_path, ner_dir, monkeypatch, capsys):
    latin = tmp_path / "l.txt"
    latin.write_bytes("Mary saw Rome\nJos\u00e9 saw Paris\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"l.txt:2:4: byte 0xe9 is not UTF-8 \(hint: save the file as UTF-8"):
        read_lines(latin)
    refused(monkeypatch, capsys, ["tag", "predict", "--model", ner_dir, "--input", latin], "l.txt:2:4", "UTF-8")
    args = ["classify", "predict", "--model", tmp_path / "none", "--input", latin]
    refused(monkeypatch, capsys, args, "l.txt:2:4", "UTF-8")
    conll = tmp_path / "c.txt"
    conll.write_bytes("Mary B-PER\n\nJos\u00e9 B-PER\n".encode("latin-1"))
    args = ["tag", "evaluate", "--model", ner_dir, conll, "--format", "columns"]
    refused(monkeypatch, capsys, args, "c.txt:3:4", "UTF-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n", encoding="utf-8")
    refused(monkeypatch, capsys, ["tag", "predict", "--model", ner_dir, "--input", empty], "empty.txt", "empty")
