"""The REST service and its web page: ``create_app({name: directory})`` loads each model once.

``POST /v1/models/{name}/predict`` answers through a :class:`~rnnlab.serving.batching.MicroBatcher` per model,
so concurrent requests share forward passes; ``GET /v1/models`` lists the models (task, config, training
metrics); ``GET /health``; ``GET /`` is the page (static files shipped in the package, no CDN).
Bad requests get 4xx answers that say what was wrong: 404 unknown model, 413 over a limit, 422 invalid input,
408 a body too slow, 401 without the API key (when the service has one; :mod:`rnnlab.serving.guard`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from rnnlab.errors import RnnlabError
from rnnlab.serving.batching import MicroBatcher
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
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        """422 naming where and what, without echoing the input (a NaN or a lone surrogate in it would make the
        error itself unwritable as JSON: a 500)."""
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]  # fmt: skip
        return JSONResponse({"detail": errors}, status_code=422)

    def model(name: str) -> Served:
        if name not in served:
            raise HTTPException(404, f"no model {name!r}; the models are {sorted(served)} (GET /v1/models)")
        return served[name]

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "models": len(served),
                "batches": {n: b.batches for n, b in batchers.items()}}  # fmt: skip

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
        except (RnnlabError, ValueError, KeyError) as exc:
            raise HTTPException(422, f"{m.task} {name!r} cannot read this input: {exc}") from None
        return {"model": name, "task": m.task, "results": results,
                "milliseconds": 1000 * (time.perf_counter() - start)}  # fmt: skip

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app


def _items(m: Served, body: PredictRequest, limits: Limits) -> list[str]:
    given = [k for k in ("text", "texts", "csv") if getattr(body, k) is not None]
    if m.field == "csv":
        if given != ["csv"]:
            raise HTTPException(422, f'forecaster {m.name!r} reads {{"csv": "<CSV text>"}}; received {given}')
        return [body.csv]  # type: ignore[list-item]
    if len(given) != 1 or given == ["csv"]:
        raise HTTPException(422, f'{m.task} {m.name!r} reads exactly one of "text" or "texts"; received {given}')
    items = [body.text] if body.text is not None else list(body.texts)  # type: ignore[arg-type]
    if not items:
        raise HTTPException(422, '"texts" is empty; send at least one text')
    for i, item in enumerate(items):
        try:
            item.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise HTTPException(422, f"text {i + 1} holds a lone surrogate ({item[exc.start]!r} at character "
                                     f"{exc.start}); send valid Unicode (UTF-8)") from None  # fmt: skip
    if len(items) > limits.max_batch:
        raise HTTPException(413, f"{len(items)} texts in one request; the limit is {limits.max_batch} "
                                 "(split the request, or start the service with a larger --max-batch)")  # fmt: skip
    return items
