"""Serving under load, on loopback: the same questions answered in-process, over HTTP and over
MCP, latencies measured in one run so that they compare as ratios on a noisy machine.

- in-process: `clients` threads calling `TableRetriever.search` (and one thread alone);
- HTTP: `tablegraph serve --index IDX` started as a user would (its own process), `clients`
  threads each with its own connection, `n` searches in all (and one client alone);
- MCP: `tablegraph mcp --index IDX` over stdio with the SDK's client, one call at a time.

Every request must succeed; p50 and p95 are in milliseconds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np


def _percentiles(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {"p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95)),
            "n": int(len(a))}


def _run_load(call, questions: list[str], n: int, clients: int) -> tuple[list[float], int]:
    """`n` calls spread over `clients` threads; (latencies in ms, failures)."""
    lat: list[float] = []
    failed = [0]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        local = []
        for i in range(offset, n, clients):
            t0 = time.perf_counter()
            try:
                call(questions[i % len(questions)])
            except Exception:  # noqa: BLE001 - counted: the target is no failure at all
                with lock:
                    failed[0] += 1
                continue
            local.append(1000 * (time.perf_counter() - t0))
        with lock:
            lat.extend(local)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    return lat, failed[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serving_bench(index_dir: str, questions: list[str], n: int = 2000, clients: int = 8,
                  single: int = 200, mcp_calls: int = 100, log=print) -> dict:
    """Latencies of in-process, HTTP and MCP search over the index at `index_dir`."""
    import httpx

    from tablegraph.retrieval.retriever import TableRetriever

    out: dict = {"index": str(index_dir), "clients": clients}
    r = TableRetriever.load(index=index_dir)
    for q in questions:  # warm: the text model and every question's embedding are cached
        r.search(q, 5)
    lat, fails = _run_load(lambda q: r.search(q, 5), questions, single, 1)
    out["inprocess_single"] = {**_percentiles(lat), "failed": fails}
    lat, fails = _run_load(lambda q: r.search(q, 5), questions, n, clients)
    out["inprocess_concurrent"] = {**_percentiles(lat), "failed": fails}
    log(f"  in-process: single p50 {out['inprocess_single']['p50_ms']:.1f} ms, {clients} "
        f"threads p50 {out['inprocess_concurrent']['p50_ms']:.1f} ms")

    port = _free_port()
    env = {**os.environ, "TABLEGRAPH_THREADS": "1"}
    # its log goes to a file: a pipe nobody reads would fill and stall the server
    log_file = open(Path(index_dir).parent / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "tablegraph", "serve", "--index", index_dir,
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=log_file, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        local = threading.local()

        def http_search(q: str) -> None:
            c = getattr(local, "client", None)
            if c is None:
                c = local.client = httpx.Client(base_url=base, timeout=30)
            resp = c.post("/search", json={"question": q, "k": 5})
            resp.raise_for_status()

        _run_load(http_search, questions, len(questions), 1)  # warm the server's cache
        lat, fails = _run_load(http_search, questions, single, 1)
        out["http_single"] = {**_percentiles(lat), "failed": fails}
        lat, fails = _run_load(http_search, questions, n, clients)
        out["http_concurrent"] = {**_percentiles(lat), "failed": fails}
    finally:
        proc.terminate()
        proc.wait(10)
        log_file.close()
    log(f"  HTTP: single p50 {out['http_single']['p50_ms']:.1f} ms, {clients} clients p50 "
        f"{out['http_concurrent']['p50_ms']:.1f} ms, failed "
        f"{out['http_single']['failed'] + out['http_concurrent']['failed']}")
    out["mcp"] = _mcp_latency(index_dir, questions, mcp_calls)
    log(f"  MCP: p50 {out['mcp']['p50_ms']:.1f} ms")
    ip, hp = out["inprocess_concurrent"]["p50_ms"], out["http_concurrent"]["p50_ms"]
    out["http_over_inprocess_concurrent"] = hp / ip if ip else float("nan")
    out["http_minus_inprocess_single_ms"] = (out["http_single"]["p50_ms"]
                                             - out["inprocess_single"]["p50_ms"])
    return out


def _mcp_latency(index_dir: str, questions: list[str], calls: int) -> dict:
    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "tablegraph", "mcp", "--index", index_dir],
                                   env={**os.environ, "TABLEGRAPH_THREADS": "1"})
    lat: list[float] = []
    failed = [0]

    async def session() -> None:
        async with Client(params) as client:
            for q in questions:  # warm
                await client.call_tool("search_tables", {"question": q, "k": 5})
            for i in range(calls):
                t0 = time.perf_counter()
                res = await client.call_tool("search_tables",
                                             {"question": questions[i % len(questions)],
                                              "k": 5})
                if res.is_error:
                    failed[0] += 1
                lat.append(1000 * (time.perf_counter() - t0))

    anyio.run(session)
    return {**_percentiles(lat), "failed": failed[0]}
