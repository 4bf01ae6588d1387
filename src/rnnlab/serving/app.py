"""The REST service and its web page: ``create_app({name: directory})`` loads each model once.

``POST /v1/models/{name}/predict`` answers through a :class:`~rnnlab.serving.batching.MicroBatcher` per model,
so concurrent requests share forward passes; ``GET /v1/models`` lists the models (task, config, training
metrics); ``GET /health``; ``GET /`` is the page (static files shipped in the package, no CDN).
Bad requests get 4xx answers that say what was wrong: 404 unknown model, 413 over a limit, 422 invalid input,
408 a body too slow, 401 without the API key (when the service has one; :mod:`rnnlab.serving.guard`), 415 a body
not sent as JSON (or compressed), 400 a body that is not JSON the parser can read (not UTF-8, nested too deeply),
503 a model whose batch worker has stopped (``/health`` then answers 503 too, naming it), 500 with the error's
name for an error nobody foresaw.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from contextlib import asynccontextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from rnnlab.errors import RnnlabError
from rnnlab.serving.batching import MAX_THREADS, MAX_WAIT_S, MicroBatcher, WorkerDown
from rnnlab.serving.guard import BodyGuard, KeyGuard, check_api_key
from rnnlab.serving.schemas import ModelInfo, PredictRequest, PredictResponse, Problem
from rnnlab.serving.tasks import LimitError, Limits, Served, load_served

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = Limits.max_body_bytes


def create_app(models: Mapping[str, str | Path | Served], *, limits: Limits | None = None,
               max_wait_ms: float = 0.0, threads: int | None = 1, api_key: str | None = None) -> FastAPI:  # fmt: skip
    """The service for ``models`` (name → saved model directory, or an already loaded :class:`Served`);
    ``threads``: PyTorch intra-op threads of each model's worker (None: PyTorch's default); ``api_key``: when
    given, every path but ``/health`` and the page needs it (header ``X-API-Key`` or ``Authorization: Bearer``).
    """
    from rnnlab import __version__

    if api_key is not None:
        check_api_key(api_key)  # before loading any model
    limits = limits or Limits()
    check_settings(limits, max_wait_ms, threads)  # before loading any model too
    served = {name: m if isinstance(m, Served) else load_served(name, m, limits) for name, m in models.items()}
    batchers = {name: MicroBatcher(m.predict, max_items=limits.max_batch, max_wait_s=max_wait_ms / 1000,
                                   name=f"batch-{name}", threads=threads) for name, m in served.items()}  # fmt: skip

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        for b in batchers.values():
            b.close()

    about = "Recurrent models behind HTTP: taggers, classifiers, forecasters, extractors."
    app = FastAPI(title="rnnlab", version=__version__, lifespan=lifespan, description=about)
    app.state.served, app.state.batchers, app.state.limits = served, batchers, limits

    app.add_middleware(BodyGuard, max_bytes=limits.max_body_bytes, timeout_s=limits.body_timeout_s)
    if api_key is not None:
        app.add_middleware(KeyGuard, key=api_key)  # added last: it runs first, before any body is read

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 naming where and what, without echoing the input (a NaN or a lone surrogate in it would make the
        error itself unwritable as JSON: a 500)."""
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]  # fmt: skip
        sent = request.headers.get("content-type")
        if any(e["loc"] == ["body"] and e["type"] == "model_attributes_type" for e in errors) and not _is_json(sent):
            # the body came as bytes: FastAPI reads JSON only when the content type says so
            said = f"as {sent}" if sent else "without a Content-Type header"
            return JSONResponse({"detail": f"the request body was sent {said}; send Content-Type: application/json "
                                           "(curl: -H 'Content-Type: application/json')"}, status_code=415)  # fmt: skip
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def unreadable_body(request: Request, exc: StarletteHTTPException) -> Any:
        """FastAPI's 400 "There was an error parsing the body" with the reason, when the reason is known."""
        reason = _unparsable(exc.__cause__) if exc.status_code == 400 else None
        if reason is None:
            return await http_exception_handler(request, exc)
        return JSONResponse({"detail": f"the JSON body cannot be parsed: {reason}"}, status_code=400)

    def model(name: str) -> Served:
        if name not in served:
            raise HTTPException(404, f"no model {name!r}; the models are {sorted(served)} (GET /v1/models)")
        return served[name]

    @app.get("/health")
    def health() -> Any:
        answer = {"status": "ok", "models": len(served), "batches": {n: b.batches for n, b in batchers.items()}}
        failed = {n: b.failure for n, b in batchers.items() if b.failure is not None}
        if failed:  # a model that cannot answer: the service is not healthy (restart it)
            return JSONResponse({**answer, "status": "failing", "failed": failed}, status_code=503)
        return answer

    @app.get("/v1/models", response_model=list[ModelInfo])
    def list_models() -> list[dict[str, Any]]:
        return [m.describe() for m in served.values()]

    @app.get("/v1/models/{name}", response_model=ModelInfo, responses={404: {"model": Problem}})
    def show_model(name: str) -> dict[str, Any]:
        return model(name).describe()

    @app.post("/v1/models/{name}/predict", response_model=PredictResponse,
              responses={404: {"model": Problem}, 413: {"model": Problem}, 422: {"model": Problem}})  # fmt: skip
    async def predict(name: str, body: PredictRequest) -> dict[str, Any]:
        m = model(name)
        items = _items(m, body, limits)
        start = time.perf_counter()
        try:
            m.check(items)
            results = await asyncio.wrap_future(batchers[name].submit(items))
        except LimitError as exc:
            raise HTTPException(413, str(exc)) from None
        except WorkerDown as exc:
            raise HTTPException(503, f"{m.task} {name!r} cannot answer: {exc}; restart the service (and report "
                                     "the error if it comes back)") from None  # fmt: skip
        except (RnnlabError, ValueError, KeyError) as exc:
            raise HTTPException(422, f"{m.task} {name!r} cannot read this input: {exc}") from None
        except Exception as exc:  # a fault of the model's code, not of the request: say which, not just 500
            raise HTTPException(500, f"{m.task} {name!r} failed on this input ({type(exc).__name__}: {exc}); "
                                     "please report it") from None  # fmt: skip
        return {"model": name, "task": m.task, "results": results,
                "milliseconds": 1000 * (time.perf_counter() - start)}  # fmt: skip

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app


def check_settings(limits: Limits, max_wait_ms: float, threads: int | None) -> None:
    """A ValueError naming the first setting with which the service could not answer (a limit of 0 refuses every
    request; a NaN wait or a negative thread count stops the batch worker)."""
    for f in fields(limits):
        value = getattr(limits, f.name)
        if f.type in (int, "int"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{f.name} must be a whole number of 1 or more; received {value!r}")
        elif not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"Limits.{f.name} must be a finite number above 0; received {value!r}")
    if not (
        isinstance(max_wait_ms, int | float) and math.isfinite(max_wait_ms) and 0 <= max_wait_ms <= 1000 * MAX_WAIT_S
    ):
        raise ValueError(
            f"max_wait_ms must be a finite number from 0 to {1000 * MAX_WAIT_S:g}; received {max_wait_ms!r}"
        )
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or not 0 <= threads <= MAX_THREADS
    ):
        raise ValueError(f"threads must be None or a whole number from 0 to {MAX_THREADS}; received {threads!r}")


def _is_json(content_type: str | None) -> bool:
    import email.message

    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type  # as FastAPI reads it
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def _unparsable(cause: BaseException | None) -> str | None:
    """Why FastAPI could not parse a body as JSON, when the cause says (else None)."""
    if isinstance(cause, RecursionError):
        return 'it is nested too deeply (arrays or objects within one another); send {"texts": ["...", ...]}'
    if isinstance(cause, UnicodeDecodeError):
        byte = cause.object[cause.start : cause.start + 1].hex()
        return f"it is not {cause.encoding.upper()} text (byte 0x{byte} at position {cause.start}); send UTF-8"
    return None


def _valid_unicode(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise HTTPException(422, f"{what} holds a lone surrogate ({text[exc.start]!r} at character {exc.start}); "
                                 "send valid Unicode (UTF-8)") from None  # fmt: skip


def _items(m: Served, body: PredictRequest, limits: Limits) -> list[str]:
    given = [k for k in ("text", "texts", "csv") if getattr(body, k) is not None]
    if m.field == "csv":
        if given != ["csv"]:
            raise HTTPException(422, f'forecaster {m.name!r} reads {{"csv": "<CSV text>"}}; received {given}')
        _valid_unicode(body.csv, "the CSV")  # type: ignore[arg-type]
        return [body.csv]  # type: ignore[list-item]
    if len(given) != 1 or given == ["csv"]:
        raise HTTPException(422, f'{m.task} {m.name!r} reads exactly one of "text" or "texts"; received {given}')
    items = [body.text] if body.text is not None else list(body.texts)  # type: ignore[arg-type]
    if not items:
        raise HTTPException(422, '"texts" is empty; send at least one text')
    for i, item in enumerate(items):
        _valid_unicode(item, f"text {i + 1}")
    if len(items) > limits.max_batch:
        raise HTTPException(413, f"{len(items)} texts in one request; the limit is {limits.max_batch} "
                                 "(split the request, or start the service with a larger --max-batch)")  # fmt: skip
    return items
