"""``rnnlab serve`` under the fourth probing round (issue 22): options checked before anything starts or is
announced, a dead batch worker answered 503 instead of a hang, and request bodies the service cannot read
answered with the reason (nesting, content type, content encoding, lone surrogates)."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket

import pytest

pytest.importorskip("fastapi", reason="rnnlab serve needs fastapi")
pytest.importorskip("uvicorn", reason="rnnlab serve needs uvicorn")
import uvicorn
from cli_runner import cli, refused

import rnnlab.serving
from rnnlab.serving import Limits, create_app
from rnnlab.serving.tasks import Served

PREDICT = "/v1/models/echo/predict"


class Echo(Served):
    """A model without a network: each text's length (the service, not the models, is under test)."""

    task = "classifier"

    def predict(self, items: list[str]) -> list[dict]:
        return [{"chars": len(t)} for t in items]


class EchoCsv(Echo):
    task, field = "forecaster", "csv"


def echo_app(served: type[Served] = Echo, **kwargs):
    return create_app({"echo": served("echo", "nowhere", Limits())}, **kwargs)


def close(app) -> None:
    for batcher in app.state.batchers.values():
        batcher.close()


def call(app, body: bytes, *, headers=((b"content-type", b"application/json"),), method="POST", path=PREDICT,
         limit_s: float = 5.0) -> tuple[int, dict]:  # fmt: skip
    """One request straight through the ASGI app, given ``limit_s`` seconds to answer: (status, JSON body)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": list(headers),
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}  # fmt: skip
    sent: list[dict] = []
    chunks = [body]

    async def receive():
        if chunks:
            return {"type": "http.request", "body": chunks.pop(), "more_body": False}
        await asyncio.sleep(3600)  # a client that stays connected

    async def send(message):
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), limit_s))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))


@pytest.fixture
def no_start(monkeypatch):
    """``rnnlab serve`` with the echo model and a uvicorn that must not be reached (or is, when allowed)."""
    started: dict = {}

    def run(app, **options):
        started.update(app=app, **options)
        close(app)

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(rnnlab.serving, "create_app", lambda given, **kw: echo_app(**kw))
    return started


def usage_refused(monkeypatch, capsys, *args) -> str:
    """A usage error: exit status 2, one line ``error: ...`` and nothing on stdout."""
    code, out, err = cli(monkeypatch, capsys, *args)
    assert code == 2, (out, err)
    assert not out and err.startswith("error: ") and len(err.strip().splitlines()) == 1, (out, err)
    return err.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- 1: --threads, and a batch worker that dies ---------------------------------------------------------------


def test_negative_threads_are_refused_before_anything_starts(monkeypatch, capsys, no_start):
    # before: the service started; its batch thread died (set_num_threads expects a positive integer) and
    # every request hung while /health said ok
    err = usage_refused(monkeypatch, capsys, "serve", "--model", "c=m_cls", "--threads", "-1")
    assert "--threads" in err and "a whole number from 0 to 1024" in err, err
    assert not no_start
    with pytest.raises(ValueError, match="threads"):
        echo_app(threads=-1)


def test_a_batch_worker_that_dies_at_start_answers_503_and_health_says_so(monkeypatch):
    import torch

    def refuse(n):
        raise RuntimeError("set_num_threads expects a positive integer")

    monkeypatch.setattr(torch, "set_num_threads", refuse)
    app = echo_app(threads=2)
    try:
        for _ in range(2):  # the first request and any later one: an answer, never a hang
            status, body = call(app, b'{"text": "hello"}')
            assert status == 503, body
            assert "set_num_threads expects a positive integer" in body["detail"] and "restart" in body["detail"]
        status, body = call(app, b"", method="GET", path="/health")
        assert status == 503 and body["status"] != "ok" and "echo" in json.dumps(body), body
    finally:
        close(app)


class Crash(BaseException):
    """Something no ``except Exception`` catches, raised inside the model's forward pass."""


def test_a_batch_worker_that_dies_mid_batch_answers_every_request(monkeypatch):
    def crash(self, items):
        raise Crash("the worker went down")

    monkeypatch.setattr(Echo, "predict", crash)
    app = echo_app()
    try:
        for _ in range(3):
            status, body = call(app, b'{"texts": ["a", "b"]}')
            assert status == 503 and "the worker went down" in body["detail"], body
    finally:
        close(app)


def test_a_model_failing_with_an_unexpected_error_answers_500_with_the_reason(monkeypatch):
    def fails(self, items):
        raise IndexError("list index out of range")

    monkeypatch.setattr(Echo, "predict", fails)
    app = echo_app()
    try:
        status, body = call(app, b'{"text": "x"}')
        assert status == 500 and "IndexError: list index out of range" in body["detail"], body
        status, body = call(app, b"", method="GET", path="/health")
        assert status == 200 and body["status"] == "ok"  # the worker lives on
    finally:
        close(app)


# --- 2 and 3: the port and the host ---------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "-1", "0", "65536"])
def test_a_port_out_of_range_is_refused_before_the_announcement(monkeypatch, capsys, no_start, port):
    # before: "rnnlab serving ... on http://127.0.0.1:99999/" then a 94-line uvicorn traceback (OverflowError)
    err = usage_refused(monkeypatch, capsys, "serve", "--model", "c=m_cls", "--port", port)
    assert "--port" in err and "not a valid TCP port; use a whole number from 1 to 65535" in err, err
    assert not no_start


def test_a_port_in_use_is_one_line_before_the_announcement(monkeypatch, capsys, no_start):
    # before: "serving ... on http://..." then uvicorn's "ERROR: [Errno 98] ..." and exit status 3
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = cli(monkeypatch, capsys, "serve", "--model", "c=m_cls", "--port", port)
    assert code == 1 and not out, (out, err)
    assert err.strip() == f"error: cannot listen on 127.0.0.1:{port}: address already in use; choose another --port"
    assert not no_start


def test_an_unknown_host_is_one_line_before_the_announcement(monkeypatch, capsys, no_start):
    def unknown(*args, **kwargs):  # as a resolver answers 999.1.1.1 (no DNS asked: the test is deterministic)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    err = refused(monkeypatch, capsys, "serve", "--model", "c=m_cls", "--host", "999.1.1.1", "--port", free_port())
    assert "cannot listen on 999.1.1.1:" in err and "unknown host" in err and "IP address" in err, err
    assert not capsys.readouterr().out and not no_start


def test_an_address_not_on_this_machine_is_one_line(monkeypatch, capsys, no_start):
    code, out, err = cli(monkeypatch, capsys, "serve", "--model", "c=m", "--host", "192.0.2.1", "--port", free_port())
    assert code == 1 and not out and err.startswith("error: cannot listen on 192.0.2.1:"), (out, err)
    assert "--host" in err and len(err.strip().splitlines()) == 1, err  # no exposure warning before it
    assert not no_start


def test_a_free_port_starts_with_the_announcement(monkeypatch, capsys, no_start):
    port = free_port()
    code, out, err = cli(monkeypatch, capsys, "serve", "--model", "c=m_cls", "--port", port)
    assert code == 0 and out.strip() == f"rnnlab serving 1 model(s) on http://127.0.0.1:{port}/", (out, err)
    assert no_start["port"] == port


def test_uvicorn_failing_to_start_is_one_line_not_status_3(monkeypatch, capsys, no_start):
    def run(app, **options):  # the port was taken between the check and uvicorn's bind
        close(app)
        raise SystemExit(3)

    monkeypatch.setattr(uvicorn, "run", run)
    code, out, err = cli(monkeypatch, capsys, "serve", "--model", "c=m_cls", "--port", free_port())
    assert code == 1 and err.startswith("error: the server could not start"), (out, err)
    assert len(err.strip().splitlines()) == 1

    def terminated(app, **options):  # SIGTERM while serving: its own status, not "could not start"
        close(app)
        raise SystemExit(143)

    monkeypatch.setattr(uvicorn, "run", terminated)
    code, out, err = cli(monkeypatch, capsys, "serve", "--model", "c=m_cls", "--port", free_port())
    assert code == 143 and "could not start" not in err, (out, err)


# --- 4: the limits ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--max-batch", "0", "a whole number of 1 or more"),
        ("--max-chars", "-1", "a whole number of 1 or more"),
        ("--max-rows", "0", "a whole number of 1 or more"),
        ("--max-connections", "0", "greater than or equal to 1"),
        ("--max-wait-ms", "nan", "finite"),
        ("--max-wait-ms", "inf", "finite"),
        ("--max-wait-ms", "-1", "finite"),
        ("--max-wait-ms", "1e300", "finite"),
    ],
)
def test_limits_out_of_range_are_refused_at_start(monkeypatch, capsys, no_start, option, value, says):
    # before: the service started and every request got 413 "the limit is 0"
    err = usage_refused(monkeypatch, capsys, "serve", "--model", "c=m_cls", option, value)
    assert option in err and says in err, err
    assert not no_start


def test_create_app_refuses_limits_that_answer_nothing():
    wrong = [
        (Limits(max_batch=0), "max_batch"),
        (Limits(max_chars=-1), "max_chars"),
        (Limits(max_csv_rows=0), "max_csv_rows"),
        (Limits(body_timeout_s=float("nan")), "body_timeout_s"),
    ]
    for limits, says in wrong:
        with pytest.raises(ValueError, match=says):
            echo_app(limits=limits)
    for wait in (float("nan"), -1.0, float("inf")):
        with pytest.raises(ValueError, match="max_wait_ms"):
            echo_app(max_wait_ms=wait)


# --- 5: request bodies the service cannot read ------------------------------------------------------------------


@pytest.fixture(scope="module")
def app():
    app = create_app({"echo": Echo("echo", "nowhere", Limits()), "csv": EchoCsv("csv", "nowhere", Limits())})
    yield app
    close(app)


def test_a_deeply_nested_body_says_so(app):
    # before: 400 "There was an error parsing the body"
    status, body = call(app, b'{"texts":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert status == 400 and "nested too deeply" in body["detail"], body


def test_a_body_that_is_not_utf8_says_so(app):
    status, body = call(app, '{"text": "café"}'.encode("latin-1"))
    assert status == 400 and "UTF-8" in body["detail"] and "0xe9" in body["detail"], body


@pytest.mark.parametrize("content_type", [b"text/plain", b"application/x-www-form-urlencoded", None])
def test_a_json_body_sent_as_another_content_type_names_it(app, content_type):
    # before: 422 "Input should be a valid dictionary or object to extract fields from"
    headers = [] if content_type is None else [(b"content-type", content_type)]
    status, body = call(app, b'{"text": "hello"}', headers=headers)
    assert status == 415, body
    assert "send Content-Type: application/json" in body["detail"], body
    assert (content_type or b"without a Content-Type").decode() in body["detail"], body
    assert call(app, b'{"text": "hello"}', headers=[(b"content-type", b"application/json; charset=utf-8")])[0] == 200
    status, body = call(app, b'"hello"')  # JSON, but not an object: still the field-by-field 422
    assert status == 422 and body["detail"][0]["type"] == "model_attributes_type", body


def test_a_lone_surrogate_in_the_csv_is_named(app):
    # before (a real forecaster): 422 "... 'utf-8' codec can't encode character '\ud800' in position 7 ..."
    status, body = call(app, b'{"csv": "date,y\\n\\ud800"}', path="/v1/models/csv/predict")
    assert status == 422, body
    assert "lone surrogate" in body["detail"] and "\\ud800" in body["detail"] and "character 7" in body["detail"]
    assert "codec" not in body["detail"]


def test_a_gzip_body_says_the_encoding_is_not_supported(app):
    # before: 400 "There was an error parsing the body"
    headers = [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")]
    status, body = call(app, gzip.compress(b'{"text": "hello"}'), headers=headers)
    assert status == 415 and "Content-Encoding: gzip" in body["detail"] and "uncompressed" in body["detail"], body
    identity = [(b"content-type", b"application/json"), (b"content-encoding", b"identity")]
    assert call(app, b'{"text": "hello"}', headers=identity)[0] == 200
