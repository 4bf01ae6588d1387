"""On a GPU: cuDNN runs the same parameters as the equations, with the same Keras semantics.

Skipped without CUDA (CI has none); run on the project's lent GPU machine. TF32 is turned
off: cuDNN may otherwise compute fp32 RNNs in TF32 (10-bit mantissa), far from 1e-5.
"""

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

import rnnlab
from rnnlab.nn import GRU, LSTM, SimpleRNN
from rnnlab.testing import outputs_and_gradients
from rnnlab.training import Objective, TrainConfig, fit

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(autouse=True)
def _no_tf32():
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


CASES = list(itertools.product([LSTM, GRU, SimpleRNN], [1, 2], [False, True], [False, True], [False, True]))


@pytest.mark.parametrize(("cls", "num_layers", "bidirectional", "return_sequences", "with_lengths"), CASES)
def test_cudnn_agrees_with_equations(cls, num_layers, bidirectional, return_sequences, with_lengths):
    layer = cls(5, 7, num_layers=num_layers, bidirectional=bidirectional,
                return_sequences=return_sequences, return_state=True).cuda().eval()  # fmt: skip
    x = torch.randn(4, 9, 5, device="cuda")
    lengths = torch.tensor([9, 1, 4, 7]) if with_lengths else None
    assert layer.path == "fused"
    fused = outputs_and_gradients(layer, x, lengths=lengths)
    layer.impl = "equations"
    eqs = outputs_and_gradients(layer, x, lengths=lengths)
    # cuDNN's fp32 kernels sum in another order than cuBLAS, and not deterministically: on an
    # H200 (cuDNN 9.19) the largest differences were 1.2e-5 for outputs/states and, for gradients,
    # up to 1.3e-5 times the largest gradient of the call (|g| up to 14; benchmarks/agreement.py).
    # The CPU paths agree to 1e-5 absolute (tests/nn/test_agreement.py).
    for a, b in zip(fused[0], eqs[0], strict=True):
        torch.testing.assert_close(a, b, atol=2e-5, rtol=0)
    scale = max(1.0, *[g.abs().max().item() for g in fused[1]])
    for a, b in zip(fused[1], eqs[1], strict=True):
        torch.testing.assert_close(a, b, atol=2e-5 * scale, rtol=0)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_gpu_matches_cpu(cls):
    layer = cls(5, 7, bidirectional=True, return_sequences=True).eval()
    x, lengths = torch.randn(3, 6, 5), torch.tensor([6, 2, 4])
    expected = layer(x, lengths=lengths)
    got = layer.cuda()(x.cuda(), lengths=lengths)
    torch.testing.assert_close(got.cpu(), expected, atol=1e-5, rtol=0)


def test_route_on_gpu():
    x, lengths = torch.randn(2, 4, 3, device="cuda"), torch.tensor([4, 2])
    assert LSTM(3, 4).cuda().plan(x, lengths).lengths == "mask"
    with torch.no_grad():
        gru = GRU(3, 4, bidirectional=True).cuda()
        how = gru.plan(x, lengths)
        assert (how.path, how.lengths) == ("fused", "pack") and "CUDA tensors" in how.reasons[0]


def test_masked_strategy_on_gpu():
    layer = GRU(5, 7, bidirectional=True, num_layers=2, return_sequences=True).cuda().eval()
    x, lengths = torch.randn(3, 6, 5, device="cuda"), torch.tensor([6, 2, 4])
    packed = layer(x, lengths=lengths)
    layer.lengths_strategy = "mask"
    torch.testing.assert_close(layer(x, lengths=lengths), packed, atol=1e-5, rtol=0)


def test_training_engine_on_gpu(tmp_path):
    X = torch.randn(64, 8, 3)
    data = TensorDataset(X, X.sum((1, 2))[:, None])
    torch.manual_seed(0)
    model = torch.nn.Sequential(LSTM(3, 16), torch.nn.Linear(16, 1))
    objective = Objective(loss=lambda m, b: F.mse_loss(m(b[0]), b[1]))
    result = fit(model, data, data, objective=objective,
                 config=TrainConfig(max_epochs=5, lr=1e-2, accelerator="gpu", devices=1))  # fmt: skip
    losses = [row["val_loss"] for row in result.history]
    assert losses[-1] < losses[0]
    rnnlab.save(model[0], tmp_path / "lstm")
    again = rnnlab.load(tmp_path / "lstm", device="cuda")
    x = torch.randn(2, 8, 3, device="cuda")
    torch.testing.assert_close(again(x), model[0].cuda().eval()(x))


def test_crf_on_gpu_matches_cpu():
    from rnnlab.nn.crf import CRF

    g = torch.Generator().manual_seed(0)
    crf = CRF(6, (torch.rand(6, 6, generator=g) > 0.2).tolist())
    emissions, tags = torch.randn(5, 11, 6, generator=g), torch.randint(0, 6, (5, 11), generator=g)
    mask = torch.arange(11)[None, :] < torch.tensor([11, 3, 7, 1, 9])[:, None]
    gpu = CRF(6, crf.allowed.tolist()).cuda()
    gpu.load_state_dict(crf.state_dict())
    args = (emissions.cuda(), tags.cuda(), mask.cuda())
    torch.testing.assert_close(gpu.neg_log_likelihood(*args).cpu(), crf.neg_log_likelihood(emissions, tags, mask))
    torch.testing.assert_close(
        gpu.marginals(args[0], args[2]).cpu(), crf.marginals(emissions, mask), atol=1e-5, rtol=1e-4
    )
    assert gpu.decode(args[0], args[2]) == crf.decode(emissions, mask)


def test_tagger_trains_and_exports_on_a_gpu_machine(tmp_path):
    """A tagger fitted where CUDA is (Lightning picks the GPU), then exported; onnxruntime runs it on the CPU."""
    pytest.importorskip("onnxruntime")
    from rnnlab.export import OnnxTagger, export_onnx
    from rnnlab.tag.demo import demo_sentences
    from rnnlab.tag.models import TaggerConfig
    from rnnlab.tag.tagger import Tagger

    tagger = Tagger(TaggerConfig(hidden_size=16, char="lstm", output="crf"),
                    TrainConfig(max_epochs=3, lr=1e-2, batch_size=16, patience=None))  # fmt: skip
    tagger.fit(demo_sentences(60, seed=0), embeddings="none")
    tagger.save(tmp_path / "m")
    report = export_onnx(tmp_path / "m", tmp_path / "m.onnx")
    assert report["parity"] == "passed"
    sentences = [s.tokens for s in demo_sentences(8, seed=2)]
    assert OnnxTagger(tmp_path / "m.onnx", tmp_path / "m").predict_tags(sentences) == tagger.predict_tags(sentences)
