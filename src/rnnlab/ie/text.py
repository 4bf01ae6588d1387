"""French ad text: a tokenizer that keeps every value recoverable as a character span, and value normalisers.

>>> [t for t, _, _ in tokenize("Réf. 12390: villa (190m²), 1 270 000 euros, d'eau, 57,5 m2, 06.43.43.43. 43")]
... # doctest: +NORMALIZE_WHITESPACE
['Réf', '.', '12390', ':', 'villa', '(', '190', 'm²', ')', ',', '1 270 000', 'euros', ',', "d'", 'eau', ',', '57,5',
 'm', '2', ',', '06', '.', '43', '.', '43', '.', '43', '.', '43']
>>> parse_number("1 270 000"), parse_number("598K"), parse_number("1,2 M"), parse_number("57,5")
(1270000.0, 598000.0, 1200000.0, 57.5)
>>> parse_count("trois belles chambres"), parse_count("T3"), parse_count("studio"), parse_count("3e chambre")
(3, 3, 1, 3)
>>> parse_phone("06.43.43.43. 43"), parse_phone("O7879585O1"), parse_phone("+33 6 12 34 56 78")
('0643434343', '0787958501', '0612345678')
>>> nice_case("TOULON"), nice_case("LA VALETTE-DU-VAR"), nice_case("Nice")
('Toulon', 'La Valette-du-Var', 'Nice')
"""

from __future__ import annotations

import re
import unicodedata

# an amount in thousands stays one token ("1 270 000", "1.270.000") unless its first group ends a word ("m2 350 000"
# -> m | 2 | 350 000, "T2 199 000" -> T | 2 | 199 000), decimals too ("57,5"); digits apart from letters ("190m²" ->
# 190 | m²); elisions kept on their word ("d'", "l'"); one mark per token
_TOKEN = re.compile(
    r"(?<!\w)\d{1,3}(?:[ \u00a0\u202f.]\d{3})+(?:,\d{1,2})?(?![\d,])|\d+,\d{1,2}(?!\d)|\d+|"
    r"[^\W\d_]+(?:['’](?=[^\W\d_]))?|\S"
)

NUMBER_WORDS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "simple": 1, "double": 2, "seule": 1, "seul": 1,
}  # fmt: skip
ORDINAL_WORDS = {
    "premier": 1, "première": 1, "deuxième": 2, "second": 2, "seconde": 2, "troisième": 3, "quatrième": 4,
    "cinquième": 5, "sixième": 6, "septième": 7, "huitième": 8,
}  # fmt: skip
_NUMBER = re.compile(
    r"(\d{1,3}(?:[ \u00a0\u202f.]\d{3})+|\d+)(?:[.,](\d{1,2}))?\s*"
    r"([mM]illions?\b|[kKmM]\b|[kK](?=€)|[mM](?=€))?"
)
# "3e", "3ème", and a numbered room: "chambre n° 3", "chambre 3"
_ORDINAL_DIGITS = re.compile(r"\b(\d{1,2})\s*(?:e|è|ème|eme|ieme|ième)\b|(?:n°|\bno|chambre)\s*(\d{1,2})\b", re.I)


# a title the site generates from its fields: "Achat :Maison / villa- St Gervais Les Bains - Haute-Savoie (74)",
# "Vente en viager :Appartement T3- Paris 14 - Paris (75)"; any "<type>- <place> - <region> (<département>)"
GENERATED_TITLE = re.compile(r"\A[^\n:]{0,40}:\s*(?P<type>[^\n]{2,60}?)\s*-\s+(?P<place>[^\n]+?)\s+-\s+"
                             r"(?P<region>[^\n()-][^\n()]*?)\s*\((?P<dep>\d{2,3}|2[AB])\)[ \t]*$", re.M)  # fmt: skip


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """(token, start, end): numbers, words (elision kept: ``d'``), and single marks; offsets into ``text``."""
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def fold(text: str) -> str:
    """Lowercase without accents, for comparisons (``"Hyères" -> "hyeres"``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def parse_number(text: str) -> float | None:
    """A French-written amount: thousands by space/dot, decimals by comma, ``k``/``M`` multipliers."""
    m = _NUMBER.search(text)
    if not m:
        return None
    value = float(re.sub(r"\D", "", m.group(1)))
    if m.group(2):
        value += float("0." + m.group(2))
    suffix = (m.group(3) or "").lower()
    return value * {"k": 1e3, "m": 1e6}[suffix[0]] if suffix else value  # "k", "m", "million(s)"


# the units of a land register after a number: "45 ha", "1 ha 20 a 35 ca", "12 a 50 ca"
LAND_REGISTER_UNIT = (r"(?:(?:ha|hectares?)\b(?:\s*\d{1,2}\s*a(?:res?)?\b)?(?:\s*\d{1,2}\s*ca\b)?|"
                      r"a(?:res?)?\s*\d{1,2}\s*ca\b)")  # fmt: skip
_HA_A_CA = re.compile(r"(?:(\d+(?:[.,]\d+)?)\s*(?:ha|hectares?)\b)?\s*(?:(\d+)\s*(?:a|ares?)\b)?\s*"
                     r"(?:(\d+)\s*(?:ca|centiares?)\b)?")  # fmt: skip


def parse_area(text: str) -> float | None:
    """An area in m²: "1 200" (m²), "45 ha", "2,5 hectares", "12 a 50 ca", "1 ha 20 a 35 ca" (land registers)."""
    folded = fold(text)
    for m in _HA_A_CA.finditer(folded):
        if any(m.groups()):
            ha, ares, centiares = (float((g or "0").replace(",", ".")) for g in m.groups())
            return ha * 10_000 + ares * 100 + centiares
    return parse_number(text)


def parse_count(text: str) -> int | None:
    """A count from a phrase: digits, number words, ``T3``/``F3``/``type 3``, ``studio`` = 1, ordinals."""
    folded = fold(text)
    m = re.search(r"\b(?:t|f|type)\s*(\d{1,2})\b", folded)
    if m:
        return int(m.group(1))
    m = _ORDINAL_DIGITS.search(folded)
    if m:
        return int(m.group(1) or m.group(2))
    m = re.search(r"\d+", folded)
    if m:
        return int(m.group())
    for word in re.findall(r"[^\W\d_]+", folded):
        if word in NUMBER_WORDS:
            return NUMBER_WORDS[word]
        if word in _ORDINALS:
            return _ORDINALS[word]
    if "studio" in folded:
        return 1
    return None


def is_ordinal(text: str) -> bool:
    folded = fold(text)
    return bool(_ORDINAL_DIGITS.search(folded)) or any(w in _ORDINALS for w in re.findall(r"[^\W\d_]+", folded))


_ORDINALS = {fold(k): v for k, v in ORDINAL_WORDS.items()}


PHONE_NUMBER = re.compile(r"(?:(?:\+|00)\s*33\s*(?:\(0\))?\s*|0)[1-9](?:[\s.\-/]{0,3}\d){8}")


def parse_phone(text: str) -> str | None:
    """Ten digits starting with 0; ``+33``/``0033`` become 0 and a letter O printed for a zero is decoded.
    A span holding two numbers ("06 59 62 78 13   04 94 64 98 67") gives the first."""
    raw = re.sub(r"[oO]", "0", text)
    if len(re.sub(r"\D", "", raw)) > 11:
        first = PHONE_NUMBER.search(raw)
        raw = first.group() if first else raw
    raw = re.sub(r"^\s*(?:\+|00)\s*33\s*(?:\(0\))?", "0", raw)
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 9 and not digits.startswith("0"):
        digits = "0" + digits
    return digits if len(digits) == 10 and digits.startswith("0") and digits[1] != "0" else None


def parse_year(text: str) -> int | None:
    m = re.search(r"\b(1[6-9]\d\d|20[0-3]\d)\b", text)
    return int(m.group()) if m else None


def parse_postcode(text: str) -> str | None:
    m = re.search(r"\b(?:0[1-9]|[1-8]\d|9[0-8])\s?\d{3}\b", text)
    return m.group().replace(" ", "") if m else None


def nice_case(name: str) -> str:
    """An all-caps name written as a name: first letters up, ``du``/``de``/``sur`` etc. down."""
    if not name.isupper():
        return name
    small = {"de", "du", "des", "la", "le", "les", "sur", "sous", "en", "et", "d", "l", "lès", "lez"}
    parts = re.split(r"([\s\-'’])", name.lower())
    out = []
    for i, part in enumerate(parts):
        out.append(part if (part in small and i > 0) else part[:1].upper() + part[1:])
    return "".join(out)


PROPERTY_TYPES = {
    "appartement": ("appartement", "appart", "studio", "duplex", "triplex", "loft", "t1", "t2", "t3", "t4", "t5",
                    "t6", "f1", "f2", "f3", "f4", "f5", "rez-de-jardin", "penthouse"),
    "maison": ("maison", "villa", "pavillon", "mas", "bastide", "propriété", "bastidon", "longère", "chalet"),
    "terrain": ("terrain",),
    "immeuble": ("immeuble",),
    "local": ("local", "commerce", "bureau", "bureaux", "boutique", "entrepôt"),
    "parking": ("parking", "garage", "box"),
}  # fmt: skip


_FOLDED_TYPES = {kind: tuple(fold(w).replace(" ", "") for w in words) for kind, words in PROPERTY_TYPES.items()}


def parse_property_type(text: str) -> str | None:
    word = fold(text).replace(" ", "")
    for kind, words in _FOLDED_TYPES.items():
        if word in words:
            return kind
    for kind, words in _FOLDED_TYPES.items():
        if any(word.startswith(w) for w in words if len(w) > 3):
            return kind
    return None
