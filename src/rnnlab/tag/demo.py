"""A small self-written NER set (IOB1 like CoNLL-2003) generated from templates, for the demo and the tests.

>>> s = demo_sentences(3, seed=0)
>>> len(s), all(len(x.tokens) == len(x.tags) for x in s)
(3, True)
"""

from __future__ import annotations

import numpy as np

from rnnlab.data.conll import Sentence

_PER = [["Anna", "Schmidt"], ["Marc", "Dupont"], ["Li", "Wei"], ["John"], ["Sofia", "Rossi"], ["Kofi", "Mensah"],
        ["Elena"], ["Pedro", "Alvarez"], ["Yuki", "Tanaka"], ["Omar"], ["Laura", "Bianchi"], ["David", "Cohen"],
        ["Ines", "Garcia"], ["Peter"], ["Amara", "Okafor"], ["Lucas", "Martin"], ["Mei"], ["Hans", "Muller"],
        ["Fatima", "Benali"], ["Carlos"], ["Olga", "Petrova"], ["James", "Brown"]]  # fmt: skip
_LOC = [["Paris"], ["Berlin"], ["New", "York"], ["Lagos"], ["Kyoto"], ["Lima"], ["Cape", "Town"], ["Oslo"],
        ["Rio", "de", "Janeiro"], ["Quebec"], ["London"], ["Cairo"], ["Seoul"], ["Rome"], ["Nairobi"], ["Chicago"],
        ["Lisbon"], ["Mumbai"], ["Vienna"], ["Buenos", "Aires"], ["Istanbul"], ["Sydney"]]  # fmt: skip
_ORG = [["Acme", "Corp"], ["the", "United", "Nations"], ["Globex"], ["Red", "Cross"], ["Initech"],
        ["World", "Bank"], ["Umbrella", "Labs"], ["Nova", "Airlines"], ["Siemens"], ["Reuters"], ["UNESCO"],
        ["Oxford", "University"], ["Toyota"], ["FIFA"], ["Nestle"], ["Boeing"]]  # fmt: skip
_TEMPLATES = [
    "PER visited LOC last week .", "PER works for ORG in LOC .", "ORG opened an office in LOC .",
    "In LOC , PER met PER .", "PER said ORG would hire more staff .", "The mayor of LOC welcomed PER .",
    "ORG and ORG signed a deal in LOC .", "PER moved from LOC to LOC .", "Shares of ORG rose on Monday .",
    "PER , who leads ORG , spoke in LOC .", "PER flew from LOC to LOC for ORG .", "A train from LOC to LOC was late .",
]  # fmt: skip


def demo_sentences(n: int = 300, *, seed: int = 0) -> list[Sentence]:
    """``n`` sentences with PER / LOC / ORG entities, tagged in IOB1 as CoNLL-2003 is."""
    rng = np.random.default_rng(seed)
    pools = {"PER": _PER, "LOC": _LOC, "ORG": _ORG}
    out = []
    for _ in range(n):
        tokens: list[str] = []
        tags: list[str] = []
        previous = None
        for word in _TEMPLATES[rng.integers(len(_TEMPLATES))].split():
            if word in pools:
                pool = pools[word]
                entity = pool[rng.integers(len(pool))]
                tokens.extend(entity)
                first = "B" if previous == word else "I"  # IOB1: B- only right after a chunk of the same type
                tags.extend([f"{first}-{word}"] + [f"I-{word}"] * (len(entity) - 1))
            else:
                tokens.append(word)
                tags.append("O")
            previous = word
        out.append(Sentence(tokens, tags))
    return out
