"""The catalogue stays small: every tool's description and input schema within a budget written here.

A host sends every tool's description and schemas to the model with every request, before any ticket is
read (bench/catalogue.py counts the tokens against GitHub's MCP server). A tool that grows past its
budget fails here: either the words earn their place and the budget is raised in the same change, or
they go. Budgets are characters (the description with runs of whitespace as one space, the input schema
as compact JSON), a little above today's sizes.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import MakeSettings, connect

pytestmark = pytest.mark.anyio

BUDGETS: dict[str, tuple[int, int]] = {
    # tool: (description, input schema)
    "search_tickets": (300, 1500),
    "get_ticket": (400, 420),
    "create_ticket": (200, 1800),
    "reply_ticket": (400, 900),
    "attach_file": (380, 1250),
}


async def test_every_tool_is_within_its_catalogue_budget(make_settings: MakeSettings) -> None:
    async with connect(make_settings(), "auto") as client:
        tools = (await client.list_tools()).tools
    assert {tool.name for tool in tools} <= set(BUDGETS), "write a budget here for every new tool"
    for tool in tools:
        description = " ".join((tool.description or "").split())
        schema = json.dumps(tool.input_schema, ensure_ascii=False, separators=(",", ":"))
        words, fields = BUDGETS[tool.name]
        assert len(description) <= words, f"{tool.name}: description is {len(description)} characters"
        assert len(schema) <= fields, f"{tool.name}: input schema is {len(schema)} characters"
