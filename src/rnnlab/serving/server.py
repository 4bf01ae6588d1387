"""How ``rnnlab serve`` runs uvicorn: the connection cap and the timeouts, in one place.

uvicorn alone answers 503 past ``limit_concurrency`` only once a request's headers are in, and never times out
a connection that sends its headers slowly (or nothing at all): 20,400 such connections once used up the file
descriptors and ``/health`` stopped answering. The HTTP protocol here is uvicorn's h11 protocol plus two
rules: a connection opened while ``max_open`` are open is answered 503 and closed at once, and a connection
that has not sent a complete request head within ``header_timeout_s`` (from its opening or from the end of its
previous response) is closed, with a 408 when it had sent part of one. Slow bodies are the app's
:class:`~rnnlab.serving.guard.BodyGuard` (408 after ``Limits.body_timeout_s``).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Connections:
    """What the server allows connections: how many at once, and how long it waits for them."""

    max_open: int = 256  # open connections at most (a slow client holds one); 503 and closed beyond
    header_timeout_s: float = 10.0  # for a request's line and headers to arrive
    keep_alive_s: int = 5  # an idle connection between requests is closed after this
    max_header_bytes: int = 16 * 1024  # of an unfinished request head held (h11's own default; 400 beyond)
    shutdown_s: int = 10  # on Ctrl-C, requests in flight get this long before their connections are closed

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not value > 0:
                raise ValueError(f"Connections.{name} must be positive; received {value}")


def uvicorn_options(host: str, port: int, connections: Connections | None = None) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run(app, ...)`` / ``uvicorn.Config(app, ...)``: the address, the guarded
    HTTP protocol, the cap and the timeouts.

    >>> options = uvicorn_options("127.0.0.1", 8000, Connections(max_open=64))
    >>> options["limit_concurrency"], options["http"].max_open, options["timeout_keep_alive"]
    (65, 64, 5)
    """
    c = connections or Connections()
    return {
        "host": host,
        "port": port,
        "http": guarded_protocol(c),
        # uvicorn's own 503 counts the asking connection and the requests still running for clients gone:
        # past max_open requests in flight (max_open + 1 with the asking one), it answers 503 too
        "limit_concurrency": c.max_open + 1,
        "timeout_keep_alive": c.keep_alive_s,
        "h11_max_incomplete_event_size": c.max_header_bytes,
        "timeout_graceful_shutdown": c.shutdown_s,
        "log_level": "warning",
    }


def check_listen(host: str, port: int) -> None:
    """Bind, and release at once, every address uvicorn will listen on for ``host`` and ``port`` (as asyncio's
    ``create_server`` binds them: the addresses ``host`` resolves to, every interface for ""): a ValueError that
    names the address and what to do when one cannot be bound (a port in use, an unknown host), before anything
    is announced. (uvicorn itself logs the error after ``rnnlab serve`` has said it serves, and exits with 3.)
    """
    import socket

    where = f"{'[every interface]' if not host.strip() else f'[{host}]' if ':' in host else host}:{port}"
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError, ValueError):  # gaierror; a name IDNA cannot encode; a NUL character
        raise ValueError(
            f"cannot listen on {where}: unknown host; use an IP address or a hostname that resolves"
        ) from None
    opened: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            try:
                sock = socket.socket(family, kind, proto)
            except OSError:  # a family this machine lacks (IPv6 off): asyncio skips it too
                continue
            opened.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise ValueError(f"cannot listen on {where}: {_why(exc.errno, port, exc)}") from None
    finally:
        for sock in opened:
            sock.close()


def _why(code: int | None, port: int, exc: OSError) -> str:
    import errno

    if code == errno.EADDRINUSE:
        return "address already in use; choose another --port"
    if code == errno.EADDRNOTAVAIL:
        return (
            "the address is not one of this machine's; use --host 127.0.0.1 (this machine only), 0.0.0.0 "
            "(every interface) or the address of one of its network interfaces"
        )
    if code == errno.EACCES and port < 1024:
        return "permission denied (ports below 1024 need administrator rights); choose a --port from 1024 up"
    return f"{exc.strerror or exc}; choose another --port or --host"


def _raw_response(status: str, detail: str) -> bytes:
    import json

    body = json.dumps({"detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def guarded_protocol(connections: Connections) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with the cap on open connections and the header timeout of ``connections``."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    busy = _raw_response(
        "503 Service Unavailable",
        f"the service has {connections.max_open} connections open (its limit); try again shortly",
    )
    slow = _raw_response(
        "408 Request Timeout", f"the request line and headers did not arrive within {connections.header_timeout_s:g} s"
    )

    class GuardedH11Protocol(H11Protocol):
        max_open, header_timeout_s = connections.max_open, connections.header_timeout_s
        _timer: asyncio.TimerHandle | None = None
        _refused = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            if len(self.connections) >= self.max_open:
                self._refused, self.transport = True, transport
                transport.write(busy)
                transport.close()
                return
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._refused:
                return
            if self._timer is not None:
                self._timer.cancel()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if not self._refused:
                super().data_received(data)

        def on_response_complete(self) -> None:
            self._arm()  # the next request's head has header_timeout_s from now
            super().on_response_complete()

        def _arm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_later(self.header_timeout_s, self._header_timeout)

        def _header_timeout(self) -> None:
            self._timer = None
            if self.transport.is_closing() or (self.cycle is not None and not self.cycle.response_complete):
                return  # a request is being answered: its body has the app's own timeout
            if self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:
                self.transport.write(slow)  # part of a request head came: say why it is dropped
            self.transport.close()

    return GuardedH11Protocol
