"""rnnlab: recurrent neural networks from the course's equations to fused kernels."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rnnlab")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from rnnlab.errors import ConfigError, DataError, ModelFileError, RnnlabError


def __getattr__(name: str):
    """``rnnlab.load`` / ``rnnlab.save`` import PyTorch on first use (PEP 562), so that ``import rnnlab`` and
    ``rnnlab --help`` stay fast: the package's import is what every submodule, and the CLI, pays first."""
    if name == "load":  # a task's directory gives its task object, any other the network (rnnlab.tasks.load)
        from rnnlab.tasks import load

        return load
    if name == "save":
        from rnnlab.io import save

        return save
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")


def extract(text, model=None):
    """The template of one French real-estate ad; see :func:`rnnlab.ie.extractor.extract` (imported lazily)."""
    from rnnlab.ie.extractor import extract as _extract

    return _extract(text, model)


def extract_batch(texts, model=None, *, batch_size=32):
    """Templates of many ads; see :func:`rnnlab.ie.extractor.extract_batch`."""
    from rnnlab.ie.extractor import extract_batch as _extract_batch

    return _extract_batch(texts, model, batch_size=batch_size)


def pipeline(task: str):
    """A shipped model ready to use, by task or by name, as ``transformers.pipeline("ner")``: ``"ner"``
    (``ner-en``), ``"pos"`` (``pos-en``), ``"pos-fr"``, ``"sentiment"`` (``sentiment-en``), ``"extract"`` (the
    real-estate extractor). Returns the task object: a Tagger (``.predict(["text"])``), a TextClassifier
    (``.predict_records([...])``) or an Extractor (``.extract([...])``). ``rnnlab models`` lists them."""
    from rnnlab.hub import ALIASES, CATALOG
    from rnnlab.tasks import load as _load

    name = ALIASES.get(task, task)
    if name not in CATALOG and name != "default":
        raise ValueError(f"no shipped model for {task!r}; known: {', '.join([*ALIASES, *CATALOG])} "
                         "(`rnnlab models` lists them)")  # fmt: skip
    return _load(name)


__all__ = [
    "ConfigError",
    "DataError",
    "ModelFileError",
    "RnnlabError",
    "__version__",
    "extract",
    "extract_batch",
    "load",
    "pipeline",
    "save",
]
