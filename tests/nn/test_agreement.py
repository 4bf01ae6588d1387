"""The equation path and the fused path agree on outputs, final states and gradients (to 1e-5)."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.nn import GRU, LSTM, SimpleRNN
from rnnlab.testing import outputs_and_gradients

CELLS = {
    "rnn_tanh": lambda **kw: SimpleRNN(activation="tanh", **kw),
    "rnn_relu": lambda **kw: SimpleRNN(activation="relu", **kw),
    "lstm": lambda **kw: LSTM(**kw),
    "gru": lambda **kw: GRU(**kw),
}


def run(layer, impl, x, lengths, state0, strategy="auto"):
    layer.impl = impl
    layer.lengths_strategy = strategy
    return outputs_and_gradients(layer, x, lengths=lengths, initial_state=state0)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    cell=st.sampled_from(sorted(CELLS)),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    return_sequences=st.booleans(),
    return_state=st.booleans(),
    merge_mode=st.sampled_from(["concat", "sum", "mul", "ave"]),
    batch=st.integers(1, 4),
    time=st.integers(1, 6),
    input_size=st.integers(1, 4),
    hidden_size=st.integers(1, 5),
    use_lengths=st.booleans(),
    use_state=st.booleans(),
    strategy=st.sampled_from(["auto", "pack", "mask"]),
    seed=st.integers(0, 2**16),
)
def test_paths_agree(cell, num_layers, bidirectional, return_sequences, return_state, merge_mode,
                     batch, time, input_size, hidden_size, use_lengths, use_state, strategy, seed):  # fmt: skip
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    layer = CELLS[cell](
        input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
        bidirectional=bidirectional, return_sequences=return_sequences,
        return_state=return_state, merge_mode=merge_mode,
    ).eval()  # fmt: skip
    x = torch.randn(batch, time, input_size, generator=g)
    lengths = torch.randint(1, time + 1, (batch,), generator=g) if use_lengths else None
    state0 = None
    if use_state:
        shape = (num_layers * (2 if bidirectional else 1), batch, hidden_size)
        n = 2 if cell == "lstm" else 1
        state0 = tuple(torch.randn(shape, generator=g) for _ in range(n))
    if strategy == "mask" and cell == "lstm" and return_state:
        strategy = "pack"  # masking cannot give c_n
    outs_f, grads_f = run(layer, "fused", x, lengths, state0, strategy)
    outs_e, grads_e = run(layer, "equations", x, lengths, state0)
    assert len(outs_f) == len(outs_e) == (1 + (2 if cell == "lstm" else 1) * return_state)
    for a, b in zip(outs_f, outs_e, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    for a, b in zip(grads_f, grads_e, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_fused_path_is_raw_torch():
    """Same parameters in a bare torch.nn.LSTM give the same numbers as the fused path."""
    layer = LSTM(3, 4, num_layers=2, bidirectional=True, return_sequences=True, return_state=True)
    raw = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    raw.load_state_dict(layer.rnn.state_dict())
    x = torch.randn(2, 5, 3)
    y, h, c = layer(x)
    y_raw, (h_raw, c_raw) = raw(x)
    assert torch.equal(y, y_raw) and torch.equal(h, h_raw) and torch.equal(c, c_raw)
    assert layer.path == "fused"
