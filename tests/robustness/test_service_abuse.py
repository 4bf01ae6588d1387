"""The service under hostile clients (issue 22, rows 1 and 2): bodies counted as they arrive, slow heads and
bodies timed out, open connections capped, and an API key when one is set."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="rnnlab serve needs fastapi")
pytest.importorskip("uvicorn", reason="rnnlab serve needs uvicorn")
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rnnlab.cli import app as cli_app
from rnnlab.cli.serve import exposure_warning
from rnnlab.serving import Limits, create_app
from rnnlab.serving.server import Connections, uvicorn_options
from rnnlab.serving.tasks import Served

KEY = "k3y-for-the-tests-0123456789"
PREDICT = "/v1/models/echo/predict"
TIGHT = Limits(max_body_bytes=1000, body_timeout_s=0.3)


class Echo(Served):
    """A model without a network: each text's length (the guards, not the models, are under test)."""

    task = "classifier"

    def predict(self, items: list[str]) -> list[dict]:
        return [{"chars": len(t)} for t in items]


def echo_app(**kwargs):
    return create_app({"echo": Echo("echo", "nowhere", Limits())}, **kwargs)


@pytest.fixture
def tight_app():
    app = echo_app(limits=TIGHT)
    yield app
    for batcher in app.state.batchers.values():
        batcher.close()


def call(app, receive, *, headers=(), path=PREDICT, limit_s: float = 5.0) -> tuple[int, dict, dict]:
    """One request straight through the ASGI app with a hand-made ``receive``: (status, JSON body, headers)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), limit_s))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), {k.decode(): v.decode() for k, v in start["headers"]}


# --- row 1: the body is counted as it arrives ----------------------------------------------------------------


def test_a_chunked_body_over_the_limit_is_refused_without_reading_the_rest(tight_app):
    reads = 0

    async def endless():  # a chunked body with no Content-Length and no end (1 GB, as in the issue, or more)
        nonlocal reads
        reads += 1
        assert reads < 100, "the app kept reading past the limit"
        return {"type": "http.request", "body": b"x" * 256, "more_body": True}

    status, body, headers = call(tight_app, endless)
    assert status == 413 and "over 1000 bytes" in body["detail"], body
    assert reads == 4  # 1024 bytes > 1000: the fifth chunk was never asked for
    assert headers["connection"] == "close"


def test_a_body_under_the_limit_in_chunks_is_answered(tight_app):
    chunks = [b'{"texts": ["', b"a" * 300, b'", "', b"b" * 300, b'"]}']

    async def receive():
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    status, body, _ = call(tight_app, receive)
    assert status == 200 and body["results"] == [{"chars": 300}, {"chars": 300}], body


def test_a_declared_length_over_the_limit_is_refused_before_any_read(tight_app):
    async def receive():
        raise AssertionError("the body was read")

    status, body, _ = call(tight_app, receive, headers=[(b"content-length", b"5000")])
    assert status == 413 and "5000 bytes" in body["detail"]


def test_a_body_that_stalls_gets_408(tight_app):
    reads = 0

    async def stalls():
        nonlocal reads
        reads += 1
        if reads == 1:
            return {"type": "http.request", "body": b'{"text": "he', "more_body": True}
        await asyncio.sleep(3600)

    began = time.perf_counter()
    status, body, headers = call(tight_app, stalls)
    assert status == 408 and "within 0.3 s" in body["detail"] and "12 bytes came" in body["detail"], body
    assert time.perf_counter() - began < 2 and headers["connection"] == "close"


# --- row 1: slow heads, the connection cap, over a real socket -------------------------------------------------


@pytest.fixture(scope="module")
def server():
    """uvicorn with the options ``rnnlab serve`` uses, tightened: 4 connections, 0.5 s for a head."""
    app = echo_app(limits=TIGHT)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    options = uvicorn_options("127.0.0.1", port, Connections(max_open=4, header_timeout_s=0.5, keep_alive_s=1))
    srv = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.02)
    assert srv.started, "the service did not start"
    yield srv, port
    srv.should_exit = True
    thread.join(timeout=10)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.settimeout(5)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return data


def _settle(srv, open_connections: int) -> None:
    deadline = time.time() + 5
    while len(srv.server_state.connections) != open_connections and time.time() < deadline:
        time.sleep(0.02)
    assert len(srv.server_state.connections) == open_connections


def _health(port: int) -> int:
    with _connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return int(_read_all(sock).split()[1])


def test_a_head_that_trickles_is_answered_408_and_closed(server):
    srv, port = server
    with _connect(port) as sock:
        began = time.perf_counter()
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n")  # and never the blank line that ends the head
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive within 0.5 s" in answer
    assert time.perf_counter() - began < 3
    _settle(srv, 0)


def test_a_silent_connection_is_closed(server):
    srv, port = server
    with _connect(port) as sock:
        began = time.perf_counter()
        assert _read_all(sock) == b""
    assert time.perf_counter() - began < 3
    _settle(srv, 0)


def test_connections_past_the_cap_get_503_and_health_answers_once_slow_ones_are_dropped(server):
    srv, port = server
    slow = [_connect(port) for _ in range(4)]
    try:
        _settle(srv, 4)
        with _connect(port) as extra:
            answer = _read_all(extra)
        assert answer.startswith(b"HTTP/1.1 503") and b"4 connections open" in answer
        assert len(srv.server_state.connections) == 4  # the extra one was not kept
    finally:
        time.sleep(0.7)  # past the head timeout: the four slow ones are dropped by the server
        for sock in slow:
            assert _read_all(sock) == b""
            sock.close()
    assert _health(port) == 200


def test_an_unfinished_head_over_16_kb_is_refused(server):
    srv, port = server
    with _connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"y" * 20_000)  # no end in sight
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400")
    _settle(srv, 0)


def test_a_chunked_body_over_the_limit_over_a_socket(server):
    srv, port = server
    with _connect(port) as sock:
        sock.sendall(
            f"POST {PREDICT} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        for _ in range(3):  # 1536 bytes, and the body's end never comes
            sock.sendall(b"200\r\n" + b"x" * 512 + b"\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 413") and b"over 1000 bytes" in answer
    assert b"connection: close" in answer.lower()
    _settle(srv, 0)
    assert _health(port) == 200


def test_a_body_that_stalls_over_a_socket_gets_408(server):
    srv, port = server
    with _connect(port) as sock:
        sock.sendall(
            f"POST {PREDICT} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            'Content-Length: 100\r\n\r\n{"text": '.encode()
        )
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408") and b"within 0.3 s" in answer
    _settle(srv, 0)


def test_the_server_options_carry_the_cap_and_the_timeouts():
    options = uvicorn_options("127.0.0.1", 8123, Connections(max_open=7, header_timeout_s=3, keep_alive_s=2))
    assert options["http"].max_open == 7 and options["http"].header_timeout_s == 3
    assert options["limit_concurrency"] == 8 and options["timeout_keep_alive"] == 2
    assert options["h11_max_incomplete_event_size"] == 16 * 1024 and options["timeout_graceful_shutdown"] > 0
    uvicorn.Config(echo_app(), **options).load()  # uvicorn takes every option
    with pytest.raises(ValueError, match="max_open must be positive; received 0"):
        Connections(max_open=0)


# --- row 2: the API key ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed():
    with TestClient(echo_app(api_key=KEY)) as client:
        yield client


def test_without_the_key_every_route_but_health_and_the_page_is_401(keyed):
    for path in ("/v1/models", "/v1/models/echo", "/openapi.json", "/docs"):
        answer = keyed.get(path)
        assert answer.status_code == 401 and "needs an API key" in answer.json()["detail"], path
    answer = keyed.post(PREDICT, json={"text": "hello"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")
    for path in ("/health", "/", "/static/app.js", "/static/style.css"):
        assert keyed.get(path).status_code == 200, path


def test_a_wrong_key_is_401_and_no_key_is_echoed(keyed):
    for headers in (
        {"X-API-Key": "guess-guess-guess-guess"},
        {"Authorization": "Bearer " + KEY[:-1]},
        {"Authorization": "Basic " + KEY},
        {"X-API-Key": ""},
    ):
        answer = keyed.post(PREDICT, json={"text": "hello"}, headers=headers)
        assert answer.status_code == 401, headers
        assert KEY[:-1] not in answer.text and "guess" not in answer.text
    assert "not this service's key" in keyed.get("/v1/models", headers={"X-API-Key": "nope"}).json()["detail"]


def test_the_right_key_in_either_header_is_answered(keyed):
    for headers in ({"X-API-Key": KEY}, {"Authorization": "Bearer " + KEY}, {"authorization": "bearer " + KEY}):
        answer = keyed.post(PREDICT, json={"text": "hello"}, headers=headers)
        assert answer.status_code == 200 and answer.json()["results"] == [{"chars": 5}], headers
    assert keyed.get("/v1/models", headers={"X-API-Key": KEY}).json()[0]["name"] == "echo"


def test_a_weak_key_is_refused_without_being_shown():
    for key, says in [("", "0 characters"), ("short-key", "9 characters"), ("a key with spaces in it", "spaces")]:
        with pytest.raises(ValueError, match=says) as caught:
            echo_app(api_key=key)
        assert not key or key not in str(caught.value)


def test_rnnlab_serve_takes_the_key_from_the_environment(monkeypatch):
    import rnnlab.serving

    started, models = {}, {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(app=app, **options))
    monkeypatch.setattr(rnnlab.serving, "create_app", lambda given, **kw: models.update(given) or echo_app(**kw))
    args = ["serve", "--model", "echo=some/dir", "--host", "0.0.0.0", "--max-connections", "9"]
    result = CliRunner().invoke(cli_app, args, env={"RNNLAB_API_KEY": KEY})
    assert result.exit_code == 0, result.output
    assert KEY not in result.output and "an API key is required" in result.output
    assert started["limit_concurrency"] == 10 and started["http"].max_open == 9 and started["host"] == "0.0.0.0"
    assert models == {"echo": "some/dir"}
    assert KEY not in CliRunner().invoke(cli_app, ["serve", "--help"], env={"RNNLAB_API_KEY": KEY}).output
    with TestClient(started["app"]) as client:
        assert client.get("/v1/models").status_code == 401
        assert client.get("/v1/models", headers={"X-API-Key": KEY}).status_code == 200
        assert client.get("/health").status_code == 200


def test_the_exposure_warning_says_whether_a_key_is_set():
    assert "no API key is set" in exposure_warning("0.0.0.0") and "--api-key" in exposure_warning("0.0.0.0")
    assert "an API key is required" in exposure_warning("0.0.0.0", keyed=True)
    assert "TLS" in exposure_warning("0.0.0.0", keyed=True)
    assert exposure_warning("127.0.0.1", keyed=True) is None
