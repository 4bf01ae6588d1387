"""Training-data augmentation: the development ads are all from Toulon, so copies of them are moved to other towns.

In a copy, every whole-word "Toulon" (in any case; not "toulonnais") becomes another commune, written in the same
case, and the Toulon postcodes become that commune's; the structured ``city`` / ``postcode`` follow, so the weak
labeller marks the new names. The tagger then learns what a town looks like in context instead of one word.

>>> ad = {"text": "TOULON Mourillon: T2 à Toulon (83000).", "fields": {"city": "Toulon", "postcode": "83000"}}
>>> moved = relocate(ad, ("Saint-Raphaël", "83700"))
>>> moved["text"], moved["fields"]["city"], moved["fields"]["postcode"]
('SAINT-RAPHAËL Mourillon: T2 à Saint-Raphaël (83700).', 'Saint-Raphaël', '83700')
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

COMMUNES: tuple[tuple[str, str], ...] = (
    ("Marseille", "13008"), ("Nice", "06000"), ("Hyères", "83400"), ("La Seyne-sur-Mer", "83500"),
    ("Six-Fours-les-Plages", "83140"), ("Sanary-sur-Mer", "83110"), ("Bandol", "83150"), ("Fréjus", "83600"),
    ("Saint-Raphaël", "83700"), ("Draguignan", "83300"), ("La Valette-du-Var", "83160"), ("La Garde", "83130"),
    ("Le Pradet", "83220"), ("Ollioules", "83190"), ("Brignoles", "83170"), ("Aix-en-Provence", "13100"),
    ("Aubagne", "13400"), ("La Ciotat", "13600"), ("Cassis", "13260"), ("Cannes", "06400"), ("Antibes", "06600"),
    ("Grasse", "06130"), ("Menton", "06500"), ("Avignon", "84000"), ("Montpellier", "34000"), ("Nîmes", "30000"),
    ("Perpignan", "66000"), ("Toulouse", "31000"), ("Bordeaux", "33000"), ("Arcachon", "33120"),
    ("Biarritz", "64200"), ("Pau", "64000"), ("Nantes", "44000"), ("Saint-Nazaire", "44600"), ("Rennes", "35000"),
    ("Brest", "29200"), ("Quimper", "29000"), ("Vannes", "56000"), ("Lorient", "56100"), ("Angers", "49000"),
    ("Tours", "37000"), ("Orléans", "45000"), ("Lyon", "69003"), ("Villeurbanne", "69100"), ("Grenoble", "38000"),
    ("Annecy", "74000"), ("Chambéry", "73000"), ("Saint-Étienne", "42000"), ("Clermont-Ferrand", "63000"),
    ("Dijon", "21000"), ("Besançon", "25000"), ("Strasbourg", "67000"), ("Colmar", "68000"), ("Metz", "57000"),
    ("Nancy", "54000"), ("Reims", "51100"), ("Lille", "59000"), ("Roubaix", "59100"), ("Amiens", "80000"),
    ("Rouen", "76000"), ("Le Havre", "76600"), ("Caen", "14000"), ("Cherbourg-en-Cotentin", "50100"),
    ("Le Mans", "72000"), ("Limoges", "87000"), ("Poitiers", "86000"), ("La Rochelle", "17000"),
    ("Niort", "79000"), ("Angoulême", "16000"), ("Périgueux", "24000"), ("Agen", "47000"), ("Albi", "81000"),
    ("Rodez", "12000"), ("Ajaccio", "20000"), ("Bastia", "20200"), ("Paris", "75011"), ("Boulogne-Billancourt",
    "92100"), ("Versailles", "78000"), ("Saint-Denis", "93200"), ("Montreuil", "93100"), ("Vincennes", "94300"),
    ("Meaux", "77100"), ("Chartres", "28000"), ("Évreux", "27000"), ("Troyes", "10000"), ("Auxerre", "89000"),
    ("Bourges", "18000"), ("Vichy", "03200"), ("Valence", "26000"), ("Gap", "05000"), ("Digne-les-Bains", "04000"),
    ("Manosque", "04100"), ("Arles", "13200"), ("Salon-de-Provence", "13300"), ("Martigues", "13500"),
    ("Saint-Tropez", "83990"), ("Sainte-Maxime", "83120"), ("Cogolin", "83310"), ("Le Beausset", "83330"),
)  # fmt: skip
_TOULON = re.compile(r"\b(?:Toulon|TOULON|toulon)\b(?![\w-])")
_POSTCODE = re.compile(r"\b83[012]00\b")


def relocate(ad: dict[str, Any], commune: tuple[str, str]) -> dict[str, Any]:
    """A copy of ``ad`` set in ``commune`` (name, postcode)."""
    name, postcode = commune

    def same_case(m: re.Match[str]) -> str:
        return name.upper() if m.group().isupper() else name.lower() if m.group().islower() else name

    text = _POSTCODE.sub(postcode, _TOULON.sub(same_case, ad["text"]))
    fields = dict(ad.get("fields") or {})
    if fields.get("city") == "Toulon":
        fields["city"] = name
        if fields.get("postcode") and _POSTCODE.fullmatch(str(fields["postcode"])):
            fields["postcode"] = postcode
    return {**ad, "text": text, "fields": fields, "id": f"{ad.get('id', '')}@{name}"}


def augment(ads: Sequence[dict[str, Any]], *, copies: float = 0.5, seed: int = 0) -> list[dict[str, Any]]:
    """``ads`` plus ``copies`` × len(ads) relocated copies of ads that name Toulon (random ads and towns)."""
    rng = random.Random(seed)
    movable = [ad for ad in ads if _TOULON.search(ad["text"])]
    extra = (
        [relocate(rng.choice(movable), rng.choice(COMMUNES)) for _ in range(int(len(ads) * copies))] if movable else []
    )
    return list(ads) + extra
