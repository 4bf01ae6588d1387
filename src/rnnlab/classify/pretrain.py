"""Language-model pretraining of a text classifier's embedding and recurrent layer (the labels unused).

Dai & Le (2015) start a sentiment LSTM from a language model trained on the reviews themselves;
ELMo (Peters et al. 2018) trains the two directions of a bidirectional layer as two language
models, the forward one predicting the next word and the backward one the previous word. Here
:class:`LanguageModel` wraps a :class:`~rnnlab.classify.models.TextClassifierNet` (sharing its
embedding and recurrent layer, not copying them) with one adaptive softmax over the vocabulary
(Grave et al. 2017, ``torch.nn.AdaptiveLogSoftmaxWithLoss``; frequent words cost a full softmax,
rare ones a small one) shared by the two directions; after pretraining the classifier is trained
as usual from those weights and the softmax is dropped.

Each direction reads only its own side of a text, so the next word is never in its input; a
bidirectional stack of more than one layer would mix the two sides (the second layer reads both
directions of the first) and is refused.

>>> import torch
>>> from rnnlab.classify.models import ClassifierConfig, TextClassifierNet
>>> net = TextClassifierNet(ClassifierConfig(vocab_size=30, n_classes=2, embedding_dim=8, hidden_size=6))
>>> lm = LanguageModel(net)
>>> lm.net is net, lm.directions
(True, 2)
>>> loss = lm(torch.tensor([[2, 3, 4, 5], [6, 7, 0, 0]]), torch.tensor([4, 2]))
>>> loss.shape, bool(loss > 0)
(torch.Size([]), True)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnlab.classify.models import TextClassifierNet, real_tokens
from rnnlab.data.batching import TokenBatch
from rnnlab.errors import ConfigError
from rnnlab.training import Objective

# word ranks where the adaptive softmax starts a smaller cluster (the vocabulary is sorted by frequency)
CUTOFFS: tuple[int, ...] = (2_000, 10_000)


class LanguageModel(nn.Module):
    """(B, T) token ids + (B,) lengths -> mean negative log-likelihood of each real token's neighbour.

    The forward direction's output at step t predicts token t + 1; the backward direction's (for a
    bidirectional layer) predicts token t - 1. Both terms are averaged over every predicted token.
    ``sample`` < 1: in training, only that random share of the positions is predicted (each still
    reads the whole text before it); the softmax, not the recurrent layer, is most of the cost.
    """

    def __init__(self, net: TextClassifierNet, *, sample: float = 1.0, cutoffs: Sequence[int] = CUTOFFS,
                 div_value: float = 4.0) -> None:  # fmt: skip
        super().__init__()
        if not 0 < sample <= 1:
            raise ConfigError(
                f"the share of positions predicted (pretrain sample) must be in (0, 1], received {sample!r}"
            )
        self.sample = sample
        c = net.config
        if c.members > 1:
            raise ConfigError("pretrain the members of an ensemble one by one (TextClassifier.fit does so)")
        self.directions = 2 if c.arch == "bilstm-pool" else 1
        if self.directions == 2 and c.num_layers > 1:
            raise ConfigError(
                f"language-model pretraining needs a bidirectional classifier of one recurrent layer "
                f"(num_layers={c.num_layers}: the upper layer reads both directions, so it would see the "
                "word it has to predict); use num_layers=1, or the lstm-last architecture"
            )
        self.net = net
        kept = [k for k in cutoffs if 0 < k < c.vocab_size - 1]
        if not kept:  # a tiny vocabulary: one split in the middle (the module needs one at least)
            kept = [max(1, c.vocab_size // 2)]
        while div_value > 1 and c.hidden_size // div_value ** len(kept) < 1:  # the rarest cluster keeps a dimension
            div_value = max(1.0, div_value / 2)
        self.softmax = nn.AdaptiveLogSoftmaxWithLoss(c.hidden_size, c.vocab_size, kept, div_value=div_value)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, tokens: Tensor, lengths: Tensor | None = None) -> Tensor:
        net, hidden = self.net, self.net.config.hidden_size
        x = net.embedding_dropout(net.embedding(tokens))
        with net.rnn.returning_sequences():
            y = self.dropout(net.rnn(x, lengths=lengths))  # (B, T, D·H), the directions side by side
        real = real_tokens(tokens, lengths)  # (B, T)
        after = real[:, 1:]  # position t + 1 is a real token (then so is t)
        if self.training and self.sample < 1:  # predict a random share of the positions (the softmax is the cost)
            after = after & (torch.rand(after.shape, device=after.device) < self.sample)
        states = [y[:, :-1, :hidden][after]]  # forward direction at t -> token t + 1
        targets = [tokens[:, 1:][after]]
        if self.directions == 2:
            states.append(y[:, 1:, hidden:][after])  # backward direction at t + 1 -> token t
            targets.append(tokens[:, :-1][after])
        h, target = torch.cat(states), torch.cat(targets)
        if h.shape[0] == 0:  # every text one token long: nothing to predict
            return y.sum() * 0.0
        return adaptive_nll(self.softmax, h, target)


def adaptive_nll(softmax: nn.AdaptiveLogSoftmaxWithLoss, h: Tensor, target: Tensor) -> Tensor:
    """The mean negative log-likelihood of ``target`` under ``softmax`` (its ``.loss``, the same sums).

    ``AdaptiveLogSoftmaxWithLoss.forward`` squeezes the row indices of each cluster, so a cluster that
    holds exactly one target gets a 0-d index, which ``index_copy_`` refuses on CUDA ("value tensor of
    shape [1] cannot be broadcast to indexing result of shape []"; found on an H200). This keeps the
    indices one-dimensional and uses the module's own head and tails (the same parameters).
    """
    logprob = torch.log_softmax(softmax.head(h), dim=1)  # (N, shortlist + clusters)
    picked = target.clone()
    rest = torch.zeros(target.shape[0], dtype=h.dtype, device=h.device)
    for i, (low, high) in enumerate(itertools.pairwise(softmax.cutoffs)):  # cluster i: [low, high)
        rows = ((target >= low) & (target < high)).nonzero(as_tuple=True)[0]  # always 1-d
        if rows.numel() == 0:
            continue
        picked[rows] = softmax.shortlist_size + i  # the head's entry for cluster i
        cluster = torch.log_softmax(softmax.tail[i](h.index_select(0, rows)), dim=1)
        rest = rest.index_add(0, rows, cluster.gather(1, (target[rows] - low).unsqueeze(1)).squeeze(1))
    return -(logprob.gather(1, picked.unsqueeze(1)).squeeze(1) + rest).mean()


def language_model_objective() -> Objective:
    """The training engine's objective: the language model's loss on each batch (its labels ignored)."""

    def loss(model: LanguageModel, batch: TokenBatch) -> Tensor:
        return model(batch.tokens, batch.lengths)

    return Objective(loss=loss, monitor="val_loss", mode="min")
