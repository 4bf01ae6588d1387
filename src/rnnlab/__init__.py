"""rnnlab: recurrent neural networks from the course's equations to fused kernels."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rnnlab")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from rnnlab.errors import ConfigError, DataError, ModelFileError, RnnlabError
from rnnlab.io import load, save

__all__ = [
    "ConfigError",
    "DataError",
    "ModelFileError",
    "RnnlabError",
    "__version__",
    "load",
    "save",
]
