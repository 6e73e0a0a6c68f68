"""Several replicas: throughput of one `--stateless` replica against three, with one Redis.

The installed console script serves `--stateless` HTTP against the Thulium fake (20 ms per request,
as a vendor not far away answers; its rate and concurrency limits raised so that the vendor is not
what is measured) with HELPDESK_REDIS_URL set, once as one replica and once as three on the same
machine. Replicas share the ledger and the request budget in Redis in both runs, so the only
difference is the number of server processes. The fake and the load each run in processes of their
own (two load processes of 15 clients, 2026-07-28, one call per POST), so that neither is what
limits the servers; each sends its requests round-robin over the replicas, as a load balancer
without stickiness does. The calls are a mix of get_ticket (70 %), replies with a fresh
idempotency key (20 %) and the retry of an earlier reply with its key (10 %), which must be answered
from the ledger. Reported: calls per second from a common start, the ratio three/one, errors, and
duplicates (replies the vendor received beyond the distinct keys sent).

    .venv/bin/python -m bench.replicas            # about a minute; needs Redis at 127.0.0.1:6379
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
import redis
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bench.common import machine, table
from bench.load import free_port, serve, stop
from bench.startup import base_env, console_script

REDIS_URL = "redis://127.0.0.1:6379/15"
"""A database of the bench's own (the tests use 11-14), emptied before and after each run."""
LOADERS = 2
CLIENTS = 15
"""Concurrent clients in each load process."""
CALLS = 900
"""Calls each load process makes."""
VENDOR_LATENCY = 0.02
TICKETS = 50


class RoundRobin(httpx2.AsyncBaseTransport):
    def __init__(self, ports: list[int]) -> None:
        self._ports = itertools.cycle(ports)
        self._transport = httpx2.AsyncHTTPTransport(limits=httpx2.Limits(max_connections=200))

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.url = request.url.copy_with(port=next(self._ports))
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self._transport.aclose()


def vendor() -> None:
    """The fake in a process of its own: its address and tickets out first, its reply count at the end."""
    from tests.fakes.thulium import ROUTES, FakeThulium, make_fake, vendor_env

    with make_fake(tickets=TICKETS).running() as fake:
        assert isinstance(fake, FakeThulium)
        fake.latency = VENDOR_LATENCY
        print(json.dumps({"env": vendor_env(fake), "tickets": [str(t) for t in fake.tickets]}), flush=True)
        sys.stdin.read()  # until the bench closes it
        method, path = ROUTES["reply"]
        print(json.dumps({"replies": len(fake.received(method, path))}), flush=True)


async def loader(ports: list[int], refs: list[str], seed: int, start_at: float) -> None:
    rng = random.Random(seed)
    sent: list[tuple[str, str]] = []
    counts = {"calls": 0, "errors": 0, "keys": 0, "replayed": 0}
    remaining = iter(range(CALLS))

    async def one(client: Client, number: int) -> None:
        roll = rng.random()
        if roll < 0.7:
            tool, arguments = "get_ticket", {"ticket": rng.choice(refs)}
        else:
            if roll < 0.9 or not sent:
                sent.append((rng.choice(refs), f"bench-{seed}-{number}"))
                counts["keys"] += 1
                ref, key = sent[-1]
            else:
                ref, key = rng.choice(sent)
            tool, arguments = "reply_ticket", {"ticket": ref, "body": f"Reply {key}.", "idempotency_key": key}
        result = await client.call_tool(tool, arguments)
        counts["calls"] += 1
        if result.is_error:
            counts["errors"] += 1
            if counts["errors"] == 1:
                print(f"[bench] first error, {tool}: {result.content[0]}", file=sys.stderr)
        elif isinstance(result.structured_content, dict) and result.structured_content.get("replayed"):
            counts["replayed"] += 1

    async def worker(client: Client) -> None:
        for number in remaining:
            await one(client, number)

    async with httpx2.AsyncClient(transport=RoundRobin(ports), timeout=60) as http:
        transport = streamable_http_client(f"http://127.0.0.1:{ports[0]}/mcp", http_client=http)
        async with Client(transport, mode="auto") as client:  # type: ignore[arg-type]
            for ref in refs[: len(ports)]:
                await client.call_tool("get_ticket", {"ticket": ref})  # warm every replica once
            await anyio.sleep(max(0.0, start_at - time.time()))
            async with anyio.create_task_group() as group:
                for _ in range(CLIENTS):
                    group.start_soon(worker, client)
    print(json.dumps({**counts, "end": time.time(), "cpu": time.process_time()}), flush=True)


def measure(replicas: int, directory: Path) -> dict[str, Any]:
    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()
    python = [sys.executable, "-m", "bench.replicas"]
    fake = subprocess.Popen([*python, "--vendor"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None and fake.stdin is not None
    started = json.loads(fake.stdout.readline())
    refs = [f"thulium:{ticket}" for ticket in started["tickets"]]
    config = directory / "helpdesk.toml"
    config.write_text(
        "[backends.thulium]\n"
        'type = "thulium"\n'
        'url = "${THULIUM_URL}"\n'
        'user = "${THULIUM_USER}"\n'
        'password = "${THULIUM_PASSWORD}"\n'
        'mailbox = "${THULIUM_MAILBOX}"\n'
        'agent_login = "${THULIUM_AGENT_LOGIN}"\n'
        "requests_per_second = 5000\n"
        "max_concurrency = 64\n"
    )
    env = {
        **base_env(),
        **started["env"],
        "HELPDESK_CONFIG": str(config),
        "HELPDESK_REDIS_URL": REDIS_URL,
        "HELPDESK_STATE_KEY": "bench-replicas-state-key-0123456789abcdef",
    }
    ports = [free_port() for _ in range(replicas)]
    servers: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            command = [console_script(), "--transport", "http", "--stateless", "--port", str(port)]
            servers.append(serve(command, env, port, directory / f"replica-{port}.log"))
        start_at = time.time() + 5  # after every load process has imported, connected and warmed up
        arguments = [",".join(map(str, ports)), ",".join(refs), str(start_at)]
        loaders = [
            subprocess.Popen([*python, "--load", *arguments, str(seed)], stdout=subprocess.PIPE, text=True)
            for seed in range(LOADERS)
        ]
        results = [json.loads(process.communicate(timeout=600)[0]) for process in loaders]
        server_cpu = sum(cpu_seconds(server.pid) for server in servers)
        vendor_cpu = cpu_seconds(fake.pid)
    finally:
        for server in servers:
            stop(server)
        replies = json.loads(fake.communicate(input="", timeout=30)[0])["replies"]
        store.flushdb()
        store.close()
    totals = {key: sum(r[key] for r in results) for key in ("calls", "errors", "keys", "replayed")}
    seconds = max(r["end"] for r in results) - start_at
    load_cpu = sum(r["cpu"] for r in results)
    return {
        "replicas": replicas,
        **totals,
        "seconds": seconds,
        "vendor_replies": replies,
        "cpu": {"servers": server_cpu, "fake vendor": vendor_cpu, "load": load_cpu},
    }


def cpu_seconds(pid: int) -> float:
    """CPU time a running process has used so far, from Linux's /proc (0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        sys.exit(f"bench/replicas.py needs Redis at 127.0.0.1:6379 ({type(exc).__name__})")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [measure(1, Path(tmp)), measure(3, Path(tmp))]
    header = ["replicas", "calls", "s", "calls/s", "errors", "keys", "replayed", "vendor replies"]
    header.append("duplicates")
    rows = [
        [
            r["replicas"],
            r["calls"],
            f"{r['seconds']:.1f}",
            f"{r['calls'] / r['seconds']:.0f}",
            r["errors"],
            r["keys"],
            r["replayed"],
            r["vendor_replies"],
            r["vendor_replies"] - r["keys"],
        ]
        for r in runs
    ]
    ratio = (runs[1]["calls"] / runs[1]["seconds"]) / (runs[0]["calls"] / runs[0]["seconds"])
    print(f"Machine: {machine()}.\n")
    print(table(header, rows))
    print(f"\nThree replicas / one: {ratio:.2f}x calls per second.\n")
    print("CPU seconds used, whole run (start-up included):\n")
    cpu_rows = [[r["replicas"], *(f"{v:.1f}" for v in r["cpu"].values())] for r in runs]
    print(table(["replicas", *runs[0]["cpu"]], cpu_rows))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--vendor"]:
        vendor()
    elif sys.argv[1:2] == ["--load"]:
        ports, refs, start_at, seed = sys.argv[2:6]
        anyio.run(loader, [int(p) for p in ports.split(",")], refs.split(","), int(seed), float(start_at))
    else:
        main()
