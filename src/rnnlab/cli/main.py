"""Entry point of ``rnnlab``: the top-level app, ``--version``, ``info``, and one-line failures."""

from __future__ import annotations

import sys

import typer
import typer.main

from rnnlab.cli import classify, export, extract, forecast, lab, layers, models, serve, tag, tour
from rnnlab.errors import RnnlabError

app = typer.Typer(
    name="rnnlab",
    help="Recurrent neural networks from the course's equations to fused kernels.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("shapes")(layers.shapes)
app.command("info")(layers.info)
app.command("kernels")(layers.kernels_command)
app.command("gradients")(lab.gradients)
app.command("memory")(lab.memory)
app.command("lab")(tour.tour)
app.command("models")(models.models)
app.add_typer(forecast.app, name="forecast")
app.add_typer(classify.app, name="classify")
app.add_typer(tag.app, name="tag")
app.add_typer(extract.app, name="extract")
app.command("serve", epilog=serve.EXAMPLES)(serve.serve)
app.command("export", epilog=export.EXAMPLES)(export.export)


def _version(value: bool) -> None:
    if value:
        from rnnlab import __version__

        typer.echo(f"rnnlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """rnnlab: recurrent layers, training, forecasting, tagging, text classification and extraction."""


def main() -> None:
    """Run the app; an rnnlab error or bad value prints one line and exits with status 1."""
    from rnnlab import runtime
    from rnnlab.cards import record_command
    from rnnlab.runtime import tune_allocator

    record_command()  # the recipe that the cards of models saved by this command quote
    tune_allocator()  # see rnnlab.runtime: LSTM training steps up to ~1.6x faster on glibc
    _terminate_as_exit()
    _warnings_as_lines()
    runtime.COMMAND_LINE = True  # with --devices N, only the first training process saves and reports
    twice = _given_twice(sys.argv[1:])
    if twice:
        typer.echo(f"error: {twice}", err=True)
        sys.exit(2)
    try:
        status = app(standalone_mode=False)
    except (RnnlabError, ValueError, FileExistsError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:  # a directory given for a file, a file for a directory, no permission, a full disk
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"error: {where}{exc.strerror or exc}; check the path and its permissions", err=True)
        sys.exit(1)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click's usage errors
        if isinstance(exc, _usage_errors()):
            ctx = getattr(exc, "ctx", None)
            where = f"; see `{ctx.command_path} --help`" if ctx is not None else ""
            typer.echo(f"error: {exc.format_message()}{where}", err=True)  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        raise
    if status == 130:  # Ctrl-C: typer's click returns the shell's status for SIGINT rather than raising
        typer.echo("error: interrupted (Ctrl-C); outputs are written whole or not at all, and an interrupted fit "
                   "keeps its checkpoints in <out>.partial for --resume", err=True)  # fmt: skip
        sys.exit(130)


def _given_twice(argv: list[str]) -> str | None:
    """The message for an option that takes one value given twice ("--epochs 5 ... --epochs 50", "--progress
    --no-progress"), or None: click would silently keep the last one, and a command line assembled by a script
    would run with a setting nobody chose."""
    flags = [a.split("=", 1)[0] for a in argv if a.startswith("--") and a != "--"]
    if len(set(flags)) == len(flags) and not any(f.startswith("--no-") for f in flags):
        return None  # the common case, decided without building the command tree
    command = typer.main.get_command(app)
    rest, path = list(argv), ["rnnlab"]
    while hasattr(command, "commands"):  # down the groups to the command the line runs
        name = next((a for a in rest if not a.startswith("-")), None)
        if name not in command.commands:  # type: ignore[attr-defined]
            return None  # click names the unknown command
        rest = rest[rest.index(name) + 1 :]
        command = command.commands[name]  # type: ignore[attr-defined]
        path.append(name)
    single = {o: p for p in command.params if p.param_type_name == "option" and not getattr(p, "multiple", False)
              and not getattr(p, "count", False) for o in (*p.opts, *p.secondary_opts)}  # fmt: skip
    seen: dict[str, str] = {}
    for arg in rest:
        if arg == "--":
            break
        flag = arg.split("=", 1)[0]
        param = single.get(flag)
        if param is None:
            continue
        if param.name in seen:
            what = f"{flag} given twice" if seen[param.name] == flag else f"{seen[param.name]} and {flag} both given"
            return f"{what}: give one; see `{' '.join(path)} --help`"
        seen[param.name] = flag
    return None


def _warnings_as_lines() -> None:
    """rnnlab's DataWarnings as one ``warning: ...`` line on stderr (not Python's file:line: category form)."""
    import warnings

    from rnnlab.errors import DataWarning

    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
        if issubclass(category, DataWarning):
            typer.echo(f"warning: {message}", err=True)
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def _terminate_as_exit() -> None:
    """SIGTERM (a `kill`, a container stopping) raises SystemExit(143) in the main thread, so that the half-written
    outputs' cleanup runs (the default action kills the process on the spot, leaving ``.name.partial`` files)."""
    import signal
    import threading

    def stop(signum: int, frame: object) -> None:
        from rnnlab import runtime

        if not runtime.TERMINATED:  # one message, however the exit travels back through a training loop
            typer.echo("error: terminated (SIGTERM)", err=True)
        runtime.TERMINATED = True
        raise SystemExit(143)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def _usage_errors() -> tuple[type[Exception], ...]:
    """click's exception class, and the copy of click that typer >= 0.29 ships (``typer._click``): a usage error
    from either is one message and exit status 2, never a traceback."""
    import importlib

    found = []
    for name in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(importlib.import_module(name).ClickException)
        except (ImportError, AttributeError):
            continue
    return tuple(found)
