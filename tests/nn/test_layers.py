"""Layer API: Keras shapes for every flag combination, impl switching, dropout, clear input errors."""

import itertools

import pytest
import torch

from rnnlab.nn import GRU, LSTM, Dense, SimpleRNN

B, T, I, H = 3, 7, 5, 4


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize(
    ("return_sequences", "return_state", "bidirectional"), list(itertools.product([False, True], repeat=3))
)
def test_shapes_match_keras(cls, return_sequences, return_state, bidirectional):
    layer = cls(I, H, num_layers=2, bidirectional=bidirectional,
                return_sequences=return_sequences, return_state=return_state)  # fmt: skip
    out = layer(torch.randn(B, T, I))
    D = 2 if bidirectional else 1
    y = out[0] if return_state else out
    assert y.shape == ((B, T, D * H) if return_sequences else (B, D * H))
    if return_state:
        assert len(out) == (3 if cls is LSTM else 2)
        for s in out[1:]:
            assert s.shape == (2 * D, B, H)
    else:
        assert isinstance(out, torch.Tensor)


@pytest.mark.parametrize("mode", ["sum", "mul", "ave"])
def test_merge_modes_keep_hidden_width(mode):
    layer = GRU(I, H, bidirectional=True, merge_mode=mode, return_sequences=True)
    assert layer(torch.randn(B, T, I)).shape == (B, T, H)
    assert layer.output_size == H


def test_merge_mode_values():
    seq = LSTM(I, H, bidirectional=True, return_sequences=True).eval()
    ave = LSTM(I, H, bidirectional=True, return_sequences=True, merge_mode="ave").eval()
    ave.load_state_dict(seq.state_dict())
    x = torch.randn(B, T, I)
    y = seq(x)
    torch.testing.assert_close(ave(x), (y[..., :H] + y[..., H:]) / 2)


def test_impl_attribute_switches_path_on_same_parameters():
    layer = LSTM(I, H).eval()
    assert layer.impl == "auto" and layer.path == "fused"
    x = torch.randn(B, T, I)
    fused = layer(x)
    layer.impl = "equations"
    assert layer.path == "equations"
    torch.testing.assert_close(layer(x), fused, atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: GRU(I, H, reset_after=False), "reset_after=False"),
        (lambda: SimpleRNN(I, H, activation="sigmoid"), "activation='sigmoid'"),
        (lambda: SimpleRNN(I, H, activation="identity"), "activation='identity'"),
        (lambda: LSTM(I, H, recurrent_dropout=0.2), "recurrent_dropout"),
    ],
)
def test_fused_refuses_what_it_cannot_run(make, match):
    layer = make()
    assert layer.path == "equations" or layer.config.recurrent_dropout > 0
    with pytest.raises(ValueError, match=f"impl='fused' cannot run this .*{match}"):
        layer.impl = "fused"
    with pytest.raises(ValueError, match="impl='fused' cannot run"):
        type(layer).from_config(layer.config, impl="fused")


def test_bad_impl_name():
    with pytest.raises(
        ValueError, match=r"impl must be one of \['auto', 'fused', 'equations', 'native'\], received 'cudnn'"
    ):
        LSTM(I, H, impl="cudnn")


def test_recurrent_dropout_is_variational_and_off_in_eval():
    layer = LSTM(I, H, recurrent_dropout=0.5, return_sequences=True)
    x = torch.randn(B, T, I)
    layer.train()
    assert layer.path == "equations"
    torch.manual_seed(1)
    a = layer(x)
    torch.manual_seed(2)
    b = layer(x)
    assert not torch.allclose(a, b)
    layer.eval()
    assert layer.path == "fused"
    reference = LSTM(I, H, return_sequences=True, impl="equations").eval()
    reference.load_state_dict(layer.state_dict())
    torch.testing.assert_close(layer(x), reference(x), atol=1e-6, rtol=0)


def test_recurrent_mask_is_one_per_sequence():
    layer = GRU(I, H, recurrent_dropout=0.5).train()
    mask = layer._recurrent_mask(B, torch.zeros(1))
    assert mask.shape == (B, H)
    assert set(mask.unique().tolist()) <= {0.0, 2.0}


@pytest.mark.parametrize("impl", ["fused", "equations"])
def test_dropout_between_layers_only_in_training(impl):
    layer = GRU(I, H, num_layers=2, dropout=0.5, impl=impl, return_sequences=True)
    x = torch.randn(B, T, I)
    layer.train()
    torch.manual_seed(1)
    a = layer(x)
    torch.manual_seed(2)
    b = layer(x)
    assert not torch.allclose(a, b)
    layer.eval()
    assert torch.equal(layer(x), layer(x))


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        (torch.randn(T, I), ValueError, r"expects input of shape \(batch, time, features\), received shape \(7, 5\)"),
        (torch.randn(B, T, I + 1), ValueError, r"was built with input_size=5, but the input has 6 features"),
        (torch.ones(B, T, I, dtype=torch.long), TypeError, r"expects a floating-point input, received torch.int64"),
        (torch.randn(B, 0, I), ValueError, r"empty batch or sequence"),
        ([[1.0]], TypeError, r"expects a torch.Tensor, received list"),
    ],
)
def test_bad_input_is_a_clear_error(x, error, match):
    with pytest.raises(error, match=match):
        LSTM(I, H)(x)


def test_bad_initial_state_is_a_clear_error():
    layer = LSTM(I, H, num_layers=2)
    x = torch.randn(B, T, I)
    with pytest.raises(ValueError, match=r"expects initial_state=\(h0, c0\), received 1"):
        layer(x, initial_state=torch.zeros(2, B, H))
    with pytest.raises(ValueError, match=r"= \(2, 3, 4\), received \(1, 3, 4\)"):
        layer(x, initial_state=(torch.zeros(1, B, H), torch.zeros(1, B, H)))


def test_initial_state_is_used():
    layer = GRU(I, H, return_state=True).eval()
    x = torch.randn(B, T, I)
    _, h_zero = layer(x)
    _, h_given = layer(x, initial_state=torch.ones(1, B, H))
    _, h_explicit_zero = layer(x, initial_state=torch.zeros(1, B, H))
    assert not torch.allclose(h_zero, h_given)
    assert torch.equal(h_zero, h_explicit_zero)


def test_bad_config_values():
    with pytest.raises(ValueError, match=r"merge_mode must be one of .*received 'max'"):
        LSTM(I, H, merge_mode="max")
    with pytest.raises(ValueError, match=r"hidden_size must be a positive integer, received 0"):
        GRU(I, 0)
    with pytest.raises(ValueError, match=r"dropout must lie in \[0, 1\), received 1.5"):
        GRU(I, H, dropout=1.5)
    with pytest.raises(ValueError, match=r"activation must be one of .*received 'gelu'"):
        SimpleRNN(I, H, activation="gelu")


def test_parameters_use_pytorch_names_and_load_torch_weights():
    layer = GRU(I, H, num_layers=2, bidirectional=True)
    names = {n for n, _ in layer.named_parameters()}
    assert "rnn.weight_ih_l0" in names and "rnn.bias_hh_l1_reverse" in names
    torch_gru = torch.nn.GRU(I, H, num_layers=2, bidirectional=True, batch_first=True)
    layer.rnn.load_state_dict(torch_gru.state_dict())
    layer.impl = "equations"
    x = torch.randn(B, T, I)
    y_raw, _ = torch_gru(x)
    torch.testing.assert_close(layer.eval()(x)[:, :H], y_raw[:, -1, :H], atol=1e-5, rtol=0)
    torch.testing.assert_close(layer(x)[:, H:], y_raw[:, 0, H:], atol=1e-5, rtol=0)


def test_dense_once_versus_every_step():
    """The course's "how many Dense cells?": same parameters, one output vs one per step."""
    once = torch.nn.Sequential(LSTM(I, H), Dense(H, 2))
    every = torch.nn.Sequential(LSTM(I, H, return_sequences=True), Dense(H, 2))
    every.load_state_dict(once.state_dict())
    x = torch.randn(B, T, I)
    y_once, y_every = once(x), every(x)
    assert y_once.shape == (B, 2) and y_every.shape == (B, T, 2)
    assert sum(p.numel() for p in once.parameters()) == sum(p.numel() for p in every.parameters())
    torch.testing.assert_close(y_every[:, -1], y_once)


def test_dense_activation():
    dense = Dense(3, 4, activation="softmax")
    y = dense(torch.randn(2, 5, 3))
    torch.testing.assert_close(y.sum(-1), torch.ones(2, 5))
    with pytest.raises(ValueError, match="activation must be one of"):
        Dense(3, 4, activation="swish")


def test_repr_shows_config_and_impl():
    text = repr(GRU(I, H, reset_after=False))
    assert "reset_after=False" in text and "impl='auto'" in text


@pytest.mark.parametrize(
    ("layer", "torch_class"), [(LSTM, torch.nn.LSTM), (GRU, torch.nn.GRU), (SimpleRNN, torch.nn.RNN)]
)
def test_a_torch_state_dict_loads_as_is(layer, torch_class):
    """The README's promise: `layer.load_state_dict(torch.nn.LSTM(...).state_dict())`, keys without `rnn.`."""
    torch.manual_seed(0)
    ours = layer(3, 4, num_layers=2, bidirectional=True, return_sequences=True)
    theirs = torch_class(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    result = ours.load_state_dict(theirs.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(ours(x), theirs(x)[0], atol=1e-5, rtol=1e-5)
    inside = torch.nn.Sequential(layer(3, 4, num_layers=2, bidirectional=True))  # under a prefix, as in a model
    inside.load_state_dict({f"0.{k}": v for k, v in theirs.state_dict().items()})
    torch.testing.assert_close(inside[0].rnn.weight_hh_l1_reverse, theirs.weight_hh_l1_reverse)
    ours.load_state_dict(ours.state_dict())  # rnnlab's own keys still load
