"""A ``torch.nn.Sequential`` of rnnlab's layers and PyTorch's common ones, described as JSON and rebuilt.

:func:`rnnlab.save` writes such a stack as kind ``"Sequential"`` (each layer's name and arguments in
config.json, the weights in model.safetensors) and :func:`rnnlab.load` gives back a
``torch.nn.Sequential`` with the same keys, so the README's ``Sequential(GRU, Dense)`` trained
with ``fit`` saves and reloads like any rnnlab model. What it can hold: :data:`STACKABLE`,
rnnlab's recurrent layers and nested stacks; anything else is refused by name (a custom module:
save its ``state_dict()`` with ``safetensors.torch.save_file`` and rebuild it in your code).

>>> from rnnlab.nn import GRU, Dense
>>> config = StackConfig.describe(nn.Sequential(GRU(3, 16), nn.Dropout(0.1), Dense(16, 1)))
>>> [layer["layer"] for layer in config.layers]
['GRU', 'Dropout', 'Dense']
>>> Stack.from_config(config)[2]
Dense(in_features=16, out_features=1, bias=True, activation='linear')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from torch import nn

from rnnlab.config import Config
from rnnlab.errors import ConfigError
from rnnlab.nn.heads import Dense
from rnnlab.nn.layers import LAYERS

Args = Callable[[Any], dict[str, Any]]


def _none(m: nn.Module) -> dict[str, Any]:
    return {}


# name -> (class, the constructor arguments that rebuild a module like it)
STACKABLE: dict[str, tuple[type[nn.Module], Args]] = {
    "Dense": (
        Dense,
        lambda m: {"in_features": m.in_features, "out_features": m.out_features, "activation": m.activation},
    ),
    "Linear": (
        nn.Linear,
        lambda m: {"in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None},
    ),
    "Embedding": (
        nn.Embedding,
        lambda m: {"num_embeddings": m.num_embeddings, "embedding_dim": m.embedding_dim, "padding_idx": m.padding_idx},
    ),
    "LayerNorm": (
        nn.LayerNorm,
        lambda m: {
            "normalized_shape": list(m.normalized_shape),
            "eps": m.eps,
            "elementwise_affine": m.elementwise_affine,
        },
    ),
    "Dropout": (nn.Dropout, lambda m: {"p": m.p}),
    "Flatten": (nn.Flatten, lambda m: {"start_dim": m.start_dim, "end_dim": m.end_dim}),
    "Softmax": (nn.Softmax, lambda m: {"dim": m.dim}),
    "LogSoftmax": (nn.LogSoftmax, lambda m: {"dim": m.dim}),
    **{cls.__name__: (cls, _none) for cls in (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.Identity)},
}


def describe(module: nn.Module, where: str = "model") -> dict[str, Any]:
    """One layer as JSON: ``{"layer": name, "args": {...}}``, a recurrent layer's ``{"layer", "config"}``,
    a nested stack's ``{"layer": "Sequential", "layers": [...]}``."""
    kind = type(module)
    if kind is nn.Sequential:
        return {"layer": "Sequential",
                "layers": [describe(child, f"{where}[{i}]") for i, child in enumerate(module)]}  # fmt: skip
    if kind in LAYERS.values():
        return {"layer": kind.__name__, "config": module.config.to_dict()}  # type: ignore[union-attr]
    for name, (cls, args) in STACKABLE.items():
        if kind is cls:
            return {"layer": name, "args": args(module)}
    raise TypeError(f"cannot save {where}, a {kind.__name__}: a saved stack holds rnnlab's layers "
                    f"({', '.join(LAYERS)}), {', '.join(STACKABLE)} and nested Sequentials; save a custom "
                    "module's state_dict() with safetensors.torch.save_file")  # fmt: skip


def build(spec: Any, where: str = "layers") -> nn.Module:
    """The module one :func:`describe` entry stands for; a ConfigError names an entry that is not one."""
    if not isinstance(spec, dict) or not isinstance(spec.get("layer"), str):
        raise ConfigError(f"{where} must be an object with a 'layer' name, received {spec!r}")
    name = spec["layer"]
    if name == "Sequential":
        return nn.Sequential(*(build(s, f"{where}[{i}]") for i, s in enumerate(spec.get("layers", []))))
    if name in LAYERS:
        return LAYERS[name].from_config(LAYERS[name].config_class.from_dict(spec.get("config", {})))
    if name not in STACKABLE:
        raise ConfigError(f"{where}: unknown layer {name!r}; a stack holds {sorted([*LAYERS, *STACKABLE])}")
    try:
        return STACKABLE[name][0](**spec.get("args", {}))
    except TypeError as exc:
        raise ConfigError(f"{where}: {name} {exc}") from None


@dataclasses.dataclass(frozen=True)
class StackConfig(Config):
    """A ``torch.nn.Sequential``'s layers, in order, as :func:`describe` writes them."""

    kind = "Sequential"
    layers: tuple[dict[str, Any], ...] = ()

    @classmethod
    def describe(cls, stack: nn.Sequential) -> StackConfig:
        return cls(layers=tuple(describe(child, f"model[{i}]") for i, child in enumerate(stack)))


class Stack:
    """The registry's entry for kind ``"Sequential"``: builds a plain ``torch.nn.Sequential``."""

    config_class = StackConfig

    @classmethod
    def from_config(cls, config: StackConfig) -> nn.Sequential:
        return nn.Sequential(*(build(spec, f"layers[{i}]") for i, spec in enumerate(config.layers)))
