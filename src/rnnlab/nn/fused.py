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
    """``_run_fused(x, lengths, state0) -> (per-direction outputs, their concat, final states)``;
    ``_run_native``: the same with rnnlab's C++ CPU kernels (:mod:`rnnlab.nn.kernels`; LSTM and GRU, training
    and inference)."""

    # provided by Recurrent
    config: Any
    rnn: nn.RNNBase
    cell_class: Any
    training: bool
    lengths_strategy: str
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
        hx: Any = None if state0 is None else (state0 if len(state0) == 2 else state0[0])
        if self._weight_drop():  # the torch module holds its own weights: run each direction on dropped ones
            return self._run_fused_masked(x, lengths, state0)
        if lengths is None:  # never pack full-length batches: packing costs 10-25 %
            y, h_n = self._call_module(x, hx)
        elif self._lengths_route(x) == "mask":
            return self._run_fused_masked(x, lengths, state0)
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

    def _lengths_route(self, x: Tensor) -> str:
        """Packing or masking for a padded batch on the fused kernels (see benchmarks/recurrent.py).

        Masking runs the kernels over the whole padded batch, each direction apart (the
        backward one on sequences reversed within their lengths) and reads the final states
        off the outputs, so it cannot give an LSTM's c_n. On the project's 2-core CPU a packed
        LSTM leaves oneDNN (a packed training step cost 3.8x the full-length one), so masking
        wins except for GRU/RNN inference, where packing saves the padded work. cuDNN runs
        packed batches natively.
        """
        can_mask = not (self.cell_class.state_size == 2 and self.config.return_state)
        if self.lengths_strategy == "mask":
            if not can_mask:
                raise ValueError(
                    "lengths_strategy='mask' cannot return an LSTM's c_n; use 'pack' or return_state=False"
                )
            return "mask"
        if self.lengths_strategy == "pack" or not can_mask:
            return "pack"
        if x.is_cuda:  # H200: masking 1.5-2.7x faster, except bidirectional inference (packing ~5 % faster)
            return "pack" if self.config.bidirectional and not self._needs_grad(x) else "mask"
        return "mask" if self._needs_grad(x) or self.cell_class.state_size == 2 else "pack"

    def _route(self, x: Tensor) -> str:
        """The path of this call: the static :attr:`path`, or under ``auto`` rnnlab's kernels for a GRU on the
        CPU (measured faster than PyTorch's at every shape of benchmarks/speed.py, training and inference; the
        LSTM keeps oneDNN's kernels, faster than rnnlab's)."""
        path = self.path
        if path != "fused" or self.impl != "auto" or self.torch_class is not nn.GRU:
            return path
        return "native" if self._native_possible(x) else "fused"

    def _native_possible(self, x: Tensor) -> bool:
        from rnnlab.nn import kernels

        lstm_state = self.cell_class.state_size == 2 and self.config.return_state  # c_n is not read off outputs
        return (self.torch_class in (nn.LSTM, nn.GRU) and not x.is_cuda and x.dtype == torch.float32
                and not lstm_state and kernels.get() is not None)  # fmt: skip

    def _run_native(
        self, x: Tensor, lengths: Tensor | None, state0: State | None
    ) -> tuple[list[Tensor], Tensor, State]:
        from rnnlab.nn import kernels

        if not self._native_possible(x):
            raise ValueError(
                "impl='native' runs float32 CPU LSTM and GRU layers (not an LSTM's c_n), training and inference"
            )
        return self._run_fused_masked(x, lengths, state0, native=kernels.get())

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
