"""Cold start: process start to the answer to tools/list over stdio, as a host that starts the server.

The installed `helpdesk-mcp` console script is started the way Claude Desktop starts it, fed
`initialize`, `notifications/initialized` and `tools/list` on stdin, and timed from just before the
process is spawned to the moment the tools/list answer arrives on stdout. Configurations: the local
helpdesk, and each vendor alone against its fake. The floor is a bare MCPServer with one tool
(bench/floor_server.py) in the same run, started the same way; the runs are interleaved so that
drift on a shared machine hits all alike, and medians are reported.

Where the time goes: one more start of each with PYTHONPROFILEIMPORTTIME=1 (`python -X importtime`),
grouped by package; what our server imports beyond the floor is what lazy imports could save.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from bench.common import Row, Section, available_vendors, median, running_fake, table

TARGET = 1.15
PASS = "python -c pass (interpreter alone)"
FLOOR = "floor: bare MCPServer, one tool"
SLOW = 0.3
VENDOR_NAMES = ("thulium", "plusofon", "usedesk", "osticket")
FLOOR_SERVER = Path(__file__).resolve().parent / "floor_server.py"


def console_script() -> str:
    beside = Path(sys.executable).parent / "helpdesk-mcp"
    found = str(beside) if beside.exists() else shutil.which("helpdesk-mcp")
    if found is None:
        raise SystemExit("the helpdesk-mcp console script is not installed: pip install -e '.[bench]'")
    return found


def _send(stdin: IO[bytes], message: dict[str, Any]) -> None:
    stdin.write(json.dumps(message).encode() + b"\n")
    stdin.flush()


def _answer(stdout: IO[bytes], request_id: int, stderr: Path) -> dict[str, Any]:
    while True:
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"the server exited before answering: {stderr.read_text()[-2000:]}")
        message: dict[str, Any] = json.loads(line)
        if message.get("id") == request_id:
            return message


def tools_list_time(command: list[str], env: dict[str, str], stderr: Path) -> float:
    """Seconds from spawning `command` to the tools/list answer, as a 2025-11-25 host asks for it."""
    with stderr.open("wb") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, env=env
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            _send(
                process.stdin,
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "bench", "version": "1"},
                    },
                },
            )
            _answer(process.stdout, 1, stderr)
            _send(process.stdin, {"jsonrpc": "2.0", "method": "notifications/initialized"})
            _send(process.stdin, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
            listed = _answer(process.stdout, 2, stderr)
            elapsed = time.perf_counter() - started
            assert listed.get("result", {}).get("tools"), listed
        finally:
            process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return elapsed


_IMPORT = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_times(stderr_text: str) -> dict[str, float]:
    """Self import time in ms of every module, from `-X importtime` lines."""
    return {m[4]: int(m[1]) / 1000 for m in map(_IMPORT.match, stderr_text.splitlines()) if m}


def package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:3]) if parts[0] == "helpdesk_mcp" else parts[0]


def beyond(ours: list[dict[str, float]], floor: list[dict[str, float]]) -> dict[str, float]:
    """Median self time per package of the modules `ours` imports and the floor does not."""
    seen_by_floor = set().union(*floor)
    groups: dict[str, list[float]] = defaultdict(list)
    for run in ours:
        summed: dict[str, float] = defaultdict(float)
        for module, ms in run.items():
            if module not in seen_by_floor:
                summed[package(module)] += ms
        for group in set(summed) | set(groups):
            groups[group].append(summed.get(group, 0.0))
    return {group: median(values) for group, values in groups.items()}


def base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    return {key: os.environ[key] for key in keep if key in os.environ}


async def run(quick: bool = False) -> Section:
    return measure(quick)  # subprocesses timed one at a time: nothing else runs meanwhile


def measure(quick: bool) -> Section:
    repeat = 3 if quick else 9
    script = console_script()
    section = Section("2. Cold start over stdio")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        errors = tmp / "stderr.txt"
        local_env = {**base_env(), "HELPDESK_DB": str(tmp / "local.db")}
        configs: dict[str, tuple[list[str], dict[str, str], Any]] = {
            PASS: ([sys.executable, "-c", "pass"], base_env(), None),
            FLOOR: ([sys.executable, str(FLOOR_SERVER)], base_env(), None),
            "local": ([script], local_env, None),
        }
        for vendor in available_vendors():
            fake, module = stack.enter_context(running_fake(vendor))
            configs[vendor] = ([script], {**base_env(), **module.env_for(fake)}, fake)
        if "osticket" in configs:  # a slow vendor: start-up must not wait for it
            fake, module = stack.enter_context(running_fake("osticket"))
            fake.latency = SLOW
            slow_env = {**base_env(), **module.env_for(fake)}
            configs[f"osticket, vendor answering in {SLOW * 1000:.0f} ms"] = ([script], slow_env, fake)

        samples: dict[str, list[float]] = {name: [] for name in configs}
        early_requests: dict[str, int] = {}
        for _ in range(repeat):
            for name, (command, env, fake) in configs.items():
                if name == PASS:
                    started = time.perf_counter()
                    subprocess.run(command, env=env, check=True)
                    samples[name].append(time.perf_counter() - started)
                    continue
                before = len(fake.received()) if fake is not None else 0
                samples[name].append(tools_list_time(command, env, errors))
                if fake is not None:
                    early_requests[name] = len(fake.received()) - before

        profiles: dict[str, list[dict[str, float]]] = defaultdict(list)
        for _ in range(1 if quick else 3):
            for name in (FLOOR, "local", *available_vendors()):
                command, env, _ = configs[name]
                tools_list_time(command, {**env, "PYTHONPROFILEIMPORTTIME": "1"}, errors)
                profiles[name].append(import_times(errors.read_text(errors="replace")))

    medians = {name: median(values) * 1000 for name, values in samples.items()}
    floor = medians[FLOOR]
    rows = []
    for name, ms in medians.items():
        spread = f"{min(samples[name]) * 1000:.0f}–{max(samples[name]) * 1000:.0f}"
        ratio = ms / floor
        early = early_requests.get(name)
        label = name if name in (PASS, FLOOR) else f"helpdesk-mcp, {name}"
        rows.append([label, f"{ms:.0f} ms", spread, f"{ratio:.2f}", "" if early is None else str(early)])
        if name == "local" or name in VENDOR_NAMES:
            section.rows.append(
                Row(
                    f"cold start to tools/list, {name}",
                    f"{ms:.0f} ms",
                    f"{floor:.0f} ms floor",
                    ratio,
                    "≤ 1.15",
                    ratio <= TARGET,
                )
            )
    section.details.append(
        table(
            [
                f"process (median of {repeat})",
                "to tools/list",
                "min–max",
                "vs floor",
                "vendor requests before it",
            ],
            rows,
        )
    )
    section.details.append(
        '"vendor requests before it": requests the fake vendor received between spawning the server and '
        "the tools/list answer: network work done before any call needed it (none: each backend is built, "
        "and osTicket probed, at its first call)."
    )
    names = [name for name in profiles if name != FLOOR]
    extra = {name: beyond(profiles[name], profiles[FLOOR]) for name in names}
    groups = sorted(
        {g for name in names for g, ms in extra[name].items() if ms >= 1.0},
        key=lambda g: -max(extra[name].get(g, 0.0) for name in names),
    )
    totals = {name: median(sum(run.values()) for run in runs) for name, runs in profiles.items()}
    section.details.append(
        "Where import time goes (`-X importtime`, which inflates times; self time of each module, median of "
        f"{len(profiles[FLOOR])} runs): the floor imports {totals[FLOOR]:.0f} ms of modules, almost all "
        "of it the MCP SDK (mcp, mcp_types, pydantic, starlette, uvicorn, httpx2, which `mcp.server` "
        "imports whatever the transport). Modules our server imports beyond the floor, by package:"
    )
    section.details.append(
        table(
            ["package (modules the floor does not import)", *names],
            [
                *[[group, *[f"{extra[name].get(group, 0.0):.1f} ms" for name in names]] for group in groups],
                ["all modules beyond the floor", *[f"{sum(extra[name].values()):.0f} ms" for name in names]],
            ],
        )
    )
    return section
