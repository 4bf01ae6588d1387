"""Model directories: round-trips for every layer type and clear errors for bad directories."""

import json
import os

import pytest
import torch

import rnnlab
from rnnlab import ModelFileError, load, save
from rnnlab.nn import GRU, LSTM, SimpleRNN

x = torch.randn(2, 5, 3)


@pytest.mark.parametrize(
    "layer",
    [
        SimpleRNN(3, 4, activation="relu", num_layers=2),
        LSTM(3, 4, bidirectional=True, return_sequences=True, return_state=True, merge_mode="mul"),
        GRU(3, 4, reset_after=False, recurrent_dropout=0.3, dropout=0.2, num_layers=2),
    ],
    ids=["SimpleRNN", "LSTM", "GRU"],
)
def test_round_trip(layer, tmp_path):
    save(layer, tmp_path / "m")
    again = load(tmp_path / "m")
    assert type(again) is type(layer) and again.config == layer.config and not again.training
    a, b = layer.eval()(x), again(x)
    for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,), strict=True):
        assert torch.equal(u, v)


def test_directory_layout_is_json_and_safetensors(tmp_path):
    save(LSTM(3, 4), tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    header = json.loads((tmp_path / "m" / "config.json").read_text())
    assert header["kind"] == "LSTM" and header["format_version"] == 1
    assert header["rnnlab_version"] == rnnlab.__version__
    assert header["config"]["hidden_size"] == 4
    raw = (tmp_path / "m" / "model.safetensors").read_bytes()
    assert b"rnn.weight_ih_l0" in raw[:2000] and not raw.startswith(b"PK")  # not a torch zip/pickle


def test_save_never_overwrites_without_permission(tmp_path):
    target = tmp_path / "m"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="is not empty; pass overwrite=True"):
        save(GRU(3, 4), target)
    save(GRU(3, 4), target, overwrite=True)
    assert (target / "notes.txt").read_text() == "mine"
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is not a directory"):
        save(GRU(3, 4), tmp_path / "file")


def test_unsaveable_model(tmp_path):
    with pytest.raises(TypeError, match="cannot save a Linear"):
        save(torch.nn.Linear(2, 2), tmp_path / "m")


def _saved(tmp_path):
    save(GRU(3, 4), tmp_path / "m")
    return tmp_path / "m"


def _edit_header(directory, **changes):
    path = directory / "config.json"
    header = json.loads(path.read_text())
    header.update(changes)
    path.write_text(json.dumps(header))


def test_newer_format_is_refused(tmp_path):
    d = _saved(tmp_path)
    _edit_header(d, format_version=99, rnnlab_version="9.0")
    with pytest.raises(ModelFileError, match=r"format_version 99 \(written by rnnlab 9.0\).*upgrade rnnlab"):
        load(d)


def test_missing_files(tmp_path):
    with pytest.raises(ModelFileError, match="is not a directory"):
        load(tmp_path / "nothing")
    d = _saved(tmp_path)
    (d / "model.safetensors").unlink()
    with pytest.raises(ModelFileError, match=r"model.safetensors is missing"):
        load(d)
    (d / "config.json").unlink()
    with pytest.raises(ModelFileError, match=r"config.json is missing"):
        load(d)


def test_mismatched_shapes(tmp_path):
    d = _saved(tmp_path)
    _edit_header(d, config={**json.loads((d / "config.json").read_text())["config"], "hidden_size": 5})
    with pytest.raises(ModelFileError, match=r"rnn.weight_hh_l0 has shape \(12, 4\) in the file but \(15, 5\)"):
        load(d)


def test_unknown_kind_and_keys(tmp_path):
    d = _saved(tmp_path)
    _edit_header(d, kind="Transformer")
    with pytest.raises(ModelFileError, match=r"unknown model kind 'Transformer'; known kinds: \[.*'GRU', 'LSTM'"):
        load(d)
    _edit_header(d, kind="GRU", config={"input_size": 3, "hidden_size": 4, "colour": "red"})
    with pytest.raises(ModelFileError, match=r"unknown key\(s\) \['colour'\]"):
        load(d)


def test_invalid_json_names_line_and_column(tmp_path):
    d = _saved(tmp_path)
    (d / "config.json").write_text('{\n  "kind": ,\n}')
    with pytest.raises(ModelFileError, match=r"config.json:2:\d+: invalid JSON"):
        load(d)


def test_corrupt_weights(tmp_path):
    d = _saved(tmp_path)
    (d / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelFileError, match="not a readable safetensors file"):
        load(d)


def test_registered_model_with_vocabulary_assets(tmp_path):
    """A task model keeps its vocabulary beside the weights, as JSON."""
    import dataclasses

    from rnnlab.config import Config
    from rnnlab.io import register_model

    @dataclasses.dataclass(frozen=True)
    class TinyConfig(Config):
        kind = "TinyTagger"
        vocab_size: int = 3
        hidden_size: int = 4

    @register_model
    class TinyTagger(torch.nn.Module):
        config_class = TinyConfig

        def __init__(self, config):
            super().__init__()
            self.config = config
            self.embed = torch.nn.Embedding(config.vocab_size, config.hidden_size)
            self.vocab = {}

        @classmethod
        def from_config(cls, config):
            return cls(config)

        def get_assets(self):
            return {"vocab": self.vocab}

        def load_assets(self, assets):
            self.vocab = assets["vocab"]

    model = TinyTagger(TinyConfig())
    model.vocab = {"<pad>": 0, "maison": 1, "été": 2}
    save(model, tmp_path / "m")
    assert json.loads((tmp_path / "m" / "vocab.json").read_text(encoding="utf-8"))["été"] == 2
    again = load(tmp_path / "m")
    assert again.vocab == model.vocab and torch.equal(again.embed.weight, model.embed.weight)
    (tmp_path / "m" / "vocab.json").unlink()
    with pytest.raises(ModelFileError, match=r"vocab.json is missing; config.json lists it as an asset"):
        load(tmp_path / "m")
    with pytest.raises(ValueError, match="model kind 'TinyTagger' is already registered"):
        register_model(type("Other", (torch.nn.Module,), {"config_class": TinyConfig}))


def test_saved_files_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        save(GRU(3, 4), tmp_path / "m")
    finally:
        os.umask(previous)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "m").iterdir()}
    assert modes and set(modes.values()) == {0o644}, modes


def _tamper(directory, **changes):
    header = json.loads((directory / "config.json").read_text())
    header.update(changes)
    (directory / "config.json").write_text(json.dumps(header))


@pytest.mark.parametrize("name", ["../../x", "/etc/passwd", "a/b", ".hidden", 3])
def test_asset_names_are_plain_names(tmp_path, name):
    save(GRU(3, 4), tmp_path / "m")
    _tamper(tmp_path / "m", assets=[name])
    with pytest.raises(ModelFileError, match="not a plain name"):
        load(tmp_path / "m")


def test_a_config_symlinked_out_of_the_directory_is_refused(tmp_path):
    save(GRU(3, 4), tmp_path / "m")
    (tmp_path / "m" / "config.json").rename(tmp_path / "elsewhere.json")
    (tmp_path / "m" / "config.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(ModelFileError, match="leads outside"):
        load(tmp_path / "m")


def test_asset_symlinks_out_of_the_directory_are_refused(tmp_path):
    save(GRU(3, 4), tmp_path / "m")
    (tmp_path / "secret.json").write_text("{}")
    (tmp_path / "m" / "labels.json").symlink_to(tmp_path / "secret.json")
    _tamper(tmp_path / "m", assets=["labels"])
    with pytest.raises(ModelFileError, match="leads outside"):
        load(tmp_path / "m")


def test_saving_an_asset_named_like_a_path_writes_nothing_outside(tmp_path):
    layer = GRU(3, 4)
    layer.get_assets = lambda: {"../escape": 1}
    with pytest.raises(ModelFileError, match="not a plain name"):
        save(layer, tmp_path / "m")
    assert not (tmp_path / "escape.json").exists() and not (tmp_path / "m").exists()


def test_an_asset_that_is_not_json_names_its_file(tmp_path):
    save(GRU(3, 4), tmp_path / "m")
    (tmp_path / "m" / "labels.json").write_text("{not json")
    _tamper(tmp_path / "m", assets=["labels"])
    with pytest.raises(ModelFileError, match=r"labels\.json is not valid JSON"):
        load(tmp_path / "m")


@pytest.mark.parametrize("hidden", [5, 20_000, 10**9])
def test_an_edited_config_is_refused_before_anything_is_built(tmp_path, hidden):
    save(GRU(3, 4), tmp_path / "m")
    header = json.loads((tmp_path / "m" / "config.json").read_text())
    header["config"]["hidden_size"] = hidden
    (tmp_path / "m" / "config.json").write_text(json.dumps(header))
    # hidden 10**9 built for real would need 12 * 10**18 bytes: the error comes before any allocation
    message = r"cannot be built" if hidden == 10**9 else r"weight_hh_l0 has shape \(12, 4\) in the file"
    with pytest.raises(ModelFileError, match=message):
        load(tmp_path / "m")
    assert torch.empty(0).device.type == "cpu"  # the meta device did not leak


@pytest.mark.parametrize("version", ["1", 1.0, True, 0, -3, None])
def test_a_format_version_that_is_not_a_whole_number_is_named_not_an_upgrade(tmp_path, version):
    save(GRU(3, 4), tmp_path / "m")
    _tamper(tmp_path / "m", format_version=version)
    with pytest.raises(ModelFileError, match="must be a whole number") as info:
        load(tmp_path / "m")
    assert "upgrade" not in str(info.value)


def test_the_readme_sequential_trained_with_fit_saves_and_reloads(tmp_path):
    """The README's `torch.nn.Sequential(GRU(3, 16), Dense(16, 1))` trained with `fit`: rnnlab.save writes it as
    config.json + safetensors (kind Sequential) and rnnlab.load gives back a Sequential with the same outputs."""
    import torch.nn.functional as F
    from torch.utils.data import TensorDataset

    from rnnlab.nn import Dense
    from rnnlab.training import Objective, TrainConfig, fit

    torch.manual_seed(0)
    data = TensorDataset(torch.randn(32, 6, 3), torch.randn(32, 1))
    model = torch.nn.Sequential(GRU(3, 16), torch.nn.Dropout(0.1), Dense(16, 1, activation="tanh"))
    objective = Objective(loss=lambda m, b: F.mse_loss(m(b[0]), b[1]))
    fit(model, data, data, objective=objective, config=TrainConfig(max_epochs=1, batch_size=16, seed=0))
    rnnlab.save(model, tmp_path / "stack")
    header = json.loads((tmp_path / "stack" / "config.json").read_text())
    assert header["kind"] == "Sequential" and [s["layer"] for s in header["config"]["layers"]] == [
        "GRU", "Dropout", "Dense"]  # fmt: skip
    again = rnnlab.load(tmp_path / "stack")
    assert type(again) is torch.nn.Sequential and not again.training
    assert again[2].activation == "tanh" and again[0].config == model[0].config
    torch.testing.assert_close(again(x), model.eval()(x))
    nested = torch.nn.Sequential(torch.nn.Sequential(LSTM(3, 4, return_sequences=True)), torch.nn.Linear(4, 2))
    save(nested, tmp_path / "nested")
    torch.testing.assert_close(load(tmp_path / "nested")(x), nested.eval()(x))


def test_a_sequential_with_a_custom_layer_is_refused_by_name(tmp_path):
    class Twice(torch.nn.Module):
        def forward(self, x):
            return 2 * x

    with pytest.raises(TypeError, match=r"cannot save model\[1\], a Twice: a saved stack holds rnnlab's layers"):
        save(torch.nn.Sequential(GRU(3, 4), Twice()), tmp_path / "m")
    assert not (tmp_path / "m").exists()
    save(torch.nn.Sequential(GRU(3, 4)), tmp_path / "m")
    _edit_header(tmp_path / "m", config={"layers": [{"layer": "Transformer"}]})
    with pytest.raises(ModelFileError, match="unknown layer 'Transformer'"):
        load(tmp_path / "m")
