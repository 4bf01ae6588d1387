"""The fused path: PyTorch's oneDNN/cuDNN kernels on the layer's parameters, packing or masking padded batches.

Mixed into :class:`rnnlab.nn.recurrent.Recurrent`, which owns the parameters (``self.rnn``,
a ``torch.nn.RNN/LSTM/GRU``), the config and the return flags.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab.nn.cells import State
from rnnlab.nn.masking import last_valid, reverse_within, valid_mask


class FusedPath:
    """``_run_fused(x, lengths, state0) -> (per-direction outputs, their concat, final states)``, packing a padded
    batch; ``_run_fused_masked``: each direction apart over the padded batch, on PyTorch's kernels or rnnlab's C++
    CPU kernels (``native``: :mod:`rnnlab.nn.kernels`; LSTM and GRU, training and inference)."""

    # provided by Recurrent
    config: Any
    rnn: nn.RNNBase
    cell_class: Any
    training: bool
    num_directions: int

    def _weights(self, layer: int, direction: int) -> list[Tensor]:
        """[weight_ih, weight_hh, bias_ih, bias_hh] of one layer/direction, PyTorch's tensors."""
        suffix = f"l{layer}" + ("_reverse" if direction else "")
        return [getattr(self.rnn, f"{n}_{suffix}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def _step_weights(self, layer: int, direction: int) -> list[Tensor]:
        """The weights one call computes with: :meth:`_weights`, with ``weight_hh`` under DropConnect
        (``config.weight_dropout``, a fresh mask per call and direction) in training."""
        weights = self._weights(layer, direction)
        if self._weight_drop():
            weights[1] = F.dropout(weights[1], self.config.weight_dropout, training=True)
        return weights

    def _weight_drop(self) -> bool:
        return self.training and self.config.weight_dropout > 0

    def _run_fused(self, x: Tensor, lengths: Tensor | None, state0: State | None) -> tuple[list[Tensor], Tensor, State]:
        """The torch module's kernel over the whole batch, packed when ``lengths`` pads it (masking, each direction
        apart, is :meth:`_run_fused_masked`; :mod:`rnnlab.nn.routing` chooses)."""
        hx: Any = None if state0 is None else (state0 if len(state0) == 2 else state0[0])
        if lengths is None:
            y, h_n = self._call_module(x, hx)
        else:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            y, h_n = self._call_module(packed, hx)
            y, _ = pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        states = tuple(h_n) if isinstance(h_n, tuple) else (h_n,)
        ys = list(y.split(self.config.hidden_size, dim=-1)) if self.config.bidirectional else [y]
        return ys, y, states

    def _call_module(self, inp: Any, hx: Any) -> tuple[Any, Any]:
        """The torch module's fused kernel; in eval mode cuDNN has no backward, so when gradients
        are wanted there (e.g. the gradient lab) its training kernel runs, with dropout off."""
        weight = self.rnn.weight_hh_l0
        if self.training or not weight.is_cuda or not self._needs_grad(weight):
            return self.rnn(inp, hx)
        dropout = self.rnn.dropout
        try:
            self.rnn.dropout = 0.0
            self.rnn.train()
            return self.rnn(inp, hx)
        finally:
            self.rnn.dropout = dropout
            self.rnn.eval()

    def _needs_grad(self, x: Tensor) -> bool:
        return torch.is_grad_enabled() and (x.requires_grad or self.rnn.weight_hh_l0.requires_grad)

    def _run_fused_masked(self, x: Tensor, lengths: Tensor | None, state0: State | None,
                          native: Any = None) -> tuple[list[Tensor], Tensor, State]:  # fmt: skip
        """Each direction apart over the padded batch (``lengths`` None: no padding, nothing to mask)."""
        c = self.config
        lengths = None if lengths is None else lengths.to(x.device)
        pad = None if lengths is None else ~valid_mask(lengths, x.shape[1])[:, :, None]  # (B, T, 1): padded steps
        kernel = self._functional_kernel()
        finals: list[Tensor] = []
        layer_input, outs = x, []
        for layer in range(c.num_layers):
            jobs = []  # (input, initial states, parameters) of each direction
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                seq = layer_input if direction == 0 else reverse_within(layer_input, lengths)
                if state0 is None:
                    zeros = torch.zeros(1, x.shape[0], c.hidden_size, dtype=x.dtype, device=x.device)
                    hx = [zeros] * self.cell_class.state_size
                else:
                    hx = [s[k : k + 1] for s in state0]
                jobs.append((seq, hx, self._step_weights(layer, direction)))
            if native is not None:
                ys = self._call_native(native, jobs, x)
            else:
                ys = [self._call_kernel(kernel, seq, hx if len(hx) == 2 else hx[0], params) for seq, hx, params in jobs]
            outs = []
            for direction, y in enumerate(ys):
                if pad is not None:
                    y = y.masked_fill(pad, 0.0)  # (B, T, H): the kernel also ran over the padding
                finals.append(last_valid(y, lengths))
                outs.append(y if direction == 0 else reverse_within(y, lengths))
            layer_input = outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)
            if layer < c.num_layers - 1 and self.training and c.dropout > 0:
                layer_input = F.dropout(layer_input, c.dropout, training=True)
        return outs, layer_input, (torch.stack(finals, 0),)

    def _call_native(self, native: Any, jobs: list, x: Tensor) -> list[Tensor]:
        """rnnlab's C++ kernels over all directions of a layer, side by side: (B, T, I) -> (B, T, H) each. They
        compute in float32, so autocast (bf16 mixed precision) is off around them."""
        with torch.autocast("cpu", enabled=False):
            if self.training or self._needs_grad(x):  # the C++ forward/backward
                from rnnlab.nn.native import GRUDirections, LSTMDirections

                function = LSTMDirections if self.torch_class is nn.LSTM else GRUDirections
                flat = (t.float() for seq, hx, params in jobs for t in (seq, *params, *(s[0] for s in hx)))
                return list(function.apply(len(jobs), *flat))
            return native.run_directions([[seq.float().contiguous(), *params, *(s[0].float() for s in hx)]
                                          for seq, hx, params in jobs], len(jobs[0][1]) == 2)  # fmt: skip

    def _call_kernel(self, kernel: Any, seq: Tensor, hx: Any, params: list[Tensor]) -> Tensor:
        """One layer, one direction, on the fused kernel: (B, T, I) -> (B, T, H)."""
        train = self.training or (seq.is_cuda and self._needs_grad(seq))  # cuDNN: no backward in eval mode
        if not seq.is_cuda:
            return kernel(seq, hx, params, True, 1, 0.0, train, False, True)[0]
        with warnings.catch_warnings():  # one direction's weights are not cuDNN's flat buffer: it compacts them
            warnings.filterwarnings("ignore", ".*not part of single contiguous chunk of memory.*")
            return kernel(seq, hx, params, True, 1, 0.0, train, False, True)[0]

    def _functional_kernel(self):
        if self.torch_class is nn.LSTM:
            return torch.lstm
        if self.torch_class is nn.GRU:
            return torch.gru
        return torch.rnn_relu if self.rnn.nonlinearity == "relu" else torch.rnn_tanh
