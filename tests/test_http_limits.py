"""HTTP as an attacker meets it: DNS rebinding on every loopback spelling, short tokens beyond
loopback, and slow clients that try to hold the server's connections."""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client

from helpdesk_mcp.server.config import ConfigError, load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import HttpServer, child_env, console_script, free_port, serve_http

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}
READ_TIMEOUT = 3
"""Seconds a connection may take to send its request: short, so that slow clients are cut off soon."""


@pytest.fixture(scope="module")
def serve_on(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], HttpServer]]:
    """The console script serving HTTP on a loopback address, without a token as loopback allows:
    started at a test's first ask, and shared by the module's tests that ask for the same address."""
    servers: dict[str, HttpServer] = {}
    with contextlib.ExitStack() as running:

        def on(host: str) -> HttpServer:
            if host not in servers:
                tmp_path = tmp_path_factory.mktemp("http")
                servers[host] = running.enter_context(
                    serve_http(tmp_path, host=host, HELPDESK_HTTP_READ_TIMEOUT=str(READ_TIMEOUT))
                )
            return servers[host]

        yield on


def port_of(server: HttpServer) -> int:
    return int(server.url.rsplit(":", 1)[1].split("/")[0])


@pytest.mark.anyio
@pytest.mark.parametrize("host", ["127.0.0.2", "127.1", "0:0:0:0:0:0:0:1"])
async def test_any_loopback_spelling_refuses_a_rebound_host_and_serves_its_own(
    serve_on: Callable[[str], HttpServer], host: str
) -> None:
    """Without a token, as loopback allows: a web page that rebinds its name to this address sends
    its own name as Host (or its own Origin) and is refused; a local client is served."""
    server = serve_on(host)
    async with httpx.AsyncClient() as http:
        rebound = await http.post(
            server.url,
            json=INITIALIZE,
            headers={**MCP_HEADERS, "Host": f"attacker.example:{port_of(server)}"},
        )
        assert rebound.status_code == 421, rebound.text
        foreign_page = await http.post(
            server.url, json=INITIALIZE, headers={**MCP_HEADERS, "Origin": "http://attacker.example"}
        )
        assert foreign_page.status_code == 403, foreign_page.text
    async with Client(server.url, mode="legacy") as client:
        assert "search_tickets" in [tool.name for tool in (await client.list_tools()).tools]


@pytest.mark.parametrize(
    ("token", "refused"),
    [(None, "set HELPDESK_HTTP_TOKEN"), ("s3cret-but-only-24-chars", "shorter than 32 characters")],
    ids=["no-token", "short-token"],
)
def test_beyond_loopback_a_token_of_32_characters_is_required(
    tmp_path: Path, token: str | None, refused: str
) -> None:
    env = dict(child_env(tmp_path), **({"HELPDESK_HTTP_TOKEN": token} if token else {}))
    started = subprocess.run(
        [console_script(), "--transport", "http", "--host", "0.0.0.0", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 2
    assert refused in started.stderr and len(started.stderr.strip().splitlines()) == 1
    if token:
        assert token not in started.stderr


SLOW_CLIENTS = 300


def _closed_by_server(sock: socket.socket) -> bytes:
    """What the server sent before it closed `sock` (the test's own timeout only guards a hang)."""
    sock.settimeout(60)
    received = b""
    try:
        while len(received) < 4096 and (chunk := sock.recv(4096)):
            received += chunk
    except ConnectionResetError:
        pass
    return received


@pytest.mark.anyio
async def test_slow_clients_are_cut_off_and_a_real_client_is_served(
    serve_on: Callable[[str], HttpServer],
) -> None:
    """Hundreds of connections that send half a request hold nothing for long: a real client is
    served meanwhile, and each slow connection is closed by the server, not left open."""
    # Any of the module's loopback servers will do; the first spelling's is already running.
    server = serve_on("127.0.0.2")
    address = ("127.0.0.2", port_of(server))
    half_headers = []
    with contextlib.ExitStack() as sockets:
        for _ in range(SLOW_CLIENTS):
            sock = sockets.enter_context(socket.create_connection(address))
            sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.2\r\nX-Half: ")
            half_headers.append(sock)
        half_body = sockets.enter_context(socket.create_connection(address))
        half_body.sendall(
            b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.2\r\nContent-Type: application/json\r\n"
            b'Accept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{"jsonrpc"'
        )
        silent = sockets.enter_context(socket.create_connection(address))

        async with Client(server.url, mode="legacy") as client:
            assert "search_tickets" in [tool.name for tool in (await client.list_tools()).tools]

        for sock in half_headers:
            assert _closed_by_server(sock).startswith(b"HTTP/1.1 408"), "half a header is cut off"
        assert _closed_by_server(silent).startswith(b"HTTP/1.1 408"), "a silent connection too"
        assert b" 200 " not in _closed_by_server(half_body), "half a body is cut off"


@pytest.mark.parametrize("value", ["0", "-1", "soon", "86400"])
def test_a_read_timeout_that_is_no_bound_is_a_configuration_error(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"HELPDESK_HTTP_READ_TIMEOUT": value}, known_tools=TOOL_NAMES)
    assert refused.value.problems == [
        f"HELPDESK_HTTP_READ_TIMEOUT: expected seconds between 0 and 3600, got {value!r}"
    ]
