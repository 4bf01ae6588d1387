"""The fit commands' options come from the config dataclasses: one name, one default, one help per setting."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from rnnlab.classify.config import DEFAULT_TRAIN as CLASSIFY_TRAIN
from rnnlab.classify.config import ClassifierConfig, TextConfig
from rnnlab.cli import classify, extract, forecast, tag
from rnnlab.cli.main import app
from rnnlab.cli.options import ConfigOptions, Section
from rnnlab.config import Config, doc
from rnnlab.errors import ConfigError, DataError
from rnnlab.forecast.config import DEFAULT_TRAIN as FORECAST_TRAIN
from rnnlab.forecast.config import ForecastConfig
from rnnlab.ie.config import default_tagger_config, default_train_config
from rnnlab.tag.config import DEFAULT_TRAIN as TAG_TRAIN
from rnnlab.tag.config import TaggerConfig
from rnnlab.training.config import TrainConfig


def _imported(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_train_config_imports_without_lightning():
    code = "import sys, rnnlab.training.config; print([m for m in ('torch', 'lightning') if m in sys.modules])"
    assert _imported(code) == "[]"


def test_training_fit_is_the_function_in_any_import_order():
    code = (
        "import rnnlab.training.fit; from rnnlab.training import fit, FitResult, seed_everything; "
        "import rnnlab.training as t; print(callable(fit), fit is t.fit, fit.__module__, FitResult.__name__)"
    )
    assert _imported(code) == "True True rnnlab.training.fit FitResult"


runner = CliRunner()
COMMANDS = {"forecast": forecast, "classify": classify, "tag": tag, "extract": extract}


@dataclasses.dataclass(frozen=True)
class Toy(Config):
    hidden_size: int = doc(8, "Hidden units of the toy.")
    cell: str = doc("lstm", "The toy's cell.", choices=("lstm", "gru"))
    bidirectional: bool = doc(False, "Read both ways.")
    clip: float | None = doc(1.5, "Clip at this norm; none: never.")
    targets: tuple[int, ...] = doc((0,), "Columns forecast.")
    n_inputs: int = doc(1, "Set from the data.")
    # a field added to the config: it must appear as an option with nothing else to edit
    new_knob: float = doc(0.25, "A brand-new setting of the toy.")


def _probe(options: ConfigOptions) -> tuple[typer.Typer, dict]:
    """A command with ``options`` that records the configs it receives."""
    seen: dict = {}
    probe = typer.Typer()
    names = list(options.sections)

    def record(**configs: Config) -> None:
        seen.clear()
        seen.update(configs)

    if names == ["model"]:

        @probe.command()
        @options
        def run(*, model: Config) -> None:
            record(model=model)
    elif names == ["model", "train"]:

        @probe.command()
        @options
        def run(*, model: Config, train: Config) -> None:
            record(model=model, train=train)
    else:

        @probe.command()
        @options
        def run(*, model: Config, text: Config, train: Config) -> None:
            record(model=model, text=text, train=train)

    @probe.command()
    def other() -> None:  # two commands: the probe's name is its first argument
        pass

    return probe, seen


def _configs(options: ConfigOptions, *args: str) -> dict:
    probe, seen = _probe(options)
    result = runner.invoke(probe, ["run", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return dict(seen)


TOY = ConfigOptions(model=Section(Toy(), exclude=frozenset({"n_inputs"}), aliases={"hidden_size": ("--hidden",)}))


def test_every_field_is_an_option_with_its_default_and_help():
    probe, _ = _probe(TOY)
    text = runner.invoke(probe, ["run", "--help"], env={"COLUMNS": "250"}).output
    for flag in ("--hidden-size", "--cell", "--bidirectional", "--no-bidirectional", "--clip", "--targets",
                 "--new-knob", "--config"):  # fmt: skip
        assert flag in text, flag
    assert "A brand-new setting of the toy." in text and "0.25" in text
    assert "[lstm|gru]" in text and "FLOAT|none" in text
    assert "--n-inputs" not in text  # set from the data
    assert "--hidden " not in text  # an old name works, but the help shows one name per setting
    assert _configs(TOY) == {"model": Toy()}


def test_options_are_typed_like_their_fields():
    model = _configs(TOY, "--hidden-size", "4", "--cell", "gru", "--bidirectional", "--clip", "none",
                     "--targets", "0,2", "--new-knob", "0.5")["model"]  # fmt: skip
    assert model == Toy(hidden_size=4, cell="gru", bidirectional=True, clip=None, targets=(0, 2), new_knob=0.5)
    probe, _ = _probe(TOY)
    for args, message in (
        (["--hidden-size", "x"], "'x' is not an integer"),
        (["--cell", "rnn"], "'rnn' is not one of lstm, gru"),
        (["--clip", "high"], "'high' is not a number or none"),
    ):
        result = runner.invoke(probe, ["run", *args])
        assert result.exit_code == 2 and message in result.output, result.output


def test_a_config_file_is_overridden_by_the_flags_given(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"model": {"hidden_size": 5, "model": "gru"}, "train": {"lr": 0.5, "patience": None}}))
    configs = _configs(forecast.FIT_OPTIONS, "--config", str(path), "--hidden-size", "7", "--max-epochs", "2")
    assert configs["model"] == ForecastConfig(hidden_size=7, model="gru")  # the flag beats the file
    assert configs["train"] == FORECAST_TRAIN.replace(lr=0.5, patience=None, max_epochs=2)
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"hidden_size": 5, "lr": 0.5, "max_len": 9}))
    configs = _configs(classify.FIT_OPTIONS, "--config", str(flat), "--lr", "0.25")
    assert configs["model"].hidden_size == 5 and configs["text"].max_len == 9 and configs["train"].lr == 0.25


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            {"model": {"hiden_size": 5}},
            r"unknown key\(s\) \['hiden_size'\] in 'model'; valid keys are \[.*'hidden_size'",
        ),
        ({"hiden_size": 5}, r"unknown key\(s\) \['hiden_size'\]; valid keys are \[.*'max_epochs'"),
        ({"strategy": "ddp"}, "'strategy' is a setting of model and train: put it in a 'model' or 'train' object"),
        ({"model": {"n_inputs": 3}}, r"\['n_inputs'\] in 'model' are set from the data"),
        ([1, 2], "expects a JSON object, received list"),
        ({"model": {"patch": 5}}, r"patch \(--patch\) must divide input_width=96"),
    ],
)
def test_a_bad_config_file_is_refused_saying_why(tmp_path, content, message):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ConfigError, match=message):
        _configs(forecast.FIT_OPTIONS, "--config", str(path))


def test_a_config_file_that_is_not_json_is_named_with_its_line(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"model":\n  {"hidden_size": 5,}}')
    with pytest.raises(DataError, match=r"settings.json:2:\d+: not valid JSON"):
        _configs(forecast.FIT_OPTIONS, "--config", str(path))


@pytest.mark.parametrize(
    ("options", "old", "new"),
    [
        (forecast.FIT_OPTIONS, ["--hidden", "8", "--layers", "2", "--epochs", "3"],
         ["--hidden-size", "8", "--num-layers", "2", "--max-epochs", "3"]),
        (classify.FIT_OPTIONS, ["--hidden", "8", "--layers", "2", "--epochs", "3", "--max-len", "0"],
         ["--hidden-size", "8", "--num-layers", "2", "--max-epochs", "3", "--max-len", "none"]),
        (tag.FIT_OPTIONS, ["--hidden", "8", "--output-layer", "crf", "--unidirectional", "--epochs", "3",
                           "--gradient-clip", "0"],
         ["--hidden-size", "8", "--output", "crf", "--no-bidirectional", "--max-epochs", "3",
          "--gradient-clip", "none"]),
        (extract.FIT_OPTIONS, ["--epochs", "3"], ["--max-epochs", "3"]),
    ],
)  # fmt: skip
def test_the_old_flag_names_give_the_same_configs(options, old, new):
    assert _configs(options, *old) == _configs(options, *new) != _configs(options)


def test_an_old_and_a_new_name_of_one_setting_are_refused_together():
    with pytest.raises(ConfigError, match="--hidden-size and --hidden name the same setting"):
        _configs(forecast.FIT_OPTIONS, "--hidden", "8", "--hidden-size", "9")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_fit_help_lists_the_config_fields(command):
    text = runner.invoke(app, [command, "fit", "--help"], env={"COLUMNS": "250"}).output
    for flag in ("--hidden-size", "--max-epochs", "--batch-size", "--patience", "--lr", "--seed", "--config"):
        assert flag in text, (command, flag)
    assert "--hidden " not in text and "--epochs " not in text


# the Python API's defaults for each command: the configs a fit takes when given nothing
PYTHON_DEFAULTS = {
    "forecast": {"model": ForecastConfig(), "train": FORECAST_TRAIN},
    "classify": {"model": ClassifierConfig(), "text": TextConfig(), "train": CLASSIFY_TRAIN},
    "tag": {"model": TaggerConfig(), "train": TAG_TRAIN},
    "extract": {"model": default_tagger_config(), "train": default_train_config()},
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_command_line_defaults_are_the_python_defaults(command):
    options = COMMANDS[command].FIT_OPTIONS
    assert _configs(options) == PYTHON_DEFAULTS[command]
    click_command = typer.main.get_command(COMMANDS[command].app).commands["fit"]
    defaults = {p.name: p.default for p in click_command.params}
    for name, section in options.sections.items():
        for field in section.fields():
            assert defaults[f"{name}__{field.name}"] == getattr(PYTHON_DEFAULTS[command][name], field.name)


def test_the_task_objects_train_with_the_command_line_defaults():
    from rnnlab.classify.classifier import TextClassifier
    from rnnlab.forecast.forecaster import Forecaster
    from rnnlab.tag.tagger import Tagger

    assert Forecaster(ForecastConfig(input_width=8, horizon=2, hidden_size=2)).train_config == FORECAST_TRAIN
    assert TextClassifier().train_config == CLASSIFY_TRAIN and TextClassifier().config == ClassifierConfig()
    assert Tagger().train_config == TAG_TRAIN
    assert TrainConfig(batch_size=64, patience=3) == FORECAST_TRAIN  # benchmarks/forecast_ett.py's
    assert ForecastConfig().revin and ClassifierConfig().dropout == 0.4 and CLASSIFY_TRAIN.batch_size == 32


def test_a_tiny_forecast_fit_through_the_command_line_with_the_new_names(tmp_path: Path):
    from rnnlab.forecast.forecaster import Forecaster

    t = np.arange(240)
    rows = "".join(f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00,{np.sin(i / 4):.5f}\n" for i in t)
    csv = tmp_path / "load.csv"
    csv.write_text("date,load\n" + rows)
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"model": {"hidden_size": 6, "model": "gru"}, "train": {"lr": 0.01}}))
    args = [
        "forecast",
        "fit",
        str(csv),
        "--time-col",
        "date",
        "--target",
        "load",
        "--input-width",
        "12",
        "--horizon",
        "3",
        "--config",
        str(settings),
        "--hidden-size",
        "4",
        "--num-layers",
        "1",
        "--no-revin",
        "--max-epochs",
        "1",
        "--batch-size",
        "16",
        "--out",
        str(tmp_path / "m"),
        "--json",
        "--no-progress",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["epochs"] == 1
    f = Forecaster.load(tmp_path / "m")
    assert f.config == ForecastConfig(model="gru", input_width=12, horizon=3, hidden_size=4, revin=False)
    assert (f.train_config.lr, f.train_config.batch_size, f.train_config.max_epochs) == (0.01, 16, 1)
