"""A small self-written sentiment set (English and French), generated from phrase templates for the demo.

No review in it comes from a real corpus. Negations ("not good", "pas mauvais") flip the
polarity of the word they precede, so word order matters a little, as in real reviews.

>>> data = demo_dataset(6, seed=0)
>>> len(data), sorted(set(data.labels))
(6, ['negative', 'positive'])
"""

from __future__ import annotations

import numpy as np

from rnnlab.data.text import TextDataset

_EN = {
    "subjects": [
        "The film",
        "This movie",
        "The story",
        "The acting",
        "The ending",
        "The soundtrack",
        "The plot",
        "The cast",
        "The director's work",
        "The script",
    ],
    "positive": [
        "wonderful",
        "moving",
        "brilliant",
        "funny",
        "beautiful",
        "gripping",
        "delightful",
        "superb",
        "clever",
        "touching",
    ],
    "negative": [
        "boring",
        "dull",
        "awful",
        "clumsy",
        "tedious",
        "predictable",
        "dreadful",
        "silly",
        "messy",
        "lifeless",
    ],
    "links": ["is", "was", "felt", "seemed", "is truly", "was really"],
    "extras": [
        "",
        " I would watch it again.",
        " What a night at the cinema.",
        " Two hours went by.",
        " My friends said the same.",
        " The popcorn was fine.",
    ],
    "neg": "not",
}
_FR = {
    "subjects": [
        "Le film",
        "Le scénario",
        "Le jeu des acteurs",
        "Le montage",
        "Le dénouement",
        "Le rythme",
        "Le casting",
        "Le son",
    ],
    "positive": ["magnifique", "émouvant", "brillant", "drôle", "captivant", "superbe", "touchant", "réussi"],
    "negative": ["ennuyeux", "lent", "raté", "maladroit", "prévisible", "pénible", "confus", "fade"],
    "links": ["est", "était", "semblait", "est vraiment"],
    "extras": ["", " Je le reverrais.", " Quelle soirée.", " Deux heures ont passé.", " Mes amis sont d'accord."],
    "neg": "pas",
}


def _sentence(rng: np.random.Generator, lang: dict, positive: bool) -> str:
    negate = rng.random() < 0.25
    pool = lang["negative"] if positive == negate else lang["positive"]  # negation flips the adjective's polarity
    adjective = pool[rng.integers(len(pool))]
    subject = lang["subjects"][rng.integers(len(lang["subjects"]))]
    link = lang["links"][rng.integers(len(lang["links"]))]
    extra = lang["extras"][rng.integers(len(lang["extras"]))]
    if negate:
        link = f"n'{link}" if lang is _FR and link[0] in "aeéi" else (f"ne {link}" if lang is _FR else link)
        link = f"{link} {lang['neg']}"
    return f"{subject} {link} {adjective}.{extra}"


def demo_dataset(n: int = 600, *, seed: int = 0, french_share: float = 0.3) -> TextDataset:
    """``n`` short reviews labelled ``positive`` / ``negative``, balanced, English and French mixed."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        positive = i % 2 == 0
        lang = _FR if rng.random() < french_share else _EN
        first = _sentence(rng, lang, positive)
        texts.append(first if rng.random() < 0.5 else f"{first} {_sentence(rng, lang, positive)}")
        labels.append("positive" if positive else "negative")
    return TextDataset(texts, labels, "demo")
