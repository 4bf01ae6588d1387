"""French real-estate ads → filled template: a char+word BiLSTM-CRF tagger finds the mentions, rules normalise them.

>>> from rnnlab.ie.extractor import Extractor
>>> t = Extractor.rules().extract("Appartement T3 de 71 m2 à Toulon, 2 chambres. 250 000 € honoraires inclus.")[0]
>>> {k: v["value"] for k, v in t.items() if v}  # doctest: +NORMALIZE_WHITESPACE
{'price_eur': 250000, 'surface_m2': 71, 'rooms': 3, 'bedrooms': 2, 'city': 'Toulon', 'property_type': 'appartement'}
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from rnnlab.data.text import iter_jsonl
from rnnlab.errors import ConfigError, DataError, ModelFileError
from rnnlab.ie import rules, weak
from rnnlab.ie.augment import augment
from rnnlab.ie.config import default_tagger_config, default_train_config
from rnnlab.ie.gazetteer import find_places
from rnnlab.ie.task import DEFAULT_MODEL, EXTRACTION, is_named
from rnnlab.ie.template import FIELDS, LABELS, NUMERIC, Mention, fill, score
from rnnlab.ie.text import tokenize
from rnnlab.tag.models import TaggerConfig
from rnnlab.tag.tagger import Tagger
from rnnlab.training import TrainConfig

TASK = EXTRACTION  # the task recorded in an extractor's tagging.json
MAX_CHARS = 20_000  # longer texts are refused at prediction, cut in training (an ad is 100-4,000 characters)
# the rules' label on a token, or PLACE on a gazetteer commune's name: the tagger's extra input (id 0: padding)
HINTS = ("O", *LABELS.values(), "PLACE")
_HINT_IDS = {label: i + 1 for i, label in enumerate(HINTS)}


def hints(
    text: str, tokens: Sequence[tuple[str, int, int]], *, drop: float = 0.0, rng: random.Random | None = None
) -> list[int]:
    """Per token: 1 + the index in ``HINTS`` of the label a rule gives it (1 = no rule matched).

    ``drop``: in training, the share of rule mentions left out at random, so that the tagger also learns to find
    what the rules miss (another site's phrasing)."""
    mentions = rules.find_mentions(text)
    if drop > 0:
        rng = rng or random.Random(0)
        mentions = [m for m in mentions if rng.random() >= drop]
    spans = [(m.start, m.end, _HINT_IDS[m.label]) for m in mentions]
    ids = _overlapping(tokens, spans, [1] * len(tokens))
    places = [(start, end, _HINT_IDS["PLACE"]) for start, end, _ in find_places(text)]
    return _overlapping(tokens, places, ids, only_unset=True)


def _overlapping(tokens: Sequence[tuple[str, int, int]], spans: Sequence[tuple[int, int, int]], ids: list[int],
                 *, only_unset: bool = False) -> list[int]:  # fmt: skip
    """``ids`` with each token that overlaps a (start, end, id) span (sorted, disjoint) set to that span's id
    (``only_unset``: only tokens still at 1, "no rule")."""
    k = 0
    for i, (_, start, end) in enumerate(tokens):
        while k < len(spans) and spans[k][1] <= start:
            k += 1
        if k < len(spans) and spans[k][0] < end and (not only_unset or ids[i] == 1):
            ids[i] = spans[k][2]
    return ids


def _dev_fields_trained(train: Sequence[Any], dev: Sequence[Any], dev_ads: Sequence[dict[str, Any]]) -> None:
    """The held-out dev ads mention no field that no training ad does (the tagger could not score them)."""

    def kinds(sentences: Sequence[Any]) -> set[str]:
        return {t.split("-", 1)[1] for s in sentences for t in s.tags if t != "O"}

    unseen = sorted(kinds(dev) - kinds(train))
    if unseen:
        ids = [str(ad.get("id", "?")) for ad in dev_ads][:5]
        raise DataError(f"the dev ads (the 10 % held out to pick the epoch: ids {ids}) mention {unseen}, which no "
                        "training ad does", hint="give more ads: each field in a few of them")  # fmt: skip


def town_words(ads: Sequence[dict[str, Any]]) -> set[str]:
    """The relocated copies' towns' words, kept out of the vocabulary: the tagger must find a town by its context,
    its letters and the gazetteer, not by remembering names."""
    names = {ad["fields"]["city"] for ad in ads if ad.get("relocated") and ad["fields"].get("city")}
    return {tok.lower() for name in names for tok, _, _ in tokenize(name) if tok.isalpha() and len(tok) > 3}


def split(ads: Sequence[dict[str, Any]], dev_fraction: float = 0.1) -> tuple[list[dict], list[dict]]:
    """The (training, dev) ads of :meth:`Extractor.fit`: a seeded shuffle, the first ``dev_fraction`` for dev."""
    order = list(range(len(ads)))
    random.Random(0).shuffle(order)
    n_dev = max(1, int(len(order) * dev_fraction)) if dev_fraction > 0 else 0
    return [ads[i] for i in order[n_dev:]], [ads[i] for i in order[:n_dev]]


def annotated_first(ads: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``ads`` without the unannotated copies of an ad that is also given with a ``gold`` template (same ``id``):
    a site's listings and the user's annotations of some of them can be trained on together."""
    annotated = {ad.get("id") for ad in ads if weak.is_annotated(ad)} - {None}
    return [ad for ad in ads if weak.is_annotated(ad) or ad.get("id") not in annotated]


def with_backoff(tagged: Sequence[Mention], ruled: Sequence[Mention]) -> list[Mention]:
    """The tagger's mentions, and the rules' for each field the tagger found nothing of (a back-off: the tagger
    decides where it speaks, the rules fill its silences)."""
    spoken = {m.label for m in tagged}
    return sorted([*tagged, *(m for m in ruled if m.label not in spoken)], key=lambda m: m.start)


DEFAULT_BACKOFF = ("price_eur",)  # the selection sets score the same with it; ``350 k€`` is read (issue 21)


def backoff_fields(backoff: Any) -> bool | list[str]:
    """``backoff`` checked: a bool (every field or none) or a list of template fields.

    >>> backoff_fields(["price_eur"]), backoff_fields(False)
    (['price_eur'], False)
    """
    if isinstance(backoff, bool):
        return backoff
    if isinstance(backoff, str) or not isinstance(backoff, Sequence) or not all(f in LABELS for f in backoff):
        raise ConfigError(f"the back-off fields must be a list of {list(LABELS)}, received {backoff!r}")
    return list(backoff)


class Extractor:
    """A recogniser (a trained :class:`~rnnlab.tag.tagger.Tagger`, or the rules when ``tagger`` is None) + the
    template filler of :mod:`rnnlab.ie.template`."""

    def __init__(self, tagger: Tagger | None = None, *, backoff: bool | Sequence[str] = False) -> None:
        self.tagger = tagger
        self.backoff = backoff_fields(backoff)

    @classmethod
    def rules(cls) -> Extractor:
        """The regex-only extractor (the benchmark's baseline and the ablation of the tagger)."""
        return cls(None)

    @property
    def kind(self) -> str:
        return "rules" if self.tagger is None else "tagger"

    # -- training ------------------------------------------------------------------------------------------------
    def fit(
        self,
        ads: Sequence[dict[str, Any]],
        *,
        config: TaggerConfig | None = None,
        train_config: TrainConfig | None = None,
        dev_fraction: float = 0.1,
        relocated: float = 0.5,
        rule_hints: bool = True,
        hint_dropout: float = 0.0,
        backoff: bool | Sequence[str] = DEFAULT_BACKOFF,
        gold_weight: int = 2,
        out_dir: str | Path | None = None,
        resume: bool = False,
        progress: bool = False,
    ) -> dict[str, Any]:
        """Weak labels from the ads' text + structured ``fields`` (:mod:`rnnlab.ie.weak`), then the tagger.

        A ``dev_fraction`` of the ads (labelled the same way) picks the epoch. An ad with a hand-annotated ``gold``
        template is labelled from it (:func:`rnnlab.ie.weak.gold_mentions`), counts ``gold_weight`` times in
        training and replaces an unannotated ad of the same ``id``.
        ``relocated``: copies of training ads moved to other towns (:mod:`rnnlab.ie.augment`), as a fraction of
        the training ads. ``rule_hints``: the rules' label of each token is an input of the tagger;
        ``hint_dropout``: the share of the training ads' rule mentions hidden from that input; ``backoff``: at
        prediction, the rules fill the fields the tagger finds nothing of (:func:`with_backoff`; True: every field,
        a list: those fields; saved with the model; by default the price, whose ``350 k€`` / ``1,2 M€`` forms the
        sites' ads rarely write). ``out_dir`` / ``resume``: the tagger's checkpoints, and continuing an interrupted
        run from them.
        """
        backoff = backoff_fields(backoff)
        if not 0.0 <= hint_dropout < 1.0:
            raise DataError(f"hint_dropout must be in [0, 1), received {hint_dropout}")
        if gold_weight < 1:
            raise DataError(f"gold_weight must be at least 1, received {gold_weight}")
        ads = [{**ad, "text": ad["text"][:MAX_CHARS]} for ad in annotated_first(ads)]
        if len(ads) < 2:
            raise DataError(f"extraction needs training ads, received {len(ads)}")
        train_ads, dev_ads = split(ads, dev_fraction)
        n_dev = len(dev_ads)
        train_ads = augment(train_ads, copies=relocated, seed=0)
        train_ads += [ad for ad in train_ads if weak.is_annotated(ad)] * (gold_weight - 1)
        train, dev = weak.label_ads(train_ads), weak.label_ads(dev_ads) or None
        _dev_fields_trained(train, dev or [], dev_ads)
        features = dev_features = None
        if rule_hints:
            rng = random.Random((train_config or default_train_config()).seed)
            features = [hints(ad["text"], tokenize(ad["text"]), drop=hint_dropout, rng=rng) for ad in train_ads]
            dev_features = [hints(ad["text"], tokenize(ad["text"])) for ad in dev_ads] if dev else None
        config = config or default_tagger_config()
        if rule_hints:  # every hint has an embedding row, seen in training or not
            config = dataclasses.replace(config, n_features=len(HINTS) + 1)
        tagger = Tagger(config, train_config or default_train_config(), scheme="BIOES",
                        extra_vectors=0, min_freq=2)  # fmt: skip
        excluded = weak.name_tokens(train + (dev or [])) | town_words(train_ads)
        info = tagger.fit(train, dev, embeddings="none", out_dir=out_dir, resume=resume, progress=progress,
                          exclude_words=excluded, features=features, dev_features=dev_features)  # fmt: skip
        tagger.info["task"] = TASK
        tagger.info["backoff"] = backoff
        tagger.info["train_ads"] = len(ads) - n_dev
        tagger.info["annotated_ads"] = sum(map(weak.is_annotated, ads))
        tagger.info["gold_weight"] = gold_weight
        tagger.info["relocated_copies"] = sum(bool(ad.get("relocated")) for ad in train_ads)
        self.tagger, self.backoff = tagger, backoff
        return info

    # -- prediction ----------------------------------------------------------------------------------------------
    def featurizer(self) -> Callable[[str, Sequence[tuple[str, int, int]]], list[int]] | None:
        """The tagger's per-token input (:func:`hints`), or None for a tagger trained without it; a model trained
        with fewer hints (an older rnnlab) reads the newer ones as "no rule"."""
        n_features = self.tagger.config.n_features if self.tagger is not None else 0
        if not n_features:
            return None

        def featurizer(text: str, tokens: Sequence[tuple[str, int, int]]) -> list[int]:
            return [i if i < n_features else 1 for i in hints(text, tokens)]

        return featurizer

    def mentions(self, texts: Sequence[str], *, batch_size: int = 32) -> list[list[Mention]]:
        if self.tagger is None:
            return [rules.find_mentions(t) for t in texts]
        known = set(LABELS.values())
        out: list[list[Mention]] = []
        for result in self.tagger.predict(
            list(texts), batch_size=batch_size, tokenizer=tokenize, featurizer=self.featurizer()
        ):
            out.append([Mention(s["type"], s["start"], s["end"], s["score"]) for s in result["spans"]
                        if s["type"] in known])  # fmt: skip
        if self.backoff:
            only = None if self.backoff is True else {LABELS[f] for f in self.backoff}  # some fields only
            out = [with_backoff(found, [m for m in rules.find_mentions(t) if only is None or m.label in only])
                   for found, t in zip(out, texts, strict=True)]  # fmt: skip
        return out

    def extract(self, texts: str | Sequence[str], *, batch_size: int = 32) -> list[dict[str, Any]]:
        """Templates (every field → {value, start, end, confidence, text} or None) of one or many ads."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise DataError(f"ad {i + 1} is {type(t).__name__}, not text", hint="pass the ads as strings")
        check_length(texts)
        return [fill(t, ms) for t, ms in zip(texts, self.mentions(texts, batch_size=batch_size), strict=True)]

    def evaluate(self, ads: Sequence[dict[str, Any]], *, batch_size: int = 32) -> dict[str, Any]:
        """Per-field P/R/accuracy, micro P/R/F1 and null accuracy against each ad's ``gold``; ads/s."""
        missing = [i + 1 for i, ad in enumerate(ads) if not weak.is_annotated(ad)]
        if missing:
            raise DataError(f"ads {missing[:5]} have no 'gold' template", line=missing[0],
                            hint='evaluate on lines like {"text": ..., "gold": {"price_eur": ..., ...}}')  # fmt: skip
        start = time.perf_counter()
        predicted = self.extract([ad["text"] for ad in ads], batch_size=batch_size)
        seconds = time.perf_counter() - start
        report = score([ad["gold"] for ad in ads], predicted)
        report["ads_per_s"] = len(ads) / max(seconds, 1e-9)
        report["recogniser"] = self.kind
        return report

    # -- files ---------------------------------------------------------------------------------------------------
    def save(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        if self.tagger is None:
            raise ModelFileError("the rule extractor has no weights to save")
        return self.tagger.save(directory, overwrite=overwrite)

    @classmethod
    def load(cls, directory: str | Path | None = None) -> Extractor:
        """A saved extractor (``None``: the model shipped with rnnlab)."""
        tagger = Tagger.load(DEFAULT_MODEL if directory is None else directory)
        if tagger.info.get("task") != TASK:
            raise ModelFileError(f"{directory} holds a tagger, not a real-estate extractor; "
                                 "train one with `rnnlab extract fit`")  # fmt: skip
        try:
            backoff = backoff_fields(tagger.info.get("backoff", False))
        except ConfigError as exc:
            raise ModelFileError(f"{Path(str(directory or DEFAULT_MODEL)) / 'tagging.json'}: training.backoff: {exc}; "
                                 "save the model again") from None  # fmt: skip
        return cls(tagger, backoff=backoff)


def check_length(texts: Sequence[str], *, path: str | Path | None = None, lines: Sequence[int] | None = None) -> None:
    """Refuse an ad longer than ``MAX_CHARS``, naming it (and its file and line when given): the template is filled
    from the whole ad, and reading only its start would silently lose what follows."""
    for i, text in enumerate(texts):
        if len(text) > MAX_CHARS:
            raise DataError(
                f"ad {i + 1} has {len(text):,} characters; the extractor reads at most {MAX_CHARS:,} (an ad is "
                "100-4,000)",
                path=path,
                line=(lines[i] or None) if lines is not None else None,
                hint="is it one ad? give one ad per JSON line (or per blank-line-separated block), or shorten it",
            )


@lru_cache(maxsize=1)
def _default() -> Extractor:
    return Extractor.load(None)


def resolve(model: str | Path | Extractor | None) -> Extractor:
    """An extractor from what a user names: None or ``"default"`` (the shipped model, loaded once), ``"rules"``
    (the regex baseline), a saved extractor's directory, or an :class:`Extractor`. A directory that exists
    wins over the two names."""
    if isinstance(model, Extractor):
        return model
    if model is None or (is_named(model) and str(model) == "default"):
        return _default()
    return Extractor.rules() if is_named(model) else Extractor.load(model)


def extract(text: str, model: str | Path | Extractor | None = None) -> dict[str, Any]:
    """The template of one ad: every field → ``{"value", "start", "end", "confidence", "text"}`` or None.

    ``model``: None for the model shipped with rnnlab, a saved extractor's directory, ``"rules"`` for the regex
    baseline, or an :class:`Extractor`.
    """
    if not isinstance(text, str):
        raise DataError(f"extract takes one ad as text, received {type(text).__name__}",
                        hint="use rnnlab.extract_batch for a list of ads")  # fmt: skip
    return resolve(model).extract([text])[0]


def extract_batch(texts: Sequence[str], model: str | Path | Extractor | None = None, *, batch_size: int = 32
                  ) -> list[dict[str, Any]]:  # fmt: skip
    """Templates of many ads, tagged in batches."""
    if isinstance(texts, str):  # list("an ad") would be one empty template per character
        raise DataError("extract_batch takes a list of ads, received one string",
                        hint="rnnlab.extract(text) for one ad, or extract_batch([text])")  # fmt: skip
    return resolve(model).extract(list(texts), batch_size=batch_size)


def _txt_ads(path: Path) -> list[dict[str, Any]]:
    """The ads of a ``.txt`` file, separated by blank lines (or lines of spaces), each with the line it starts on."""
    from rnnlab.data.text import read_text

    raw = read_text(path).replace("\r\n", "\n")  # UTF-8 or an error naming the file; an empty file is one too
    ads, start = [], 0
    for gap in [*re.finditer(r"\n[ \t\f\v]*\n", raw), None]:
        block = raw[start : gap.start() if gap else len(raw)]
        if block.strip():
            first = start + len(block) - len(block.lstrip())
            ads.append({"text": block.strip(), "line": raw.count("\n", 0, first) + 1})
        start = gap.end() if gap else len(raw)
    if not ads:
        raise DataError("no ad in it, only blank lines", path=path, hint="one ad per paragraph, a blank line between")
    return ads


def read_ads(path: str | Path, *, exclude: Sequence[str | Path] = ()) -> list[dict[str, Any]]:
    """Ads from a ``.jsonl`` file (``text`` + optional ``id``, ``fields``, ``gold``) or a ``.txt`` file (ads
    separated by blank lines). Ads whose id is in one of the ``exclude`` files are dropped."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path=path, hint="give a .jsonl file of ads or a .txt file")
    drop = {ad.get("id") for other in exclude for ad in read_ads(other)} - {None}
    if path.suffix.lower() in (".txt", ".text"):
        return _txt_ads(path)
    ads, dropped, example = [], 0, '{"id": "...", "text": "Vente appartement T3 ..."}'
    for n, row in iter_jsonl(path, example):
        if not isinstance(row.get("text"), str) or not row["text"].strip():
            raise DataError("an ad needs a non-empty 'text' string", path=path, line=n, hint=f"lines like {example}")
        ad_id = row.get("id")
        if ad_id is not None and not (
            isinstance(ad_id, str) or (isinstance(ad_id, int) and not isinstance(ad_id, bool))
        ):
            raise DataError(f"'id' is {json.dumps(ad_id, default=repr)[:40]}; it must be a string or a whole number",
                            path=path, line=n, hint='e.g. "id": "ad-123"')  # fmt: skip
        if ad_id in drop:
            dropped += 1
            continue
        for key in ("gold", "fields"):  # the annotation, and a site's structured fields: the same template
            if row.get(key) is not None:
                _check_template(row[key], key, path, n)
        ads.append({**row, "line": n})
    if not ads and dropped:
        raise DataError(f"every ad ({dropped}) has its id in the --exclude file(s) {[str(p) for p in exclude]}: none "
                        "is left", path=path, hint="check the --exclude files; ids are dropped wherever they come "
                        "from")  # fmt: skip
    if not ads:
        raise DataError("no ads", path=path, hint="one JSON object with a 'text' per line")
    return ads


def _check_template(values: Any, key: str, path: Path, line: int) -> None:
    """An ad's ``gold`` or ``fields``: an object of the template's fields with values of the right kind."""
    if not isinstance(values, dict):
        raise DataError(f"'{key}' is {json.dumps(values, ensure_ascii=False)[:40]}; it must be an object of the "
                        'template\'s fields, e.g. {"price_eur": 250000, "rooms": 3, "owner": null}', path=path,
                        line=line, hint=f"fix it, or drop '{key}'")  # fmt: skip
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise DataError(f"unknown {'gold ' if key == 'gold' else ''}fields {unknown}", path=path, line=line,
                        hint=f"the template's fields are {list(FIELDS)}")  # fmt: skip
    _check_gold_values(values, path, line, key)
    missing = [f for f in FIELDS if f not in values]
    if key == "gold" and missing:  # a left-out field was scored (and trained) as "the ad states none"
        raise DataError(f"the gold template lacks {missing}", path=path, line=line,
                        hint="write null for a field the ad does not state")  # fmt: skip


def _check_gold_values(gold: dict[str, Any], path: Path, line: int, key: str = "gold") -> None:
    """Gold values of the right kind: a finite number for the numeric fields, text for the others, or null; a value
    of another kind would be scored as a miss without a word."""
    for field, value in gold.items():
        if value is None:
            continue
        numeric = field in NUMERIC
        ok = (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
              ) if numeric else isinstance(value, str)  # fmt: skip
        if not ok:  # no field of the template is negative: such a value would only ever be scored as a miss
            shown = json.dumps(value, ensure_ascii=False, default=repr)[:60]
            kind = "a finite number >= 0" if numeric else "text"
            raise DataError(f"{key} {field!r} is {shown}; it must be {kind} or null", path=path, line=line,
                            hint="fix the annotation")  # fmt: skip
