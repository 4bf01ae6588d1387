"""The tagger's entry in the task registry (no PyTorch here: :mod:`rnnlab.tasks`)."""

from rnnlab.tasks import Task, register_task

TASK = register_task(Task(
    name="tagger", kind="TaggerNet", loader="rnnlab.tag.tagger:Tagger.load", command="rnnlab tag",
    served="rnnlab.serving.tasks:ServedTagger", claims="rnnlab.ie.task:not_an_extractor",
    export="rnnlab.export.to_onnx:tagger_task_graph",
))  # fmt: skip
