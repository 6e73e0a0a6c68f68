"""Streamable HTTP, as a triage bot reaches it: both protocol eras, and the bearer token."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import MODES, child_env, console_script

TOKEN = "test-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("http")
    port = free_port()
    process = subprocess.Popen(
        [console_script(), "--transport", "http", "--port", str(port)],
        env={**child_env(tmp_path), "HELPDESK_HTTP_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/mcp"
    process.terminate()
    process.wait(timeout=10)
    if process.stderr:
        stderr = process.stderr.read().decode()
        assert TOKEN not in stderr, "the token must never reach the log"


def test_requests_without_the_token_are_refused(http_server: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = httpx.post(
            http_server, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers
        )
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert TOKEN not in response.text


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_tools_over_http_with_the_token(http_server: str, mode: str) -> None:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        transport = streamable_http_client(http_server, http_client=http)
        async with Client(transport, mode=mode) as client:  # type: ignore[arg-type]
            created = await client.call_tool("create_ticket", {"subject": "Over HTTP", "body": "httptest"})
            assert not created.is_error, created.content
            found = await client.call_tool("search_tickets", {"query": "httptest"})
            assert created.structured_content["ticket"] in [  # type: ignore[index]
                t["ref"]
                for t in found.structured_content["tickets"]  # type: ignore[index]
            ]


def test_binding_beyond_loopback_requires_a_token(tmp_path: Path) -> None:
    refused = subprocess.run(
        [console_script(), "--transport", "http", "--host", "0.0.0.0", "--port", str(free_port())],
        env=dict(child_env(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "HELPDESK_HTTP_TOKEN" in refused.stderr
