"""Right-padded batches give each sequence exactly what it gets alone, unpadded."""

import pytest
import torch

from rnnlab.nn import GRU, LSTM, SimpleRNN

LAYERS = [
    (LSTM, {}),
    (GRU, {}),
    (GRU, {"reset_after": False}),
    (SimpleRNN, {}),
    (SimpleRNN, {"activation": "sigmoid"}),
]


@pytest.mark.parametrize(("cls", "extra"), LAYERS)
@pytest.mark.parametrize(("impl", "strategy"), [("auto", "pack"), ("auto", "mask"), ("equations", "auto")])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_batch_equals_each_sequence_alone(cls, extra, impl, strategy, bidirectional):
    lengths = torch.tensor([5, 1, 3, 5])
    x = torch.randn(4, 5, 3)
    return_state = not (cls is LSTM and strategy == "mask")  # masking has no c_n
    kw = dict(num_layers=2, bidirectional=bidirectional, return_state=return_state, impl=impl, **extra)
    seq_layer = cls(3, 4, return_sequences=True, **kw).eval()
    last_layer = cls(3, 4, return_sequences=False, **kw).eval()
    last_layer.load_state_dict(seq_layer.state_dict())
    for layer in (seq_layer, last_layer):
        layer.lengths_strategy = strategy
    as_tuple = lambda out: out if isinstance(out, tuple) else (out,)  # noqa: E731
    y_seq, *states = as_tuple(seq_layer(x, lengths=lengths))
    y_last, *_ = as_tuple(last_layer(x, lengths=lengths))
    for b, n in enumerate(lengths.tolist()):
        alone_seq, *alone_states = as_tuple(seq_layer(x[b : b + 1, :n]))
        alone_last, *_ = as_tuple(last_layer(x[b : b + 1, :n]))
        torch.testing.assert_close(y_seq[b, :n], alone_seq[0], atol=1e-6, rtol=0)
        assert torch.all(y_seq[b, n:] == 0), "padded steps must be zero"
        torch.testing.assert_close(y_last[b], alone_last[0], atol=1e-6, rtol=0)
        for s, s_alone in zip(states, alone_states, strict=True):
            torch.testing.assert_close(s[:, b], s_alone[:, 0], atol=1e-6, rtol=0)


def test_last_step_semantics_bidirectional():
    """Forward half = last real step; backward half = step 0 (Keras)."""
    layer = LSTM(2, 3, bidirectional=True, return_sequences=True).eval()
    last = LSTM(2, 3, bidirectional=True).eval()
    last.load_state_dict(layer.state_dict())
    x, lengths = torch.randn(2, 4, 2), torch.tensor([4, 2])
    y = layer(x, lengths=lengths)
    y_last = last(x, lengths=lengths)
    torch.testing.assert_close(y_last[1, :3], y[1, 1, :3])
    torch.testing.assert_close(y_last[1, 3:], y[1, 0, 3:])


@pytest.mark.parametrize(
    ("lengths", "match"),
    [
        ([0, 2], r"lengths must lie in \[1, T=3\], received values from 0 to 2"),
        ([4, 2], r"received values from 2 to 4"),
        ([2], r"lengths must have shape \(batch,\) = \(2,\), received \(1,\)"),
        ([1.5, 2.0], r"lengths must be integers"),
    ],
)
def test_bad_lengths_are_clear_errors(lengths, match):
    layer = GRU(2, 3)
    with pytest.raises(ValueError, match=match):
        layer(torch.randn(2, 3, 2), lengths=torch.tensor(lengths))


def test_full_lengths_take_the_unpacked_route():
    layer = LSTM(2, 3).eval()
    x = torch.randn(3, 4, 2)
    assert torch.equal(layer(x, lengths=torch.tensor([4, 4, 4])), layer(x))


def test_lengths_strategy_choice_and_errors():
    layer = LSTM(2, 3, return_state=True)
    with pytest.raises(ValueError, match="lengths_strategy='mask' cannot return an LSTM's c_n"):
        layer.lengths_strategy = "mask"
        layer(torch.randn(2, 4, 2), lengths=torch.tensor([4, 2]))
    with pytest.raises(ValueError, match=r"lengths_strategy must be one of \['auto', 'pack', 'mask'\]"):
        layer.lengths_strategy = "sort"
    x, lengths = torch.randn(2, 4, 2), torch.tensor([4, 2])
    assert LSTM(2, 3).plan(x, lengths).lengths == "mask"  # training step on CPU: masking is faster
    assert LSTM(2, 3, return_state=True).plan(x, lengths).lengths == "pack"  # c_n needs packing
    assert LSTM(2, 3).plan(x).lengths is None  # nothing padded: nothing packed
    with torch.no_grad():
        assert GRU(2, 3, impl="fused").plan(x, lengths).lengths == "pack"  # GRU inference: packing saves work
        assert LSTM(2, 3).plan(x, lengths).lengths == "mask"
