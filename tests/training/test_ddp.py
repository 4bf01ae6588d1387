"""DDP across 2 CPU processes (gloo): the same weights on every rank, and the loss goes down."""

import json
import os
import subprocess
import sys
from pathlib import Path

WORKER = Path(__file__).with_name("ddp_worker.py")


def test_ddp_two_cpu_processes(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("LOCAL_RANK", "WORLD_SIZE", "MASTER_PORT")}
    env["OMP_NUM_THREADS"] = "1"
    done = subprocess.run(
        [sys.executable, str(WORKER), str(tmp_path)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in reports] == [2, 2]
    assert reports[0]["backend"] == "gloo"
    assert reports[0]["checksum"] == reports[1]["checksum"]
    losses = reports[0]["val_loss"]
    assert len(losses) == 3 and losses[-1] < losses[0]
