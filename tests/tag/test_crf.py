"""The CRF against brute-force enumeration of every tag path; constrained decoding."""

import itertools

import torch

from rnnlab.nn import crf as crf_module
from rnnlab.nn.crf import CRF


def _path_score(crf, emissions, path):
    trans, start, end = crf._scores()
    score = start[path[0]] + emissions[0, path[0]] + end[path[-1]]
    for t in range(1, len(path)):
        score = score + trans[path[t - 1], path[t]] + emissions[t, path[t]]
    return score


def _brute(crf, emissions, length):
    paths = list(itertools.product(range(crf.num_tags), repeat=length))
    scores = torch.stack([_path_score(crf, emissions[:length], p) for p in paths])
    return torch.logsumexp(scores, 0), list(paths[int(scores.argmax())])


def test_likelihood_and_viterbi_match_enumeration():
    torch.manual_seed(0)
    crf = CRF(3)
    with torch.no_grad():
        crf.start.normal_()
        crf.end.normal_()
    emissions = torch.randn(3, 4, 3)
    lengths = [4, 2, 1]
    mask = torch.tensor([[True] * n + [False] * (4 - n) for n in lengths])
    tags = torch.randint(0, 3, (3, 4)) * mask
    nll = crf.neg_log_likelihood(emissions, tags, mask, reduction="none")
    decoded = crf.decode(emissions, mask)
    for b, n in enumerate(lengths):
        log_z, best = _brute(crf, emissions[b], n)
        expected = log_z - _path_score(crf, emissions[b, :n], tags[b, :n].tolist())
        torch.testing.assert_close(nll[b], expected, rtol=1e-5, atol=1e-5)
        assert decoded[b] == best


def test_constraints_hold_at_decode_time():
    # tags O, B, I (IOB2): I may only follow B or I, and may not start
    allowed = [[True, True, False], [True, True, True], [True, True, True]]
    crf = CRF(3, allowed=allowed, allowed_start=[True, True, False])
    emissions = torch.zeros(64, 6, 3)
    emissions[:, :, 2] = 5.0  # the emissions all want I
    emissions += torch.randn(64, 6, 3)
    for path in crf.decode(emissions, torch.ones(64, 6, dtype=torch.bool)):
        assert path[0] != 2
        assert all(not (a == 0 and b == 2) for a, b in itertools.pairwise(path))


def test_gradients_flow_to_every_parameter():
    crf = CRF(4)
    emissions = torch.randn(2, 5, 4, requires_grad=True)
    crf.neg_log_likelihood(emissions, torch.randint(0, 4, (2, 5)), torch.ones(2, 5, dtype=torch.bool)).backward()
    assert emissions.grad.abs().sum() > 0 and all(p.grad.abs().sum() > 0 for p in crf.parameters())


def test_marginals_match_enumeration():
    torch.manual_seed(1)
    crf = CRF(3)
    emissions = torch.randn(2, 4, 3)
    mask = torch.tensor([[True] * 4, [True, True, True, False]])
    marginals = crf.marginals(emissions, mask)
    for b, n in enumerate([4, 3]):
        paths = list(itertools.product(range(3), repeat=n))
        probs = torch.softmax(torch.stack([_path_score(crf, emissions[b, :n], p) for p in paths]), 0)
        expected = torch.zeros(n, 3)
        for p, q in zip(paths, probs, strict=True):
            for t, k in enumerate(p):
                expected[t, k] += q
        torch.testing.assert_close(marginals[b, :n], expected, rtol=1e-4, atol=1e-5)
    assert marginals[1, 3].sum() == 0


def test_numpy_and_torch_inference_agree(monkeypatch):
    torch.manual_seed(3)
    crf = CRF(5, allowed=torch.rand(5, 5) > 0.2)
    emissions = torch.randn(3, 9, 5)
    mask = torch.tensor([[1] * 9, [1] * 4 + [0] * 5, [1] + [0] * 8], dtype=torch.bool)
    fast = crf.viterbi(emissions, mask), crf.marginals(emissions, mask)
    monkeypatch.setattr(crf_module, "_on_numpy", lambda emissions: False)
    slow = crf.viterbi(emissions, mask), crf.marginals(emissions, mask)
    assert torch.equal(fast[0], slow[0])
    torch.testing.assert_close(fast[1], slow[1], atol=1e-6, rtol=1e-5)
