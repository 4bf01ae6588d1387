"""The text classifier's entry in the task registry (no PyTorch here: :mod:`rnnlab.tasks`)."""

from rnnlab.tasks import Task, register_task

TASK = register_task(Task(
    name="classifier", kind="TextClassifierNet", loader="rnnlab.classify.classifier:TextClassifier.load",
    command="rnnlab classify", served="rnnlab.serving.tasks:ServedClassifier",
    export="rnnlab.export.to_onnx:classifier_task_graph",
))  # fmt: skip
