"""The rule recogniser: regular expressions that find field mentions in an ad.

It has two jobs: the regex-only baseline of the benchmark (rules → :func:`rnnlab.ie.template.fill`), and the weak
labeller that, checked against the site's structured values, makes the tagger's training data
(:mod:`rnnlab.ie.weak`). The tagger then carries the recognition at prediction time.

>>> text = ("Vente Villa 4 pièces Nice (06000)\\nRéf. 12390: villa (190m²), 2 chambres. "
...         "Contactez Mimi LASOURIS 06.43.43.43. 43")
>>> [(m.label, text[m.start:m.end]) for m in find_mentions(text)]  # doctest: +NORMALIZE_WHITESPACE
[('TYPE', 'Villa'), ('ROOMS', '4 pièces'), ('CITY', 'Nice'), ('POSTCODE', '06000'), ('REF', '12390'), ('TYPE', 'villa'),
 ('SURFACE', '190'), ('BEDROOMS', '2 chambres'), ('OWNER', 'Mimi LASOURIS'), ('PHONE', '06.43.43.43. 43')]
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from rnnlab.ie.gazetteer import find_places
from rnnlab.ie.template import PARSERS, Mention
from rnnlab.ie.text import GENERATED_TITLE, LAND_REGISTER_UNIT

_W = r"[^\W\d_]"  # a letter
# a number starts where a run of digits starts, and has at most 12 digits: tried at every digit of a long run, the
# pattern took time growing with the square of the run (a 20,000-digit "ad": a minute)
# a number in groups of three ("350 000") does not start inside a word: the 2 of "100 m2 350 000 €" or "T2 199 000 €"
# is not its first group (it read 2,350,000 and 2,199,000)
_NUM = r"(?<!\w)\d{1,3}(?:[ \u00a0\u202f.]\d{3})+(?:,\d{1,2})?|(?<!\d)\d{1,12}(?:[.,]\d{1,2})?"  # no group: as before
_COUNT_WORD = r"(?:\d{1,2}|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix)"
_ADJ = r"(?:(?:belles?|grandes?|petites?|vraies?|jolies?|spacieuses?|véritables?|autres?|vastes?|confortables?)\s+)?"
_NAME_PART = r"(?:[A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?|[A-ZÀ-Ý]{2,}(?:-[A-ZÀ-Ý]{2,})?)"
_NAME = rf"{_NAME_PART}(?:[ \u00a0]+(?:(?:de|le|la|du|van|von|da|di)\s+)?{_NAME_PART}){{0,2}}"
_M2 = r"\s*(?:m²|m2|m\s?²|mètres?\s+carrés|m\b)"

# fmt: off
RULES: list[tuple[str, re.Pattern[str], int]] = [
    # (label, pattern, group carrying the span)
    ("REF", re.compile(r"\b(?:[Rr][ée]f(?:[ée]rence)?|REF|[Mm]andat(?:\s+r[ée]f)?|[Nn]um[ée]ro\s+de\s+mandat)\b\.?"
                       r"\s*(?:annonce\s*)?(?:n°|N°|no)?"
                       r"\s*[:.#]?\s*\(?([A-Z]{0,4}[-_/]?\d[\w\-/]{1,15})"), 1),
    ("PRICE", re.compile(rf"({_NUM}\s*(?:[kK]|[mM](?=\s*€))?)\s*(?:€|euros?\b|EUR\b)"), 1),
    ("PRICE", re.compile(rf"({_NUM}\s*[mM]illions?)\s*(?:d['’]\s*)?(?:€|euros?\b|EUR\b)"), 1),  # "1,5 million d'euros"
    ("PRICE", re.compile(rf"\b[Pp]rix\s*(?:de\s+vente\s*)?(?:global\s*)?:?\s*({_NUM})"), 1),
    ("LAND", re.compile(rf"\b(?:terrain|jardin|parcelle|foncier)\b[^.\n\d]{{0,40}}?({_NUM}){_M2}", re.I), 1),
    ("LAND", re.compile(rf"({_NUM}){_M2}[ \t\u00a0]+(?:de\s+)?(?:terrain|jardin|parcelle)", re.I), 1),
    ("LAND", re.compile(rf"(?<![\w,.])(\d+(?:[.,]\d+)?\s*{LAND_REGISTER_UNIT})", re.I), 1),
    ("LAND", re.compile(rf"\b(?:b[âa]tie?|construite?|édifiée?|implantée?)\s+sur\s+(?:plus\s+de\s+|environ\s+)?"
                        rf"({_NUM}){_M2}", re.I), 1),
    ("SURFACE", re.compile(rf"(?<![\w.,])({_NUM}){_M2}(?![ \t\u00a0]+(?:de\s+)?(?:terrain|jardin|parcelle))", re.I), 1),
    # a count of rooms: "4 pièces", "trois belles pièces" ("une pièce", "2 autres pièces": one room, a part)
    ("ROOMS", re.compile(rf"\b((?!une?\s)(?![^\n]{{0,4}}\s+autres)"
                         rf"(?:\d{{1,2}}\s+pi[eè]ces?|{_COUNT_WORD}\s+{_ADJ}pi[eè]ces))\b"
                         r"(?!\s+(?:de\s+vie|d'eau|à\s+vivre))", re.I), 1),
    ("ROOMS", re.compile(r"\b((?:[TF]|[Tt]ype\s?|TYPE\s?)\d{1,2})(?:\s*bis)?\b"), 1),
    ("ROOMS", re.compile(r"(?<=[a-zé] )([tf]\d{1,2})\b(?!\s*(?:m\b|m²|m2|%))"), 1),  # "ce t4 104m2", "charmant t2"
    ("ROOMS", re.compile(r"\b(\d{1,2}\s*\(pi[eè]ces?\))"), 1),  # "Maison Toulon Ouest 6 (pièces) 122m²"
    ("ROOMS", re.compile(r"\b([Ss]tudio)\b"), 1),
    ("BEDROOMS", re.compile(rf"\b({_COUNT_WORD}\s+{_ADJ}chambres?)\b", re.I), 1),
    ("BEDROOMS", re.compile(r"\b(\d{1,2}\s*(?:e|è|ème|eme)\s+chambre|(?:deuxième|troisième|quatrième|seconde)"
                            r"\s+chambre)\b", re.I), 1),
    ("BEDROOMS", re.compile(rf"\b((?:{_COUNT_WORD}\s+)?suites?\s+parentales?)\b", re.I), 1),
    ("BEDROOMS", re.compile(r"\b(\d{1,2}\s*(?:CH|[Cc]h)\b\.?)(?!\s*[a-zà-ÿ])"), 1),  # "2 CH + 1 MEZZANINE", "3 ch."
    # "..., autre chambre": one more than those named before (template: added to them)
    ("BEDROOMS", re.compile(rf"(?:[,:;\n•–-]|\bet)\s*((?:{_COUNT_WORD}\s+)?autres?\s+chambres?)\b", re.I), 1),
    ("BATHROOMS", re.compile(rf"\b((?:{_COUNT_WORD}\s+)?{_ADJ}salles?[\s-]+"
                             rf"(?:de[\s-]+bains?|d'eau|d’eau|de[\s-]+douches?))", re.I), 1),
    ("BATHROOMS", re.compile(rf"\b((?:{_COUNT_WORD}\s+)?(?:sdb|sde|SDB|SDE|S\.D\.[BE]\.?|s\.d\.[be]\.?))(?![\w.])"), 1),
    # a bedroom in a list of rooms ("séjour, cuisine, chambre et salle d'eau", "chambre n° 2"): one, or an ordinal
    ("BEDROOMS", re.compile(r"(?:[,:;\n•–-]|\bet)\s*"
                            r"([Cc]hambre(?:\s*n°\s*\d{1,2}|\s+\d{1,2}\b(?!\s*(?:m|,\d|\.\d)))?)\b"
                            r"(?!\s*(?:d['’]\s*h[ôo]tes?|froide|de\s+service|s\b))"), 1),
    ("YEAR", re.compile(r"(?:constru(?:it|ite|ction)|bâti[es]?|édifiée?|achevée?|livrée?|datant)\s+"
                        r"(?:en\s+|de\s+|:\s*)?"
                        r"(?:l'année\s+)?(1[89]\d\d|20[0-2]\d)\b", re.I), 1),
    ("YEAR", re.compile(r"(?:résidence|immeuble|copropriété|bâtiment|construction|maison|villa)\s+(?:récente?\s+)?"
                        r"(?:\(?de\s+|\(|datant\s+de\s+)(1[89]\d\d|20[0-2]\d)\b", re.I), 1),
    ("YEAR", re.compile(r"(?:résidence|immeuble|copropriété)\b[^.\n\d]{0,50}?\bde\s+(?:\d\s+étages?\s+de\s+)?"
                        r"(1[89]\d\d|20[0-2]\d)\b(?!\s*(?:€|m\b|m²|m2|euros?|lots?))", re.I), 1),
    ("YEAR", re.compile(r"année\s+de\s+construction\s*:?\s*(1[89]\d\d|20[0-2]\d)\b", re.I), 1),
    # "+33 6 ...", "0033 (0)4 ...", "06 12 ...", "06/12/34/56/78"; pairs apart by no-break or thin spaces (web copies)
    ("PHONE", re.compile(r"(?<![\d\w])((?:(?:\+33|0033)\s?(?:\(0\)\s?)?|[0O])[1-9]"
                         r"(?:[ \u00a0\u202f\u2009.\-/]{0,2}[0-9O]{2}){4})(?![\d])"), 1),
    ("OWNER", re.compile(rf"(?:iad France|SAFTI|Safti|Capifrance|Optimhome|Propriétés Privées)\s*-\s*({_NAME})"), 1),
    ("OWNER", re.compile(rf"(?:[Cc]ontact(?:ez|er|ant)?(?:\s+(?:vite|directement|direct|votre|notre|moi))*(?:\s+"
                         rf"(?:conseill[eè]re?|commerciale?|agent|négociat(?:eur|rice))(?:\s+SAFTI)?)?|appeler|"
                         rf"[Cc]onseill[eè]re?(?:\s+en\s+immobilier)?|[Pp]ropos[ée]e?s?\s+par|[Nn]égociat(?:eur|rice))"
                         rf"\s*:?\s*(?:(?:M\.|Mr\.?|Mme\.?|Madame|Monsieur|Me|Maître)\s+)?({_NAME})"), 1),
    ("OWNER", re.compile(rf"\n({_NAME})\s*[-–:,]?\s*(?:Tél\.?\s*:?\s*)?(?:\+33|0[1-9])[ .]?\d"), 1),
    ("CITY", re.compile(r"\b([Tt]oulon|TOULON)\b(?!\s*(?:\d|[-–]?\s*RSAC|,?\s*sous le num|n°))"), 1),
    ("CITY", re.compile(rf"(?:\bà|\bsur la commune de|\bsitu[ée]e? à)\s+({_NAME_PART}(?:[- ](?:sur|en|de|du|la|le|"
                        rf"les)?[- ]?{_NAME_PART})?)\s*\((?:\d{{5}}|\d\d)\)"), 1),
    ("CITY", re.compile(rf"\b({_NAME_PART}(?:-[A-Za-zÀ-ÿ]+)*)\s*\(\d{{5}}\)"), 1),
    ("POSTCODE", re.compile(r"\((\d{5}|\d\d\s\d{3})\)"), 1),
    ("POSTCODE", re.compile(r"\b(?:Toulon|TOULON)\s+(\d{5})\b"), 1),
    ("TYPE", re.compile(r"\b(appartement|maison|villa|studio|duplex|pavillon|bastide|terrain|immeuble|loft|mas|"
                        r"propriété|local commercial|parking|garage|T\d|F\d)\b", re.I), 1),
]
# fmt: on
NOT_LEGAL = re.compile(r"rsac|rcs|siret|siège|capital|immatricul|carte professionnelle|sas\b|sarl", re.I)


# what introduces the property's town: "à Vence", "sur la commune de", "au cœur de", "centre-ville de", "village de"
_TOWN_BEFORE = re.compile(
    r"(?:\b(?:à|a|sur|commune(?:\s+de)?|village(?:\s+de)?|ville(?:\s+de)?|bourg(?:\s+de)?|c(?:œ|oe)ur\s+de|"
    r"centre(?:[- ]ville)?\s+de|hauteurs\s+de|situ[ée]e?s?\s+(?:à|sur|en)|"
    r"sis(?:e|es)?\s+(?:à|sur)|en\s+plein\s+c(?:œ|oe)ur\s+de|proximit[ée]\s+imm[ée]diate\s+du\s+centre\s+de)"
    r"\s*(?:de\s+|d['’]\s*)?|\d{5}\s+)$",
    re.I,
)
_NOT_TOWN_BEFORE = re.compile(
    r"(?:notari|office|[ée]tude|agence|cabinet|mairie de|rsac|rcs|tribunal|greffe)[^.\n]{0,55}$|"
    r"vues?\s+(?:\w+\s+){0,2}sur\s*$",
    re.I,
)
_NOT_TOWN_AFTER = re.compile(r"\s*(?:[-–]?\s*RSAC|,?\s*sous le num|n°|\d{3}\s?\d{3}\s?\d{3})")


def title_mentions(text: str) -> list[Mention]:
    """The place of a generated title (:data:`rnnlab.ie.text.GENERATED_TITLE`) as the property's town."""
    m = GENERATED_TITLE.match(text)
    if not m:
        return []
    return [Mention("CITY", m.start("place"), m.end("place"), 1.0)]


def place_mentions(text: str) -> list[Mention]:
    """Gazetteer towns where an ad places the property: after "à", "commune de", "au cœur de"..., before or after
    a postcode ("Vence (06140)", "06140 Vence"), at the start of a line ("TOULON AGUILLON :"); not in an agency's,
    an office's or a registration's line, not "proche de", "à 10 min de", "entre ... et ..."."""
    out = []
    for start, end, _ in find_places(text):
        line_start = text.rfind("\n", 0, start) + 1
        before = text[max(line_start, start - 40) : start]
        after = text[end : end + 12]
        if _NOT_TOWN_BEFORE.search(text[max(0, start - 60) : start]) or NOT_LEGAL.search(before):
            continue
        if _NOT_TOWN_AFTER.match(after):
            continue
        at_line_start = not before.strip() and text[start:end].isupper()  # "TOULON AGUILLON / LAMALGUE :"
        if at_line_start or _TOWN_BEFORE.search(before) or re.match(r"\s*\(\d{5}\)", after):
            out.append(Mention("CITY", start, end, 1.0))
    return out


def _matches(text: str) -> Iterator[Mention]:
    yield from title_mentions(text)
    yield from place_mentions(text)
    for label, pattern, group in RULES:
        for m in pattern.finditer(text):
            start, end = m.span(group)
            if label in ("POSTCODE", "CITY", "PHONE", "OWNER") and NOT_LEGAL.search(text[max(0, start - 50) : start]):
                continue  # the agent's or agency's registration, not the property
            if label == "OWNER" and PARSERS["owner"](m.group(group)) is None:
                continue  # "APPELER LE", "Maisons France Confort": not a person
            yield Mention(label, start, end, 1.0)


def find_mentions(text: str) -> list[Mention]:
    """Every rule match, overlaps resolved: the longer span first, then the earlier rule; sorted by position."""
    return list(_find_mentions(text))


@lru_cache(maxsize=256)
def _find_mentions(text: str) -> tuple[Mention, ...]:  # remembered: the tagger's hints and its back-off read it
    chosen: list[Mention] = []
    order = {label: i for i, (label, _, _) in enumerate(RULES)}
    for m in sorted(_matches(text), key=lambda m: (-(m.end - m.start), order[m.label], m.start)):
        if all(m.end <= c.start or m.start >= c.end for c in chosen):
            chosen.append(m)
    return tuple(sorted(chosen, key=lambda m: m.start))
