"""``rnnlab serve``: saved models behind a REST service and a web page (FastAPI + uvicorn)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import typer

# as rnnlab.serving.batching.MAX_WAIT_S and MAX_THREADS (not imported: that would import FastAPI for every command)
MAX_WAIT_MS, MAX_THREADS = 60_000, 1024

EXAMPLES = """Examples:

  rnnlab serve --model ner=runs/demo/lab/tag/model --model ads=default \\
               --model sentiment=runs/demo/lab/classify/bilstm-pool

  curl -s localhost:8000/v1/models/ner/predict -H 'Content-Type: application/json' -d '{"text": "Omar flew to Lima ."}'

Open http://127.0.0.1:8000/ for the page, /docs for the API.
"""


def parse_models(specs: list[str]) -> dict[str, str]:
    """``NAME=DIR`` pairs → {name: dir}; a clear error for anything else."""
    models: dict[str, str] = {}
    for spec in specs:
        name, sep, directory = spec.partition("=")
        if not sep or not name or not directory:
            raise ValueError(f"--model {spec!r}: write NAME=DIR (e.g. ner=runs/demo/lab/tag/model)")
        if not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"--model {spec!r}: a model name has letters, digits, '-' and '_' only")
        if name in models:
            raise ValueError(f"--model {spec!r}: the name {name!r} is given twice")
        models[name] = directory
    return models


def _whole(low: int, high: int | None, what: str) -> Callable[[int], int]:
    """A typer callback refusing a whole number outside ``low..high`` (a usage error naming the option)."""

    def check(value: int) -> int:
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of {low} or more"
            raise typer.BadParameter(f"{value} is not a valid {what}; use a whole number {bound}")
        return value

    return check


def _wait_ms(value: float) -> float:
    if not (math.isfinite(value) and 0 <= value <= MAX_WAIT_MS):
        raise typer.BadParameter(f"{value:g} is not a finite number of milliseconds from 0 to {MAX_WAIT_MS}")
    return value


def serve(
    model: list[str] = typer.Option(  # noqa: B008
        ...,
        "--model",
        help="NAME=DIR, repeatable; DIR a saved tagger, classifier, forecaster or extractor "
        "(for an extractor also 'default' for the shipped model or 'rules').",
    ),
    host: str = typer.Option("127.0.0.1", help="Interface to bind (127.0.0.1: this machine only)."),
    port: int = typer.Option(8000, callback=_whole(1, 65535, "TCP port"), help="TCP port (1-65535)."),
    max_chars: int = typer.Option(
        20_000, callback=_whole(1, None, "number of characters"), help="Characters per text at most (413 above)."
    ),
    max_batch: int = typer.Option(
        64,
        callback=_whole(1, None, "number of texts"),
        help="Texts per request at most; also the micro-batch size.",
    ),
    max_rows: int = typer.Option(
        100_000, callback=_whole(1, None, "number of rows"), help="CSV rows per forecasting request at most."
    ),
    max_wait_ms: float = typer.Option(
        0.0,
        callback=_wait_ms,
        help=f"How long a request waits for others to share its batch, 0-{MAX_WAIT_MS} (0: batches form from "
        "the requests that queue while the model is busy).",
    ),
    threads: int = typer.Option(
        1,
        callback=_whole(0, MAX_THREADS, "number of threads"),
        help=f"PyTorch threads per model worker, 0-{MAX_THREADS} (0: PyTorch's default); 1 measured "
        "fastest on a 2-core CPU, each model having its own worker.",
    ),
    api_key: str | None = typer.Option(
        None,
        envvar="RNNLAB_API_KEY",
        show_default=False,
        help="Require this key (16+ characters) on every path but /health and the page, in the header "
        "X-API-Key or Authorization: Bearer. Prefer the environment variable: a command line is visible to "
        "every user of the machine.",
    ),
    max_connections: int = typer.Option(
        256,
        min=1,
        help="Open connections at most; one more is answered 503 and closed. Slow clients are also dropped "
        "after 10 s without a complete request head and 30 s without the whole body.",
    ),
) -> None:
    """Serve saved models over HTTP: POST /v1/models/NAME/predict, GET /v1/models, GET /health, page at /."""
    from rnnlab.serving import Limits, create_app
    from rnnlab.serving.server import Connections, check_listen, uvicorn_options

    options = uvicorn_options(host, port, Connections(max_open=max_connections))  # checked before loading models
    _no_empty_key(api_key)
    models = parse_models(model)
    check_listen(host, port)  # a taken port or an unknown host: one line, before loading models or announcing
    if warning := exposure_warning(host, keyed=api_key is not None):
        typer.echo(warning, err=True)
    limits = Limits(max_chars=max_chars, max_batch=max_batch, max_csv_rows=max_rows)
    app = create_app(models, limits=limits, max_wait_ms=max_wait_ms, threads=threads or None, api_key=api_key)
    _announce_and_run(app, options, host, port, keyed=api_key is not None)


def _announce_and_run(app: Any, options: dict, host: str, port: int, *, keyed: bool) -> None:
    """Say where the service listens, then run it; uvicorn failing to start is one line, not its status 3."""
    import uvicorn

    shown = host if host.strip() else "[every interface]"
    typer.echo(f"rnnlab serving {len(app.state.served)} model(s) on http://{shown}:{port}/"
               + (" (API key required)" if keyed else ""))  # fmt: skip
    try:
        uvicorn.run(app, **options)
    except SystemExit as exc:  # uvicorn's status 3: it could not start (the port taken since the check, ...)
        if exc.code != 3:  # uvicorn.main.STARTUP_FAILURE; anything else (SIGTERM's 143) goes on as it is
            raise
        raise ValueError(
            f"the server could not start on {shown}:{port} (uvicorn's message is above); choose another --port "
            "or --host"
        ) from None


def exposure_warning(host: str, *, keyed: bool = False) -> str | None:
    """A warning when ``host`` is not a loopback address: the service answers anyone who can reach it (with the
    key, when ``keyed``; the key then crosses the network in clear text unless a TLS proxy is in front)."""
    import ipaddress

    if host == "localhost":
        return None
    if not host.strip():  # uvicorn binds every interface, IPv4 and IPv6, for an empty host
        host = '"" (every interface)'
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:  # a host name other than localhost
        pass
    if keyed:
        return (
            f"warning: --host {host} serves every machine that can reach this one; an API key is required "
            "(except for /health and the page), but plain HTTP carries it in clear text: put a TLS reverse proxy "
            "in front (see SECURITY.md)"
        )
    return (
        f"warning: --host {host} serves every machine that can reach this one, with no authentication (no API "
        "key is set); bind 127.0.0.1 (the default) unless that is what you want, set a key with --api-key or "
        "RNNLAB_API_KEY, and put a TLS reverse proxy in front (see SECURITY.md)"
    )


def _no_empty_key(api_key: str | None) -> None:
    """Refuse RNNLAB_API_KEY set to nothing (an unset variable expanded): click reads it as unset, and the service
    would run without a key, unannounced."""
    if api_key is None and os.environ.get("RNNLAB_API_KEY") == "":
        raise ValueError("RNNLAB_API_KEY is set but empty (an unset variable expanded?): the service would run "
                         "without a key; give the key, or unset the variable to serve without one")  # fmt: skip
