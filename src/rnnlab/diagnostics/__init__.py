"""The vanishing-gradient lab: gradients by lag, step-Jacobian spectra, gate statistics, long-memory tasks."""

from rnnlab.diagnostics.gates import gate_statistics
from rnnlab.diagnostics.gradients import (
    JacobianSpectrum,
    LagProfile,
    bounds_table,
    derivative_bounds,
    equation_path,
    gradient_by_lag,
    jacobian_spectrum,
    recurrent_layers,
)
from rnnlab.diagnostics.memory_tasks import adding_problem, baseline, recall_task

__all__ = [
    "JacobianSpectrum",
    "LagProfile",
    "adding_problem",
    "baseline",
    "bounds_table",
    "derivative_bounds",
    "equation_path",
    "gate_statistics",
    "gradient_by_lag",
    "jacobian_spectrum",
    "recall_task",
    "recurrent_layers",
]
