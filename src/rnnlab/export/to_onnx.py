"""``export_onnx``: a saved task model → one ONNX file, checked in onnxruntime against PyTorch on real inputs.

The parity check runs the exported graph and the PyTorch module on the example batch, on single rows and on a
reordered half (other batch sizes, other lengths), compares every output (``atol``, default 1e-4), and for a
CRF tagger also compares the tags decoded by :func:`rnnlab.export.runtime.viterbi` with PyTorch's Viterbi.
A graph that disagrees is not kept.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnlab import io
from rnnlab.errors import DataError, RnnlabError
from rnnlab.export.graphs import (
    EXAMPLE_ADS,
    TaskGraph,
    classifier_graph,
    forecaster_graph,
    tagger_graph,
)
from rnnlab.export.runtime import run, session, viterbi
from rnnlab.tasks import detect_task, registry

MAX_EXAMPLES = 64
MIN_OPSET = 12  # below it torch.onnx cannot write arange / dynamic slices, or onnxruntime refuses the graph


def max_opset() -> int:
    """The newest opset the installed torch.onnx (TorchScript exporter) writes."""
    try:
        from torch.onnx import _constants

        return int(_constants.ONNX_MAX_OPSET)
    except (ImportError, AttributeError):  # a torch that moved it: the one checked
        return 23


class ExportError(RnnlabError):
    """The exported graph does not reproduce the PyTorch model (or cannot be written)."""


def example_texts(path: str | Path) -> list[str]:
    """Texts for the parity check: the ``text`` of each line of a .jsonl file, else one text per non-empty line."""
    from rnnlab.data.text import read_labelled, read_lines

    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path=path, hint="give a text file (one text per line) or a .jsonl file")
    if path.name.lower().endswith((".jsonl", ".ndjson", ".jsonl.gz")):
        # as classify reads it: a text key on every line, a string (a line without one, or {"text": null}, was
        # skipped or read as the text "None"; a .JSONL file was read as lines of JSON)
        texts = read_labelled(path, require_labels=False).texts
    else:
        texts = [line.strip() for line in read_lines(path)]  # UTF-8 or a DataError naming the line and column
    texts = [t for t in texts if t.strip()][:MAX_EXAMPLES]
    if len(texts) < 2:
        raise DataError(f"{len(texts)} text(s) found; the parity check needs at least 2", path=path)
    return texts


def build_graph(model_dir: str | Path, data: str | Path | None = None) -> TaskGraph:
    """The task graph of a saved model with real example inputs (``data``: texts, ads, or the forecaster's CSV),
    built by the graph function its task registers (:mod:`rnnlab.tasks`)."""
    task = registry()[detect_task(model_dir)]
    if task.export is None:
        raise ExportError(f"a {task.name} has no ONNX export")
    return task.exporter()(model_dir, data, None if data is None else Path(data).name)


def tagger_task_graph(model_dir: str | Path, data: str | Path | None, source: str | None) -> TaskGraph:
    from rnnlab.tag.tagger import Tagger

    tagger = Tagger.load(model_dir)
    return tagger_graph(tagger, example_texts(data), source=source) if data else tagger_graph(tagger)


def extractor_task_graph(model_dir: str | Path, data: str | Path | None, source: str | None) -> TaskGraph:
    from rnnlab.ie.extractor import resolve
    from rnnlab.ie.text import tokenize

    extractor = resolve(model_dir)
    if extractor.tagger is None:
        raise ExportError("the rule extractor has no network to export")
    texts = example_texts(data) if data else list(EXAMPLE_ADS)
    return tagger_graph(extractor.tagger, texts, tokenizer=tokenize, featurizer=extractor.featurizer(),
                        task="extractor", source=source or "built-in ads")  # fmt: skip


def classifier_task_graph(model_dir: str | Path, data: str | Path | None, source: str | None) -> TaskGraph:
    from rnnlab.classify.classifier import TextClassifier

    clf = TextClassifier.load(model_dir)
    return classifier_graph(clf, example_texts(data), source=source) if data else classifier_graph(clf)


def forecaster_task_graph(model_dir: str | Path, data: str | Path | None, source: str | None) -> TaskGraph:
    from rnnlab.forecast.forecaster import Forecaster

    forecaster = Forecaster.load(model_dir)
    if data is None:
        return forecaster_graph(forecaster)
    from rnnlab.data.series import read_like

    try:
        series = read_like(data, forecaster.data_settings)
    except DataError as as_history:  # a predict-format file? its last rows give the columns known ahead, no target
        if not forecaster.data_settings.get("future_features"):
            raise
        try:
            series = read_like(data, forecaster.data_settings, future_rows=True)
        except DataError:
            raise as_history from None
    needed = forecaster.config.input_width + forecaster.config.horizon
    if min(len(one.values) for one in series.series) < needed:  # else _windows' hint speaks of fit's options
        raise DataError(f"a series has {min(len(one.values) for one in series.series)} row(s); the parity check "
                        f"needs {needed} (input_width + horizon)", path=data, hint="give a longer history")  # fmt: skip
    x, _ = forecaster._windows([one.values for one in series.series])
    if len(x) < 2:
        raise DataError("the CSV is too short for two windows", path=data, hint="give a longer history")
    rows = np.linspace(0, len(x) - 1, min(MAX_EXAMPLES, len(x))).round().astype(int)
    return forecaster_graph(forecaster, x[rows], source=source or "")


def export_onnx(model_dir: str | Path, out: str | Path, *, data: str | Path | None = None, opset: int = 17,
                atol: float = 1e-4, overwrite: bool = False) -> dict[str, Any]:  # fmt: skip
    """Write ``out`` (.onnx) for the model in ``model_dir`` and check it against PyTorch; returns the report."""
    out = Path(out)
    if not (atol >= 0 and math.isfinite(atol)):
        raise ExportError(f"atol must be a finite number >= 0, received {atol} (the largest |onnxruntime - PyTorch| "
                          "accepted, e.g. 1e-4)")  # fmt: skip
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= max_opset():
        raise ExportError(f"--opset {opset!r} is not supported: rnnlab exports at opsets {MIN_OPSET} to "
                          f"{max_opset()} (the ones this torch.onnx writes and onnxruntime runs for its networks; "
                          "default 17)")  # fmt: skip
    if out.is_dir():  # checked before exporting: os.replace onto a folder fails naming the temporary file
        raise ExportError(f"--out {out} is a directory; name the .onnx file to write (e.g. {out / 'model.onnx'})")
    _outside_the_model(out, model_dir)
    if data is not None and out.resolve() == Path(data).resolve():  # --overwrite replaced the data with the graph
        raise ExportError(f"--out {out} is the --data file; write the .onnx file elsewhere")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite or choose another --out")
    graph = build_graph(model_dir, data)  # non-finite weights are refused by the loader (io._load_weights)
    started = time.perf_counter()
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=out.parent if out.parent.exists() else None)
    os.close(fd)
    try:
        try:
            _write(graph, tmp, opset, model_dir)
            parity = check_parity(graph, tmp, atol)
        except (RnnlabError, OSError):
            raise
        except Exception as exc:  # onnx's checker or onnxruntime refusing the graph written at this opset
            reason = (str(exc).strip().splitlines() or [""])[0].replace(tmp, "the graph")[:300]
            raise ExportError(f"the ONNX graph of the {graph.task} written at opset {opset} is refused by "
                              f"{type(exc).__module__.split('.')[0]} ({type(exc).__name__}: {reason}); export at "
                              "another --opset (17, the default, is checked)") from None  # fmt: skip
        os.chmod(tmp, 0o666 & ~io._umask())  # mkstemp's 0600, else: the file follows the umask like rnnlab's others
        out.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return {"task": graph.task, "onnx": str(out), "bytes": out.stat().st_size, "opset": opset,
            "inputs": {k: list(v.shape) for k, v in graph.inputs.items()}, "outputs": graph.outputs,
            "examples": graph.source, "seconds": round(time.perf_counter() - started, 2), **parity}  # fmt: skip


def _outside_the_model(out: Path, model_dir: str | Path) -> None:
    """Refuse an --out inside the model's own directory or among the shipped models: with --overwrite,
    ``--out model/model.safetensors`` replaced the weights it was exporting."""
    from rnnlab.hub import model_home

    if (home := model_home(out, model_dir)) is not None:
        raise ExportError(f"--out {out} is inside {home.name}/, a model's own directory; write the .onnx file "
                          "elsewhere (e.g. model.onnx beside it)")  # fmt: skip


@contextlib.contextmanager
def _native_output_hidden() -> Iterator[None]:
    """The process's stdout and stderr (file descriptors 1 and 2) sent to a scratch file while the block runs:
    on some failures torch.onnx's C++ side prints the whole graph (an IR dump of hundreds of lines) there, before
    the exception that rnnlab turns into one line."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                for stream in (sys.stdout, sys.stderr):
                    stream.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        for fd in saved:
            os.close(fd)


def _write(graph: TaskGraph, path: str, opset: int, model_dir: str | Path) -> None:
    import onnx

    from rnnlab import __version__

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        try:
            with _native_output_hidden():
                torch.onnx.export(graph.module, tuple(graph.inputs.values()), path, input_names=list(graph.inputs),
                                  output_names=graph.outputs, dynamic_axes=graph.dynamic_axes, opset_version=opset,
                                  dynamo=False)  # fmt: skip
        except Exception as exc:  # a tracing/export failure, reported without PyTorch's internals
            reason = str(exc).splitlines()[0][:300]
            raise ExportError(f"ONNX export of the {graph.task} failed: {type(exc).__name__}: {reason}") from None
    model = onnx.load(path)
    for wanted, output in zip(graph.outputs, model.graph.output, strict=True):
        if output.name != wanted:  # a constant output (the CRF's scores) keeps its folded name: give it ours
            model.graph.node.append(onnx.helper.make_node("Identity", [output.name], [wanted]))
            output.name = wanted
    for key, value in {"rnnlab_task": graph.task, "rnnlab_version": __version__,
                       "rnnlab_model": Path(str(model_dir)).name}.items():  # fmt: skip
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, path)


def check_parity(graph: TaskGraph, path: str | Path, atol: float = 1e-4) -> dict[str, Any]:
    """Largest |onnxruntime − PyTorch| per output over several batch shapes; raises :class:`ExportError` past atol."""
    sess = session(path)
    n = next(iter(graph.inputs.values())).shape[0]
    batches = [list(range(n)), [0], [n - 1], list(range(n - 1, -1, -2))]
    worst: dict[str, float] = dict.fromkeys(graph.outputs, 0.0)
    tags_total = tags_same = 0
    for rows in batches:
        inputs = graph.subset(rows)
        with torch.no_grad():
            expected = graph.module(**inputs)
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = run(sess, inputs)
        for name, want in zip(graph.outputs, expected, strict=True):
            worst[name] = max(worst[name], _max_diff(got[name], want, inputs))
        if "transitions" in got:
            mask = torch.arange(inputs["words"].shape[1])[None, :] < inputs["lengths"][:, None]
            torch_tags = graph.module.crf.decode(expected[0], mask)
            numpy_tags = viterbi(got["emissions"], inputs["lengths"].numpy(), got["transitions"], got["start"],
                                 got["end"])  # fmt: skip
            tags_total += sum(len(p) for p in torch_tags)
            tags_same += sum(
                a == b for p, q in zip(torch_tags, numpy_tags, strict=True) for a, b in zip(p, q, strict=True)
            )
    report: dict[str, Any] = {"max_abs_diff": worst, "atol": atol, "batches_checked": [len(r) for r in batches]}
    if tags_total:
        report["viterbi_agreement"] = tags_same / tags_total
    bad = {k: v for k, v in worst.items() if not v <= atol}
    if bad or report.get("viterbi_agreement", 1.0) < 1.0:
        raise ExportError(f"the ONNX graph disagrees with PyTorch: max |diff| {bad or worst} (atol {atol}), "
                          f"Viterbi agreement {report.get('viterbi_agreement')}")  # fmt: skip
    report["parity"] = "passed"
    return report


def _max_diff(got: np.ndarray, want: torch.Tensor, inputs: dict[str, torch.Tensor]) -> float:
    """Largest difference over the real steps (padded steps of a tagger's emissions are not used by anyone);
    infinite where either side is not finite (NaN outputs agree with nothing, even with NaN)."""
    want_np = want.numpy()
    if got.shape != want_np.shape:
        return float("inf")
    with np.errstate(invalid="ignore"):
        diff = np.abs(got.astype(np.float64) - want_np.astype(np.float64))
    diff[~(np.isfinite(got) & np.isfinite(want_np))] = np.inf
    if "lengths" in inputs and diff.ndim == 3 and "words" in inputs:
        real = (np.arange(diff.shape[1])[None, :] < inputs["lengths"].numpy()[:, None])[:, :, None]
        diff = np.where(real, diff, 0.0)
    return float(diff.max()) if diff.size else 0.0
