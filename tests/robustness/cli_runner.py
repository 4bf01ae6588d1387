"""The robustness tests' way of running the `rnnlab` command: in-process, its exit status and its two streams."""

import sys

from rnnlab.cli.main import main


def cli(monkeypatch, capsys, *args):
    """Run the `rnnlab` console entry point in-process: (exit status, stdout, stderr)."""
    monkeypatch.setenv("RNNLAB_TUNE_MALLOC", "0")
    monkeypatch.setattr(sys, "argv", ["rnnlab", *map(str, args)])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def refused(monkeypatch, capsys, *args):
    code, out, err = cli(monkeypatch, capsys, *args)
    assert code == 1, (out, err)
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    return err.strip()
