"""Tagged-file readers, tagging schemes, conlleval chunks and span metrics (checked against seqeval)."""

import gzip
import io
import itertools

import numpy as np
import pytest

from rnnlab.data.conll import allowed_transitions, chunks, convert, detect_scheme, read_tagged, write_tagged
from rnnlab.errors import ConfigError, DataError
from rnnlab.metrics.sequence import span_report, token_accuracy

CONLL = """EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC

-DOCSTART- -X- O O

Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER
"""

CONLLU = """# sent_id = 1
# text = I didn't go.
1	I	I	PRON	PRP	_	3	nsubj	_	_
2-3	didn't	_	_	_	_	_	_	_	_
2	did	do	AUX	VBD	_	4	aux	_	_
3	n't	not	PART	RB	_	4	advmod	_	_
3.1	gone	go	VERB	VBN	_	_	_	_	_
4	go	go	VERB	VB	_	0	root	_	_

1	Yes	yes	INTJ	UH	_	0	root	_	_
"""


def test_conll2003_reader(tmp_path):
    path = tmp_path / "eng.train"
    path.write_text(CONLL, encoding="utf-8")
    sentences = read_tagged(path, "conll2003", "ner")
    assert [s.tokens for s in sentences] == [["EU", "rejects", "German"], ["Peter", "Blackburn"]]
    assert sentences[0].tags == ["I-ORG", "O", "I-MISC"] and sentences[1].line == 7
    assert read_tagged(path, "conll2003", "pos")[1].tags == ["NNP", "NNP"]
    assert read_tagged(path, "conll2003", 2)[0].tags == ["I-NP", "I-VP", "I-NP"]


def test_conllu_reader_skips_ranges_and_empty_nodes(tmp_path):
    path = tmp_path / "x.conllu.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(CONLLU)
    sentences = read_tagged(path, "conllu", "upos")
    assert sentences[0].tokens == ["I", "did", "n't", "go"] and sentences[0].tags == ["PRON", "AUX", "PART", "VERB"]
    assert read_tagged(path, "conllu", "xpos")[1].tags == ["UH"]


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ("EU NNP I-NP I-ORG\nrejects VBZ O\n", "conll2003", r"f.txt:2: expected 4 columns"),
        ("EU\n", "columns", r"f.txt:1: expected a token and a tag"),
        ("1\tI\tI\tPRON\n", "conllu", r"f.txt:1: a CoNLL-U word line has 10 tab-separated fields, found 4"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, fmt, message):
    path = tmp_path / "f.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_tagged(path, fmt, "upos" if fmt == "conllu" else "ner")


def test_bad_tag_column_and_format(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text(CONLL, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"column number or one of \['chunk', 'ner', 'pos', 'word'\]"):
        read_tagged(path, "conll2003", "upos")
    with pytest.raises(ConfigError, match="format must be one of"):
        read_tagged(path, "iob", "ner")


def test_write_then_read_columns(tmp_path):
    buffer = io.StringIO()
    write_tagged([(["a", "b"], ["B-X", "O"]), (["c"], ["O"])], buffer)
    path = tmp_path / "out.txt"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    assert [(s.tokens, s.tags) for s in read_tagged(path, "columns")] == [(["a", "b"], ["B-X", "O"]), (["c"], ["O"])]


def _random_tags(rng, n, scheme):
    """Random valid sequences in ``scheme`` made from random chunks."""
    out = []
    for _ in range(n):
        tags, previous = [], None
        for _ in range(rng.integers(1, 6)):
            if rng.random() < 0.4:
                tags.append("O")
                previous = None
                continue
            kind, size = str(rng.choice(["PER", "LOC"])), int(rng.integers(1, 4))
            chunk = [f"I-{kind}"] * size
            chunk[0] = f"B-{kind}"
            tags.extend(chunk)
            previous = kind
        out.append(convert(tags, "IOB2", scheme))
        del previous
    return out


@pytest.mark.parametrize(("a", "b"), list(itertools.permutations(["IOB1", "IOB2", "BIOES"], 2)))
def test_scheme_round_trips(a, b):
    for tags in _random_tags(np.random.default_rng(0), 200, a):
        assert convert(convert(tags, a, b), b, a) == tags
        assert chunks(convert(tags, a, b)) == chunks(tags)


def test_detect_scheme():
    assert detect_scheme([["I-PER", "O"]]) == "IOB1"
    assert detect_scheme([["B-PER", "I-PER", "O"]]) == "IOB2"
    assert detect_scheme([["S-PER", "O"]]) == "BIOES"
    assert detect_scheme([["NOUN", "VERB"]]) is None


def test_constraints_forbid_invalid_transitions():
    tags = ["B-PER", "E-PER", "I-PER", "O", "S-PER", "B-LOC"]
    trans, start, end = allowed_transitions(tags, "BIOES")
    ix = {t: i for i, t in enumerate(tags)}
    assert not trans[ix["O"]][ix["I-PER"]] and not trans[ix["B-PER"]][ix["B-LOC"]] and trans[ix["B-PER"]][ix["E-PER"]]
    assert not start[ix["I-PER"]] and start[ix["S-PER"]] and not end[ix["B-PER"]] and end[ix["E-PER"]]


@pytest.mark.parametrize("scheme", ["IOB1", "IOB2"])
def test_span_metrics_match_seqeval(scheme):
    seqeval = pytest.importorskip("seqeval.metrics")
    rng = np.random.default_rng(1)
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    # random (often ill-formed) sequences exercise conlleval's rules
    gold = [[tags[i] for i in rng.integers(0, 5, size=int(rng.integers(1, 9)))] for _ in range(300)]
    pred = [[t if rng.random() < 0.7 else tags[rng.integers(0, 5)] for t in g] for g in gold]
    if scheme == "IOB1":
        gold = [[t.replace("B-", "I-") for t in g] for g in gold]
        pred = [[t.replace("B-", "I-") for t in p] for p in pred]
    report = span_report(gold, pred)
    assert report["micro"]["f1"] == pytest.approx(seqeval.f1_score(gold, pred))
    assert report["micro"]["precision"] == pytest.approx(seqeval.precision_score(gold, pred))
    assert report["macro"]["f1"] == pytest.approx(seqeval.f1_score(gold, pred, average="macro"))
    per_type = seqeval.classification_report(gold, pred, output_dict=True)
    for kind in ("PER", "LOC"):
        assert report["per_type"][kind]["f1"] == pytest.approx(per_type[kind]["f1-score"])
        assert report["per_type"][kind]["support"] == per_type[kind]["support"]
    assert report["accuracy"] == pytest.approx(token_accuracy(gold, pred))
