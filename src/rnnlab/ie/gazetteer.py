"""French communes with their postcodes and départements (INSEE's COG + La Poste's postcodes): lookup and search.

The data file ``data/communes.tsv.gz`` (37,496 places: communes, municipal arrondissements, communes déléguées) is
built once by ``scripts/build_gazetteer.py`` from INSEE's Code officiel géographique and La Poste's base officielle
des codes postaux, both published under the Licence Ouverte / Open Licence 2.0 (Etalab); it loads in about 0.2 s.

>>> g = gazetteer()
>>> [p.name for p in g.lookup("St Gervais Les Bains")], g.lookup("La Seyne sur mer")[0].postcodes
(['Saint-Gervais-les-Bains'], ('83500',))
>>> g.consistent("Toulon", "83100"), g.consistent("Toulon", "06000"), g.consistent("Atlantis", "06000")
(True, False, None)
>>> text = "Villa à Saint-Paul-de-Vence (06570), proche de Vence. Vue mer."
>>> [(text[s:e], p.dep) for s, e, p in g.find(text)]
[('Saint-Paul-de-Vence', '06'), ('Vence', '06')]
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from rnnlab.ie.text import fold

DATA = Path(__file__).with_name("data") / "communes.tsv.gz"
SMALL_WORDS = {"de", "du", "des", "la", "le", "les", "l", "d", "sur", "sous", "en", "et", "lès", "lez", "aux", "a", "à"}
# single words that name a commune but are far more often a French word or a first name at a sentence's start
_COMMON = {
    "vue", "mer", "plan", "port", "bois", "pont", "ville", "centre", "prix", "quartier", "belle", "beaucoup", "sainte",
    "saint", "moulin", "maison", "mas", "bastide", "villa", "parc", "jardin", "piscine", "garage", "cave", "cour",
    "entree", "nord", "sud", "est", "ouest", "chambre", "vente", "achat", "notaire", "bureau", "terrain", "cuisine",
    "loire", "seine", "marne", "rhone", "var", "gard", "aude", "ain", "orne", "eure", "lot", "tarn", "cher", "indre",
    "saone", "vienne", "charente", "moselle", "meuse", "somme", "oise", "aisne", "dordogne", "gironde", "ariege",
    "savoie", "vendee", "morbihan", "finistere", "calvados", "manche", "nievre", "loiret", "yonne", "jura", "doubs",
    "vosges", "ardennes", "corse", "bretagne", "provence", "normandie", "alsace", "lorraine", "france", "europe",
    "eu", "y", "bar", "bu", "by", "oz", "ur", "us", "vic", "val", "mont", "mons", "puy", "chez", "font", "fay",
    "orange", "lumiere", "lumio", "beau", "bonne", "bon", "bel", "vert", "verte", "blanc", "blanche", "fleurs",
    "fontaine", "chateau", "eglise", "mairie", "gare", "tour", "tours", "place", "rue", "avenue", "route", "chemin",
    "marches", "arbres", "pins", "palmiers", "oliviers", "vignes", "champs", "pres", "plaine", "colline", "collines",
    "isle", "ile", "iles", "rive", "rives", "lac", "lacs", "etang", "source", "sources", "alpes", "pyrenees",
    "grand", "grande", "petit", "petite", "neuf", "neuve", "vieux", "vieille", "haut", "haute", "bas", "basse",
    "mars", "mai", "juin", "juillet", "aout", "mardi", "jeudi", "louis", "martin", "marie", "pierre", "vincent",
    "sauveur", "laurent", "florence", "denis", "germain", "pouvoir", "conde", "luc", "paul", "maxime", "raphael",
    "henri", "pol", "quentin", "valentin", "victor", "esprit", "cyr", "jean", "andre", "privat", "hilaire",
    "aucun", "son", "bouquet", "loue", "puits", "beaux", "confort", "ballon", "brette", "bouche", "bouches", "salles",
    "sault", "signes", "thiers", "vins", "autre", "autres", "lieu", "lieux", "voie", "voies", "marche", "arche",
}  # fmt: skip
_WORD = re.compile(r"[^\W\d_²³¹]+")
_LINKS = {"de", "du", "des", "d", "l", "le", "la", "les", "sur", "sous", "lès", "lez"}  # inside a name: "X de Y"
# words after which "de X" names a place rather than continuing a name: "commune de Vence", "centre de Nice"
_CONTEXT = {
    "commune", "village", "ville", "centre", "coeur", "bourg", "hauteurs", "proximite", "secteur", "quartier",
    "region", "environs", "pres", "proche", "portes", "sortie", "entree", "situee", "situe", "route", "gare", "port",
    "plage", "plages", "mairie", "lac", "vallee", "campagne", "minutes", "min", "km", "kms", "metres", "m",
}  # fmt: skip


class Place(NamedTuple):
    """A commune (kind "C"), a municipal arrondissement ("A") or a commune déléguée / associée ("D")."""

    name: str
    insee: str
    dep: str
    postcodes: tuple[str, ...]
    population: int
    kind: str
    parent: str


_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "s": "saint"}


def key(name: str) -> str:
    """A place name as compared: folded, hyphens and apostrophes as spaces, "St"/"Ste" written out."""
    words = _WORD.findall(fold(name))
    return " ".join(_ABBREVIATIONS.get(w, w) if i < len(words) - 1 else w for i, w in enumerate(words))


@lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    return fold(word)


def department(postcode: str) -> str:
    """The département of a postcode ("20xxx": Corsica, "2A"/"2B" by number; "97x": overseas)."""
    if postcode.startswith("97"):
        return postcode[:3]
    if postcode.startswith("20"):
        return "2A" if int(postcode) < 20200 else "2B"
    return postcode[:2]


class Gazetteer:
    """Places by name key, by postcode; :meth:`find` marks their names in a text."""

    def __init__(self, places: list[Place], keys: list[str] | None = None) -> None:
        self.places = places
        self.by_key: dict[str, list[Place]] = {}
        self.by_postcode: dict[str, list[Place]] = {}
        for p, k in zip(places, keys or [key(p.name) for p in places], strict=True):
            self.by_key.setdefault(k, []).append(p)
            for code in p.postcodes:
                self.by_postcode.setdefault(code, []).append(p)
        for found in self.by_key.values():
            found.sort(key=lambda p: (p.kind != "C", -p.population))
        self.max_words = max(len(k.split()) for k in self.by_key)
        self.prefixes = {tuple(k.split()[:n]) for k in self.by_key for n in range(1, len(k.split()) + 1)}

    def lookup(self, name: str, *, dep: str | None = None, postcode: str | None = None) -> list[Place]:
        """The places of that name (communes first, the most populous first), in ``dep`` / at ``postcode``."""
        found = self.by_key.get(key(name), [])
        if dep:
            found = [p for p in found if p.dep == dep.zfill(2)]
        if postcode:
            found = [p for p in found if postcode in p.postcodes]
        return found

    def consistent(self, city: str, postcode: str) -> bool | None:
        """Whether a commune of that name has that postcode (None: no commune of that name is known)."""
        found = self.lookup(city)
        if not found:
            return None
        return any(postcode in p.postcodes or (p.parent and postcode in self._parent_codes(p)) for p in found)

    def _parent_codes(self, p: Place) -> tuple[str, ...]:
        parents = self.by_key.get(key(p.parent), [])
        return tuple(code for q in parents for code in q.postcodes)

    def find(self, text: str) -> list[tuple[int, int, Place]]:
        """Non-overlapping place names written as names (capitalised; "les", "sur"... lower-case inside), the
        longest first; single common words ("Vue", "Mer", "Saint") only written in capitals."""
        words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        out: list[tuple[int, int, Place]] = []
        i = 0
        while i < len(words):
            match = self._longest(text, words, i)
            if match is None:
                i += 1
                continue
            j, place = match
            out.append((words[i][0], words[j][1], place))
            i = j + 1
        return out

    def _longest(self, text: str, words: list[tuple[int, int]], i: int) -> tuple[int, Place] | None:
        """The longest place name starting at word i (grown word by word while it is the start of some name)."""
        first = text[words[i][0] : words[i][1]]
        if not first[0].isupper():
            return None
        best, mapped = None, []
        for j in range(i, min(len(words), i + self.max_words)):
            if j > i and not self._joinable(text, words, j - 1):
                break
            word = _fold_word(text[words[j][0] : words[j][1]])
            mapped.append(_ABBREVIATIONS.get(word, word))
            if tuple(mapped) not in self.prefixes:
                break
            found = self.by_key.get(" ".join([*mapped[:-1], word]))
            if found and word not in SMALL_WORDS and not (i == j and word in _COMMON):
                best = (j, found[0])
        if best is not None and self._continues(text, words, i, best[0]):
            return None  # a longer name the gazetteer does not know ("La Guerche de Bgne", "St Bauzille de Montmel")
        return best

    def _continues(self, text: str, words: list[tuple[int, int]], i: int, j: int) -> bool:
        """Whether the name around words i..j goes on: "-de-Véroce" after it, "Bauzille de" before it."""
        if j + 2 < len(words) and self._joinable(text, words, j) and fold(text[slice(*words[j + 1])]) in SMALL_WORDS:
            return self._joinable(text, words, j + 1)
        if i >= 2 and fold(text[slice(*words[i - 1])]) in _LINKS and self._gap(text, words, i - 1):
            before = text[slice(*words[i - 2])]
            return self._gap(text, words, i - 2) and fold(before) not in _CONTEXT
        return False

    @staticmethod
    def _gap(text: str, words: list[tuple[int, int]], k: int) -> bool:
        """Words k and k + 1 are joined by spaces, a hyphen or an apostrophe (one name could hold them)."""
        gap = text[words[k][1] : words[k + 1][0]]
        return len(gap) <= 3 and gap.strip(" ") in ("", "-", "'", "’", "''")

    @classmethod
    def _joinable(cls, text: str, words: list[tuple[int, int]], k: int) -> bool:
        """Words k and k + 1 belong to one name: joined, the next one capitalised or a small word."""
        nxt = text[words[k + 1][0] : words[k + 1][1]]
        return cls._gap(text, words, k) and (nxt[0].isupper() or fold(nxt) in SMALL_WORDS)


@lru_cache(maxsize=256)
def find_places(text: str) -> tuple[tuple[int, int, Place], ...]:
    """:meth:`Gazetteer.find` of the shipped gazetteer, remembered for the last texts (the rules and the tagger's
    hints read the same ad)."""
    return tuple(gazetteer().find(text))


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The shipped gazetteer, read once."""
    places, keys = [], []
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        next(f)
        for line in f:
            name, insee, dep, codes, population, kind, parent, name_key = line.rstrip("\n").split("\t")
            places.append(Place(name, insee, dep, tuple(codes.split()), int(population), kind, parent))
            keys.append(name_key)
    return Gazetteer(places, keys)
