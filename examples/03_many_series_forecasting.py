"""Chapter 3 — one global model for many hourly series: hour by hour, or a day per recurrent step.

python examples/03_many_series_forecasting.py

Twenty synthetic hourly series (daily and weekly cycles, levels from 10 to 10,000, noise) and
one GRU for all of them, scored like the M4 competition on each series' last 24 hours, a
Monday after a busy weekend, where yesterday's profile (the naive forecasts) is wrong:
sMAPE, MASE and OWA against Naive2. The same GRU reads the 168-hour window either step by step
(168 recurrent steps) or as 7 daily segments of 24 values (``patch=24``, as SegRNN does), with
each window normalised by its own mean and std (RevIN) and the loss scaled per window: with a
day per step the week is 7 steps long and the GRU learns it in a couple of seconds.
"""

import time

import numpy as np

from rnnlab.forecast.forecaster import Forecaster
from rnnlab.forecast.m4 import naive2, score, seasonal_naive_forecast
from rnnlab.forecast.models import ForecastConfig
from rnnlab.training import TrainConfig

rng = np.random.default_rng(0)
t = np.arange(24 * (7 * 5 + 1))  # five weeks and a day of hours: the last day, forecast, is a Monday
series = []
for level in np.geomspace(10, 10_000, 20):
    daily = 1 + 0.4 * np.sin(2 * np.pi * (t + rng.integers(24)) / 24)
    weekly = 1 + 0.5 * (t // 24 % 7 >= 5)  # busier weekends
    series.append((level * daily * weekly * (1 + 0.03 * rng.normal(size=len(t)))).astype(np.float32))

HORIZON, PERIOD = 24, 24
histories, actuals = [s[:-HORIZON] for s in series], [s[-HORIZON:] for s in series]
n2 = [naive2(h, HORIZON, PERIOD) for h in histories]
rows = {"Naive2": score(histories, actuals, n2, n2, PERIOD)}
sn = [seasonal_naive_forecast(h, HORIZON, PERIOD) for h in histories]
rows["seasonal naive"] = score(histories, actuals, sn, n2, PERIOD)

for name, patch in (("GRU, hour by hour", 0), ("GRU, a day per step", 24)):
    config = ForecastConfig(model="gru", input_width=168, horizon=HORIZON, hidden_size=32, revin=True, patch=patch)
    forecaster = Forecaster(config, TrainConfig(max_epochs=12, lr=3e-3, batch_size=128, seed=0), loss="scaled_mae")
    start = time.perf_counter()
    forecaster.fit_arrays([h[:, None] for h in histories], val_steps=HORIZON, stride=2)
    seconds = time.perf_counter() - start
    pred = forecaster.predict_arrays([h[:, None] for h in histories])[:, :, 0]
    rows[name] = score(histories, actuals, list(pred), n2, PERIOD) | {"seconds": seconds}

print(f"{'method':22} {'sMAPE':>7} {'MASE':>6} {'OWA':>6} {'fit s':>6}")
for name, r in rows.items():
    seconds = f"{r['seconds']:6.1f}" if "seconds" in r else f"{'-':>6}"
    print(f"{name:22} {r['smape']:7.2f} {r['mase']:6.3f} {r['owa']:6.3f} {seconds}")
