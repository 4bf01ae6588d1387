"""Issue 22 (build with it): the text readers fuzzed with hypothesis.

CoNLL-2003, CoNLL-U, column, CSV/TSV and JSONL readers get random bytes, other encodings, shuffled, duplicated and
truncated lines, stray bytes, NaN and nulls. Whatever they get, they return well-formed data or raise a DataError
that names the file: never another exception. Derandomized and small, so the run is the same each time and fast.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab.data.conll import read_tagged
from rnnlab.data.text import read_labelled
from rnnlab.errors import RnnlabError

FUZZ = settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

SAMPLES = {
    "eng.conll": "-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\nGerman JJ I-NP I-MISC\n\n"
    "Peter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\n",
    "ud.conllu": "# sent_id = 1\n# text = I didn't go.\n1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_\n"
    "2-3\tdidn't\t_\t_\t_\t_\t_\t_\t_\t_\n2\tdid\tdo\tAUX\tVBD\t_\t4\taux\t_\t_\n"
    "3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_\n3.1\tgone\tgo\tVERB\tVBN\t_\t_\t_\t_\t_\n"
    "4\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_\n\n1\tYes\tyes\tINTJ\tUH\t_\t0\troot\t_\t_\n",
    "cols.txt": "Omar B-PER\nvisited O\nLima B-LOC\n\nÉté O\n",
    "reviews.csv": 'text,label\n"Good, really",pos\nDull,neg\nCafé crème,pos\n"He said ""no""",neg\n',
    "sst.tsv": 'sentence\tlabel\nit \'s a "charming" film\t1\nflat\t0\n',
    "reviews.jsonl": '{"text": "très bien", "label": 1}\n\n{"text": "nul", "label": "neg"}\n'
    '{"review": "ok", "y": "x"}\n',
}
READERS = {
    "eng.conll": lambda p: read_tagged(p, "conll2003", "ner"),
    "ud.conllu": lambda p: read_tagged(p, "conllu", "upos"),
    "cols.txt": lambda p: read_tagged(p, "columns"),
    "reviews.csv": read_labelled,
    "sst.tsv": read_labelled,
    "reviews.jsonl": lambda p: read_labelled(p, require_labels=False),
}
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16")
JUNK = ["", ",", "\t", '"', "\x00", "\r", "NaN", "null", "-1", "1-2", "3.1", "# x", "{", "[1]", "\ud800", "é", "B-"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def check(folder, name, data: bytes):
    """Read ``data`` as the file ``name``: well-formed data, or an rnnlab error naming the file."""
    path = folder / name
    path.write_bytes(data)
    try:
        result = READERS[name](path)
    except RnnlabError as exc:
        assert name in str(exc), f"the error does not name the file: {exc}"
        return
    if isinstance(result, list):  # sentences
        assert result and all(s.tokens and len(s.tokens) == len(s.tags) for s in result)
        assert all(isinstance(x, str) and x for s in result for x in (*s.tokens, *s.tags))
    else:  # a TextDataset
        assert len(result.texts) > 0 and all(isinstance(t, str) and t.strip() for t in result.texts)
        assert result.labels is None or (
            len(result.labels) == len(result.texts) and all(isinstance(y, str) and y for y in result.labels)
        )


@st.composite
def mangled(draw):
    """A sample file, its lines shuffled, dropped, duplicated or junked, encoded somehow, maybe truncated."""
    name = draw(st.sampled_from(sorted(SAMPLES)))
    lines = SAMPLES[name].split("\n")
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "duplicate", "junk", "swap", "split"]))
        if action == "drop" and len(lines) > 1:
            lines.pop(i)
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "junk":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(JUNK)) + lines[i][at:]
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "split":
            at = draw(st.integers(0, len(lines[i])))
            lines[i : i + 1] = [lines[i][:at], lines[i][at:]]
    text = "\n".join(lines)
    data = text.encode(draw(st.sampled_from(ENCODINGS)), errors="surrogatepass")
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return name, data


@FUZZ
@given(mangled())
def test_mangled_files_are_read_or_refused_naming_the_file(folder, case):
    check(folder, *case)


@FUZZ
@given(st.sampled_from(sorted(SAMPLES)), st.binary(max_size=200))
def test_random_bytes_are_read_or_refused_naming_the_file(folder, name, data):
    check(folder, name, data)


@FUZZ
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["text", "label", "review", "y"]),
            st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8), st.lists(st.none())),
            max_size=3,
        ),
        max_size=4,
    )
)
def test_jsonl_values_of_any_type_are_read_or_refused(folder, rows):
    check(folder, "reviews.jsonl", "\n".join(json.dumps(r) for r in rows).encode())


@FUZZ
@given(st.lists(st.lists(st.text(alphabet=' ,"\n\ra\tb', max_size=6), min_size=1, max_size=4), max_size=5))
def test_csv_fields_of_any_shape_are_read_or_refused(folder, rows):
    check(folder, "reviews.csv", "\n".join(",".join(r) for r in [["text", "label"], *rows]).encode())
