"""Load test of `rnnlab serve`: concurrent clients on loopback for a bounded time, per model and concurrency,
then the same traffic beside abusive clients.

Starts the service in a subprocess (the demo NER tagger, or --tagger DIR, and the shipped real-estate extractor),
then for each model and each number of clients runs that many asyncio clients, each sending one text per request
back to back for --seconds; reports requests/s, p50/p99 latency, errors and the server's peak RSS. Texts:
CoNLL-2003 dev sentences and the real-estate dev ads from ../shared/data when present, else the bundled examples.

The abuse run (issue 22): --abuse-clients real clients on the tagger while --oversized clients stream endless
chunked bodies (no Content-Length; the service must refuse each past 8 MB without reading the rest) and --slow
clients send a request head one byte a second (the service must drop them after its head timeout); /health is
asked every 0.25 s on a new connection. Wanted: no error for the real clients, p99 under 2 s at 64 clients on
2 cores, the server's memory under 2 GB. --quick (under a minute; it checks that the script runs, its figures
are not the ones to quote) serves the tagger only, a tiny one when the demo tagger was never built, with 1 and
64 clients and a 5 s abuse run.

    python benchmarks/serve_load.py [--quick] [--clients 1,8,32,64] [--seconds 10] [--tagger DIR] [--no-batching]
                                    [--abuse-seconds 20] [--abuse-clients 64] [--oversized 4] [--slow 128]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchkit import environment, write

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def sentences(limit: int = 500) -> list[str]:
    path = SHARED / "conll2003" / "eng.testa"
    if path.is_file():
        from rnnlab.data.conll import read_tagged

        return [" ".join(s.tokens) for s in read_tagged(path)[:limit]]
    from rnnlab.tag.demo import demo_sentences

    return [" ".join(s.tokens) for s in demo_sentences(limit, seed=3)]


def ads(limit: int = 300) -> list[str]:
    from rnnlab.ie.extractor import read_ads

    path = SHARED / "realestate" / "gold_dev.jsonl"
    return [ad["text"] for ad in read_ads(path if path.is_file() else ROOT / "tests" / "ie" / "ads.jsonl")][:limit]


def demo_tagger() -> Path:
    folder = ROOT / "runs" / "demo" / "tag"
    if not (folder / "model" / "config.json").is_file():
        subprocess.run([sys.executable, "-m", "rnnlab", "tag", "demo", "--out", str(folder), "--overwrite"], check=True)
    return folder / "model"


def quick_tagger() -> Path:
    """A tiny tagger (a few seconds to fit) for --quick where the demo tagger was never built: --quick checks
    that the benchmark runs, its figures are not the ones to quote."""
    folder = ROOT / "runs" / "bench" / "serve_quick_tagger"
    if not (folder / "config.json").is_file():
        import torch

        from rnnlab.tag.demo import demo_sentences
        from rnnlab.tag.models import TaggerConfig
        from rnnlab.tag.tagger import Tagger
        from rnnlab.training import TrainConfig

        torch.manual_seed(0)
        tagger = Tagger(TaggerConfig(hidden_size=32, char="none"), TrainConfig(max_epochs=3, lr=1e-2, patience=None))
        tagger.fit(demo_sentences(200, seed=0), embeddings="none")
        tagger.save(folder, overwrite=True)
    return folder


def memory_mb(pid: int) -> dict[str, float | None]:
    """The process's resident memory now and its peak (Linux's VmHWM), in MiB; psutil (RSS now only) elsewhere."""
    try:
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
        )
        return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024, "peak_rss_mb": int(fields["VmHWM"].split()[0]) / 1024}
    except (OSError, KeyError, ValueError):
        pass
    try:
        import psutil

        rss = psutil.Process(pid).memory_info().rss / 2**20
        return {"rss_mb": rss, "peak_rss_mb": rss}
    except Exception:  # no psutil, or the process is gone
        return {"rss_mb": None, "peak_rss_mb": None}


def _shown(path: Path) -> str:
    """A path as the results file records it: relative to the checkout when inside it (no machine paths)."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else resolved.name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(models: dict[str, Path | str], port: int, extra: list[str]) -> subprocess.Popen:
    args = [sys.executable, "-m", "rnnlab", "serve", "--port", str(port), *extra]
    for name, directory in models.items():
        args += ["--model", f"{name}={directory}"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the service exited: {proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the service did not answer /health within 120 s")


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes
                ) -> tuple[int, bool]:  # fmt: skip
    """One request on a kept-alive HTTP/1.1 connection: its status code (the answer read whole) and whether the
    service keeps the connection open."""
    writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    await writer.drain()
    lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
    length = next((int(h.split(b":", 1)[1]) for h in lines if h.lower().startswith(b"content-length:")), 0)
    await reader.readexactly(length)
    return int(lines[0].split()[1]), not any(h.lower() == b"connection: close" for h in lines)


async def load(url: str, texts: list[str], clients: int, seconds: float) -> dict:
    """``clients`` connections, each sending one text per request back to back for ``seconds``.

    The clients speak HTTP/1.1 over asyncio streams (one kept-alive connection each, about 0.1 ms of CPU a request)
    rather than through httpx, whose connection pool cost 2 ms of CPU a request at 8 connections and 11 ms at 64 on
    this machine: with 64 clients the load generator, not the service, was using the cores (the service then ran at
    a third of a core with 1.6 requests a batch)."""
    host, port, path = _split(url)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    stop = time.perf_counter() + seconds
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n".encode()

    async def client(k: int) -> None:
        i, connection = k, None
        while time.perf_counter() < stop:
            body = json.dumps({"text": texts[i % len(texts)]}).encode()
            i += clients
            start = time.perf_counter()
            try:
                if connection is None:
                    connection = await asyncio.open_connection(host, port)
                status, keep = await asyncio.wait_for(_post(*connection, head, body), 60)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
                _count(errors, type(exc).__name__)
                if connection is not None:
                    connection[1].close()
                connection = None
                continue
            if status == 200:
                latencies.append(time.perf_counter() - start)
            else:
                _count(errors, str(status))
            if not keep:
                connection[1].close()
                connection = None
        if connection is not None:
            connection[1].close()

    began = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    wall = time.perf_counter() - began
    ms = sorted(1000 * t for t in latencies)
    return {
        "clients": clients,
        "requests": len(ms),
        "errors": errors,
        "seconds": round(wall, 2),
        "requests_per_s": len(ms) / wall,
        "p50_ms": statistics.median(ms) if ms else None,
        "p99_ms": ms[min(len(ms) - 1, int(0.99 * len(ms)))] if ms else None,
    }


def _split(url: str) -> tuple[str, int, str]:
    """``http://host:port/path`` → (host, port, path)."""
    rest = url.split("://", 1)[1]
    netloc, _, path = rest.partition("/")
    host, _, port = netloc.partition(":")
    return host, int(port or 80), "/" + path


def _count(tally: dict[str, int], key: str) -> None:
    tally[key] = tally.get(key, 0) + 1


async def _status(reader: asyncio.StreamReader) -> str:
    """The status code of the answer on ``reader``, or what happened instead."""
    try:
        line = await asyncio.wait_for(reader.readline(), 30)
    except (ConnectionError, TimeoutError) as exc:
        return type(exc).__name__
    return line.split()[1].decode() if line.startswith(b"HTTP/") else "closed"


async def oversized(port: int, path: str, stop: float, tally: dict[str, int], sent: list[int]) -> None:
    """Endless chunked bodies (no Content-Length), 64 kB a chunk and up to 64 MB an attempt, again and again."""
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    while time.perf_counter() < stop:
        mine = 0  # bytes of this attempt
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError as exc:
            _count(tally, f"connect {type(exc).__name__}")
            await asyncio.sleep(0.1)
            continue
        try:
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n".encode()
            )
            for _ in range(1024):
                if time.perf_counter() > stop:
                    _count(tally, "still sending at the end")
                    break
                writer.write(chunk)
                await writer.drain()
                sent[0], mine = sent[0] + len(chunk), mine + len(chunk)
            else:
                _count(tally, "64 MB sent, never refused")
        except ConnectionError:  # the service closed the connection: the body was refused
            _count(tally, f"refused: {await _status(reader)}")  # 413 when it arrives before the reset
            sent[1] = max(sent[1], mine)
        finally:
            writer.close()


async def slow(port: int, stop: float, tally: dict[str, int], every_s: float = 1.0) -> None:
    """A request head sent one byte a second, never finished; a new one each time the service drops it."""
    head = b"GET /health HTTP/1.1\r\nHost: bench\r\nX-Padding: " + b"y" * 4096
    while time.perf_counter() < stop:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError as exc:
            _count(tally, f"connect {type(exc).__name__}")
            await asyncio.sleep(every_s)
            continue
        try:
            for byte in head:
                if time.perf_counter() > stop:
                    _count(tally, "still open at the end")
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                try:  # an answer (a 408) or the service closing ends the attempt
                    got = await asyncio.wait_for(reader.read(64), every_s)
                except TimeoutError:
                    continue
                _count(tally, "408 and closed" if got.startswith(b"HTTP/1.1 408") else "closed")
                break
        except ConnectionError:
            _count(tally, "reset")
        finally:
            writer.close()


async def health(port: int, stop: float) -> dict:
    """/health on a new connection every 0.25 s: answered or not, and how fast."""
    ms, failures = [], {}
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as http:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                answer = await http.get(f"http://127.0.0.1:{port}/health")
                if answer.status_code == 200:
                    ms.append(1000 * (time.perf_counter() - start))
                else:
                    _count(failures, str(answer.status_code))
            except httpx.HTTPError as exc:
                _count(failures, type(exc).__name__)
            await asyncio.sleep(0.25)
    return {"answered": len(ms), "failures": failures, "max_ms": max(ms) if ms else None}


async def abuse(port: int, name: str, texts: list[str], args: argparse.Namespace) -> dict:
    """``args.abuse_clients`` real clients beside oversized bodies and slow heads, for ``args.abuse_seconds``."""
    path = f"/v1/models/{name}/predict"
    stop = time.perf_counter() + args.abuse_seconds
    big: dict[str, int] = {}
    heads: dict[str, int] = {}
    sent = [0, 0]  # bytes sent in all, and the most sent in one refused attempt
    attackers = [asyncio.create_task(oversized(port, path, stop, big, sent)) for _ in range(args.oversized)]
    attackers += [asyncio.create_task(slow(port, stop, heads)) for _ in range(args.slow)]
    checks = asyncio.create_task(health(port, stop))
    await asyncio.sleep(1.0)  # the attackers are in place before the real traffic starts
    real = await load(f"http://127.0.0.1:{port}{path}", texts, args.abuse_clients, args.abuse_seconds - 1.0)
    await asyncio.gather(*attackers)
    return {
        **real,
        "model": name,
        "oversized_clients": args.oversized,
        "oversized_mb_sent": sent[0] / 2**20,
        "oversized_mb_sent_before_refusal_max": sent[1] / 2**20,
        "oversized_answers": big,
        "slow_clients": args.slow,
        "slow_ends": heads,
        "health": await checks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="the tagger only: 1 and 64 clients, 2 s each, a 5 s abuse run"
    )
    parser.add_argument("--clients", default="1,8,32,64", help="numbers of concurrent clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per model and concurrency")
    parser.add_argument("--tagger", default=None, help="a saved tagger (default: the demo NER tagger)")
    parser.add_argument("--max-wait-ms", type=float, default=0.0, help="the service's batching wait")
    parser.add_argument("--no-batching", action="store_true", help="one request per forward pass (for comparison)")
    parser.add_argument("--abuse-seconds", type=float, default=20.0, help="length of the abuse run (0: none)")
    parser.add_argument("--abuse-clients", type=int, default=64, help="real clients during the abuse run")
    parser.add_argument("--oversized", type=int, default=4, help="clients streaming endless chunked bodies")
    parser.add_argument("--slow", type=int, default=128, help="clients sending their head a byte a second")
    args = parser.parse_args()
    counts = [1, 64] if args.quick else [int(c) for c in args.clients.split(",")]
    seconds = 2.0 if args.quick else args.seconds
    if args.quick:
        args.abuse_seconds, args.slow = min(args.abuse_seconds, 5.0), min(args.slow, 32)
    if args.tagger:
        tagger = Path(args.tagger)
    elif args.quick and not (ROOT / "runs" / "demo" / "tag" / "model" / "config.json").is_file():
        tagger = quick_tagger()
    else:
        tagger = demo_tagger()
    models = {"ner": tagger} if args.quick else {"ner": tagger, "ads": "default"}
    texts = {name: sentences() if name == "ner" else ads() for name in models}
    port = free_port()
    extra = ["--max-batch", "1", "--max-wait-ms", "0"] if args.no_batching else ["--max-wait-ms", str(args.max_wait_ms)]
    service = start_service(models, port, extra)
    rows, abused = [], None
    try:
        for name in models:
            url = f"http://127.0.0.1:{port}/v1/models/{name}/predict"
            asyncio.run(load(url, texts[name], 2, 1.0))  # warm-up
            for clients in counts:
                row = {"model": name, **asyncio.run(load(url, texts[name], clients, seconds)), **memory_mb(service.pid)}
                rows.append(row)
                print(json.dumps(row), flush=True)
        if args.abuse_seconds > 0:
            abused = {**asyncio.run(abuse(port, "ner", texts["ner"], args)), **memory_mb(service.pid)}
            print(json.dumps(abused), flush=True)
        batches = httpx.get(f"http://127.0.0.1:{port}/health").json()["batches"]
    finally:
        service.terminate()
        service.wait(timeout=30)
    ms = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
    print("\n| model | clients | requests | req/s | p50 ms | p99 ms | errors | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['model']} | {r['clients']} | {r['requests']} | {r['requests_per_s']:.1f} | {ms(r['p50_ms'])} "
            f"| {ms(r['p99_ms'])} | {sum(r['errors'].values())} | {ms(r['peak_rss_mb'])} |"
        )
    if abused:
        print(
            f"\nabuse run, {args.abuse_seconds:g} s on {abused['model']}: {abused['clients']} real clients: "
            f"{abused['requests']} requests, p50 {ms(abused['p50_ms'])} ms, p99 {ms(abused['p99_ms'])} ms, "
            f"errors {abused['errors'] or 0}; {abused['oversized_clients']} oversized-body clients sent "
            f"{abused['oversized_mb_sent']:.0f} MB (at most {abused['oversized_mb_sent_before_refusal_max']:.1f} MB "
            f"before a refusal), answered {abused['oversized_answers']}; "
            f"{abused['slow_clients']} slow clients: {abused['slow_ends']}; /health {abused['health']}; "
            f"server RSS {ms(abused['rss_mb'])} MB, peak {ms(abused['peak_rss_mb'])} MB"
        )
    env = {**environment(), "cores": os.cpu_count(), "service_args": extra, "tagger": _shown(tagger)}
    name = "serve_load" + ("_nobatch" if args.no_batching else "") + ("_quick" if args.quick else "")
    path = write(
        name,
        {
            "environment": env,
            "results": rows,
            "abuse": abused,
            "forward_passes": batches,
            "texts": {k: len(v) for k, v in texts.items()},
            "seconds_per_point": seconds,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
