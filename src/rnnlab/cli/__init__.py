"""The ``rnnlab`` command line: one thin typer sub-app per task family."""

from rnnlab.cli.main import app, main

__all__ = ["app", "main"]
