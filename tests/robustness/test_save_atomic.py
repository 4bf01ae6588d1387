"""Saving is atomic: a save killed (SIGKILL) after any file leaves the old model or the new one, never a mix
(issue 22, row 4); stale staging directories do not break a later save; nothing the user gave is lost."""

import os
import pathlib
import signal
import stat
import sys

import numpy as np
import pytest
import torch

from rnnlab import io
from rnnlab.data.scaling import Standardizer
from rnnlab.forecast.forecaster import Forecaster
from rnnlab.forecast.models import ForecastConfig
from rnnlab.nn import GRU
from rnnlab.training import TrainConfig

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="needs fork")

FILE_WRITES = 3  # model.safetensors, forecaster.json, config.json


def _forecaster(seed: int, level: float) -> Forecaster:
    f = Forecaster(ForecastConfig(model="gru", input_width=4, horizon=2, hidden_size=3), TrainConfig(seed=seed))
    f.scaler = Standardizer([[level]], [[level / 10]])
    f.info = {"seed": seed}
    return f


def _same(a: Forecaster, b: Forecaster) -> bool:
    sa, sb = a.net.state_dict(), b.net.state_dict()
    return all(torch.equal(sa[k], sb[k]) for k in sa) and a.scaler == b.scaler and a.info == b.info


def _save_killed(model: Forecaster, target: pathlib.Path, kill_after: int | str) -> None:
    """Save ``model`` in a forked child that SIGKILLs itself after its ``kill_after``-th file is written
    (whatever function writes it), or right after the directories are swapped (``"swap"``)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            written = [0]

            def counting(write):
                def wrapper(*args, **kwargs):
                    out = write(*args, **kwargs)
                    written[0] += 1
                    if written[0] == kill_after:
                        os.kill(os.getpid(), signal.SIGKILL)
                    return out

                return wrapper

            io.save_file = counting(io.save_file)  # the weights
            io._write_json = counting(io._write_json)  # config.json and the assets
            pathlib.Path.write_text = counting(pathlib.Path.write_text)  # any other file a task writes
            if kill_after == "swap":
                exchange = io._exchange

                def killed_after_exchange(a, b):
                    done = exchange(a, b)
                    os.kill(os.getpid(), signal.SIGKILL)
                    return done

                io._exchange = killed_after_exchange
            model.save(target, overwrite=True)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, "the child was not killed"


@pytest.mark.parametrize("kill_after", [*range(1, FILE_WRITES + 1), "swap"])
def test_kill_during_overwrite_leaves_the_old_model_or_the_new_one(tmp_path, kill_after):
    old, new = _forecaster(0, 10.0), _forecaster(1, 1000.0)
    target = tmp_path / "model"
    old.save(target)
    _save_killed(new, target, kill_after)
    found = Forecaster.load(target)
    assert _same(found, old) or _same(found, new), "weights and scaler of different saves (or a broken model)"
    if kill_after == "swap":
        assert _same(found, new)
    new.save(target, overwrite=True)  # the leftovers of the killed save do not get in the way
    assert _same(Forecaster.load(target), new)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"], "a staging directory was left behind"


@pytest.mark.parametrize("kill_after", [1, FILE_WRITES])
def test_kill_during_a_first_save_leaves_no_model_or_the_whole_one(tmp_path, kill_after):
    target = tmp_path / "model"
    _save_killed(_forecaster(1, 1000.0), target, kill_after)
    assert not target.exists()
    _forecaster(1, 1000.0).save(target)  # not refused as "not empty"
    assert _same(Forecaster.load(target), _forecaster(1, 1000.0))


def test_a_crash_between_the_two_renames_of_the_fallback_is_undone_by_the_next_save(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "_exchange", lambda a, b: False)  # a file system without an atomic exchange
    target = tmp_path / "m"
    io.save(GRU(3, 4), target)
    io.save(GRU(3, 4), target, overwrite=True)  # the two-rename path works
    old = io.load(target)
    os.rename(target, tmp_path / ".m.old-abcd1234")  # killed after moving the old model aside
    with pytest.raises(FileExistsError, match="is not empty"):  # the old model is back, and protected
        io.save(GRU(3, 4), target)
    assert all(torch.equal(a, b) for a, b in zip(io.load(target).state_dict().values(),
                                                 old.state_dict().values(), strict=True))  # fmt: skip


def test_overwrite_keeps_a_users_files_and_refuses_a_folder_that_is_no_model(tmp_path):
    target = tmp_path / "m"
    io.save(GRU(3, 4), target)
    (target / "notes.txt").write_text("mine")
    (target / "runs").mkdir()
    (target / "runs" / "log.txt").write_text("log")
    io.save(GRU(3, 4), target, overwrite=True)
    assert (target / "notes.txt").read_text() == "mine" and (target / "runs" / "log.txt").read_text() == "log"
    home = tmp_path / "home"
    (home / "photos").mkdir(parents=True)
    (home / "photos" / "a.jpg").write_bytes(b"\xff")
    with pytest.raises(FileExistsError, match="holds folders \\(photos\\) and no saved model"):
        io.save(GRU(3, 4), home, overwrite=True)
    assert sorted(p.name for p in home.iterdir()) == ["photos"]


def test_the_saved_directory_and_its_files_follow_the_umask(tmp_path):
    mask = os.umask(0o022)
    try:
        io.save(GRU(3, 4), tmp_path / "m")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "m").stat().st_mode) == 0o755  # not mkdtemp's 0700
    assert {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "m").iterdir()} == {0o644}


def test_a_symlinked_target_is_replaced_behind_the_link(tmp_path):
    io.save(GRU(3, 4), tmp_path / "real")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    io.save(GRU(3, 5), tmp_path / "link", overwrite=True)
    assert (tmp_path / "link").is_symlink() and io.load(tmp_path / "real").config.hidden_size == 5


def test_extra_files_are_written_with_the_model_and_named_in_its_header(tmp_path):
    f = _forecaster(0, 5.0)
    f.save(tmp_path / "m")
    header = (tmp_path / "m" / "config.json").read_text()
    assert '"forecaster.json"' in header
    np.testing.assert_allclose(Forecaster.load(tmp_path / "m").scaler.mean, [[5.0]])
    with pytest.raises(ValueError, match="plain file name"):
        io.save(GRU(3, 4), tmp_path / "x", files={"../escape.json": {}})


def test_a_staging_directory_another_save_is_writing_is_left_alone(tmp_path):
    import fcntl

    busy, stale = tmp_path / ".m.tmp-busy0001", tmp_path / ".m.tmp-dead0001"
    busy.mkdir()
    stale.mkdir()
    fd = os.open(busy, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a living save holds its own
        io.save(GRU(3, 4), tmp_path / "m")
        assert busy.is_dir() and not stale.exists()
    finally:
        os.close(fd)
