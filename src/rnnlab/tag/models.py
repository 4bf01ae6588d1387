"""One configurable tagger for the course's ladder: window MLP → (Bi)RNN/LSTM/GRU → stacked → + characters → + CRF.

- ``window-mlp``: the words t−k..t+k (embeddings concatenated) → tanh hidden layer → tags
  (Collobert et al. 2011's window approach, the course's "MLP for NER/POS");
- ``rnn`` / ``lstm`` / ``gru``: word features → (bidirectional, stacked) recurrent layer with
  return_sequences=True → a Dense layer at every step;
- word features: lowercased word embedding ⊕ casing embedding ⊕ character encoding
  (``char='lstm'``: a BiLSTM over the word's characters, final states, Lample et al. 2016;
  ``char='cnn'``: convolution + max over the characters, Ma & Hovy 2016);
- output ``softmax`` (per-token cross-entropy) or ``crf`` (linear-chain CRF, constrained to
  the tagging scheme's valid transitions).

>>> import torch
>>> c = TaggerConfig(n_words=10, n_chars=8, tag_names=("O", "B-PER", "I-PER"), scheme="IOB2", hidden_size=6,
...                  word_dim=5, char="lstm", char_dim=4, char_hidden=3, output="crf")
>>> batch = TagBatch.random(c, batch=2, time=4)
>>> TaggerNet(c)(batch).shape
torch.Size([2, 4, 3])
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnlab.data.conll import allowed_transitions
from rnnlab.io import AssetsMixin, register_model
from rnnlab.nn import GRU, LSTM, SimpleRNN
from rnnlab.nn.crf import CRF
from rnnlab.nn.masking import valid_mask
from rnnlab.tag.config import ARCHS, CHARS, OUTPUTS, TaggerConfig  # noqa: F401  (their former home)

N_CASINGS = 8  # see rnnlab.tag.features.casing


@dataclasses.dataclass
class TagBatch:
    """``words``, ``casing`` (B, T); ``chars`` (B, T, C) with ``char_lengths`` (B, T); ``lengths`` (B,);
    ``tags`` (B, T) or None; ``index`` (B,) rows of the batch in the dataset; ``features`` (B, T) ids of an
    extra per-token categorical input (e.g. a rule's or a gazetteer's label; 0 is padding) or None."""

    words: Tensor
    casing: Tensor
    chars: Tensor
    char_lengths: Tensor
    lengths: Tensor
    tags: Tensor | None
    index: Tensor
    features: Tensor | None = None

    @property
    def batch_size(self) -> int:
        return int(self.words.shape[0])

    @property
    def mask(self) -> Tensor:
        return valid_mask(self.lengths, self.words.shape[1])

    @classmethod
    def random(cls, config: TaggerConfig, *, batch: int, time: int, seed: int = 0) -> TagBatch:
        """A random well-formed batch (lengths time, time−1, ...), for tests and shape checks."""
        g = torch.Generator().manual_seed(seed)
        lengths = torch.tensor([max(1, time - i) for i in range(batch)])
        mask = valid_mask(lengths, time)
        words = torch.randint(2, config.n_words, (batch, time), generator=g) * mask
        chars = torch.randint(2, config.n_chars, (batch, time, 3), generator=g) * mask[:, :, None]
        tags = torch.randint(0, len(config.tag_names), (batch, time), generator=g) * mask
        features = None
        if config.n_features:
            features = torch.randint(1, max(2, config.n_features), (batch, time), generator=g) * mask
        return cls(words, torch.randint(1, N_CASINGS, (batch, time), generator=g) * mask, chars,
                   mask.long() * 3, lengths, tags, torch.arange(batch), features)  # fmt: skip


class CharEncoder(nn.Module):
    """Each word's characters → one vector: BiLSTM final states (Lample) or CNN + max (Ma & Hovy)."""

    def __init__(self, config: TaggerConfig) -> None:
        super().__init__()
        c = config
        self.kind = c.char
        self.embedding = nn.Embedding(c.n_chars, c.char_dim, padding_idx=0)
        if c.char == "lstm":
            self.rnn = LSTM(c.char_dim, c.char_hidden, bidirectional=True)
            self.out_size = 2 * c.char_hidden
        else:
            self.conv = nn.Conv1d(c.char_dim, c.char_hidden, kernel_size=3, padding=1)
            self.out_size = c.char_hidden

    def forward(self, chars: Tensor, char_lengths: Tensor) -> Tensor:
        B, T, C = chars.shape
        if torch.onnx.is_in_onnx_export():  # no data-dependent selection in a graph: encode every slot, zero padding
            every = self._encode(chars.reshape(B * T, C), char_lengths.reshape(-1).clamp(min=1))
            return (every * (char_lengths.reshape(-1, 1) > 0)).reshape(B, T, self.out_size)
        real = char_lengths.reshape(-1) > 0  # encode the real words only, (B·T,)
        flat = chars.reshape(B * T, C)[real]  # (N, C)
        if self.training:
            enc = self._encode(flat, char_lengths.reshape(-1)[real])
        else:  # each distinct word once: a batch of ads has ~6x fewer distinct words than tokens
            distinct, index = torch.unique(flat, dim=0, return_inverse=True)
            enc = self._encode(distinct, (distinct > 0).sum(1))[index]
        out = enc.new_zeros(B * T, self.out_size)
        out[real] = enc
        return out.reshape(B, T, self.out_size)

    def _encode(self, chars: Tensor, lengths: Tensor) -> Tensor:
        """(N, C) character ids of N words with (N,) lengths ≥ 1 → (N, out_size)."""
        x = self.embedding(chars)  # (N, C, E)
        if self.kind == "lstm":
            return self.rnn(x, lengths=lengths.cpu())  # (N, 2h): forward at the last char, backward at the first
        h = self.conv(x.transpose(1, 2)).transpose(1, 2)  # (N, C, F)
        return h.masked_fill(~valid_mask(lengths, chars.shape[1])[:, :, None], float("-inf")).amax(1)


@register_model
class TaggerNet(AssetsMixin, nn.Module):
    """A :class:`TagBatch` → (B, T, K) tag scores (emissions); ``loss`` and ``decode`` for softmax or CRF."""

    config_class = TaggerConfig

    def __init__(self, config: TaggerConfig) -> None:
        super().__init__()
        self.config = c = config
        K = len(c.tag_names)
        self.words = nn.Embedding(c.n_words, c.word_dim, padding_idx=0)
        self.casing = nn.Embedding(N_CASINGS, c.casing_dim, padding_idx=0) if c.casing_dim else None
        self.chars = CharEncoder(c) if c.char != "none" else None
        self.hints = nn.Embedding(c.n_features, c.feature_dim, padding_idx=0) if c.n_features else None
        width = c.word_dim + c.casing_dim + (self.chars.out_size if self.chars is not None else 0)
        width += c.feature_dim if c.n_features else 0
        self.dropout = nn.Dropout(c.dropout)
        if c.arch == "window-mlp":
            self.encoder: nn.Module = nn.Sequential(nn.Linear(width * (2 * c.window + 1), c.hidden_size), nn.Tanh())
            out = c.hidden_size
        else:
            layer = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}[c.arch]
            self.encoder = layer(width, c.hidden_size, num_layers=c.num_layers, bidirectional=c.bidirectional,
                                 return_sequences=True, dropout=c.dropout if c.num_layers > 1 else 0.0)  # fmt: skip
            out = c.hidden_size * (2 if c.bidirectional else 1)
        self.head = nn.Linear(out, K)
        self.crf = CRF(K, *allowed_transitions(c.tag_names, c.scheme)) if c.output == "crf" else None
        self.assets: dict[str, Any] = {}  # vocabularies and schemes, saved beside the weights as JSON

    @classmethod
    def from_config(cls, config: TaggerConfig) -> TaggerNet:
        return cls(config)

    def features(self, batch: TagBatch) -> Tensor:
        """Word ⊕ casing ⊕ characters (⊕ the extra per-token feature), (B, T, D); in training, word dropout
        turns some words into <unk> so that its vector learns to stand for unseen words (the characters remain)."""
        words = batch.words
        if self.training and self.config.word_dropout > 0:
            drop = (torch.rand(words.shape, device=words.device) < self.config.word_dropout) & (words > 1)
            words = words.masked_fill(drop, 1)  # 1: <unk>
        parts = [self.words(words)]
        if self.casing is not None:
            parts.append(self.casing(batch.casing))
        if self.chars is not None:
            parts.append(self.chars(batch.chars, batch.char_lengths))
        if self.hints is not None:
            if batch.features is None:
                raise ValueError("this tagger takes a per-token feature (n_features > 0): give TagBatch.features")
            parts.append(self.hints(batch.features))
        return self.dropout(torch.cat(parts, dim=-1))

    def forward(self, batch: TagBatch) -> Tensor:
        x = self.features(batch)  # (B, T, D)
        if self.config.arch == "window-mlp":
            k = self.config.window
            padded = F.pad(x * batch.mask[:, :, None], (0, 0, k, k))  # zero vectors beyond the sentence
            T = x.shape[1]  # the window of step t: padded steps t..t+2k, laid out as unfold(1, 2k+1, 1) would
            x = torch.stack([padded[:, j : j + T] for j in range(2 * k + 1)], dim=-1).flatten(2)  # (B, T, D·(2k+1))
            h = self.encoder(x)
        else:
            h = self.encoder(x, lengths=batch.lengths.cpu())  # (B, T, dirs·H)
        return self.head(self.dropout(h))  # (B, T, K)

    def loss(self, batch: TagBatch) -> Tensor:
        assert batch.tags is not None, "a training batch has tags"
        emissions = self(batch)
        mask = batch.mask
        if self.crf is not None:
            return self.crf.neg_log_likelihood(emissions, batch.tags, mask)
        return F.cross_entropy(emissions[mask], batch.tags[mask])

    @torch.no_grad()
    def decode(self, batch: TagBatch, *, scores: bool = True) -> tuple[list[list[int]], Tensor | None]:
        """Best tag ids per sentence (Viterbi with a CRF, argmax otherwise) and, when ``scores``, (B, T, K)
        tag probabilities (the CRF's posterior marginals by forward-backward, or the softmax)."""
        emissions = self(batch)
        mask = batch.mask
        if self.crf is not None:
            return self.crf.decode(emissions, mask), self.crf.marginals(emissions, mask) if scores else None
        probs = torch.softmax(emissions, dim=-1) if scores else None
        best = emissions.argmax(-1)
        return [row[:n] for row, n in zip(best.tolist(), batch.lengths.tolist(), strict=True)], probs
