"""Load test of `rnnlab serve`: concurrent clients on loopback for a bounded time, per model and concurrency.

Starts the service in a subprocess (the demo NER tagger, or --tagger DIR, and the shipped real-estate extractor),
then for each model and each number of clients runs that many asyncio clients, each sending one text per request
back to back for --seconds; reports requests/s, p50/p99 latency and errors. Texts: CoNLL-2003 dev sentences and
the real-estate dev ads from ../shared/data when present, else the bundled examples.

    python benchmarks/serve_load.py [--quick] [--clients 1,8,32] [--seconds 10] [--tagger DIR] [--no-batching]
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
        subprocess.run([sys.executable, "-m", "rnnlab", "tag", "demo", "--out", str(folder), "--overwrite"],
                       check=True)  # fmt: skip
    return folder / "model"


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


async def load(url: str, texts: list[str], clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    stop = time.perf_counter() + seconds

    async def client(k: int, http: httpx.AsyncClient) -> None:
        i = k
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                answer = await http.post(url, json={"text": texts[i % len(texts)]})
                if answer.status_code == 200:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors[str(answer.status_code)] = errors.get(str(answer.status_code), 0) + 1
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            i += clients

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        began = time.perf_counter()
        await asyncio.gather(*(client(k, http) for k in range(clients)))
        wall = time.perf_counter() - began
    ms = sorted(1000 * t for t in latencies)
    return {"clients": clients, "requests": len(ms), "errors": errors, "seconds": round(wall, 2),
            "requests_per_s": len(ms) / wall, "p50_ms": statistics.median(ms) if ms else None,
            "p99_ms": ms[min(len(ms) - 1, int(0.99 * len(ms)))] if ms else None}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 32 clients, 3 s each")
    parser.add_argument("--clients", default="1,8,32", help="numbers of concurrent clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per model and concurrency")
    parser.add_argument("--tagger", default=None, help="a saved tagger (default: the demo NER tagger)")
    parser.add_argument("--max-wait-ms", type=float, default=0.0, help="the service's batching wait")
    parser.add_argument("--no-batching", action="store_true", help="one request per forward pass (for comparison)")
    args = parser.parse_args()
    counts = [1, 32] if args.quick else [int(c) for c in args.clients.split(",")]
    seconds = 3.0 if args.quick else args.seconds
    models = {"ner": Path(args.tagger) if args.tagger else demo_tagger(), "ads": "default"}
    texts = {"ner": sentences(), "ads": ads()}
    port = free_port()
    extra = ["--max-batch", "1", "--max-wait-ms", "0"] if args.no_batching else ["--max-wait-ms", str(args.max_wait_ms)]
    service = start_service(models, port, extra)
    rows = []
    try:
        for name in models:
            url = f"http://127.0.0.1:{port}/v1/models/{name}/predict"
            asyncio.run(load(url, texts[name], 2, 1.0))  # warm-up
            for clients in counts:
                row = {"model": name, **asyncio.run(load(url, texts[name], clients, seconds))}
                rows.append(row)
                print(json.dumps(row), flush=True)
        batches = httpx.get(f"http://127.0.0.1:{port}/health").json()["batches"]
    finally:
        service.terminate()
        service.wait(timeout=30)
    print("\n| model | clients | requests | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['clients']} | {r['requests']} | {r['requests_per_s']:.1f} | {r['p50_ms']:.1f} "
              f"| {r['p99_ms']:.1f} | {sum(r['errors'].values())} |")  # fmt: skip
    env = {**environment(), "cores": os.cpu_count(), "service_args": extra}
    name = "serve_load" + ("_nobatch" if args.no_batching else "") + ("_quick" if args.quick else "")
    path = write(name,
                 {"environment": env, "results": rows, "forward_passes": batches,
                  "texts": {k: len(v) for k, v in texts.items()}, "seconds_per_point": seconds})  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
