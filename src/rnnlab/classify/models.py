"""Text classifiers, the course's two solutions for sentiment analysis.

- ``lstm-last`` (solution 1): Embedding → LSTM/GRU (return_sequences=False: the state at each
  text's last real token) → Dense.
- ``bilstm-pool`` (solution 2): Embedding → stacked BiLSTM/BiGRU (return_sequences=True) →
  max / mean / attention pooling over the real tokens → Dense.
Dropout on the embeddings (whole word vectors, as in Gal & Ghahramani's word dropout) and between layers.
Optional adversarial training on the embedded words (Miyato, Dai & Goodfellow 2017; see
:func:`adversarial_perturbation`): the network is split into :meth:`TextClassifierNet.embed` and
:meth:`TextClassifierNet.classify` so that a perturbation can be added between the two.

>>> import torch
>>> net = TextClassifierNet(ClassifierConfig(vocab_size=20, n_classes=3, embedding_dim=8, hidden_size=6))
>>> net(torch.tensor([[2, 3, 4], [5, 6, 0]]), torch.tensor([3, 2])).shape
torch.Size([2, 3])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from rnnlab.classify.config import ARCHS, CELLS, POOLINGS, ClassifierConfig  # noqa: F401  (their former home)
from rnnlab.errors import ConfigError
from rnnlab.io import AssetsMixin, register_model
from rnnlab.nn import GRU, LSTM, Dense
from rnnlab.nn.ensemble import build
from rnnlab.nn.masking import valid_mask


class WordDropout(nn.Module):
    """Drops whole word vectors (the same token position in every feature) with probability ``p``."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:  # (B, T, D)
        if not self.training or self.p == 0:
            return x
        keep = torch.empty(x.shape[0], x.shape[1], 1, device=x.device).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)


@register_model
class TextClassifierNet(AssetsMixin, nn.Module):
    """(B, T) token ids + (B,) lengths -> (B, K) class logits.

    ``from_config`` with ``config.members > 1`` builds an :class:`~rnnlab.nn.ensemble.Ensemble` of single
    networks returning the log of their mean class probabilities (a softmax of it gives the mean back).
    """

    config_class = ClassifierConfig
    ensemble_combine = "log_mean_softmax"  # an ensemble's logits: the log of its members' mean probabilities

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = c = config
        self.assets: dict[str, Any] = {}
        if c.members > 1:
            raise ConfigError("an ensemble is an Ensemble of single networks: TextClassifierNet.from_config builds it")
        self.embedding = nn.Embedding(c.vocab_size, c.embedding_dim, padding_idx=0)
        self.embedding.weight.requires_grad_(not c.freeze_embeddings)
        if c.finetune_top is not None and not c.freeze_embeddings:  # rarer words' vectors get no gradient
            tuned = (torch.arange(c.vocab_size) < c.finetune_top).float()[:, None]
            self.embedding.weight.register_hook(lambda grad: grad * tuned.to(grad.device, grad.dtype))
        self.embedding_dropout = WordDropout(c.embedding_dropout)
        layer = LSTM if c.cell == "lstm" else GRU
        pool = c.arch == "bilstm-pool"
        self.rnn = layer(
            c.embedding_dim,
            c.hidden_size,
            num_layers=c.num_layers,
            bidirectional=pool,
            return_sequences=pool,
            dropout=c.dropout if c.num_layers > 1 else 0.0,
            weight_dropout=c.weight_dropout,
        )
        width = c.hidden_size * (2 if pool else 1)
        self.attention = nn.Linear(width, 1) if pool and c.pooling == "attention" else None
        if pool and c.pooling == "max-mean":
            width *= 2
        self.dropout = nn.Dropout(c.dropout)
        self.head = Dense(width, c.n_classes)

    @classmethod
    def from_config(cls, config: ClassifierConfig) -> nn.Module:
        """The network, or for ``members > 1`` the :class:`~rnnlab.nn.ensemble.Ensemble` of them."""
        return build(cls, config, cls.ensemble_combine)

    def set_embeddings(self, matrix: Tensor) -> None:
        """Initialise the embedding table from pretrained vectors, (vocab_size, embedding_dim)."""
        if tuple(matrix.shape) != tuple(self.embedding.weight.shape):
            raise ConfigError(
                f"embeddings of shape {tuple(matrix.shape)} do not fit the table {tuple(self.embedding.weight.shape)}"
            )
        with torch.no_grad():
            self.embedding.weight.copy_(matrix)

    def forward(self, tokens: Tensor, lengths: Tensor | None = None) -> Tensor:
        return self.classify(self.embed(tokens), lengths)

    def embed(self, tokens: Tensor) -> Tensor:
        """(B, T) token ids -> (B, T, D) word vectors (after type dropout, before word dropout)."""
        c = self.config
        x = self.embedding(tokens)
        if self.training and c.type_dropout > 0:  # one keep/drop draw per vocabulary word for the whole batch
            keep = torch.empty(c.vocab_size, device=x.device, dtype=x.dtype).bernoulli_(1 - c.type_dropout)
            x = x * (keep / (1 - c.type_dropout))[tokens][:, :, None]
        return x

    def classify(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """(B, T, D) word vectors -> (B, K) class logits."""
        x = self.embedding_dropout(x)
        y = self.rnn(x, lengths=lengths)  # (B, H) last step, or (B, T, 2H) every step
        if self.config.arch == "bilstm-pool":
            y = self._pool(y, lengths)  # (B, T, 2H) -> (B, 2H)
        return self.head(self.dropout(y))  # (B, K)

    def token_weights(self, tokens: Tensor, lengths: Tensor | None = None) -> Tensor:
        """(B, T) how much each word counted in the decision, summing to 1 over each text's real tokens (0 on
        padding): attention pooling's weights; for max pooling, the share of the pooled features whose maximum
        the word holds (max-mean: of the max half). Mean pooling and solution 1 have no such weights."""
        c = self.config
        if c.arch != "bilstm-pool" or c.pooling == "mean":
            what = "solution 1 (lstm-last)" if c.arch != "bilstm-pool" else "mean pooling"
            raise ConfigError(f"explanations are the pooling's weights over the words: {what} has none; train "
                              "with --arch bilstm-pool --pooling attention (or max)")  # fmt: skip
        y = self.rnn(self.embed(tokens), lengths=lengths)  # (B, T, 2H), in eval mode (no dropout)
        mask = real_tokens(y, lengths)
        if c.pooling == "attention":
            assert self.attention is not None
            scores = self.attention(torch.tanh(y)).squeeze(-1).masked_fill(~mask, float("-inf"))
            return torch.softmax(scores, dim=1)
        winners = y.masked_fill(~mask[:, :, None], float("-inf")).argmax(1)  # (B, 2H): the word holding each max
        counts = torch.zeros(y.shape[:2], device=y.device).scatter_add_(
            1, winners, torch.ones_like(winners, dtype=y.dtype)
        )
        return counts / y.shape[-1]

    def _pool(self, y: Tensor, lengths: Tensor | None) -> Tensor:
        mask = real_tokens(y, lengths)[:, :, None]  # (B, T, 1)
        pooling = self.config.pooling
        if pooling == "attention":
            assert self.attention is not None
            scores = self.attention(torch.tanh(y)).masked_fill(~mask, float("-inf"))  # (B, T, 1)
            return (torch.softmax(scores, dim=1) * y).sum(1)
        mean = (y * mask).sum(1) / mask.sum(1).clamp(min=1)
        if pooling == "mean":
            return mean
        top = y.masked_fill(~mask, float("-inf")).amax(1)
        return top if pooling == "max" else torch.cat([top, mean], dim=-1)


def real_tokens(x: Tensor, lengths: Tensor | None) -> Tensor:
    """(B, T) True at each text's real tokens of a (B, T, ...) batch; all True without ``lengths``."""
    if lengths is None:
        return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    return valid_mask(lengths.to(x.device), x.shape[1])


def adversarial_perturbation(grad: Tensor, x: Tensor, lengths: Tensor | None, size: float) -> Tensor:
    """The worst-case perturbation of the embedded words to first order (Miyato et al. 2017): ``r = ε g / ‖g‖``.

    ``grad`` is the loss gradient with respect to the word vectors ``x`` (B, T, D); ``‖g‖`` is taken
    over each text's whole sequence, so the perturbation moves mostly the words the decision hangs
    on. Miyato et al. normalise the embedding table and fix ε; here ε is ``size`` times the
    root-mean-square norm of the batch's real word vectors, so it keeps its meaning whatever the
    scale of the (pretrained, fine-tuned) vectors. Padding positions are never perturbed.

    >>> g = torch.zeros(1, 3, 2); g[0, 1] = torch.tensor([3.0, 4.0])
    >>> adversarial_perturbation(g, torch.ones(1, 3, 2), torch.tensor([3]), 0.5)[0, 1]
    tensor([0.4243, 0.5657])
    """
    mask = real_tokens(x, lengths)
    x, grad = x.detach(), grad.detach() * mask[:, :, None]
    word_norm = x.norm(dim=-1)[mask].pow(2).mean().sqrt()
    unit = grad / grad.flatten(1).norm(dim=1).clamp_min(1e-12)[:, None, None]
    return size * word_norm * unit
