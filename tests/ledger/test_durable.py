"""The ledger outlives the process: a restarted server, or the next CLI call, does not write again.

What only a process of its own can show (a CLI call, a killed server) runs the installed console
script; what is read back afterwards is read by a server in this process, on the same files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp_types import CallToolResult

from helpdesk_mcp.server.app import build_server
from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import child_env, console_script
from tests.fakes.harness import Fault
from tests.fakes.thulium import ROUTES, FakeThulium, make_fake, vendor_env


def call(tmp_path: Path, tool: str, arguments: dict[str, object], **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [console_script(), "call", tool, json.dumps(arguments)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**child_env(tmp_path), **env},
    )


def finished(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def in_process(tmp_path: Path, tool: str, arguments: dict[str, object], **env: str) -> CallToolResult:
    """`tool` called by a server in this process on the files `call` uses: not the process that wrote."""
    settings = load_settings({**child_env(tmp_path), **env}, known_tools=TOOL_NAMES)

    async def once() -> CallToolResult:
        async with Client(build_server(settings)) as client:
            return await client.call_tool(tool, arguments)

    return anyio.run(once)


def test_the_same_create_through_the_cli_twice_with_one_key_opens_one_ticket(tmp_path: Path) -> None:
    arguments = {"subject": "Printer", "body": "Jammed.", "idempotency_key": "cron-2026-12-06"}
    code, first, err = finished(call(tmp_path, "create_ticket", arguments))
    assert code == 0, err
    code, again, err = finished(call(tmp_path, "create_ticket", arguments))
    assert code == 0, err
    assert json.loads(again) == {**json.loads(first), "replayed": True}
    listed = in_process(tmp_path, "search_tickets", {"query": "printer"})
    assert len(listed.structured_content["tickets"]) == 1  # type: ignore[index]


@pytest.fixture
def thulium() -> Iterator[FakeThulium]:
    with make_fake(tickets=3).running() as fake:
        assert isinstance(fake, FakeThulium)
        yield fake


def test_a_server_killed_after_the_vendor_applied_a_create_does_not_create_again(
    tmp_path: Path, thulium: FakeThulium
) -> None:
    method, path = ROUTES["create"]
    env = {**vendor_env(thulium), "HELPDESK_TIMEOUT": "1"}
    arguments = {
        "subject": "Printer",
        "body": "Jammed.",
        "requester_email": "jan@example.com",
        "idempotency_key": "bot-run-9",
    }
    before = len(thulium.tickets)
    # The vendor stores the ticket, then never answers: the server is killed while it waits.
    thulium.inject(Fault("hang", apply=True, seconds=30, method=method, path=path))
    doomed = call(tmp_path, "create_ticket", arguments, **env)
    deadline = time.monotonic() + 30
    while len(thulium.tickets) == before and time.monotonic() < deadline and doomed.poll() is None:
        time.sleep(0.05)
    assert len(thulium.tickets) == before + 1, "the vendor applied the create"
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=10)

    again = in_process(tmp_path, "create_ticket", arguments, **env)
    text = again.content[0].text  # type: ignore[union-attr]
    assert again.is_error, text
    assert "may have opened the ticket" in text and "search for it" in text, text
    assert len(thulium.received(method, path)) == 1, "the restarted server did not send it again"
    assert len(thulium.tickets) == before + 1
