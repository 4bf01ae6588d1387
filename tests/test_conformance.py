"""Every layer type passes the conformance harness."""

import pytest
import torch

from rnnlab.nn import GRU, LSTM, SimpleRNN
from rnnlab.testing import check_model

x = torch.randn(3, 6, 4)


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda: SimpleRNN(4, 5), (3, 5)),
        (lambda: SimpleRNN(4, 5, activation="sigmoid", return_sequences=True), (3, 6, 5)),
        (lambda: LSTM(4, 5, num_layers=2, bidirectional=True, return_state=True), (3, 10)),
        (lambda: GRU(4, 5, reset_after=False, bidirectional=True, merge_mode="sum"), (3, 5)),
        (lambda: GRU(4, 5, return_sequences=True, recurrent_dropout=0.1), (3, 6, 5)),
    ],
)
def test_layers_conform(make, shape):
    check_model(make, (x,), shape)


def test_harness_catches_a_wrong_shape():
    with pytest.raises(AssertionError, match=r"output shape \(3, 5\), expected \(3, 6\)"):
        check_model(lambda: LSTM(4, 5), (x,), (3, 6))
