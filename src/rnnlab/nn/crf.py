"""Linear-chain CRF (Lafferty et al. 2001; the output layer of Lample et al. 2016): forward-algorithm loss, Viterbi.

score(y) = start[y_1] + Σ_t emission_t[y_t] + Σ_t transition[y_{t-1}, y_t] + end[y_T]
−log p(y | x) = log Σ_y' exp score(y') − score(y), the partition sum by the forward algorithm.
Both loops run over time only, vectorised over the batch and the tags; forbidden transitions
(``allowed`` masks, e.g. ``O → I-PER`` in IOB2) get a score of −10⁴ so that decoding never
produces them.

>>> import torch
>>> crf = CRF(3)
>>> emissions = torch.randn(2, 4, 3)
>>> mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]], dtype=torch.bool)
>>> [len(p) for p in crf.decode(emissions, mask)]
[4, 2]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

FORBIDDEN = -1.0e4


class CRF(nn.Module):
    """Transition, start and end scores over ``num_tags`` tags, with optional hard constraints."""

    def __init__(
        self,
        num_tags: int,
        allowed: Sequence[Sequence[bool]] | None = None,
        allowed_start: Sequence[bool] | None = None,
        allowed_end: Sequence[bool] | None = None,
    ) -> None:
        super().__init__()
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))  # (from, to)
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        ones = torch.ones(num_tags, dtype=torch.bool)
        self.register_buffer("allowed", _mask(allowed, torch.ones(num_tags, num_tags, dtype=torch.bool)),
                             persistent=False)  # fmt: skip
        self.register_buffer("allowed_start", _mask(allowed_start, ones), persistent=False)
        self.register_buffer("allowed_end", _mask(allowed_end, ones.clone()), persistent=False)

    def _scores(self) -> tuple[Tensor, Tensor, Tensor]:
        trans = self.transitions.masked_fill(~self.allowed, FORBIDDEN)
        start = self.start.masked_fill(~self.allowed_start, FORBIDDEN)
        end = self.end.masked_fill(~self.allowed_end, FORBIDDEN)
        return trans, start, end

    def neg_log_likelihood(self, emissions: Tensor, tags: Tensor, mask: Tensor, reduction: str = "mean") -> Tensor:
        """−log p(tags | emissions); emissions (B, T, K), tags (B, T), mask (B, T) with mask[:, 0] all True."""
        trans, start, end = self._scores()
        mask = mask.bool()
        B, T, _ = emissions.shape
        batch = torch.arange(B, device=emissions.device)
        # score of the gold path
        gold = start[tags[:, 0]] + emissions[batch, 0, tags[:, 0]]  # (B,)
        for t in range(1, T):
            step = trans[tags[:, t - 1], tags[:, t]] + emissions[batch, t, tags[:, t]]
            gold = gold + step * mask[:, t]
        last = tags[batch, mask.sum(1) - 1]
        gold = gold + end[last]
        # partition function by the forward algorithm
        log_z = torch.logsumexp(_forward(emissions, mask, trans, start)[-1] + end[None, :], dim=1)
        nll = log_z - gold
        return nll.mean() if reduction == "mean" else nll.sum() if reduction == "sum" else nll

    @torch.no_grad()
    def marginals(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """(B, T, K) posterior p(y_t = k | x) by forward-backward; rows past a sequence's end are 0."""
        trans, start, end = self._scores()
        mask = mask.bool()
        if _on_numpy(emissions):
            args = (t.detach().numpy() for t in (emissions, mask, trans, start, end))
            return torch.from_numpy(_marginals_np(*args)).to(emissions.dtype)
        B, T, K = emissions.shape
        # the same recursions as _forward, in exp space: one (B, K) @ (K, K) product per step instead of a
        # logsumexp over (B, K, K); float64 and a per-row shift keep it exact to float32 rounding
        e, exp_trans = emissions.double(), trans.double().exp()
        alpha = start.double()[None, :] + e[:, 0]
        alphas = [alpha]
        for t in range(1, T):
            alpha = torch.where(mask[:, t, None], _log_matmul(alpha, exp_trans) + e[:, t], alpha)
            alphas.append(alpha)
        # beta_t(i) = log Σ_j exp(trans[i, j] + emission_{t+1}(j) + beta_{t+1}(j)); end scores at each last step
        last = mask.sum(1) - 1  # (B,)
        end64 = end.double()[None, :].expand(B, K)
        betas = [end64] * T
        for t in range(T - 2, -1, -1):
            nxt = _log_matmul(e[:, t + 1] + betas[t + 1], exp_trans.T)
            betas[t] = torch.where((t < last)[:, None], nxt, end64)
        a, b = torch.stack(alphas, 1), torch.stack(betas, 1)  # (B, T, K)
        log_z = torch.logsumexp(alphas[-1] + end64, dim=1)  # (B,)
        return (torch.exp(a + b - log_z[:, None, None]) * mask[:, :, None]).to(emissions.dtype)

    @torch.no_grad()
    def viterbi(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """(B, T) best tag paths (positions past each length are 0), vectorised over the batch."""
        trans, start, end = self._scores()
        mask = mask.bool()
        if _on_numpy(emissions):
            return torch.from_numpy(_viterbi_np(*(t.detach().numpy() for t in (emissions, mask, trans, start, end))))
        B, T, K = emissions.shape
        score = start[None, :] + emissions[:, 0]  # (B, K)
        pointers = []
        for t in range(1, T):
            total = score[:, :, None] + trans[None]  # (B, K_from, K_to)
            best, arg = total.max(dim=1)  # (B, K)
            nxt = best + emissions[:, t]
            keep = mask[:, t, None]
            score = torch.where(keep, nxt, score)
            # past a sequence's end, point each tag to itself so the backtrace carries the last tag through
            pointers.append(torch.where(keep, arg, torch.arange(K, device=emissions.device).expand(B, K)))
        score = score + end[None, :]
        best_last = score.argmax(dim=1)  # (B,)
        path = [best_last]
        for arg in reversed(pointers):
            best_last = arg.gather(1, best_last[:, None]).squeeze(1)
            path.append(best_last)
        paths = torch.stack(path[::-1], dim=1)  # (B, T)
        return paths.masked_fill(~mask, 0)

    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """Best tag ids of each sequence, cut to its length."""
        paths = self.viterbi(emissions, mask)
        lengths = mask.sum(1).tolist()
        return [p[:n] for p, n in zip(paths.tolist(), lengths, strict=True)]


def _on_numpy(emissions: Tensor) -> bool:
    """Inference on a CPU runs the recursions in NumPy: a step is a few microseconds there against ~10 per torch
    operator, and a CRF's loop over time is hundreds of tiny steps (one 300-token ad: 62 → about 10 ms).
    Tracing and export keep the torch code."""
    return emissions.device.type == "cpu" and not torch.jit.is_tracing() and not torch.onnx.is_in_onnx_export()


def _viterbi_np(emissions: np.ndarray, mask: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray
                ) -> np.ndarray:  # fmt: skip
    """:meth:`CRF.viterbi` in NumPy (the same recursion and backtrace)."""
    B, T, K = emissions.shape
    score = start[None, :] + emissions[:, 0]  # (B, K)
    pointers = np.empty((max(T - 1, 0), B, K), dtype=np.int64)
    same = np.broadcast_to(np.arange(K), (B, K))
    into = np.ascontiguousarray(trans.T)[None]  # (1, K_to, K_from): the max runs over contiguous memory (~15 % faster)
    for t in range(1, T):
        total = score[:, None, :] + into  # (B, K_to, K_from)
        arg = total.argmax(axis=2)  # (B, K)
        best = np.take_along_axis(total, arg[:, :, None], axis=2)[:, :, 0]
        keep = mask[:, t, None]
        score = np.where(keep, best + emissions[:, t], score)
        pointers[t - 1] = np.where(keep, arg, same)
    last = (score + end[None, :]).argmax(axis=1)
    paths = np.empty((B, T), dtype=np.int64)
    paths[:, T - 1] = last
    rows = np.arange(B)
    for t in range(T - 2, -1, -1):
        last = pointers[t][rows, last]
        paths[:, t] = last
    paths[~mask] = 0
    return paths


def _marginals_np(emissions: np.ndarray, mask: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray
                  ) -> np.ndarray:  # fmt: skip
    """:meth:`CRF.marginals` in NumPy, float64, exp-space products with a per-row shift."""
    B, T, K = emissions.shape
    e, exp_trans = emissions.astype(np.float64), np.exp(trans.astype(np.float64))

    def log_matmul(v: np.ndarray, exp_m: np.ndarray) -> np.ndarray:
        shift = v.max(axis=1, keepdims=True)
        return np.log(np.exp(v - shift) @ exp_m) + shift

    alpha = start.astype(np.float64)[None, :] + e[:, 0]
    alphas = [alpha]
    for t in range(1, T):
        alpha = np.where(mask[:, t, None], log_matmul(alpha, exp_trans) + e[:, t], alpha)
        alphas.append(alpha)
    last = mask.sum(axis=1) - 1
    end64 = np.broadcast_to(end.astype(np.float64)[None, :], (B, K))
    betas = [end64] * T
    for t in range(T - 2, -1, -1):
        betas[t] = np.where((t < last)[:, None], log_matmul(e[:, t + 1] + betas[t + 1], exp_trans.T), end64)
    a, b = np.stack(alphas, axis=1), np.stack(betas, axis=1)
    top = (alphas[-1] + end64).max(axis=1)
    log_z = np.log(np.exp(alphas[-1] + end64 - top[:, None]).sum(axis=1)) + top
    return np.exp(a + b - log_z[:, None, None]) * mask[:, :, None]


def _log_matmul(v: Tensor, exp_m: Tensor) -> Tensor:
    """log(exp(v) @ exp_m) for (B, K) log scores, shifted by each row's max so nothing overflows."""
    shift = v.max(dim=1, keepdim=True).values
    return ((v - shift).exp() @ exp_m).log() + shift


def _forward(emissions: Tensor, mask: Tensor, trans: Tensor, start: Tensor) -> list[Tensor]:
    """The forward algorithm's log alphas, one (B, K) tensor per step (held past each sequence's end)."""
    alphas = [start[None, :] + emissions[:, 0]]
    for t in range(1, emissions.shape[1]):
        nxt = torch.logsumexp(alphas[-1][:, :, None] + trans[None] + emissions[:, t, None, :], dim=1)  # (B, K)
        alphas.append(torch.where(mask[:, t, None], nxt, alphas[-1]))
    return alphas


def _mask(given: Any, default: Tensor) -> Tensor:
    """A boolean mask buffer: ``given`` (a tensor or nested lists) copied, else ``default``."""
    return default if given is None else torch.as_tensor(given, dtype=torch.bool).clone()
