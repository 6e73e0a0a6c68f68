"""Every tool driven through a real MCP client with generated arguments, well-formed and not.

Whatever arrives, the server answers with a result: a success, or an error of a few sentences with
no stack trace in it; never a protocol error, and it keeps answering afterwards.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import connect

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "ticket": st.sampled_from(["local:1", "local:999999", "nope:1", "local:", ":", "local:1:2", ""])
    | st.text(),
    "status": st.sampled_from(["open", "solved", "bogus"])
    | st.lists(st.sampled_from(["new", "closed", "x"])),
    "limit": st.integers(min_value=-5, max_value=500),
    "cursor": st.text(max_size=80),
    "content_base64": st.sampled_from(["aGVsbG8=", "not base64", ""]) | st.text(max_size=30),
    "path": st.sampled_from(["/etc/passwd", "../../x", "/dev/zero"]) | st.text(max_size=30),
    "created_after": st.sampled_from(["2026-11-01", "yesterday", "2026-13-45T99:00"]) | st.text(max_size=20),
    "attachments": st.lists(
        st.fixed_dictionaries(
            {"filename": st.text(max_size=20)},
            optional={"content_base64": st.text(max_size=20), "path": st.text(max_size=20)},
        ),
        max_size=3,
    ),
}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[anyio.from_thread.BlockingPortal, Client, dict[str, list[str]]]]:
    with tempfile.TemporaryDirectory() as folder, anyio.from_thread.start_blocking_portal() as portal:
        env = {"HELPDESK_DB": str(Path(folder) / "fuzz.db"), "HELPDESK_TIMEOUT": "5"}
        with portal.wrap_async_context_manager(
            connect(load_settings(env, known_tools=TOOL_NAMES), "auto")
        ) as client:
            portal.call(client.call_tool, "create_ticket", {"subject": "Seed", "body": "A first ticket."})
            tools = portal.call(client.list_tools).tools
            parameters = {tool.name: list(tool.input_schema.get("properties", {})) for tool in tools}
            yield portal, client, parameters


@st.composite
def tool_calls(draw: st.DrawFn, parameters: dict[str, list[str]]) -> tuple[str, dict[str, Any]]:
    tool = draw(st.sampled_from(sorted(parameters)))
    arguments: dict[str, Any] = {}
    for name in parameters[tool]:
        if draw(st.booleans()):
            arguments[name] = draw(PLAUSIBLE.get(name, JSON) | JSON)
    if draw(st.integers(0, 9)) == 0:
        arguments[draw(st.text(min_size=1, max_size=12))] = draw(JSON)
    return tool, arguments


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_arguments_get_an_answer_and_the_server_keeps_serving(
    server: tuple[anyio.from_thread.BlockingPortal, Client, dict[str, list[str]]], data: st.DataObject
) -> None:
    portal, client, parameters = server
    tool, arguments = data.draw(tool_calls(parameters))
    result = portal.call(client.call_tool, tool, arguments)
    text = result.content[0].text  # type: ignore[union-attr]
    if result.is_error:
        assert "Traceback" not in text and 'File "' not in text, text
        assert len(text) < 1500, "an error is a few sentences, not a dump"
    else:
        assert json.loads(text) == result.structured_content
    assert portal.call(client.list_tools).tools, "the server still answers"
