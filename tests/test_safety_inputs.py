"""What an agent sends is checked at the edge: unknown arguments refused before anything runs,
hidden characters cleaned out of what a customer would receive, odd input answered in one sentence."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import Client

from helpdesk_mcp.server.app import build_server
from helpdesk_mcp.server.config import Settings
from tests.conftest import Human, MakeSettings, connect

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def host(settings: Settings, mode: str, human: Human) -> AsyncIterator[Client]:
    async with Client(build_server(settings), mode=mode, elicitation_callback=human) as client:  # type: ignore[arg-type]
        yield client


async def ok(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    structured: dict[str, Any] = result.structured_content  # type: ignore[assignment]
    return structured


async def refused(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    text: str = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error, text
    assert "Traceback" not in text and "helpdesk.db" not in text
    return text


async def messages(client: Client, ref: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await ok(client, "get_ticket", {"ticket": ref}))["messages"]
    return found


async def test_a_misspelt_argument_is_refused_before_anyone_is_asked_and_nothing_is_sent(
    make_settings: MakeSettings, mode: str
) -> None:
    human = Human()
    async with host(make_settings(), mode, human) as client:
        ref = (await ok(client, "create_ticket", {"subject": "VPN", "body": "Down again."}))["ticket"]
        before = await messages(client, ref)
        text = await refused(
            client, "reply_ticket", {"ticket": ref, "body": "internal only: it was us", "internal_note": True}
        )
        assert "unknown argument 'internal_note'; did you mean 'internal'?" in text
        assert human.questions == [], "nobody is asked about a call that will not run"
        assert await messages(client, ref) == before


async def test_unknown_arguments_are_refused_at_any_depth_and_every_schema_says_so(
    make_settings: MakeSettings,
) -> None:
    async with connect(make_settings(), "auto") as client:
        tools = (await client.list_tools()).tools
        for tool in tools:
            schema = json.dumps(tool.input_schema)
            assert schema.count('"properties"') == schema.count('"additionalProperties": false'), tool.name
        text = await refused(
            client,
            "create_ticket",
            {"subject": "S", "body": "B", "attachments": [{"file_name": "a.txt", "content_base64": "YQ=="}]},
        )
        assert "unknown argument 'attachments[0].file_name'; did you mean 'filename'?" in text
        text = await refused(client, "search_tickets", {"zzz": 1})
        assert "unknown argument 'zzz'; the valid ones are query, status" in text
        assert (await ok(client, "search_tickets", {}))["tickets"] == [], "nothing was created"
