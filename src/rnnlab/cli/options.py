"""Command-line options generated from config dataclasses: the configs are the one source of every default.

Each field of a :class:`~rnnlab.config.Config` becomes one option: the flag is the field's name with dashes
(``hidden_size`` -> ``--hidden-size``), the type comes from the annotation (``bool`` -> ``--x/--no-x``,
``X | None`` also takes ``none``, tuples are comma lists, choices from :func:`rnnlab.config.doc`), the default
from the dataclass (or the instance given as a command's defaults) and the help from the field's documentation.
``--config FILE.json`` reads settings from a file; the flags given on the command line override it.

>>> import dataclasses, typer
>>> from rnnlab.config import Config, doc
>>> @dataclasses.dataclass(frozen=True)
... class Net(Config):
...     hidden_size: int = doc(8, "Hidden units.")
>>> options = ConfigOptions(model=Section(Net(), aliases={"hidden_size": ("--hidden",)}))
>>> app = typer.Typer()
>>> @app.command()
... @options
... def fit(out: str = typer.Option(...), model: Net = None) -> None:
...     print(out, model)
>>> from typer.testing import CliRunner
>>> print(CliRunner().invoke(app, ["--out", "m", "--hidden", "4"]).output.strip())
m Net(hidden_size=4)
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import typer

from rnnlab.config import Config
from rnnlab.errors import ConfigError, DataError

TITLES = {"model": "Model", "text": "Text", "train": "Training"}

# the options every fit command shares, written once (typer reads an OptionInfo without changing it)
OUT = typer.Option(..., "--out", help="Model directory to write.")
OVERWRITE = typer.Option(False, help="Replace a model already in --out.")
RESUME = typer.Option(
    False, help="Continue an interrupted fit into --out from its checkpoints (kept in <out>.partial until saved)."
)
PROGRESS = typer.Option(True, help="Show a progress bar.")
CONFIG_PARAM, CONTEXT_PARAM = "config_file", "_rnnlab_context"


@dataclasses.dataclass(frozen=True)
class Section:
    """One config of a command: ``defaults`` (an instance: its class gives the fields, its values the defaults),
    the fields set from the data (``exclude``, not options), the old flag names kept working (``aliases``, hidden
    from the help), a flag renamed where two sections share a field name (``flags``), and the fields whose old
    spelling of None was 0 (``zero_means_none``)."""

    defaults: Config
    exclude: frozenset[str] = frozenset()
    aliases: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    flags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    zero_means_none: frozenset[str] = frozenset()

    @property
    def cls(self) -> type[Config]:
        return type(self.defaults)

    def fields(self) -> list[dataclasses.Field]:
        return [f for f in dataclasses.fields(self.cls) if f.name not in self.exclude]

    def flag(self, name: str) -> str:
        return self.flags.get(name, "--" + name.replace("_", "-"))


@dataclasses.dataclass(frozen=True)
class _Option:
    section: str
    field: str
    param: str  # the keyword typer passes
    alias: bool = False


class ConfigOptions:
    """A decorator for a typer command: its parameters named as sections (``model``, ``train``, ``text``) are
    replaced by one option per field of their config plus ``--config``, and receive the configs built from the
    defaults, the file and the flags given, in this order of precedence."""

    def __init__(self, **sections: Section) -> None:
        self.sections = sections
        self._options: list[_Option] = []
        self._parameters: list[inspect.Parameter] = []
        seen: dict[str, str] = {}
        for name, section in sections.items():
            unknown = sorted(
                set(section.exclude) | set(section.aliases) | set(section.flags) | set(section.zero_means_none)
            )
            unknown = [k for k in unknown if k not in {f.name for f in dataclasses.fields(section.cls)}]
            if unknown:
                raise ValueError(f"{section.cls.__name__} has no field(s) {unknown}")
            hints = typing.get_type_hints(section.cls)
            for f in section.fields():
                flags = [section.flag(f.name), *section.aliases.get(f.name, ())]
                for flag in flags:
                    if flag in seen:
                        raise ValueError(f"{flag} would set both {seen[flag]} and {name}.{f.name}: rename one (flags=)")
                    seen[flag] = f"{name}.{f.name}"
                for i, flag in enumerate(flags):
                    option = _Option(name, f.name, f"{name}__{f.name}" + (f"__{i}" if i else ""), alias=i > 0)
                    self._options.append(option)
                    self._parameters.append(_parameter(option, flag, f, hints[f.name], section))

    # -- the decorator -------------------------------------------------------------------------------------------
    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(func, eval_str=True)
        missing = [name for name in self.sections if name not in signature.parameters]
        if missing:
            raise TypeError(f"{func.__name__} takes no parameter(s) {missing} to receive the configs")
        kept = [p for p in signature.parameters.values() if p.name not in self.sections]
        extra = [
            inspect.Parameter(
                CONFIG_PARAM,
                inspect.Parameter.KEYWORD_ONLY,
                default=typer.Option(
                    None,
                    "--config",
                    help="A JSON file of settings: an object with "
                    + ", ".join(f'"{s}"' for s in self.sections)
                    + " objects, or their keys side by side; the flags given override it.",
                ),
                annotation=str | None,
            ),
            inspect.Parameter(CONTEXT_PARAM, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context),
        ]

        @functools.wraps(func)
        def command(**values: Any) -> Any:
            context = values.pop(CONTEXT_PARAM)
            given = {
                o.param
                for o in self._options
                if getattr(context.get_parameter_source(o.param), "name", "") in ("COMMANDLINE", "ENVIRONMENT")
            }
            generated = {o.param: values.pop(o.param) for o in self._options}
            configs = self.build(generated, given, values.pop(CONFIG_PARAM))
            return func(**values, **configs)

        parameters = [*kept, *self._parameters, *extra]
        command.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        del command.__wrapped__  # typer reads the signature above, not the function's own
        return command

    # -- building the configs ------------------------------------------------------------------------------------
    def build(self, values: Mapping[str, Any], given: set[str], path: str | None = None) -> dict[str, Config]:
        """The configs: each section's defaults, updated by the file at ``path``, then by the ``values`` of the
        options whose keyword is in ``given`` (typed on the command line)."""
        settings = {name: s.defaults.to_dict() for name, s in self.sections.items()}
        if path is not None:
            for name, data in self.read(path).items():
                settings[name].update(data)
        typed: dict[tuple[str, str], str] = {}
        for o in self._options:
            if o.param in given:
                key = (o.section, o.field)
                if key in typed:
                    flags = [self.sections[o.section].flag(o.field), *self.sections[o.section].aliases[o.field]]
                    raise ConfigError(f"{' and '.join(flags)} name the same setting: give it once")
                typed[key] = o.param
                settings[o.section][o.field] = values[o.param]
        try:
            return {name: s.cls.from_dict(settings[name]) for name, s in self.sections.items()}
        except ConfigError as exc:
            where = f" (settings from {path} and the command line)" if path else ""
            raise ConfigError(self.named(str(exc)) + where) from None

    def named(self, message: str) -> str:
        """A config's message that opens with a field's name, with the option that sets it ("members must be a
        positive integer" → "members (--members) must be ..."): the user typed flags, not field names."""
        match = re.match(r"(\w+)(?! \(--)(?=\W)", message)
        if match is None:
            return message
        flags = {o.field: self.sections[o.section].flag(o.field) for o in self._options if not o.alias}
        flag = flags.get(match.group(1))
        return message if flag is None else f"{match.group(1)} ({flag}){message[match.end() :]}"

    def read(self, path: str) -> dict[str, dict[str, Any]]:
        """The settings of a ``--config`` file, by section: ``{"model": {...}, "train": {...}}`` or the keys side
        by side (each goes to the section with that field); unknown keys are refused, naming the valid ones."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"), object_pairs_hook=_unique_keys(path))
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON: {exc.msg}", path=path, line=exc.lineno, column=exc.colno) from None
        except UnicodeDecodeError:
            raise DataError("not UTF-8 text", path=path, hint="save it as UTF-8 JSON") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: --config expects a JSON object, received {type(data).__name__}")
        out: dict[str, dict[str, Any]] = {name: {} for name in self.sections}
        flat: dict[str, Any] = {}
        for key, value in data.items():
            if key in self.sections and isinstance(value, dict):
                out[key].update(self._checked(path, key, value))
            else:
                flat[key] = value
        every = sorted({f.name for s in self.sections.values() for f in s.fields()})
        for key, value in flat.items():
            owners = [n for n, s in self.sections.items() if key in {f.name for f in s.fields()}]
            if len(owners) > 1:
                objects = " or ".join(repr(o) for o in owners)
                raise ConfigError(
                    f"{path}: {key!r} is a setting of {' and '.join(owners)}: put it in a {objects} object"
                )
            if not owners:
                unknown = sorted(set(flat) - set(every))
                sections = list(self.sections)
                raise ConfigError(
                    f"{path}: unknown key(s) {unknown}; valid keys are {every} (or the sections {sections})"
                )
            if key in out[owners[0]]:
                raise ConfigError(f"{path}: {key!r} is given twice, in the {owners[0]!r} object and beside it; "
                                  "keep one")  # fmt: skip
            out[owners[0]][key] = value
        return out

    def _checked(self, path: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
        section = self.sections[name]
        valid = sorted(f.name for f in section.fields())
        unknown = sorted(set(data) - set(valid))
        fixed = sorted(set(unknown) & set(section.exclude))
        if fixed:
            raise ConfigError(f"{path}: {fixed} in {name!r} are set from the data, not from a config file")
        if unknown:
            raise ConfigError(f"{path}: unknown key(s) {unknown} in {name!r}; valid keys are {valid}")
        return data

    def flags(self, **configs: Config) -> dict[str, Any]:
        """The settings of ``configs`` keyed by their flags' names (``hidden_size``, ``train_strategy``): what a
        command records beside its checkpoints (``--resume`` compares them)."""
        out = {}
        for name, config in configs.items():
            section = self.sections[name]
            for f in section.fields():
                value = getattr(config, f.name)
                out[section.flag(f.name)[2:].replace("-", "_")] = list(value) if isinstance(value, tuple) else value
        return out


# -- one option ----------------------------------------------------------------------------------------------------
def _documentation(cls: type[Config], field: dataclasses.Field) -> tuple[str, tuple[str, ...] | None]:
    if "help" in field.metadata:
        return field.metadata["help"], field.metadata.get("choices")
    raise ValueError(f"{cls.__name__}.{field.name} has no documentation: declare it with doc(default, help)")


def _parameter(option: _Option, flag: str, field: dataclasses.Field, hint: Any, section: Section) -> inspect.Parameter:
    help, choices = _documentation(section.cls, field)
    default = getattr(section.defaults, field.name)
    panel = TITLES.get(option.section, option.section.title())
    if hint is bool:
        decl = flag if "/" in flag else f"{flag}/--no-{flag[2:]}"
        info = typer.Option(default, decl, help=help, rich_help_panel=panel, hidden=option.alias)
        return inspect.Parameter(option.param, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=bool)
    parse, metavar = _parser(hint, choices, zero_means_none=field.name in section.zero_means_none)
    if field.name in section.zero_means_none:  # --max-len 0 read as none: said, not guessed
        help = f"{help} 0 also means none."
    shown = "none" if default is None else ",".join(map(str, default)) if isinstance(default, tuple) else True
    info = typer.Option(
        default,
        flag,
        help=help,
        metavar=metavar,
        parser=parse,
        show_default=shown,
        rich_help_panel=panel,
        hidden=option.alias,
    )
    return inspect.Parameter(option.param, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=Any)


NAMES = {int: ("INTEGER", "an integer"), float: ("FLOAT", "a number"), str: ("TEXT", "text")}


def _parser(hint: Any, choices: tuple[str, ...] | None, *, zero_means_none: bool) -> tuple[Callable, str]:
    """A function from the typed text to the field's value (its error says what the option takes), and the
    option's metavar: ``INTEGER``, ``FLOAT|none``, ``[lstm|gru]``, ``INTEGER,...``."""
    args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    optional = type(None) in args
    kinds = [a for a in args if a is not type(None)]
    many = typing.get_origin(kinds[0]) is tuple
    if many:
        kinds = [typing.get_args(kinds[0])[0]]
    if choices:
        metavar = "[" + "|".join([*choices, *(["none"] if optional else [])]) + "]"
        what = "one of " + ", ".join(choices)
    else:
        metavar = "|".join(NAMES[k][0] for k in kinds) + (",..." if many else "") + ("|none" if optional else "")
        what = " or ".join(NAMES[k][1] for k in kinds)
        what = f"a comma-separated list of {what.split(' ', 1)[-1]}s" if many else what
    what += " or none" if optional else ""

    def one(text: str) -> Any:
        for kind in kinds:
            with contextlib.suppress(ValueError):
                value = kind(text.strip())
                if not choices or value in choices:
                    return value
        raise typer.BadParameter(f"{text!r} is not {what}")

    def parse(value: Any) -> Any:
        if not isinstance(value, str):  # the default, already typed
            return value
        if optional and (value.strip().lower() == "none" or (zero_means_none and value.strip() in ("0", "0.0"))):
            return None
        if many:
            return tuple(one(item) for item in value.split(",") if item.strip())
        return one(value)

    return parse, metavar


def _unique_keys(path: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """json's object_pairs_hook refusing a key given twice in one object (json keeps the last one silently)."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ConfigError(f"{path}: key(s) {twice} given twice in one object; keep one")
        return dict(pairs)

    return hook
