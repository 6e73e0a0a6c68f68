"""The tools listed at start-up are the shipped definitions (server/catalogue_data.py); they must be
what the code builds, and a tool listed from them must behave as the one built from its function."""

from __future__ import annotations

import pytest

from helpdesk_mcp.server import catalogue
from helpdesk_mcp.server.catalogue_data import DEFINITIONS
from tests.conftest import MakeSettings, connect

pytestmark = pytest.mark.anyio


def test_shipped_definitions_are_what_the_code_builds() -> None:
    built = catalogue.from_code()
    assert list(DEFINITIONS) == list(built), "tools added, removed or reordered"
    for name, definition in built.items():
        assert DEFINITIONS[name] == definition, (
            f"{name} changed; run `python -m helpdesk_mcp.server.catalogue` and `ruff format` its output"
        )


async def test_a_listed_tool_is_built_at_its_first_call(make_settings: MakeSettings) -> None:
    async with connect(make_settings(), "legacy") as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert listed["create_ticket"].input_schema == DEFINITIONS["create_ticket"]["inputSchema"]
        refused = await client.call_tool("create_ticket", {"subject": "x", "body": ""})
        assert refused.is_error and "body" in refused.content[0].text  # type: ignore[union-attr]
        made = await client.call_tool("create_ticket", {"subject": "Printer", "body": "It jams."})
        assert not made.is_error, made.content
        ref = (made.structured_content or {})["ticket"]
        read = await client.call_tool("get_ticket", {"ticket": ref})
        assert (read.structured_content or {})["subject"] == "Printer"
