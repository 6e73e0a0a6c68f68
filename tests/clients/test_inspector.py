"""The MCP Inspector's CLI, a client we did not write, drives the whole surface over HTTP and stdio.

Each call is a fresh Inspector process, in one protocol era: `legacy` (2025-11-25, with
`initialize`) or `modern` (2026-07-28). The whole surface is called once, over HTTP in the modern
era, and each kind of request in the legacy one, all against one server. Over stdio each call also
starts a server of its own, so stdio gets what differs there: the Inspector starting the server (from
each host's example configuration), a listing, a call and a read. HTTP is served as a desktop host
meets it: sessions, event streams and a bearer token. (The stateless, JSON-only deployment meets a
third-party client in test_conformance_suite.py.)
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.clients.conftest import NodeTools
from tests.conftest import console_script, serve_http

TOKEN = "inspector-token-0123456789"
RECEIPT = b"EUR 49, paid twice"
ROOT = Path(__file__).parent.parent.parent


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_http(tmp_path_factory.mktemp("http"), HELPDESK_HTTP_TOKEN=TOKEN) as server:
        yield server.url


class Inspector:
    """Inspector CLI calls to one target (a URL, or a command it starts anew per call) in one protocol era."""

    def __init__(self, node_tools: NodeTools, target: tuple[str, ...], era: str):
        self.node_tools = node_tools
        self.target = target
        self.era = era

    def inspect(self, method: str, *args: str, expect_exit: int = 0) -> dict[str, Any]:
        printed = self.node_tools.inspect(
            *self.target, "--protocol-era", self.era, "--method", method, *args, expect_exit=expect_exit
        )
        result: dict[str, Any] = printed["result"]
        return result

    def call(self, tool: str, arguments: dict[str, Any], expect_exit: int = 0) -> dict[str, Any]:
        return self.inspect(
            "tools/call",
            "--tool-name",
            tool,
            "--tool-args-json",
            json.dumps(arguments),
            expect_exit=expect_exit,
        )


def over_http(node_tools: NodeTools, http_url: str, era: str) -> Inspector:
    return Inspector(node_tools, (http_url, "--header", f"Authorization: Bearer {TOKEN}"), era)


RECEIPT_ARGS = {"filename": "receipt.txt", "content_base64": base64.b64encode(RECEIPT).decode()}


def test_the_inspector_lists_and_calls_everything(node_tools: NodeTools, http_url: str) -> None:
    inspector = over_http(node_tools, http_url, "modern")
    inspect, call, receipt = inspector.inspect, inspector.call, RECEIPT_ARGS
    # Each call is a new Inspector process: calls that do not depend on each other run side by side.
    with ThreadPoolExecutor(max_workers=4) as pool:
        # --strict makes the Inspector fail on tool schemas that strict hosts would reject.
        listed = pool.submit(inspect, "tools/list", "--strict")
        created = call(
            "create_ticket", {"subject": "Charged twice", "body": "Order 1042.", "attachments": [receipt]}
        )
        ref = created["structuredContent"]["ticket"]
        backend, _, ticket_id = ref.partition(":")
        ticket_uri = f"helpdesk://{backend}/tickets/{ticket_id}"
        text, ticket_link, file_link = created["content"]
        # The Inspector declares no elicitation, so the public reply goes out unasked (auto, the default).
        replied = pool.submit(
            call, "reply_ticket", {"ticket": ref, "body": "Refund issued.", "status": "solved"}
        )
        noted = pool.submit(call, "attach_file", {"ticket": ref, "internal": True, **receipt})
        found = pool.submit(call, "search_tickets", {"query": "Order 1042"})
        # A tool error is a result the Inspector shows, and exits 5 on.
        failed = pool.submit(call, "get_ticket", {"ticket": f"{backend}:424242"}, expect_exit=5)
        blob = pool.submit(inspect, "resources/read", "--uri", file_link["uri"])
        resources = pool.submit(inspect, "resources/list")
        templates = pool.submit(inspect, "resources/templates/list")
        prompts = pool.submit(inspect, "prompts/list")
        triage = pool.submit(
            inspect, "prompts/get", "--prompt-name", "triage_ticket", "--prompt-args", f"ticket={ref}"
        )
        replied.result()
        ticket = pool.submit(inspect, "resources/read", "--uri", ticket_uri)

    tools = listed.result()["tools"]
    assert {tool["name"] for tool in tools} == set(TOOL_NAMES)
    assert all(tool["title"] and tool["annotations"] and tool["outputSchema"] for tool in tools)

    assert json.loads(text["text"]) == created["structuredContent"]
    assert (ticket_link["type"], ticket_link["name"], ticket_link["uri"]) == (
        "resource_link",
        ref,
        ticket_uri,
    )
    assert (file_link["type"], file_link["name"]) == ("resource_link", "receipt.txt")
    [content] = blob.result()["contents"]
    assert base64.b64decode(content["blob"]) == RECEIPT

    assert replied.result()["structuredContent"]["kind"] == "agent"
    assert noted.result()["structuredContent"]["kind"] == "internal_note"
    assert ref in [t["ref"] for t in found.result()["structuredContent"]["tickets"]]
    error = failed.result()
    assert error["isError"] is True and "424242" in error["content"][0]["text"]

    assert "helpdesk://backends" in [r["uri"] for r in resources.result()["resources"]]
    assert len(templates.result()["resourceTemplates"]) == 2
    [shown] = ticket.result()["contents"]
    assert json.loads(shown["text"])["status"] == "solved"
    assert {p["name"] for p in prompts.result()["prompts"]} == {"triage_ticket", "draft_reply"}
    assert triage.result()["messages"][0]["content"]["resource"]["uri"] == ticket_uri


def test_the_inspector_in_the_legacy_era_lists_calls_and_reads(node_tools: NodeTools, http_url: str) -> None:
    """The 2025-11-25 handshake (`initialize`) in front of each kind of request: a tool list that
    strict hosts accept, a tool result and a tool error, a resource. The rest of the surface is the
    same code in either era, called in full above (each call here is a Node process)."""
    inspector = over_http(node_tools, http_url, "legacy")
    with ThreadPoolExecutor(max_workers=3) as pool:
        listed = pool.submit(inspector.inspect, "tools/list", "--strict")
        failed = pool.submit(inspector.call, "get_ticket", {"ticket": "local:424242"}, expect_exit=5)
        created = inspector.call("create_ticket", {"subject": "Charged twice", "body": "Order 1042."})
        ref = created["structuredContent"]["ticket"]
        backend, _, ticket_id = ref.partition(":")
        ticket = pool.submit(
            inspector.inspect, "resources/read", "--uri", f"helpdesk://{backend}/tickets/{ticket_id}"
        )

    assert {tool["name"] for tool in listed.result()["tools"]} == set(TOOL_NAMES)
    error = failed.result()
    assert error["isError"] is True and "424242" in error["content"][0]["text"]
    [shown] = ticket.result()["contents"]
    assert json.loads(shown["text"])["subject"] == "Charged twice"


def test_the_inspector_over_stdio_creates_then_reads_a_ticket(node_tools: NodeTools, tmp_path: Path) -> None:
    """Over stdio every Inspector call starts its own server, on the one store the host configured:
    the ticket one call creates, the next one reads. (Listing over stdio, in the legacy era, is the
    example configurations' test below; the rest is the same code as over HTTP, called in full above.)"""
    command = (console_script(), "-e", f"HELPDESK_DB={tmp_path / 'helpdesk.db'}")
    inspector = Inspector(node_tools, command, "modern")
    created = inspector.call("create_ticket", {"subject": "Charged twice", "body": "Order 1042."})
    backend, _, ticket_id = created["structuredContent"]["ticket"].partition(":")
    ticket = inspector.inspect("resources/read", "--uri", f"helpdesk://{backend}/tickets/{ticket_id}")
    [shown] = ticket["contents"]
    assert json.loads(shown["text"])["subject"] == "Charged twice"


def test_the_inspector_cannot_connect_without_the_token(node_tools: NodeTools, http_url: str) -> None:
    refused = node_tools.inspect(http_url, "--stored-auth-only", "--method", "tools/list", expect_exit=3)
    assert refused["error"]["code"] == "auth_required"


EXAMPLES = {
    "mcp.json.example": "mcpServers",
    "examples/cursor.mcp.json": "mcpServers",
    "examples/vscode.mcp.json": "servers",
}


def test_the_local_example_configurations_start_the_server(node_tools: NodeTools, tmp_path: Path) -> None:
    """The local entry of each host's example, as that host would launch it (the paths made real), in
    the legacy era: stdio meets the other era in the test above. Examples whose entries launch the
    server the same way share one start (today all three do)."""
    launches: dict[str, list[str]] = {}
    for example, host_shape in EXAMPLES.items():
        entry = json.loads((ROOT / example).read_text())[host_shape]["helpdesk"]
        entry.pop("type", None)  # VS Code's transport marker; the Inspector's file format has none
        entry["command"] = console_script()
        entry["env"]["HELPDESK_DB"] = str(tmp_path / "helpdesk.db")
        launches.setdefault(json.dumps(entry, sort_keys=True), []).append(example)
    for number, (entry, examples) in enumerate(launches.items()):
        config = tmp_path / f"mcp-{number}.json"
        config.write_text(json.dumps({"mcpServers": {"helpdesk": json.loads(entry)}}))
        listed = node_tools.inspect(
            "--config",
            str(config),
            "--server",
            "helpdesk",
            "--protocol-era",
            "legacy",
            "--method",
            "tools/list",
        )
        assert {tool["name"] for tool in listed["result"]["tools"]} == set(TOOL_NAMES), examples
