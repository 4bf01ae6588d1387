"""Training data by distant supervision: the rule mentions, checked against the listing site's structured values.

How the labels are made, per field (``fields`` = the site's structured values of the ad):

- fields the site publishes (price, surface, rooms, bedrooms, city, postcode, type): a rule mention is kept only when
  its parsed value equals the structured value (surface to within 1 m², for rounding); bedroom mentions are also
  kept when the counts of one sentence add up to it ("2 chambres et 1 suite parentale" = 3). When the structured
  value is missing, the rule mentions are kept as they are; the structured town is also marked wherever it is
  written as a word outside registrations and legal notices;
- fields the site does not publish (owner, phone, year built, bathrooms, land, reference): the rule mentions as found.

Everything else is ``O``. The labels' noise is measured by filling templates from them on the annotated ads
(``benchmarks/extract_realestate.py``, row "weak labels").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rnnlab.data.conll import Sentence
from rnnlab.ie import rules
from rnnlab.ie import text as T
from rnnlab.ie.template import FIELD_OF, PARSERS, Mention, _sentences, same

CHECKED = ("price_eur", "surface_m2", "rooms", "bedrooms", "city", "postcode", "property_type")


def _agrees(field: str, value: Any, structured: Any) -> bool:
    if field == "surface_m2":
        return abs(float(value) - float(structured)) <= 1.0
    if field == "property_type":
        structured = {"loft": "appartement", "programme neuf": value}.get(structured, structured)
    return same(field, value, structured)


def weak_mentions(text: str, fields: dict[str, Any] | None) -> list[Mention]:
    """The rule mentions of ``text`` that agree with the structured ``fields`` (see the module's rules)."""
    fields = fields or {}
    found = rules.find_mentions(text)
    kept: list[Mention] = []
    bounds = _sentences(text)
    sums: dict[int, list[tuple[Mention, int]]] = {}
    for m in found:
        field = FIELD_OF[m.label]
        structured = fields.get(field)
        if field not in CHECKED or structured is None:
            kept.append(m)
            continue
        span = text[m.start : m.end]
        value = PARSERS[field](span)
        if field == "property_type" and value is None:
            continue
        if value is not None and _agrees(field, value, structured):
            kept.append(m)
        elif field == "bedrooms":
            sentence = max(i for i, b in enumerate(bounds) if b <= m.start)
            sums.setdefault(sentence, []).append((m, 1 if value is None else value))
    for group in sums.values():
        if len(group) > 1 and sum(v for _, v in group) == fields.get("bedrooms"):
            kept.extend(m for m, _ in group)
    kept.extend(_city_mentions(text, fields.get("city"), kept))
    return sorted(kept, key=lambda m: m.start)


def _city_mentions(text: str, city: str | None, kept: Sequence[Mention]) -> list[Mention]:
    """Distant supervision for the town: its whole-word occurrences, except in a registration or legal notice."""
    if not city:
        return []
    out = []
    for m in re.finditer(rf"(?<![\w-]){re.escape(city)}(?![\w-])", text, flags=re.I):
        start, end = m.span()
        if any(k.start < end and k.end > start for k in kept):
            continue
        before = text[max(0, start - 50) : start]
        if rules.NOT_LEGAL.search(before) or re.match(r"\s*(?:\d|[-–]?\s*RSAC|,?\s*sous le num|n°)", text[end:]):
            continue
        out.append(Mention("CITY", start, end, 1.0))
    return out


def to_sentence(text: str, mentions: Sequence[Mention], *, line: int = 0) -> Sentence:
    """Tokens of ``text`` (:func:`rnnlab.ie.text.tokenize`) with BIO tags of the mentions (a token is in a mention
    when it overlaps it)."""
    tokens = T.tokenize(text)
    tags = ["O"] * len(tokens)
    for m in mentions:
        inside = [i for i, (_, s, e) in enumerate(tokens) if s < m.end and e > m.start]
        for k, i in enumerate(inside):
            if tags[i] == "O":
                tags[i] = ("B-" if k == 0 else "I-") + m.label
    return Sentence([t for t, _, _ in tokens], tags, line=line)


def label_ads(ads: Sequence[dict[str, Any]]) -> list[Sentence]:
    """Each ad (``{"text", "fields"}``) → one tagged token sequence."""
    return [to_sentence(ad["text"], weak_mentions(ad["text"], ad.get("fields")), line=ad.get("line", 0)) for ad in ads]


def name_tokens(sentences: Sequence[Sentence]) -> set[str]:
    """Lowercased tokens labelled as an owner or a phone: kept out of a shipped model's vocabulary."""
    out = set()
    for s in sentences:
        for token, tag in zip(s.tokens, s.tags, strict=True):
            if tag.endswith(("OWNER", "PHONE")) and re.search(r"[^\W\d_]", token):
                out.add(token.lower())
    return out
