"""A quantile forecaster over HTTP (issue 25): the answer carries the levels and each level's forecast, as
`forecast predict --output f.json` does, and the page draws the outer interval as a band."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import series_frame

pytest.importorskip("fastapi", reason="rnnlab serve needs fastapi")
from fastapi.testclient import TestClient

from rnnlab.forecast.forecaster import Forecaster
from rnnlab.forecast.models import ForecastConfig
from rnnlab.serving import create_app
from rnnlab.training import TrainConfig

APP_JS = Path(__file__).parents[2] / "src" / "rnnlab" / "serving" / "static" / "app.js"


def test_the_service_answers_with_the_quantile_bands(tmp_path):
    frame = series_frame()
    f = Forecaster(ForecastConfig(model="dense", input_width=24, horizon=6, hidden_size=8, quantiles=(0.1, 0.9)),
                   TrainConfig(max_epochs=2, lr=1e-2, seed=0))  # fmt: skip
    f.fit_arrays([frame[["y"]].to_numpy(np.float32)])
    f.save(tmp_path / "load", extra={"time_col": "date", "targets": ["y"], "features": [], "series_col": None,
                                     "fill": None, "freq": "h"})  # fmt: skip
    with TestClient(create_app({"load": tmp_path / "load"})) as client:
        answer = client.post("/v1/models/load/predict", json={"csv": frame.to_csv(index=False)})
    assert answer.status_code == 200, answer.text
    result = answer.json()["results"][0]
    assert result["quantiles"] == [0.1, 0.5, 0.9]
    forecast = result["series"][0]["forecast"]
    low, mid, high = (np.array(forecast[k]) for k in ("y_q0.1", "y", "y_q0.9"))
    assert len(low) == 6 and (low < mid).all() and (mid < high).all()


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_the_page_finds_the_outer_band_of_each_target():
    source = APP_JS.read_text(encoding="utf-8")
    band = re.search(r"^function band\(.*?^}\n", source, flags=re.S | re.M).group(0)
    series = {"forecast": {"time": ["t1"], "y": [1.0], "y_q0.025": [0.5], "y_q0.975": [1.5], "y_q0.25": [0.8],
                           "yy_q0.025": [9.0]}}  # fmt: skip
    script = band + f"console.log(JSON.stringify([band({json.dumps(series)}, 'y', [0.025, 0.25, 0.5, 0.975]), " \
        f"band({json.dumps(series)}, 'y', null)]));"  # fmt: skip
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True, timeout=30).stdout
    found, none = json.loads(out)
    assert found == {"lower": [0.5], "upper": [1.5], "share": 95} and none is None
