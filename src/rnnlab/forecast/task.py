"""The forecaster's entry in the task registry (no PyTorch here: :mod:`rnnlab.tasks`)."""

from rnnlab.tasks import Task, register_task

TASK = register_task(Task(
    name="forecaster", kind="ForecastNet", loader="rnnlab.forecast.forecaster:Forecaster.load",
    command="rnnlab forecast", served="rnnlab.serving.tasks:ServedForecaster",
    export="rnnlab.export.to_onnx:forecaster_task_graph",
))  # fmt: skip
