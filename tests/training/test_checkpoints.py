"""Training checkpoints are safetensors + JSON folders (no pickle), resume from them exactly, and refuse what is not
one (an older pickled .ckpt, a torn or edited folder) in one line (issue 23, point 6)."""

import enum
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open
from torch.utils.data import TensorDataset

from rnnlab.cli.resume import start_run
from rnnlab.errors import ModelFileError
from rnnlab.nn import GRU, Dense
from rnnlab.training import Objective, TrainConfig, fit
from rnnlab.training import checkpoints as ck

X = torch.randn(32, 5, 2, generator=torch.Generator().manual_seed(0))
TRAIN = TensorDataset(X, X.sum((1, 2))[:, None])
MSE = Objective(loss=lambda m, b: F.mse_loss(m(b[0]), b[1]))
# every kind of state: Adam's, a learning-rate schedule, early stopping, weight averaging, the best checkpoint
CONFIG = dict(batch_size=16, lr=1e-2, lr_decay=0.1, patience=5, average_from=2)


def build(seed=1):
    torch.manual_seed(seed)
    return torch.nn.Sequential(GRU(2, 4), Dense(4, 1))


def run(out, epochs, *, resume=False, seed=1):
    model = build(seed)
    result = fit(model, TRAIN, TRAIN, objective=MSE, config=TrainConfig(max_epochs=epochs, **CONFIG),
                 out_dir=out, resume=resume)  # fmt: skip
    return model, result


def no_constants(name):
    raise ValueError(f"{name} is not JSON")


def test_every_file_is_safetensors_or_json_and_no_pickle(tmp_path):
    run(tmp_path, 3)
    folders = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert folders == ["best.ckpt", "last.ckpt"]  # no staging or set-aside folders left over
    for folder in folders:
        assert sorted(p.name for p in (tmp_path / "checkpoints" / folder).iterdir()) == [
            "state.json",
            "state.safetensors",
        ]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            head = path.read_bytes()[:4]
            assert not head.startswith(b"PK\x03\x04") and head[:1] != b"\x80", path  # no zip, no pickle
    last = tmp_path / "checkpoints" / "last.ckpt"
    record = json.loads((last / "state.json").read_text(), parse_constant=no_constants)  # strict JSON
    assert record["format"] == "rnnlab-training-checkpoint" and record["checkpoint"]["epoch"] == 2
    with safe_open(last / "state.safetensors", framework="pt") as f:
        keys = set(f.keys())
    assert {"state_dict/model.1.weight", "optimizer_states/0/state/0/exp_avg", "averaging_state/n_averaged"} <= keys
    state = ck.read_checkpoint(last)
    group = state["optimizer_states"][0]["param_groups"][0]
    assert group["betas"] == (0.9, 0.999) and isinstance(group["betas"], tuple)  # what torch.optim wrote
    assert sorted(state["optimizer_states"][0]["state"]) == [0, 1, 2, 3, 4, 5]  # keyed by parameter number


def test_resume_equals_an_uninterrupted_run_and_never_unpickles(tmp_path, monkeypatch):
    straight, _ = run(tmp_path / "a", 4)
    run(tmp_path / "b", 2)

    def unpickling(*args, **kwargs):
        raise AssertionError("torch.load called")

    monkeypatch.setattr(torch, "load", unpickling)
    resumed, result = run(tmp_path / "b", 4, resume=True, seed=99)
    assert result.epochs == 4 and result.best_checkpoint.endswith("best.ckpt")
    for u, v in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(u, v, atol=1e-6, rtol=0)


class Colour(enum.Enum):
    RED = "red"


def test_values_json_has_no_word_for_come_back_as_they_were(tmp_path):
    w = torch.arange(6.0).reshape(2, 3)
    checkpoint = {"betas": (0.9, 0.999), "by_id": {0: {"step": torch.tensor(3.0)}, 1: {}}, "inf": float("inf"),
                  "nan": float("nan"), "path": Path("a/b"), "np": np.float32(0.5), "arr": np.ones(2),
                  "colour": Colour.RED, "$odd": 1, "a/b~c": w, "tied": w, "view": w.t(), "empty": []}  # fmt: skip
    ck.write_checkpoint(checkpoint, tmp_path / "c.ckpt")
    back = ck.read_checkpoint(tmp_path / "c.ckpt")
    assert back["betas"] == (0.9, 0.999) and back["path"] == Path("a/b") and back["colour"] == "red"
    assert back["by_id"][0]["step"] == 3.0 and back["by_id"][1] == {} and back["$odd"] == 1
    assert back["inf"] == float("inf") and np.isnan(back["nan"]) and back["np"] == 0.5 and back["empty"] == []
    np.testing.assert_array_equal(back["arr"], np.ones(2))
    for key, want in (("a/b~c", w), ("tied", w), ("view", w.t())):
        torch.testing.assert_close(back[key], want)
    with pytest.raises(TypeError, match=r"checkpoint entry callbacks/X/fn is a function.*writes no pickles"):
        ck.write_checkpoint({"callbacks": {"X": {"fn": no_constants}}}, tmp_path / "d.ckpt")
    assert not (tmp_path / "d.ckpt").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["c.ckpt"]


def test_an_old_pickled_ckpt_is_refused_in_one_line(tmp_path):
    run(tmp_path, 1)
    last = tmp_path / "checkpoints" / "last.ckpt"
    state = ck.read_checkpoint(last)
    for p in last.iterdir():
        p.unlink()
    last.rmdir()
    torch.save(state, last)  # what an older rnnlab (Lightning's default) wrote
    with pytest.raises(ModelFileError, match=r"last.ckpt is not a training checkpoint rnnlab can read: a pickled") as e:
        run(tmp_path, 2, resume=True)
    assert "start the run again without --resume" in str(e.value) and "\n" not in str(e.value)


def test_the_cli_refuses_a_pickled_checkpoint_in_its_partial_folder(tmp_path):
    options = {"lr": 0.1}
    folder = start_run(tmp_path / "m", resume=False, command="demo fit", options=options)
    (folder / "checkpoints").mkdir()
    torch.save({"epoch": 1}, folder / "checkpoints" / "last.ckpt")
    with pytest.raises(ValueError, match=r"last.ckpt is damaged or not a checkpoint rnnlab reads \(a pickled.*"
                       r"no longer loads pickles\); delete .*m.partial to start again"):  # fmt: skip
        start_run(tmp_path / "m", resume=True, command="demo fit", options=options)


@pytest.mark.parametrize(
    ("tear", "message"),
    [
        (lambda d: (d / "state.json").unlink(), "its state.json is missing"),
        (lambda d: (d / "state.json").write_text('{"format": "rnnlab-training-che'), "its state.json does not parse"),
        (lambda d: (d / "state.json").write_text("[]"), "is not an rnnlab training checkpoint"),
        (lambda d: (d / "state.safetensors").write_bytes(b"12345678"), "its state.safetensors is damaged"),
    ],
    ids=["json-missing", "json-cut", "json-edited", "tensors-cut"],
)
def test_a_torn_or_edited_checkpoint_is_refused(tmp_path, tear, message):
    run(tmp_path, 1)
    tear(tmp_path / "checkpoints" / "last.ckpt")
    with pytest.raises(ModelFileError, match=message):
        run(tmp_path, 2, resume=True)


def test_an_edited_tensor_reference_or_a_mismatched_pair_is_refused(tmp_path):
    ck.write_checkpoint({"w": torch.ones(2)}, tmp_path / "a.ckpt")
    ck.write_checkpoint({"w": torch.ones(2)}, tmp_path / "b.ckpt")
    state = tmp_path / "a.ckpt" / "state.json"
    record = json.loads(state.read_text())
    state.write_text(json.dumps({**record, "checkpoint": {"w": {"$tensor": "v"}}}))
    with pytest.raises(ModelFileError, match=r"does not match state\.safetensors"):
        ck.read_checkpoint(tmp_path / "a.ckpt")
    os.replace(tmp_path / "b.ckpt" / "state.safetensors", tmp_path / "a.ckpt" / "state.safetensors")
    state.write_text(json.dumps(record))
    with pytest.raises(ModelFileError, match="come from different saves"):
        ck.read_checkpoint(tmp_path / "a.ckpt")


def test_a_save_killed_midway_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    ck.write_checkpoint({"epoch": 1}, path)
    real_replace, calls = os.replace, []

    def killed_after_moving_aside(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the new folder never reaches its name
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(ck.os, "replace", killed_after_moving_aside)
    with pytest.raises(KeyboardInterrupt):
        ck.write_checkpoint({"epoch": 2}, path)
    monkeypatch.setattr(ck.os, "replace", real_replace)
    assert not path.exists()  # between the two renames
    assert ck.find_checkpoint(path) == path and ck.read_checkpoint(path)["epoch"] == 1
    (tmp_path / ".last.ckpt.0123.tmp").mkdir()  # a save killed while writing
    assert ck.find_checkpoint(path) == path
    ck.write_checkpoint({"epoch": 3}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"] and ck.read_checkpoint(path)["epoch"] == 3
    assert ck.find_checkpoint(tmp_path / "none.ckpt") is None
