"""Sequence-labelling metrics: entity-level P/R/F1 with conlleval semantics (micro, macro, per type), token accuracy.

A predicted chunk counts when its type, start and end all match a gold chunk; chunks are
read with conlleval's rules, so IOB1, IOB2 and BIOES are scored alike (as seqeval's default mode).

>>> r = span_report([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "B-ORG"]])
>>> r["micro"]["f1"], r["per_type"]["PER"]["f1"], r["per_type"]["LOC"]["recall"]
(0.5, 1.0, 0.0)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from rnnlab.data.conll import chunks


def _prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


def span_report(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Micro and macro P/R/F1 over chunks, per-type P/R/F1 with supports, and token accuracy."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted ones")
    n_gold: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    n_ok: Counter[str] = Counter()
    tokens = correct_tokens = 0
    for g, p in zip(gold, predicted, strict=True):
        if len(g) != len(p):
            raise ValueError(f"a sentence has {len(g)} gold tags but {len(p)} predicted ones")
        gs, ps = set(chunks(g)), set(chunks(p))
        n_gold.update(k for k, _, _ in gs)
        n_pred.update(k for k, _, _ in ps)
        n_ok.update(k for k, _, _ in gs & ps)
        tokens += len(g)
        correct_tokens += sum(a == b for a, b in zip(g, p, strict=True))
    types = sorted(set(n_gold) | set(n_pred))
    per_type = {t: {**_prf(n_ok[t], n_pred[t], n_gold[t]), "support": n_gold[t]} for t in types}
    macro = {m: sum(per_type[t][m] for t in types) / len(types) if types else 0.0
             for m in ("precision", "recall", "f1")}  # fmt: skip
    return {
        "micro": _prf(sum(n_ok.values()), sum(n_pred.values()), sum(n_gold.values())),
        "macro": macro,
        "per_type": per_type,
        "accuracy": correct_tokens / tokens if tokens else 0.0,
        "sentences": len(gold),
        "tokens": tokens,
    }


def token_accuracy(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> float:
    """Share of tokens whose tag is right (the POS-tagging metric)."""
    pairs = [(a, b) for g, p in zip(gold, predicted, strict=True) for a, b in zip(g, p, strict=True)]
    return sum(a == b for a, b in pairs) / len(pairs) if pairs else 0.0
