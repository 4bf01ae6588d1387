"""Export to ONNX (every task's network, variable lengths) with a parity check, and the NumPy code that runs
what the graph leaves out (Viterbi decoding, scaling)."""

from rnnlab.export.runtime import OnnxClassifier, OnnxForecaster, OnnxTagger, viterbi
from rnnlab.export.to_onnx import ExportError, check_parity, export_onnx

__all__ = ["ExportError", "OnnxClassifier", "OnnxForecaster", "OnnxTagger", "check_parity", "export_onnx", "viterbi"]
