"""Small task models saved once per test session, and the service over them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.classify.classifier import TextClassifier
from rnnlab.classify.demo import demo_dataset
from rnnlab.classify.models import ClassifierConfig
from rnnlab.forecast.forecaster import Forecaster
from rnnlab.forecast.models import ForecastConfig
from rnnlab.tag.demo import demo_sentences
from rnnlab.tag.models import TaggerConfig
from rnnlab.tag.tagger import Tagger
from rnnlab.training import TrainConfig


def series_frame(n: int = 200) -> pd.DataFrame:
    t = np.arange(n)
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="h"),
                         "y": 10 + 3 * np.sin(2 * np.pi * t / 24)})  # fmt: skip


@pytest.fixture(scope="session")
def series_csv() -> str:
    return series_frame(100).to_csv(index=False)


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    torch.manual_seed(0)
    quick = TrainConfig(max_epochs=6, lr=1e-2, batch_size=16, patience=None)
    tagger = Tagger(TaggerConfig(hidden_size=16, char="none", output="crf"), quick)
    tagger.fit(demo_sentences(120, seed=0), embeddings="none")
    tagger.save(root / "ner")
    clf = TextClassifier(ClassifierConfig(arch="bilstm-pool", hidden_size=8), quick)
    clf.fit(demo_dataset(120, seed=0), embeddings="none")
    clf.save(root / "sentiment")
    frame = series_frame()
    f = Forecaster(ForecastConfig(model="dense", input_width=24, horizon=6, hidden_size=8),
                   TrainConfig(max_epochs=3, lr=1e-2, seed=0))  # fmt: skip
    f.fit_arrays([frame[["y"]].to_numpy(np.float32)])
    f.save(root / "load", extra={"time_col": "date", "targets": ["y"], "features": [], "series_col": None,
                                 "fill": None, "freq": "h"})  # fmt: skip
    return {"ner": root / "ner", "sentiment": root / "sentiment", "load": root / "load", "ads": "default"}
