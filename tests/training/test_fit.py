"""The training engine: determinism, early stopping, best weights, resume, clipping, time budget, quietness."""

import os

import pytest
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback
from torch.utils.data import TensorDataset

from rnnlab.errors import ConfigError
from rnnlab.nn import GRU, Dense
from rnnlab.training import Objective, TrainConfig, fit
from rnnlab.training.checkpoints import read_checkpoint

X = torch.randn(48, 6, 2, generator=torch.Generator().manual_seed(0))
Y = X.sum((1, 2))[:, None]
TRAIN = TensorDataset(X, Y)
OPPOSITE = TensorDataset(X, -Y)  # a dev set that training makes worse
MSE = Objective(loss=lambda m, b: F.mse_loss(m(b[0]), b[1]))


def build(seed=1):
    torch.manual_seed(seed)
    return torch.nn.Sequential(GRU(2, 8), Dense(8, 1))


def weights(model):
    return [p.detach().clone() for p in model.state_dict().values()]


def same(a, b):
    return all(torch.equal(u, v) for u, v in zip(a, b, strict=True))


def cfg(**kw):
    return TrainConfig(**{"max_epochs": 3, "batch_size": 16, "lr": 1e-2, **kw})


def test_same_seed_same_weights_and_loss_goes_down():
    a, b = build(), build()
    ra = fit(a, TRAIN, TRAIN, objective=MSE, config=cfg())
    fit(b, TRAIN, TRAIN, objective=MSE, config=cfg())
    assert same(weights(a), weights(b))
    c = build()
    fit(c, TRAIN, TRAIN, objective=MSE, config=cfg(seed=7))
    assert not same(weights(a), weights(c))
    losses = [row["val_loss"] for row in ra.history]
    assert losses[-1] < losses[0]
    assert ra.monitor == "val_loss" and ra.best_score == pytest.approx(min(losses))


def test_early_stopping_on_a_dev_metric():
    flat = Objective(loss=MSE.loss, metrics=lambda m, b: {"score": torch.tensor(1.0)}, monitor="val_score", mode="max")
    result = fit(build(), TRAIN, TRAIN, objective=flat, config=cfg(max_epochs=20, patience=2))
    assert result.stopped_early and result.epochs == 3
    assert result.history[0]["val_score"] == 1.0


def test_best_weights_are_kept_in_memory():
    model = build()
    result = fit(model, TRAIN, OPPOSITE, objective=MSE, config=cfg(max_epochs=4, patience=None))
    assert result.best_epoch == 1  # the first epoch: epochs count from 1
    assert [row["epoch"] for row in result.history] == [1, 2, 3, 4]
    first_epoch_only = build()
    fit(first_epoch_only, TRAIN, OPPOSITE, objective=MSE, config=cfg(max_epochs=1, patience=None))
    assert same(weights(model), weights(first_epoch_only))


def test_checkpoints_and_resume_after_interruption(tmp_path):
    straight = build()
    fit(straight, TRAIN, TRAIN, objective=MSE, config=cfg(max_epochs=4, patience=None), out_dir=tmp_path / "a")
    interrupted = build()
    fit(interrupted, TRAIN, TRAIN, objective=MSE, config=cfg(max_epochs=2, patience=None), out_dir=tmp_path / "b")
    assert (tmp_path / "b" / "checkpoints" / "last.ckpt" / "state.safetensors").is_file()  # a folder: no pickle
    resumed = build(seed=99)  # weights come from the checkpoint, not from here
    result = fit(resumed, TRAIN, TRAIN, objective=MSE, config=cfg(max_epochs=4, patience=None),
                 out_dir=tmp_path / "b", resume=True)  # fmt: skip
    assert result.epochs == 4 and len(result.history) == 2
    assert result.best_checkpoint.endswith("best.ckpt")
    for u, v in zip(weights(straight), weights(resumed), strict=True):
        torch.testing.assert_close(u, v, atol=1e-6, rtol=0)
    state = read_checkpoint(result.best_checkpoint)  # safetensors + JSON, no pickle
    assert "state_dict" in state


def test_resume_needs_an_out_dir():
    with pytest.raises(ValueError, match="resume=True needs the out_dir"):
        fit(build(), TRAIN, objective=MSE, config=cfg(), resume=True)


def test_gradient_clipping_bounds_each_step():
    sgd = dict(optimizer="sgd", lr=0.1, max_epochs=1, patience=None)
    before = weights(build())
    clipped = build()
    fit(clipped, TRAIN, objective=MSE, config=cfg(gradient_clip=1e-6, **sgd))
    free = build()
    fit(free, TRAIN, objective=MSE, config=cfg(gradient_clip=None, **sgd))
    moved = lambda m: max((u - v).abs().max().item() for u, v in zip(weights(m), before, strict=True))  # noqa: E731
    assert moved(clipped) < 1e-5 < 1e-2 < moved(free)


def test_max_time_budget():
    big = TensorDataset(torch.randn(512, 30, 2), torch.randn(512, 1))
    result = fit(build(), big, objective=MSE, config=cfg(max_epochs=100_000, max_time=1, batch_size=8))
    assert result.epochs < 100_000 and result.seconds < 15


def test_quiet_and_no_files_without_out_dir(tmp_path, capfd, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fit(build(), TRAIN, TRAIN, objective=MSE, config=cfg(max_epochs=1))
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert os.listdir(tmp_path) == []


def test_progress_bar_when_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = fit(build(), TRAIN, TRAIN, objective=MSE, config=cfg(max_epochs=1), progress=True)
    assert result.epochs == 1 and os.listdir(tmp_path) == []


class Counter:
    def __init__(self):
        self.rows = 0

    def update(self, model, batch):
        self.rows += len(batch[0])

    def compute(self):
        return {"rows": self.rows}


def test_corpus_level_evaluator():
    obj = Objective(loss=MSE.loss, evaluator=Counter, monitor="val_rows", mode="max")
    result = fit(build(), TRAIN, TRAIN, objective=obj, config=cfg(max_epochs=1))
    assert result.history[0]["val_rows"] == 48 and result.monitor == "val_rows"


def test_without_dev_data_the_train_loss_is_monitored():
    result = fit(build(), TRAIN, objective=MSE, config=cfg(max_epochs=2))
    assert result.monitor == "train_loss" and result.best_epoch is not None


def test_lr_decay_follows_the_inverse_schedule():
    from lightning.pytorch.callbacks import Callback

    class Rates(Callback):
        def __init__(self):
            self.seen = []

        def on_train_epoch_start(self, trainer, module):
            self.seen.append(trainer.optimizers[0].param_groups[0]["lr"])

    rates = Rates()
    fit(build(), TRAIN, objective=MSE, config=cfg(max_epochs=3, lr_decay=0.5), callbacks=[rates])
    assert rates.seen == pytest.approx([1e-2, 1e-2 / 1.5, 1e-2 / 2.0])
    with pytest.raises(ValueError, match="lr_decay must be >= 0"):
        TrainConfig(lr_decay=-1)


def test_precision_names_are_checked():
    assert TrainConfig(precision="bf16-mixed").precision == "bf16-mixed"
    with pytest.raises(ConfigError, match="precision must be one of"):
        TrainConfig(precision="bf16")


class StepWeights(Callback):
    """Records the weights after every optimizer step, per epoch."""

    def __init__(self):
        self.steps = {}

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.steps.setdefault(trainer.current_epoch, []).append([p.detach().clone() for p in module.model.parameters()])


def _mean(steps):
    return [torch.stack(ws).mean(0) for ws in zip(*steps, strict=True)]


@pytest.mark.parametrize("to_disk", [False, True])
def test_weight_averaging_validates_and_keeps_the_average(tmp_path, to_disk):
    recorder = StepWeights()
    plain = build()
    fit(plain, TRAIN, TRAIN, objective=MSE, config=cfg(max_epochs=3, patience=None), callbacks=[recorder])
    averaged = build()
    result = fit(averaged, TRAIN, TRAIN, objective=MSE, config=cfg(max_epochs=3, patience=None, average_from=2),
                 out_dir=tmp_path if to_disk else None)  # fmt: skip
    # epoch 1 (0-based 0) is validated on its own weights; from epoch 2 on, on the mean of every step since
    expected = {0: recorder.steps[0][-1], 1: _mean(recorder.steps[1]), 2: _mean(recorder.steps[1] + recorder.steps[2])}
    probe = build()
    for epoch, ws in expected.items():
        with torch.no_grad():
            for p, w in zip(probe.parameters(), ws, strict=True):
                p.copy_(w)
            dev_loss = F.mse_loss(probe(X), Y).item()
        assert result.history[epoch]["val_loss"] == pytest.approx(dev_loss, rel=1e-5)
    assert result.best_epoch == 1 + min(expected, key=lambda e: result.history[e]["val_loss"])  # counted from 1
    for p, w in zip(averaged.parameters(), expected[result.best_epoch - 1], strict=True):
        torch.testing.assert_close(p.detach().cpu(), w.cpu(), atol=1e-6, rtol=0)  # fit may run on a GPU
    assert result.best_epoch >= 2  # the average (from epoch 2, --average-from's count) is what was kept


def test_weight_averaging_config_is_checked():
    with pytest.raises(ConfigError, match="average_from"):
        TrainConfig(average_from=0)


def test_weight_averaging_resumes_where_it_stopped(tmp_path):
    config = cfg(max_epochs=4, patience=None, average_from=2)
    straight = build()
    fit(straight, TRAIN, TRAIN, objective=MSE, config=config, out_dir=tmp_path / "a")
    interrupted = build()
    fit(interrupted, TRAIN, TRAIN, objective=MSE, config=cfg(max_epochs=3, patience=None, average_from=2),
        out_dir=tmp_path / "b")  # fmt: skip
    resumed = build(seed=99)
    fit(resumed, TRAIN, TRAIN, objective=MSE, config=config, out_dir=tmp_path / "b", resume=True)
    for u, v in zip(weights(straight), weights(resumed), strict=True):
        torch.testing.assert_close(u, v, atol=1e-6, rtol=0)


def test_the_progress_bar_counts_epochs_from_1():
    from types import SimpleNamespace

    from rnnlab.training.fit import _ProgressBar

    bar = _ProgressBar()
    bar._trainer = SimpleNamespace(max_epochs=2)  # what Lightning attaches
    assert bar._get_train_description(1).strip() == "Epoch 2/2"  # Lightning's own bar said "Epoch 1/1"
