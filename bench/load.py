"""Under load: streamable HTTP with 50 concurrent clients calling tools on the local helpdesk.

The installed console script serves `--transport http` on 127.0.0.1 with a bearer token, over a local
helpdesk seeded with 300 tickets. Fifty MCP clients (each its own session, 2025-11-25) call tools
concurrently, a mix an agent makes (search without and with words, get_ticket), until the soak's
calls are done. The server's resident memory is read from /proc every 0.2 s: its peak, and its level
at each tenth of the soak, so that growth over thousands of calls shows. The baseline is the bare
MCPServer of the floor (one async tool answering "pong") under the same fifty clients, same run.
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bench.common import Row, Section, quantile, table
from bench.local import seed
from bench.startup import FLOOR_SERVER, base_env, console_script

CLIENTS = 50
TOKEN = "bench-load-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mib(pid: int) -> float | None:
    """Resident memory of a process in MiB (Linux /proc), or None where there is no /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def wait_for_port(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("the server did not listen within 30 s")


@dataclass
class Soak:
    calls: int = 0
    errors: int = 0
    error_texts: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    memory: list[tuple[int, float]] = field(default_factory=list)
    """(calls done, RSS MiB) sampled during the soak."""
    start_mib: float = 0.0
    peak_mib: float = 0.0


async def soak(url: str, pid: int, total: int, make_call: Any, headers: dict[str, str]) -> Soak:
    result = Soak()
    result.start_mib = rss_mib(pid) or 0.0
    started = time.perf_counter()
    done = anyio.Event()

    async def watch() -> None:
        while not done.is_set():
            mib = rss_mib(pid)
            if mib is not None:
                result.memory.append((result.calls, mib))
                result.peak_mib = max(result.peak_mib, mib)
            await anyio.sleep(0.2)

    async def client(number: int) -> None:
        rng = random.Random(number)
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            Client(streamable_http_client(url, http_client=http), mode="legacy") as mcp,  # type: ignore[arg-type]
        ):
            while result.calls < total:
                result.calls += 1
                name, arguments = make_call(rng)
                began = time.perf_counter()
                try:
                    answer = await mcp.call_tool(name, arguments)
                    if answer.is_error:
                        result.errors += 1
                        result.error_texts.append(str(answer.content)[:200])
                except Exception as exc:
                    result.errors += 1
                    result.error_texts.append(repr(exc)[:200])
                result.latencies.append(time.perf_counter() - began)

    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        async with anyio.create_task_group() as clients:
            for number in range(CLIENTS):
                clients.start_soon(client, number)
        result.seconds = time.perf_counter() - started
        done.set()
    return result


def ours_call(refs: list[str]) -> Any:
    def call(rng: random.Random) -> tuple[str, dict[str, Any]]:
        roll = rng.random()
        if roll < 0.5:
            return "get_ticket", {"ticket": rng.choice(refs)}
        if roll < 0.8:
            return "search_tickets", {"query": rng.choice(["refund", "invoice", "vpn", "login"]), "limit": 10}
        return "search_tickets", {"limit": 20}

    return call


def floor_call(rng: random.Random) -> tuple[str, dict[str, Any]]:
    return "ping", {}


def serve(command: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    wait_for_port(process, port)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def drift(result: Soak) -> tuple[float, float]:
    """RSS at a quarter of the soak (after warm-up) and at its end, each the median of nearby samples."""
    total = max(result.calls, 1)

    def around(fraction: float) -> float:
        near = [mib for calls, mib in result.memory if abs(calls / total - fraction) <= 0.05]
        near = near or [result.memory[-1][1]]
        return sorted(near)[len(near) // 2]

    return around(0.25), around(0.95)


async def run(quick: bool = False) -> Section:
    total = 1000 if quick else 6000
    section = Section(f"5. Under load: streamable HTTP, {CLIENTS} concurrent clients, local helpdesk")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "load.db"
        await seed(db, 300)
        refs = [f"local:{number}" for number in range(1, 301)]
        headers = {"Authorization": f"Bearer {TOKEN}"}
        results: dict[str, Soak] = {}
        for name, command, env, call, calls in (
            (
                "helpdesk-mcp",
                [console_script(), "--transport", "http", "--host", "127.0.0.1"],
                {**base_env(), "HELPDESK_DB": str(db), "HELPDESK_HTTP_TOKEN": TOKEN},
                ours_call(refs),
                total,
            ),
            ("floor", [sys.executable, str(FLOOR_SERVER), "http"], base_env(), floor_call, total // 2),
        ):
            port = free_port()
            full = [*command, "--port", str(port)] if name == "helpdesk-mcp" else [*command, str(port)]
            process = serve(full, env, port, Path(tmp) / f"{name}.log")
            try:
                results[name] = await soak(f"http://127.0.0.1:{port}/mcp", process.pid, calls, call, headers)
            finally:
                stop(process)
    ours, floor = results["helpdesk-mcp"], results["floor"]
    rows = []
    for name, r in results.items():
        early, late = drift(r) if r.memory else (0.0, 0.0)
        rows.append(
            [
                name,
                f"{r.calls:,}",
                r.errors,
                f"{r.calls / r.seconds:,.0f} calls/s",
                f"{quantile(r.latencies, 0.5) * 1000:.0f} / {quantile(r.latencies, 0.95) * 1000:.0f} ms",
                f"{r.start_mib:.0f} MiB",
                f"{r.peak_mib:.0f} MiB",
                f"{early:.0f} → {late:.0f} MiB ({late - early:+.1f})",
            ]
        )
    ours_rate, floor_rate = ours.calls / ours.seconds, floor.calls / floor.seconds
    early, late = drift(ours) if ours.memory else (0.0, 0.0)
    section.rows += [
        Row(
            f"throughput, {CLIENTS} clients over HTTP (mixed tools)",
            f"{ours_rate:,.0f} calls/s",
            f"{floor_rate:,.0f} calls/s floor (ping)",
            ours_rate / floor_rate,
            "reported",
            None,
        ),
        Row(
            f"errors in {ours.calls:,} calls",
            str(ours.errors),
            str(floor.errors),
            None,
            "0",
            ours.errors == 0,
        ),
        Row(
            "peak RSS of the server",
            f"{ours.peak_mib:.0f} MiB",
            f"{floor.peak_mib:.0f} MiB floor",
            ours.peak_mib / floor.peak_mib if floor.peak_mib else None,
            "reported",
            None,
        ),
        Row(
            "RSS growth over the soak (25% → 95% of calls)",
            f"{late - early:+.1f} MiB",
            f"{early:.0f} MiB at 25%",
            late / early if early else None,
            "flat (< 5%)",
            bool(early) and (late - early) / early < 0.05,
        ),
    ]
    section.details.append(
        table(
            [
                "server",
                "calls",
                "errors",
                "throughput",
                "latency p50 / p95",
                "RSS at start",
                "peak RSS",
                "RSS at 25% → 95% of the soak",
            ],
            rows,
        )
    )
    if ours.error_texts:
        section.details.append("First errors: " + "; ".join(ours.error_texts[:3]))
    section.details.append(
        "Calls: half get_ticket of a random ticket, 30% search_tickets with a word, 20% search_tickets "
        "without a filter (limit 20). Both servers and the fifty clients share the machine's cores, so "
        "throughput is what this machine sustains end to end, clients included."
    )
    return section
