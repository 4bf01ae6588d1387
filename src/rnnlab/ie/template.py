"""The real-estate template: its fields, mentions → filled template (normalisation + tie-breaking), scoring.

A recogniser (the tagger, or the rules for the baseline) finds *mentions*: a field's label on a character span with
a score. :func:`fill` turns the mentions of one ad into the template; the rules it applies are the documented
tie-breakers:

- every mention's value is parsed from its span (``text.parse_*``); a span that gives no plausible value is dropped;
- ``surface_m2``: the living area wins over the Carrez figure, which wins over any other; then the tagger's score;
- ``price_eur``: amounts said to include fees ("honoraires inclus", "FAI", "prix global") beat the others, amounts
  said to exclude them ("hors honoraires", "net vendeur") lose; then score;
- ``bedrooms``: counts in one sentence add up ("2 chambres et 1 suite parentale" = 3); an ordinal sets a floor
  ("cette 3e chambre" >= 3); the largest sentence total wins (ads restate bedrooms: a summary, then room by room);
  where the description goes floor by floor ("au rez-de-chaussée ... 2 chambres. À l'étage ... 3 chambres") the
  floors' totals add up (5) if that is larger; an ordinal that opens a floor's bedrooms ("À l'étage, une seconde
  chambre") counts the house, one after a bedroom of its floor counts that floor;
- ``bathrooms``: counts add up over the description ("une salle de bains à l'étage. Salle d'eau au rez-de-chaussée"
  = 2; the same phrase counts once per floor); the title's total counts if larger;
- a count after "dont" (a subset) or a possibility ("possibilité de", "ou", "transformable en", "à aménager (...)"),
  or before an alternative ("3 ou 4 chambres"), is not added; an ordinal just before a count-less span is part of it
  ("une troisième [salle d'eau]");
- ``rooms``: "studio" counts one room only where no count of rooms is written (a house "avec studio indépendant");
- ``phone``, ``property_type``: the first mention in the text (the contact's first number; the title's type);
- every other field: the values are voted by score, ties going to the first mention.

>>> text = "Villa 4 pièces. Belle villa de 120 m² habitables, 2 chambres et 1 suite parentale. 06 12 34 56 78"
>>> ms = [Mention("TYPE", 0, 5, .9), Mention("ROOMS", 6, 14, .9), Mention("SURFACE", 31, 34, .8),
...       Mention("BEDROOMS", 50, 60, .9), Mention("BEDROOMS", 64, 80, .7), Mention("PHONE", 84, 98, .9)]
>>> t = fill(text, ms)
>>> [(k, v["value"]) for k, v in t.items() if v]
[('surface_m2', 120), ('rooms', 4), ('bedrooms', 3), ('phone', '0612345678'), ('property_type', 'maison')]
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rnnlab.ie import text as T
from rnnlab.ie.gazetteer import gazetteer
from rnnlab.ie.gazetteer import key as place_key

FIELDS = (
    "reference", "price_eur", "surface_m2", "land_m2", "rooms", "bedrooms", "bathrooms", "year_built", "owner",
    "phone", "city", "postcode", "property_type",
)  # fmt: skip
LABELS = {
    "reference": "REF", "price_eur": "PRICE", "surface_m2": "SURFACE", "land_m2": "LAND", "rooms": "ROOMS",
    "bedrooms": "BEDROOMS", "bathrooms": "BATHROOMS", "year_built": "YEAR", "owner": "OWNER", "phone": "PHONE",
    "city": "CITY", "postcode": "POSTCODE", "property_type": "TYPE",
}  # fmt: skip
FIELD_OF = {label: field for field, label in LABELS.items()}
NUMERIC = {"price_eur", "surface_m2", "land_m2", "rooms", "bedrooms", "bathrooms", "year_built"}


@dataclass(frozen=True)
class Mention:
    """A field's label (``LABELS`` value) on ``text[start:end]`` with the recogniser's score in [0, 1]."""

    label: str
    start: int
    end: int
    score: float = 1.0


def _int_if_whole(x: float) -> int | float:
    return int(x) if float(x).is_integer() else round(x, 2)


def _area(span: str, low: float, high: float) -> int | float | None:
    value = T.parse_area(span)
    return None if value is None or not low <= value <= high else _int_if_whole(value)


def _price(span: str) -> int | None:
    value = T.parse_number(span)
    return None if value is None or not 5_000 <= value <= 100_000_000 else round(value)


def _count(span: str, high: int) -> int | None:
    value = T.parse_count(span)
    return None if value is None or not 0 <= value <= high else value


# a name never starts with these words, and never contains the business ones
_NOT_FIRST = {
    "appeler", "le", "la", "les", "nous", "vous", "pour", "contact", "contacter", "contactez", "votre", "notre",
    "vente", "appartement", "maison", "villa", "toulon", "tel", "conseiller", "conseillere",
}  # fmt: skip
_BUSINESS = {"agence", "immobilier", "immo", "groupe", "maisons", "france", "conseil", "transaction", "transactions",
             "service", "safti", "iad"}  # fmt: skip


def _owner(span: str) -> str | None:
    """A person's name: civility dropped, "EI" (sole trader) dropped; business words are not a name."""
    name = re.sub(r"^(?:m\.|mr\.?|mme\.?|mlle|madame|monsieur|me|ma[iî]tre)\s+", "", span.strip(" ,.:;-–()"),
                  flags=re.I)  # fmt: skip
    name = re.sub(r"\s*\(?\bEI\b\)?$", "", re.sub(r"\s+", " ", name))
    words = [T.fold(word) for word in name.split()]
    if not words or words[0] in _NOT_FIRST or any(word in _BUSINESS for word in words):
        return None
    return name if len(name) >= 2 and any(ch.isalpha() for ch in name) else None


def _city(span: str) -> str | None:
    name = re.sub(r"\s+", " ", span.strip(" ,.:;-–()"))
    return T.nice_case(name) if len(name) >= 2 else None


def _reference(span: str) -> str | None:
    ref = span.strip(" ,.:;-–()#°")
    return ref if ref and any(ch.isdigit() for ch in ref) else None


PARSERS: dict[str, Callable[[str], Any]] = {
    "reference": _reference,
    "price_eur": _price,
    "surface_m2": lambda s: _area(s, 8, 3000),
    "land_m2": lambda s: _area(s, 20, 1_000_000),
    "rooms": lambda s: max(1, v) if (v := _count(s, 30)) is not None else None,  # a "T0" is one room
    "bedrooms": lambda s: _count(s, 20),
    "bathrooms": lambda s: _count(s, 10),
    "year_built": lambda s: (lambda y: y if y and 1600 <= y <= 2030 else None)(T.parse_year(s)),
    "owner": _owner,
    "phone": T.parse_phone,
    "city": _city,
    "postcode": T.parse_postcode,
    "property_type": T.parse_property_type,
}


_OTHER_NUMBER = re.compile(r"(?<![a-z0-9])\d")  # a number, not the 2 of "m2"


def _context(text: str, start: int, end: int, before: int = 40, after: int = 40) -> tuple[str, str]:
    """Folded text around a span, cut at the nearest other number on each side."""
    left = T.fold(text[max(0, start - before) : start])
    right = T.fold(text[end : end + after])
    right = _OTHER_NUMBER.split(right, maxsplit=1)[0]
    left = _OTHER_NUMBER.split(left)[-1]
    return left, right


_ROOM = re.compile(r"(chambre|suite(?: parentale)?|piece supplementaire|espace jour|espace nuit|sejour|salon|"
                   r"cuisine|piece de vie|salle|terrasse|balcon|garage|cave|loggia|bureau|"
                   r"dressing|mezzanine|box|parking|veranda|grenier|combles|entree|buanderie|atelier|jardin|"
                   r"solarium|local|patio|cour|dependance|piece a vivre|living|hangar|grange|remise|abri|"
                   r"appentis|chalet|gite|studio independant|annexe)s?\b[^,;.()]{0,36}\(?\s*$")  # fmt: skip


def surface_rank(text: str, m: Mention) -> int:
    left, right = _context(text, m.start, m.end, 45, 30)
    if "habitable" in right or re.search(r"habitable[^,;.()]{0,12}$", left):
        return 3
    if "carrez" in right or re.search(r"carrez[^,;.()]{0,12}$", left):
        return 2
    if _ROOM.search(left[-25:]):
        return -1  # a room's or an outbuilding's area, never the living area
    if re.search(r"(?:\ba|\bdont)\s*$", left) and not re.match(r"\s*(?:m²|m2)\s*habitable", right):
        return -1  # "à 700 m" (a distance), "dont 10 m² en véranda" (a part)
    if re.match(r"\s*(?:m²|m2|m)?\s*(?:au sol|utiles?|total|de terrasse|de balcon|de jardin)", right):
        return 0
    return 1


def price_rank(text: str, m: Mention) -> int:
    """2: said to include the fees or the total; 0: said to exclude them; -1: a charge, a tax, a rent, land alone."""
    left, right = _context(text, m.start, m.end, 45, 45)
    near = re.split(r"\b(?:soit|ou)\b", left[-28:])[-1]  # "300 000 € net vendeur, soit 315 000 €": after 'soit'
    unit = r"^\s*(?:€|euros?|eur)?\s*\(?"
    if re.match(unit + r"(?:honoraires? inclus|fai\b|hai\b|ttc|frais d.agence inclus)", right):
        return 2  # what follows the amount says what it is, before what an earlier amount was said to be
    if re.search(r"hors hon(?:oraires|o?\.)|net vendeur|hors frais d.agence", near) or re.match(
        unit + r"(?:hors honoraires|net vendeur|hh\b)", right
    ):
        return 0
    if re.search(
        r"hon(?:oraires?|o?\.)\s*(?:de\s+)?(?:nego(?:ciation)?\.?\s*)?inclus|\bfai\b|\bhai\b|prix global|"
        r"prix de vente|prix\s*:|\bprix\s*$",
        near,
    ):
        return 2
    if re.search(
        r"terrain|charges?|taxe|loyer|rente|honoraires de|mensuel|tranche|bareme|de 0 a|jusqu.a|au-dela|"
        r"en supplement|en option",
        near,
    ) or re.match(
        unit + r"(?:/|par|mensuel|annuel|hc\b|cc\b|en supplement|supplementaire|\)?\s*:\s*\d+(?:[.,]\d+)?\s*%)", right
    ):
        return -1  # a charge, a rent, a fee schedule ("de 0 à 100 000 € : 7 %"), an option "en supplément"
    return 1


@lru_cache(maxsize=64)
def sentence_starts(text: str) -> tuple[int, ...]:
    """Start offsets of the text's sentences (line ends and '.', '!', '?' followed by a space)."""
    return (0, *(m.end() for m in re.finditer(r"\n|[.!?;](?=\s)", text)))


# a floor's description starts: "au rez-de-chaussée", "à l'étage", "au 1er étage", "au niveau inférieur",
# "Rez-de-jardin :" (folded text); "maison à étage" is not one
_FLOOR = re.compile(
    r"(?:\b(?:au|en|a l['’]|le|d['’]un)\s*|(?:^|\n)\s*)"
    r"(?:rez[- ]?de[- ]?(?:chaussee|jardin)|rdc|r\+1|sous[- ]?sol|(?:\d+\s*(?:er|e|eme|ieme|nd)|premier|second|"
    r"deuxieme|troisieme|dernier)\s+(?:et\s+dernier\s+)?(?:etage|niveau)|etage(?:\s+superieur|\s+inferieur)?|"
    r"niveau\s+(?:inferieur|superieur|bas|haut)|"
    r"(?:rez|demi|bas|dernier)[- ]niveau)\b(?!\s*(?:de l['’]immeuble|avec ascenseur|sans ascenseur|d['’]une))"
)  # fmt: skip
_SUMMARY = re.compile(r"\b(?:au total|en tout|soit un total|soit au total|soit)\b")


@lru_cache(maxsize=64)
def _floor_marks(text: str) -> tuple[int, ...]:
    """Where the description (not the title) names a floor, however many."""
    return tuple(m.start() for m in _FLOOR.finditer(_fold_same_length(text), text.find("\n") + 1))


def floor_starts(text: str) -> tuple[int, ...]:
    """Where the description of a floor begins (the description only; empty when the text has fewer than two)."""
    starts = _floor_marks(text)
    return starts if len(starts) >= 2 else ()


def _fold_same_length(text: str) -> str:
    """Lowercase without accents, character for character (offsets kept)."""
    return "".join(map(_fold_char, text))


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    return (T.fold(ch)[:1] or ch) if ch.strip() else ch


_NOT_COUNTED = re.compile(r"(dont une?\s+\w+|dont|possibilite d['’]?|possibilite d[ue]|possible|ou|ou en|voire|"
                          r"transformable en|"
                          r"pouvant servir de|faire une?|creer une?|amenageable en)\s*(une?\s+)?$")  # fmt: skip


def _counted(text: str, m: Mention) -> bool:
    """A count introduced by "dont" (a subset) or by a possibility ("possibilité de", "ou", "transformable en"),
    or followed by an alternative ("3 ou 4 chambres"), is not added."""
    left = T.fold(text[max(0, m.start - 45) : m.start])
    if re.search(r"pieces?,?\s+dont\s*$", left):
        return True  # "6 pièces dont 4 chambres": a subset of the rooms, all the bedrooms
    if _NOT_COUNTED.search(left[-30:]):
        return False
    wide = T.fold(text[max(0, m.start - 90) : m.start])
    if re.search(r"(possibilit|possible|pouvant|transformable)[^.;,]*$", wide):
        return False  # "Possibilité de réagencer l'espace pour obtenir une quatrième chambre" (90 characters back)
    if re.search(
        r"(possibilit|possible|pouvant|transformable|a amenager|amenageable|travaux|renovation|a refaire)"
        r"[^.;()]*\([^)]*$",
        wide,
    ):
        return False  # "à aménager selon vos besoins (salle de jeux, bureau, suite)", "travaux (..., salle d'eau)"
    return not re.match(r"\s*ou\s+(?:\d|une?|deux|trois|quatre|cinq|six|sept|huit)\b", T.fold(text[m.end : m.end + 12]))


def _tally(text: str, mentions: Sequence[tuple[Mention, int]], unit: Callable[[Mention], Any]) -> dict[Any, list]:
    """Counts added up within each unit (``unit(mention)``): per unit [total, its first mention].

    The same phrase twice in a unit is two rooms when both read as rooms of a list ("chambre avec douche, séjour,
    chambre", "une suite avec salle d'eau ... une salle d'eau"), one room restated when either is definite or about
    works ("une salle d'eau ... la cuisine et la salle d'eau sont à rafraîchir"); an ordinal ("cette 3e chambre")
    sets a floor.
    """
    totals: dict[Any, list] = {}
    seen: dict[Any, dict[str, bool]] = {}
    for m, value in mentions:
        if not _counted(text, m):
            continue
        key = unit(m)
        entry = totals.setdefault(key, [0, m])
        span = T.fold(text[m.start : m.end])
        if T.is_ordinal(span):
            entry[0] = max(value, entry[0])
            continue
        kind = re.sub(r"[\d\s]+|^(?:un|une|deux|trois|quatre|cinq|six)\b", "", span)
        restated = _restated(text, m)
        if kind in seen.setdefault(key, {}) and value == 1 and (restated or seen[key][kind]):
            continue
        seen[key].setdefault(kind, restated)
        entry[0] += value
    return totals


_WORKS = re.compile(r"renov|refai|rafraichir|travaux|a prevoir|necessite|remise au gout|a reprendre|moderniser|"
                    r"rehabilit")  # fmt: skip


def _restated(text: str, m: Mention) -> bool:
    """A mention that may name a room already counted: definite ("la salle d'eau") or about works within its
    sentence (at most 150 characters either side: a text with no full stop is one long sentence)."""
    before = T.fold(text[max(0, m.start - 12) : m.start])
    if re.search(r"\b(?:la|le|les|l['’]|sa|son|ses|cette|votre|notre)\s*$", before):
        return True
    starts = sentence_starts(text)
    i = _segment(starts, m.start)
    end = starts[i + 1] if i + 1 < len(starts) else len(text)
    return bool(_WORKS.search(T.fold(text[max(starts[i], m.start - 150) : min(end, m.end + 150)])))


def _segment(bounds: Sequence[int], position: int) -> int:
    """The index of the last bound at or before ``position`` (-1: before the first); ``bounds`` ascending."""
    return bisect.bisect_right(bounds, position) - 1


def _bedrooms(text: str, mentions: Sequence[tuple[Mention, int]]) -> tuple[int, Mention] | None:
    """Counts add up within a sentence and the largest sentence total wins (ads restate: a summary, then room by
    room); where the description goes floor by floor ("au rez-de-chaussée ... 2 chambres. À l'étage ...
    3 chambres"), the floors' totals add up, if that is larger."""
    sentences = sentence_starts(text)
    floors = floor_starts(text) or _ground_floor_before(text, sentences)
    # a count said to span the floors ("trois chambres sur deux niveaux comprenant au premier niveau ... deux
    # chambres") is a summary: not added to the counts of its sentence
    best = max(_tally(text, mentions, lambda m: (_segment(sentences, m.start), _spans_floors(text, m))).values(),
               key=lambda e: e[0], default=None)  # fmt: skip
    if best is not None:  # "deux chambres. À l'étage : ..., autre chambre": one more than those named before
        unit = _segment(sentences, best[1].start)
        more = sum(v for m, v in mentions if m.start > best[1].start and _segment(sentences, m.start) != unit
                   and re.search(r"\bautres?\b", T.fold(text[m.start : m.end])) and _counted(text, m))  # fmt: skip
        best = [best[0] + more, best[1]]
    if floors:
        # floor → its largest sentence total; summaries ("soit 5 chambres au total") left out. An ordinal after a
        # count on its floor counts that floor ("une chambre, une deuxième chambre"); the first mention of its
        # floor, it counts the house ("À l'étage, une seconde chambre"): a floor on the sum
        kept = [(m, v) for m, v in mentions if m.start >= floors[0] and not _in_summary(text, sentences, m)]
        ordinal, counted_floors = 0, set()
        for m, v in list(kept):
            floor = _segment(floors, m.start)
            if T.is_ordinal(text[m.start : m.end]) and floor not in counted_floors:
                ordinal = max(ordinal, v)
                kept.remove((m, v))
            counted_floors.add(floor)
        per_floor: dict[int, list] = {}
        units = _tally(text, kept, lambda m: (_segment(floors, m.start), _segment(sentences, m.start)))
        for (floor, _), entry in units.items():
            if entry[0] > per_floor.get(floor, [0])[0]:
                per_floor[floor] = entry
        if len(per_floor) >= 2:
            total = max(sum(e[0] for e in per_floor.values()), ordinal)
            if best is None or total > best[0]:
                best = [total, min((e[1] for e in per_floor.values()), key=lambda m: m.start)]
    return None if best is None else (best[0], best[1])


_UPPER = re.compile(r"(?:a l['’]|au\s+(?:1er|premier)\s+)etage\b")


def _ground_floor_before(text: str, sentences: Sequence[int]) -> tuple[int, ...]:
    """One floor named, an upper one opening its sentence ("..., une seconde chambre. A l'étage : trois chambres"):
    the sentence before it describes the ground floor, unless it is the description's first (often a summary)."""
    found = _floor_marks(text)
    if len(found) != 1:
        return ()
    title_end, folded = text.find("\n") + 1, _fold_same_length(text)
    if not _UPPER.match(folded, found[0]):
        return ()
    i = _segment(sentences, found[0])
    if i < 1 or folded[sentences[i] : found[0]].strip(" \n:-"):
        return ()
    if _segment(sentences, title_end) >= i - 1 or folded[title_end : sentences[i - 1]].strip() == "":
        return ()  # the sentence before is the description's first
    return (sentences[i - 1], found[0])


def _spans_floors(text: str, m: Mention) -> bool:
    return bool(re.match(r"\s*(?:(?:au\s+total|en\s+tout)\b|(?:r[ée]parties?\s+)?sur\s+(?:deux|trois|2|3|plusieurs)\s+"
                         r"(?:niveaux|[ée]tages))", text[m.end : m.end + 40], re.I))  # fmt: skip


def _bathrooms(text: str, mentions: Sequence[tuple[Mention, int]]) -> tuple[int, Mention] | None:
    """Counts add up over the description (the same phrase once per floor); the title's total counts if larger."""
    floors, title_end = floor_starts(text), text.find("\n") + 1
    parts = _tally(text, mentions, lambda m: -1 if m.start < title_end else _segment(floors, m.start))
    title = parts.pop(-1, None)
    body = None
    if parts:
        body = [sum(e[0] for e in parts.values()), min((e[1] for e in parts.values()), key=lambda m: m.start)]
    best = max((e for e in (title, body) if e), key=lambda e: e[0], default=None)
    return None if best is None else (best[0], best[1])


def _in_summary(text: str, sentences: Sequence[int], m: Mention) -> bool:
    i = _segment(sentences, m.start)
    end = sentences[i + 1] if i + 1 < len(sentences) else len(text)
    return bool(_SUMMARY.search(T.fold(text[sentences[i] : end])))


def _vote(text: str, values: Sequence[tuple[Mention, Any]], key: Callable[[Any], Any] | None = None, *,
          title_weight: float = 0.5) -> tuple[Any, Mention]:  # fmt: skip
    """Score-weighted vote; the title (first line) counts ``title_weight`` (half: the description wins a
    conflict). Values are compared by ``key`` (default: folded text)."""
    title_end = text.find("\n") if "\n" in text else 0
    weight: dict[Any, float] = {}
    first: dict[Any, tuple[Mention, Any]] = {}
    for m, value in values:
        key_ = key(value) if key else T.fold(value) if isinstance(value, str) else value
        weight[key_] = weight.get(key_, 0.0) + m.score * (title_weight if m.start < title_end else 1.0)
        first.setdefault(key_, (m, value))
    best = max(weight, key=lambda k: (weight[k], -first[k][0].start))
    m, value = first[best]
    return value, m


def _with_ordinal(text: str, m: Mention) -> Mention:
    """The mention widened to an ordinal word just before it ("une troisième [chambre]")."""
    before = re.search(r"(\w+)\s+$", text[max(0, m.start - 20) : m.start])
    if before and T.is_ordinal(before.group(1)):
        return Mention(m.label, m.start - len(before.group(0)), m.end, m.score)
    return m


_ROOM_WORDS = {
    "bedrooms": re.compile(r"chambre|suite|dortoir|\d\s*ch\b"),
    "bathrooms": re.compile(r"salle|douche|bain|sdb|sde|s\.d\.[be]"),
}
_LAND_UNIT = re.compile(r"\s*" + T.LAND_REGISTER_UNIT, re.I)


def _with_land_unit(text: str, m: Mention) -> Mention:
    """The mention widened to a land-register unit just after it ("45 ha", "12 a 50 ca")."""
    unit = None if re.search(r"[^\d\s.,]", text[m.start : m.end]) else _LAND_UNIT.match(text, m.end)
    return Mention(m.label, m.start, unit.end(), m.score) if unit else m


def _rooms(text: str, values: Sequence[tuple[Mention, Any]]) -> Sequence[tuple[Mention, Any]]:
    """ "Studio" is a count of one only where no count of rooms is written ("Maison 4 pièces ... avec son studio
    indépendant" has 4 rooms)."""
    counted = [(m, v) for m, v in values if "studio" not in T.fold(text[m.start : m.end])]
    return counted or values


_WEAK_TYPES = ("immeuble", "parking", "terrain")  # often a feature of the property, not its type


def _property_type(values: Sequence[tuple[Mention, Any]]) -> tuple[Any, Mention]:
    strong = [(m, v) for m, v in values if v not in _WEAK_TYPES]
    m, value = (strong or list(values))[0]
    return value, m


def _postcode(text: str, values: Sequence[tuple[Mention, Any]], city: dict[str, Any] | None
              ) -> tuple[Any, Mention] | None:  # fmt: skip
    """The vote among the postcodes that the gazetteer does not contradict for the chosen town: where the town is
    known, another town's postcode is an office's or an agency's address."""
    if city is not None:
        values = [(m, v) for m, v in values if gazetteer().consistent(city["value"], v) is not False]
    return _vote(text, values) if values else None


def fill(text: str, mentions: Iterable[Mention]) -> dict[str, dict[str, Any] | None]:
    """The template of one ad from its mentions: every field → {value, start, end, confidence, text} or None."""
    by_field: dict[str, list[tuple[Mention, Any]]] = {f: [] for f in FIELDS}
    title_end = text.find("\n") if "\n" in text else 0
    for m in sorted(mentions, key=lambda m: m.start):
        field = FIELD_OF.get(m.label)
        if field is None:
            continue
        if field in _ROOM_WORDS and not _ROOM_WORDS[field].search(T.fold(text[m.start : m.end])):
            continue  # a bedroom or bathroom mention names the room ("12 a 50 ca" is not 12 bathrooms)
        if field == "land_m2":
            m = _with_land_unit(text, m)  # "45 [ha]", "12 [a 50 ca]": the unit is part of the value
        value = PARSERS[field](text[m.start : m.end])
        if value is None and field in ("bedrooms", "bathrooms"):
            m = _with_ordinal(text, m)  # "une troisième [salle d'eau]": the ordinal is part of the count
            value = T.parse_count(text[m.start : m.end]) or 1  # "salle d'eau", "chambre" with no count: one
        if value is not None:
            by_field[field].append((m, value))
        if field == "rooms" and re.match(r"(?i)[tf]\s*\d|type|studio", text[m.start : m.end]):
            by_field["property_type"].append((m, "appartement"))  # "T3", "studio": a flat
    by_field["property_type"].sort(key=lambda mv: mv[0].start)
    out: dict[str, dict[str, Any] | None] = {}
    for field in FIELDS:
        values = by_field[field]
        chosen: tuple[Any, Mention] | None = None
        if not values:
            pass
        elif field in ("bedrooms", "bathrooms"):
            # bedrooms are restated (a summary, then room by room); bathrooms rarely: theirs add up over the text
            counted = (_bedrooms if field == "bedrooms" else _bathrooms)(text, values)
            chosen = None if counted is None else (counted[0], counted[1])
        elif field == "phone":
            chosen = (values[0][1], values[0][0])
        elif field == "property_type":
            chosen = _property_type(values)
        elif field == "rooms":
            chosen = _vote(text, _rooms(text, values))
        elif field in ("surface_m2", "price_eur"):
            rank = surface_rank if field == "surface_m2" else price_rank
            # rank (< 0: never), the description over the title, score, the earlier
            keyed = [((rank(text, m), m.start > title_end, m.score, -m.start), m, v) for m, v in values]
            keyed = [k for k in keyed if k[0][0] >= 0]
            if keyed:
                _, m, v = max(keyed, key=lambda k: k[0])
                chosen = (v, m)
        elif field == "city":
            # a title the site generated from its data (GENERATED_TITLE) names the town as the site's own field: a
            # town the description names in passing ties with it and loses (the earlier)
            chosen = _vote(text, values, key=place_key, title_weight=1.0 if T.GENERATED_TITLE.match(text) else 0.5)
        elif field == "postcode":
            chosen = _postcode(text, values, out.get("city"))
        else:
            chosen = _vote(text, values)
        if chosen is None:
            out[field] = None
            continue
        value, m = chosen
        out[field] = {"value": value, "start": m.start, "end": m.end, "confidence": round(float(m.score), 4),
                      "text": text[m.start : m.end]}  # fmt: skip
    return out


# -- scoring -----------------------------------------------------------------------------------------------------
def same(field: str, predicted: Any, gold: Any) -> bool:
    """Field-aware equality: numbers to 0.01, names and places case- and accent-insensitively."""
    if predicted is None or gold is None:
        return predicted is None and gold is None
    if field in NUMERIC:
        try:
            return abs(float(predicted) - float(gold)) < 0.01
        except (TypeError, ValueError):
            return False
    a, b = T.fold(str(predicted)), T.fold(str(gold))
    if field in ("reference", "phone", "postcode"):
        a, b = a.replace(" ", ""), b.replace(" ", "")
    return a == b


def values(template: dict[str, Any]) -> dict[str, Any]:
    """Template (field → dict or None) → field → value; a plain field → value dict passes through."""
    return {f: (v["value"] if isinstance(v, dict) else v) for f, v in ((f, template.get(f)) for f in FIELDS)}


def score(gold: Sequence[dict[str, Any]], predicted: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per field precision / recall / exact-match accuracy; micro P/R/F1 over non-null gold; null accuracy.

    A wrong value is both a false positive and a false negative; a value where gold is null is a false positive.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold templates but {len(predicted)} predictions")
    per_field: dict[str, dict[str, float]] = {}
    tp = fp = fn = nulls = nulls_kept = 0
    for field in FIELDS:
        c = {"tp": 0, "fp": 0, "fn": 0, "exact": 0, "gold": 0, "null_gold": 0, "null_kept": 0}
        for g, p in zip(gold, predicted, strict=True):
            gv, pv = values(g)[field], values(p)[field]
            ok = same(field, pv, gv)
            c["exact"] += ok
            if gv is None:
                c["null_gold"] += 1
                c["null_kept"] += pv is None
                c["fp"] += pv is not None
            else:
                c["gold"] += 1
                c["tp"] += ok and pv is not None
                c["fp"] += pv is not None and not ok
                c["fn"] += not ok
        precision = c["tp"] / max(1, c["tp"] + c["fp"])
        recall = c["tp"] / max(1, c["gold"])
        per_field[field] = {"precision": precision, "recall": recall, "accuracy": c["exact"] / max(1, len(gold)),
                            "support": c["gold"], "tp": c["tp"], "fp": c["fp"], "fn": c["fn"]}  # fmt: skip
        tp, fp, fn = tp + c["tp"], fp + c["fp"], fn + c["fn"]
        nulls, nulls_kept = nulls + c["null_gold"], nulls_kept + c["null_kept"]
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    f1 = 2 * precision * recall / max(1e-12, precision + recall)
    return {"micro": {"precision": precision, "recall": recall, "f1": f1}, "null_accuracy": nulls_kept / max(1, nulls),
            "ads": len(gold), "per_field": per_field}  # fmt: skip
