"""Training-data augmentation: copies of training ads moved to other French communes.

A site's ads name few towns (bienici: Toulon only; notaires: 11 départements), so copies of them are moved to
communes drawn from the gazetteer (:mod:`rnnlab.ie.gazetteer`). In a copy, every whole-word occurrence of the ad's
town (its structured ``city``, in any case, hyphens or spaces; not "toulonnais") becomes the new commune written in
the same case, the town's postcodes become the commune's, a generated title's département number follows; the
structured ``city`` / ``postcode`` follow too, so the weak labeller marks the new names. The tagger then learns
what a town looks like in context, not a list of names.

Communes whose INSEE code ends in 7 (``is_probe``) are never drawn: the benchmark's town-swap probe moves the
annotated ads to them, so it measures towns in no training ad.

>>> ad = {"text": "TOULON Mourillon: T2 à Toulon (83000).", "fields": {"city": "Toulon", "postcode": "83000"}}
>>> moved = relocate(ad, ("Saint-Raphaël", "83700"))
>>> moved["text"], moved["fields"]["city"], moved["fields"]["postcode"]
('SAINT-RAPHAËL Mourillon: T2 à Saint-Raphaël (83700).', 'Saint-Raphaël', '83700')
>>> relocate({"text": "Achat :Maison / villa- St Gervais Les Bains - Haute-Savoie (74)\\nMaison à St Gervais.",
...           "fields": {"city": "St Gervais Les Bains"}}, ("Vence", "06140"))["text"]
'Achat :Maison / villa- Vence - Haute-Savoie (06)\\nMaison à St Gervais.'
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from rnnlab.ie.gazetteer import department, gazetteer
from rnnlab.ie.text import GENERATED_TITLE
from rnnlab.ie.weak import is_annotated


def is_probe(insee: str) -> bool:
    """Communes kept out of every relocation (the benchmark's unseen towns)."""
    return insee.endswith("7")


@lru_cache(maxsize=1)
def communes() -> tuple[tuple[str, str], ...]:
    """(name, postcode) of the communes relocation draws from: every commune of over 2,000 inhabitants with a
    postcode, except the probe's."""
    return tuple(
        (p.name, p.postcodes[0])
        for p in gazetteer().places
        if p.kind == "C" and p.population >= 2000 and p.postcodes and not is_probe(p.insee)
    )


def _town_pattern(city: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in re.findall(r"[^\W\d_]+", city)]
    return re.compile(r"(?<![\w-])" + r"[\s'’-]+".join(words) + r"(?![\w-])", re.I)


def relocate(ad: dict[str, Any], commune: tuple[str, str]) -> dict[str, Any]:
    """A copy of ``ad`` set in ``commune`` (name, postcode)."""
    name, postcode = commune
    fields = dict(ad.get("fields") or {})
    city, old_postcode = fields.get("city"), fields.get("postcode")
    text = ad["text"]
    if not city:
        return {**ad, "fields": fields}

    def same_case(m: re.Match[str]) -> str:
        return name.upper() if m.group().isupper() else name.lower() if m.group().islower() else name

    title = GENERATED_TITLE.match(text)
    start = 0
    if title:  # the site's own title: the place and the département number
        head = text[: title.start("place")] + name + text[title.end("place") : title.start("dep")]
        head += department(postcode)
        start = len(head)
        text = head + text[title.end("dep") :]
    text = text[:start] + _town_pattern(city).sub(same_case, text[start:])
    codes = {str(old_postcode)} if old_postcode else set()
    if city.casefold() == "toulon":
        codes |= {"83000", "83100", "83200"}
    for code in codes:
        text = re.sub(rf"(?<![\d\w]){code}(?![\d\w])", postcode, text)
    fields["city"] = name
    if old_postcode:
        fields["postcode"] = postcode
    return {**ad, "text": text, "fields": fields, "id": f"{ad.get('id', '')}@{name}", "relocated": True}


def augment(ads: Sequence[dict[str, Any]], *, copies: float = 0.5, seed: int = 0) -> list[dict[str, Any]]:
    """``ads`` plus ``copies`` × len(ads) relocated copies of ads whose text names their town (random ads and
    communes; an ad annotated by hand stays where it is: its template names its town)."""
    rng = random.Random(seed)
    movable = [ad for ad in ads if (ad.get("fields") or {}).get("city") and not is_annotated(ad) and
               _town_pattern(ad["fields"]["city"]).search(ad["text"])]  # fmt: skip
    pool = communes()
    extra = [relocate(rng.choice(movable), rng.choice(pool)) for _ in range(int(len(ads) * copies))] if movable else []
    return list(ads) + extra
