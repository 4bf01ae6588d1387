"""Config base: frozen dataclasses that round-trip through JSON and reject unknown keys."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Sequence
from typing import Any, ClassVar, Self, TypeVar, get_args, get_origin

from rnnlab.errors import ConfigError

T = TypeVar("T")


def doc(default: T, help: str, *, choices: Sequence[str] | None = None) -> T:
    """A config field's default with its documentation (and its allowed values): the CLI's options are generated
    from them (:mod:`rnnlab.cli.options`), so the Python and command-line defaults are one and the same.

    >>> @dataclasses.dataclass(frozen=True)
    ... class Demo(Config):
    ...     cell: str = doc("lstm", "the recurrent cell", choices=("lstm", "gru"))
    >>> Demo(), dataclasses.fields(Demo)[0].metadata["help"]
    (Demo(cell='lstm'), 'the recurrent cell')
    """
    metadata = {"help": help} if choices is None else {"help": help, "choices": tuple(choices)}
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class Config:
    """Base class of every rnnlab configuration.

    Subclasses are frozen dataclasses; ``to_dict``/``from_dict`` round-trip through
    plain JSON types and ``from_dict`` rejects unknown keys, naming the valid ones.

    >>> @dataclasses.dataclass(frozen=True)
    ... class Demo(Config):
    ...     hidden_size: int = 8
    >>> Demo.from_dict({"hidden_size": 4})
    Demo(hidden_size=4)
    >>> Demo.from_dict({"hiden_size": 4})
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: Demo got unknown key(s) ['hiden_size']; valid keys are ['hidden_size']
    """

    kind: ClassVar[str] = "config"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            out[field.name] = list(value) if isinstance(value, tuple) else value
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        if not isinstance(data, dict):
            raise ConfigError(f"{cls.__name__} expects a JSON object, received {type(data).__name__}")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ConfigError(f"{cls.__name__} got unknown key(s) {unknown}; valid keys are {sorted(names)}")
        hints = typing.get_type_hints(cls)
        kwargs = {k: _coerce(hints.get(k), v) for k, v in data.items()}
        for key, value in kwargs.items():
            _check_type(cls.__name__, key, hints.get(key), value)
        try:
            return cls(**kwargs)
        except TypeError as exc:  # a required key is missing
            raise ConfigError(f"{cls.__name__}: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> Self:
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


_SIMPLE: dict[Any, tuple[type, ...]] = {int: (int,), float: (int, float), bool: (bool,), str: (str,)}


def _check_type(owner: str, key: str, hint: Any, value: Any) -> None:
    """A JSON value of the wrong type for a plain field ("dropout": "0.4") is a ConfigError naming the field, not a
    TypeError from deep inside a comparison; fields of other types are left to the config's own checks."""
    options = get_args(hint) if get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    if value is None and type(None) in options:
        return
    simple = [o for o in options if o is not type(None)]
    if not simple or any(o not in _SIMPLE for o in simple):
        return
    for o in simple:
        if isinstance(value, _SIMPLE[o]) and not (o is not bool and isinstance(value, bool)):
            return
    expected = " or ".join(o.__name__ for o in simple) + (" or null" if type(None) in options else "")
    raise ConfigError(f"{owner}.{key} must be {expected}, received {value!r} ({type(value).__name__})")


def _coerce(hint: Any, value: Any) -> Any:
    """JSON has lists where the dataclass has tuples; turn them back."""
    if isinstance(value, list):
        origin = get_origin(hint)
        if origin is tuple or (
            origin in (typing.Union, types.UnionType) and any(get_origin(a) is tuple for a in get_args(hint))
        ):
            return tuple(value)
    return value
