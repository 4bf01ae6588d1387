"""``rnnlab export``: a saved model → ONNX, checked in onnxruntime against PyTorch."""

from __future__ import annotations

import typer

from rnnlab.cli.common import echo_json

EXAMPLES = """Examples:

  rnnlab export --model runs/demo/lab/tag/model --format onnx --out ner.onnx

  rnnlab export --model runs/ett --format onnx --out ett.onnx --data ETTh1.csv --json
"""


def export(
    model: str = typer.Option(
        ...,
        "--model",
        help="A saved tagger, classifier, forecaster or extractor ('default': the shipped real-estate extractor).",
    ),
    fmt: str = typer.Option("onnx", "--format", help="Export format (onnx)."),
    out: str = typer.Option(..., "--out", help="File to write (e.g. model.onnx)."),
    data: str | None = typer.Option(
        None,
        help="Real inputs for the parity check: texts (one per line, or .jsonl "
        "with a text field), or the forecaster's CSV. Default: built-in examples.",
    ),
    atol: float = typer.Option(1e-4, help="Largest |onnxruntime − PyTorch| accepted."),
    opset: int = typer.Option(17, help="ONNX opset."),
    overwrite: bool = typer.Option(False, help="Replace --out if it exists."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Export a saved model's network to ONNX; the file is kept only if onnxruntime reproduces PyTorch."""
    if fmt != "onnx":
        raise ValueError(f"--format {fmt!r}: the one export format is onnx")
    import importlib.util

    missing = [m for m in ("onnx", "onnxruntime", "onnxscript") if importlib.util.find_spec(m) is None]
    if missing:
        raise ValueError(f"rnnlab export needs {', '.join(missing)}: pip install 'rnnlab[export]'")
    from rnnlab.export import export_onnx

    report = export_onnx(model, out, data=data, opset=opset, atol=atol, overwrite=overwrite)
    if as_json:
        echo_json(report, sort_keys=True)
        return
    diffs = ", ".join(f"{k} {v:.2g}" for k, v in report["max_abs_diff"].items())
    extra = (
        f"; Viterbi in NumPy agrees on {report['viterbi_agreement']:.0%} of tags"
        if "viterbi_agreement" in report
        else ""
    )
    typer.echo(f"wrote {out} ({report['task']}, {report['bytes'] / 1e6:.1f} MB); parity with PyTorch on "
               f"{report['examples']}: max |diff| {diffs} (atol {atol}){extra}")  # fmt: skip
