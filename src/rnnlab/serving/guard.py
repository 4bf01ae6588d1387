"""What stands before the routes: a body counted as it arrives (413, 408) and an optional API key (401).

Both are pure ASGI middlewares: they wrap ``receive`` instead of reading the body first (as Starlette's
``BaseHTTPMiddleware`` would), so a chunked body with no Content-Length is refused after ``max_bytes`` bytes
have come, not after the whole of it has been held in memory. The refusals carry ``Connection: close``: the
server stops reading the rest of the body and closes the connection.
"""

from __future__ import annotations

import asyncio
import hmac

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN_KEY_CHARS = 16
_CLOSE = {"Connection": "close"}


class Refused(HTTPException):
    """A request refused while its body was read; an ``HTTPException`` so FastAPI answers it (it re-raises those
    from the body reading) and the guard answers it when it reaches the guard instead."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(status, detail, headers=_CLOSE)

    def response(self) -> JSONResponse:
        return JSONResponse({"detail": self.detail}, status_code=self.status_code, headers=self.headers)


class BodyGuard:
    """Counts the request body's bytes as they arrive: 413 past ``max_bytes`` (Content-Length or not), 408 when
    the whole body has not come within ``timeout_s`` seconds of the first read; 415 for a compressed body
    (``Content-Encoding`` other than identity), which the service does not decode."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout_s: float) -> None:
        self.app, self.max_bytes, self.timeout_s = app, max_bytes, timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        encoding = (_header(scope, b"content-encoding") or b"").decode("latin-1").strip()
        if encoding and encoding.lower() != "identity":
            refusal = Refused(415, f"the request body is sent with Content-Encoding: {encoding[:40]}, which this "
                                   "service does not decode; send it uncompressed (no Content-Encoding)")  # fmt: skip
            await refusal.response()(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            refusal = Refused(413, f"the request body has {int(declared)} bytes; the limit is {self.max_bytes}")
            await refusal.response()(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, self._counted(receive), sending)
        except Refused as refusal:
            if started:
                raise
            await refusal.response()(scope, receive, send)

    def _counted(self, receive: Receive) -> Receive:
        received, done, deadline = 0, False, None

        async def counted() -> Message:
            nonlocal received, done, deadline
            if done:  # the body is in; later reads wait for a disconnect and must not time out
                return await receive()
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self.timeout_s
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise Refused(
                    408,
                    f"the request body did not arrive within {self.timeout_s:g} s ({received} bytes "
                    "came); send the whole body at once",
                ) from None
            if message["type"] != "http.request":
                done = True
                return message
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise Refused(
                    413,
                    f"the request body is over {self.max_bytes} bytes (the limit); "
                    "it was refused before the rest was read",
                )
            done = not message.get("more_body", False)
            return message

        return counted


class KeyGuard:
    """Every path but ``/health``, the page ``/`` and ``/static/...`` needs the key, in ``X-API-Key: KEY`` or
    ``Authorization: Bearer KEY``; compared in constant time. The key is never logged or echoed."""

    def __init__(self, app: ASGIApp, *, key: str) -> None:
        self.app, self._key = app, check_api_key(key).encode("ascii")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        sent = _header(scope, b"x-api-key")
        if sent is None:
            authorization = _header(scope, b"authorization") or b""
            scheme, _, token = authorization.partition(b" ")
            sent = token.strip() if scheme.lower() == b"bearer" else None
        if sent is not None and hmac.compare_digest(sent, self._key):
            await self.app(scope, receive, send)
            return
        detail = (
            "this service needs an API key: send it in the header X-API-Key: KEY (or Authorization: Bearer "
            "KEY); on the page, type it in the API key field"
            if sent is None
            else "the API key sent is not this service's key; send the key the service was started with "
            "(--api-key or RNNLAB_API_KEY)"
        )
        headers = {**_CLOSE, "WWW-Authenticate": 'Bearer realm="rnnlab"'}
        await JSONResponse({"detail": detail}, status_code=401, headers=headers)(scope, receive, send)


def check_api_key(key: str) -> str:
    """``key`` if it can serve as an API key (at least 16 visible ASCII characters), else a ValueError that
    names what is wrong but never the key itself."""
    if len(key) < MIN_KEY_CHARS:
        raise ValueError(
            f"the API key has {len(key)} characters; use at least {MIN_KEY_CHARS} (a random one: "
            "python -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )
    if not (key.isascii() and key.isprintable()) or any(c.isspace() for c in key):
        raise ValueError(
            "the API key holds spaces, control or non-ASCII characters, which an HTTP header cannot "
            "carry unchanged; use letters, digits and punctuation only"
        )
    return key


def _is_open(path: str) -> bool:
    return path in ("/", "/health") or path.startswith("/static/")


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value
    return None
