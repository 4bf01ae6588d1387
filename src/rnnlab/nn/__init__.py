"""Recurrent layers written as the course's equations, with a fused fast path on the same weights."""

from rnnlab.nn.bidirectional import MERGE_MODES, merge
from rnnlab.nn.cells import ACTIVATIONS, Cell, GRUCell, LSTMCell, RNNCell
from rnnlab.nn.crf import CRF
from rnnlab.nn.heads import Dense
from rnnlab.nn.layers import (
    GRU,
    LAYERS,
    LSTM,
    GRUConfig,
    LSTMConfig,
    SimpleRNN,
    SimpleRNNConfig,
)
from rnnlab.nn.recurrent import IMPLS, Recurrent, RecurrentConfig, scan

__all__ = [
    "ACTIVATIONS",
    "CRF",
    "GRU",
    "IMPLS",
    "LAYERS",
    "LSTM",
    "MERGE_MODES",
    "Cell",
    "Dense",
    "GRUCell",
    "GRUConfig",
    "LSTMCell",
    "LSTMConfig",
    "RNNCell",
    "Recurrent",
    "RecurrentConfig",
    "SimpleRNN",
    "SimpleRNNConfig",
    "merge",
    "scan",
]
