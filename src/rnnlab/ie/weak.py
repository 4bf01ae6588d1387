"""Training data by distant supervision: the rule mentions, checked against the listing site's structured values.

How the labels are made, per field (``fields`` = the site's structured values of the ad):

- fields the site publishes (price, surface, rooms, bedrooms, city, postcode, type): where some rule mentions agree
  with the structured value, only those are kept (price within 15 %: the site gives it with or without fees;
  surface within 20 %: Carrez, living or floor area; the others exactly; bedroom mentions also when the counts of one
  sentence add up to it: "2 chambres et 1 suite parentale" = 3, and those that leave the filled count unchanged:
  "3 chambres dont une suite parentale"). Where none agrees, the text states another value
  than the site: its plausible mentions are kept (not a room's area, not a charge). When the structured value is
  missing, the rule mentions are kept as they are; the structured town is also marked wherever it is
  written as a word outside registrations and legal notices, and the structured postcode wherever it is written as
  a number of its own outside agencies' addresses and legal notices ("83200 Toulon", "Appartement 83100");
- fields the site does not publish (owner, phone, year built, bathrooms, land, reference): the rule mentions as found.

Everything else is ``O``. An ad annotated by hand (a ``gold`` template, :func:`gold_mentions`) is labelled from its
template instead: per field, the rule mentions that give the annotated value, none where the text states none.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from rnnlab.data.conll import Sentence
from rnnlab.ie import rules
from rnnlab.ie import text as T
from rnnlab.ie.template import (
    FIELD_OF,
    FIELDS,
    LABELS,
    PARSERS,
    Mention,
    fill,
    price_rank,
    same,
    sentence_starts,
    surface_rank,
    values,
)

CHECKED = ("price_eur", "surface_m2", "rooms", "bedrooms", "city", "postcode", "property_type")
COUNTED = ("rooms", "bedrooms", "bathrooms")  # counts the filler adds up over an ad


TOLERANCE = {"price_eur": 0.15, "surface_m2": 0.2}  # with or without fees; Carrez, living or floor area


def _agrees(field: str, value: Any, structured: Any) -> bool:
    if field in TOLERANCE:
        return abs(float(value) - float(structured)) <= TOLERANCE[field] * float(structured) + 1.0
    if field == "property_type":
        structured = {"loft": "appartement", "programme neuf": value}.get(structured, structured)
    return same(field, value, structured)


def _bedrooms(text: str, mentions: Sequence[Mention]) -> Any:
    filled = fill(text, mentions)["bedrooms"]
    return None if filled is None else filled["value"]


def _plausible(field: str, text: str, m: Mention) -> bool:
    """Would the template filler consider this mention (not a room's area, not a charge)?"""
    if field == "surface_m2":
        return surface_rank(text, m) >= 0
    if field == "price_eur":
        return price_rank(text, m) >= 1
    return True


def weak_mentions(text: str, fields: dict[str, Any] | None) -> list[Mention]:
    """The rule mentions of ``text`` that agree with the structured ``fields`` (see the module's rules)."""
    fields = fields or {}
    kept: list[Mention] = []
    bounds = sentence_starts(text)
    by_field: dict[str, list[tuple[Mention, Any]]] = {}
    for m in rules.find_mentions(text):
        field = FIELD_OF[m.label]
        if field not in CHECKED or fields.get(field) is None:
            kept.append(m)
            continue
        by_field.setdefault(field, []).append((m, PARSERS[field](text[m.start : m.end])))
    for field, found in by_field.items():
        structured = fields[field]
        agreeing = [m for m, v in found if v is not None and _agrees(field, v, structured)]
        sums: dict[int, list[tuple[Mention, int]]] = {}
        if field == "bedrooms":
            for m, v in found:
                sentence = max(i for i, b in enumerate(bounds) if b <= m.start)
                sums.setdefault(sentence, []).append((m, 1 if v is None else v))
            for group in sums.values():
                if len(group) > 1 and sum(v for _, v in group) == structured:
                    agreeing.extend(m for m, _ in group if m not in agreeing)
        if agreeing and field == "bedrooms":
            # also every bedroom mention that leaves the filled count unchanged ("dont une suite parentale")
            for m, _ in found:
                if m not in agreeing and _bedrooms(text, [*agreeing, m]) == structured:
                    agreeing.append(m)
        if agreeing:
            kept.extend(agreeing)
        else:  # the text states another value than the site (or none): trust the text
            kept.extend(m for m, v in found if v is not None and _plausible(field, text, m))
    kept.extend(_city_mentions(text, fields.get("city"), kept))
    kept.extend(_postcode_mentions(text, fields.get("postcode"), kept))
    return sorted(kept, key=lambda m: m.start)


_OFFICE = re.compile(r"agence|siren|siret|rcs|rsac|capital|si[eè]ge|contactez|t[ée]l\b|carte professionnelle", re.I)


def _postcode_mentions(text: str, postcode: str | None, kept: Sequence[Mention]) -> list[Mention]:
    """Distant supervision for the postcode: its occurrences as a number of its own ("83200 Toulon", "83000, TOULON,
    Cap Brun", "Appartement 83100"), except on a line that gives an agency's or a company's address or a legal
    notice."""
    if not postcode or not re.fullmatch(r"\d{5}", str(postcode)):
        return []
    out = []
    for m in re.finditer(rf"(?<![\d\w.,]){postcode}(?![\d\w])", text):
        start, end = m.span()
        if any(k.start < end and k.end > start for k in kept):
            continue
        line_start, line_end = text.rfind("\n", 0, start) + 1, text.find("\n", end)
        line = text[line_start : len(text) if line_end < 0 else line_end]
        if _OFFICE.search(line) or rules.NOT_LEGAL.search(text[max(0, start - 50) : start]):
            continue
        out.append(Mention("POSTCODE", start, end, 1.0))
    return out


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


def gold_mentions(text: str, gold: dict[str, Any]) -> list[Mention]:
    """The mentions of an ad annotated by hand, from its template (``gold``: field → value or null), per field:

    - null: none (a rule mention of a field the text does not state is a false positive: the tagger learns ``O``);
    - the rules' mentions of the field if the template filled from them gives the annotated value (the filler picks
      among them, as it will among the tagger's);
    - for a count (rooms, bedrooms, bathrooms), else the largest subset of them from which the filler gives it
      (:func:`_counting`), else all of them (a count the rules cannot reach is left as they label it: leaving
      its mentions out taught the tagger to skip bedroom mentions, bedrooms 0.93 -> 0.82 on a selection set);
    - else those of them whose own value is the annotated one;
    - else, for the owner, the phone, the reference, the town and the postcode, where the annotated value is
      written (outside legal notices and agencies' addresses for the town and the postcode); for a number no rule
      reads, nothing.
    """
    found = rules.find_mentions(text)
    filled = values(fill(text, found))
    kept: list[Mention] = []
    for field in FIELDS:
        value = gold.get(field)
        if value is None:
            continue
        own = [m for m in found if FIELD_OF[m.label] == field]
        if own and same(field, filled[field], value):
            kept.extend(own)
            continue
        if field in COUNTED:  # a count is labelled as the filler adds it up, or left to the rules
            kept.extend(_counting(text, field, value, own) or own)
            continue
        agreeing = [m for m in own if same(field, PARSERS[field](text[m.start : m.end]), value)]
        kept.extend(agreeing or _written(text, field, str(value), kept))
    kept.extend(_city_mentions(text, gold.get("city"), kept))
    kept.extend(_postcode_mentions(text, gold.get("postcode"), kept))
    return sorted(kept, key=lambda m: m.start)


def _counting(text: str, field: str, value: Any, own: Sequence[Mention], most: int = 8) -> list[Mention]:
    """For a count the filler adds up over the ad: the largest subset of the rules' mentions (of at most ``most``)
    from which it gives the annotated value ("2 chambres ... 1 chambre ... possibilité d'une 4e chambre" = 3)."""
    if not 1 < len(own) <= most:
        return []
    for size in range(len(own) - 1, 0, -1):
        for subset in itertools.combinations(own, size):
            filled = fill(text, subset)[field]
            if filled is not None and same(field, filled["value"], value):
                return list(subset)
    return []


def _written(text: str, field: str, value: str, kept: Sequence[Mention]) -> list[Mention]:
    """Where an annotated owner or reference is written (case-insensitive), or a number that reads as the annotated
    phone (:func:`rnnlab.ie.text.parse_phone`); the town and the postcode are found by :func:`_city_mentions` /
    :func:`_postcode_mentions`."""
    if field == "phone":
        found = [m for m in T.PHONE_NUMBER.finditer(text) if T.parse_phone(m.group()) == value]
    elif field in ("owner", "reference"):
        pattern = r"\s+".join(re.escape(w) for w in value.split())
        found = list(re.finditer(rf"(?<![\w]){pattern}(?![\w])", text, flags=re.I))
    else:
        return []
    out: list[Mention] = []
    for m in found:
        if not any(k.start < m.end() and k.end > m.start() for k in [*kept, *out]):
            out.append(Mention(LABELS[field], m.start(), m.end(), 1.0))
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


def is_annotated(ad: dict[str, Any]) -> bool:
    """Whether ``ad`` carries a template annotated by hand (``gold``), which then labels it."""
    return isinstance(ad.get("gold"), dict)


def label_ads(ads: Sequence[dict[str, Any]]) -> list[Sentence]:
    """Each ad (``{"text", "fields"}``, or ``{"text", "gold"}`` annotated by hand) → one tagged token sequence."""
    return [to_sentence(ad["text"], mentions(ad), line=ad.get("line", 0)) for ad in ads]


def mentions(ad: dict[str, Any]) -> list[Mention]:
    """An ad's training mentions: from its hand-annotated ``gold`` template if it has one, else the rules checked
    against the site's ``fields``."""
    return gold_mentions(ad["text"], ad["gold"]) if is_annotated(ad) else weak_mentions(ad["text"], ad.get("fields"))


def name_tokens(sentences: Sequence[Sentence]) -> set[str]:
    """Lowercased tokens labelled as an owner or a phone: kept out of a shipped model's vocabulary."""
    out = set()
    for s in sentences:
        for token, tag in zip(s.tokens, s.tags, strict=True):
            if tag.endswith(("OWNER", "PHONE")) and re.search(r"[^\W\d_]", token):
                out.add(token.lower())
    return out
