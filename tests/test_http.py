"""Streamable HTTP, as a triage bot reaches it: both protocol eras, and the bearer token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import MODES, Human, serve_http

TOKEN = "test-token-0123456789"


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # At DEBUG, where the most is logged (request headers included), the token still must not show.
    tmp_path = tmp_path_factory.mktemp("http")
    with serve_http(tmp_path, "--log-level", "DEBUG", HELPDESK_HTTP_TOKEN=TOKEN) as server:
        yield server.url
    log = server.log.read_text()
    assert TOKEN not in log, "the token must never reach the log"
    assert [json.loads(line)["level"] for line in log.splitlines()], "the log is JSON lines"


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


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_confirmation_and_progress_over_http(http_server: str, mode: str) -> None:
    """A desktop host over HTTP: the reply waits for the user's answer, and search shows progress."""
    human = Human(action="decline")
    steps: list[float] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        steps.append(done)

    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        transport = streamable_http_client(http_server, http_client=http)
        async with Client(transport, mode=mode, elicitation_callback=human) as client:  # type: ignore[arg-type]
            created = await client.call_tool("create_ticket", {"subject": "Ask me", "body": "first"})
            ref = created.structured_content["ticket"]  # type: ignore[index]
            refused = await client.call_tool("reply_ticket", {"ticket": ref, "body": "Hi"})
            assert refused.is_error and "nothing was sent" in refused.content[0].text  # type: ignore[union-attr]
            assert len(human.questions) == 1 and ref in human.questions[0]
            await client.call_tool("search_tickets", {"query": "first"}, progress_callback=progress)
    assert steps == [0, 1]


@pytest.mark.anyio
async def test_stateless_json_http_asks_where_the_protocol_lets_it(tmp_path: Path) -> None:
    """Without sessions a 2025-11-25 server cannot ask the host anything: under the default `auto`
    the reply goes unasked; 2026-07-28 carries the question in the result, so it is asked."""
    human = Human(action="decline")
    with serve_http(tmp_path, "--stateless", "--json-response") as server:
        sent = {}
        for mode in MODES:
            async with Client(server.url, mode=mode, elicitation_callback=human) as client:  # type: ignore[arg-type]
                created = await client.call_tool("create_ticket", {"subject": mode, "body": "x"})
                ref = created.structured_content["ticket"]  # type: ignore[index]
                sent[mode] = not (
                    await client.call_tool("reply_ticket", {"ticket": ref, "body": "Hi"})
                ).is_error
    assert sent == {"legacy": True, "auto": False}
    assert len(human.questions) == 1


def test_a_foreign_host_header_is_refused_as_dns_rebinding(http_server: str) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    response = httpx.post(
        http_server,
        json=initialize,
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Host": "attacker.example:8000",
            "Accept": "application/json, text/event-stream",
        },
    )
    assert response.status_code in {400, 403, 421}
    assert "host" in response.text.lower()


def test_an_oversized_request_body_is_refused(http_server: str) -> None:
    too_big = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"padding": "x" * (5 * 1024 * 1024)},
    }
    response = httpx.post(
        http_server,
        json=too_big,
        headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json, text/event-stream"},
    )
    assert response.status_code == 413
