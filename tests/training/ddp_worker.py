"""Run by test_ddp.py: trains a tiny GRU with DDP on 2 CPU processes (gloo), one JSON report per rank.

Lightning's DDP launcher starts rank 1 by running this same script again.
"""

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from rnnlab.nn import GRU, Dense
from rnnlab.training import Objective, TrainConfig, fit


def main(out: Path) -> None:
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 6, 2, generator=g)
    data = TensorDataset(X, X.sum((1, 2))[:, None])
    torch.manual_seed(1)
    model = torch.nn.Sequential(GRU(2, 8), Dense(8, 1))
    objective = Objective(loss=lambda m, b: F.mse_loss(m(b[0]), b[1]))
    config = TrainConfig(max_epochs=3, batch_size=8, lr=1e-2, accelerator="cpu", devices=2, strategy="ddp")
    result = fit(model, data, data, objective=objective, config=config)
    rank = dist.get_rank() if dist.is_initialized() else 0
    report = {
        "rank": rank,
        "world_size": dist.get_world_size() if dist.is_initialized() else 1,
        "backend": dist.get_backend() if dist.is_initialized() else None,
        "checksum": sum(float(p.detach().double().sum()) for p in model.parameters()),
        "val_loss": [row["val_loss"] for row in result.history],
    }
    (out / f"rank{rank}.json").write_text(json.dumps(report))
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
    # skip interpreter teardown: with pyarrow loaded (pandas imports it), C++ thread pools torn down after
    # gloo's occasionally abort ("terminate called without an active exception") after the work is done
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
