"""The MCP surface beyond tool calls: schemas, annotations, resources, prompts, completions, modes."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp import MCPError
from mcp_types import PromptReference, ResourceTemplateReference

from tests.conftest import MakeSettings, connect

pytestmark = pytest.mark.anyio
SNAPSHOT = Path(__file__).parent / "snapshots" / "tools.json"


def tool_surface(tools: list[Any]) -> dict[str, Any]:
    return {
        tool.name: {
            "title": tool.title,
            "description": tool.description,
            "annotations": tool.annotations.model_dump(by_alias=True, exclude_none=True),
            "inputSchema": tool.input_schema,
            "outputSchema": tool.output_schema,
        }
        for tool in tools
    }


async def test_tool_schemas_match_the_reviewed_snapshot(make_settings: MakeSettings, mode: str) -> None:
    """A change to the public surface must be a reviewed change: UPDATE_SNAPSHOTS=1 rewrites the file."""
    async with connect(make_settings(), mode) as client:
        surface = tool_surface((await client.list_tools()).tools)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(surface, indent=2, ensure_ascii=False) + "\n")
    assert surface == json.loads(SNAPSHOT.read_text()), (
        "tool schemas changed; review, then UPDATE_SNAPSHOTS=1"
    )


async def test_input_schemas_are_portable(make_settings: MakeSettings) -> None:
    async with connect(make_settings(), "legacy") as client:
        tools = (await client.list_tools()).tools
    for tool in tools:
        text = json.dumps(tool.input_schema)
        assert "$ref" not in text and "$defs" not in text, tool.name
        assert not {"anyOf", "oneOf", "allOf"} & set(tool.input_schema), tool.name
        assert tool.title and tool.description
        for name, prop in tool.input_schema["properties"].items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"
        assert '"title"' not in text, "generated titles cost tokens and say nothing"
        hints = tool.annotations
        assert None not in (
            hints.read_only_hint,
            hints.destructive_hint,
            hints.idempotent_hint,
            hints.open_world_hint,
        )


async def test_read_only_mode_does_not_register_write_tools(make_settings: MakeSettings) -> None:
    async with connect(make_settings(HELPDESK_READ_ONLY="1"), "auto") as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"search_tickets", "get_ticket"}
        refused = await client.call_tool("create_ticket", {"subject": "x", "body": "y"})
        assert refused.is_error


async def test_tool_allow_list(make_settings: MakeSettings) -> None:
    async with connect(make_settings(HELPDESK_TOOLS="get_ticket,reply_ticket"), "auto") as client:
        assert {t.name for t in (await client.list_tools()).tools} == {"get_ticket", "reply_ticket"}


async def test_backends_resource_and_templates(make_settings: MakeSettings, mode: str) -> None:
    async with connect(make_settings(), mode) as client:
        document = json.loads((await client.read_resource("helpdesk://backends")).contents[0].text)  # type: ignore[union-attr]
        [local] = document["backends"]
        assert local["name"] == "local" and local["type"] == "local"
        assert local["capabilities"]["internal_notes"] is True
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        assert templates == {
            "helpdesk://{backend}/tickets/{ticket_id}",
            "helpdesk://{backend}/tickets/{ticket_id}/attachments/{attachment_id}",
        }


async def test_ticket_resource_equals_get_ticket(make_settings: MakeSettings, mode: str) -> None:
    async with connect(make_settings(), mode) as client:
        created = await client.call_tool(
            "create_ticket", {"subject": "Resource", "body": "Same as the tool."}
        )
        ref = created.structured_content["ticket"]  # type: ignore[index]
        backend, _, ticket_id = ref.partition(":")
        tool = await client.call_tool("get_ticket", {"ticket": ref})
        resource = await client.read_resource(f"helpdesk://{backend}/tickets/{ticket_id}")
        assert json.loads(resource.contents[0].text) == tool.structured_content  # type: ignore[union-attr]
        with pytest.raises(MCPError):
            await client.read_resource(f"helpdesk://{backend}/tickets/424242")


async def test_prompts_embed_the_ticket(make_settings: MakeSettings, mode: str) -> None:
    async with connect(make_settings(), mode) as client:
        created = await client.call_tool("create_ticket", {"subject": "Wifi drops", "body": "Every hour."})
        ref = created.structured_content["ticket"]  # type: ignore[index]
        names = {p.name for p in (await client.list_prompts()).prompts}
        assert names == {"triage_ticket", "draft_reply"}
        triage = await client.get_prompt("triage_ticket", {"ticket": ref})
        assert "Wifi drops" in triage.messages[0].content.resource.text  # type: ignore[union-attr]
        draft = await client.get_prompt(
            "draft_reply", {"ticket": ref, "goal": "apologise", "status": "pending"}
        )
        assert "apologise" in draft.messages[1].content.text  # type: ignore[union-attr]
        with pytest.raises(MCPError):
            await client.get_prompt("triage_ticket", {"ticket": "local:999999"})


async def test_completions_offer_backends_and_statuses(make_settings: MakeSettings, mode: str) -> None:
    async with connect(make_settings(), mode) as client:
        template = ResourceTemplateReference(
            type="ref/resource", uri="helpdesk://{backend}/tickets/{ticket_id}"
        )
        backends = await client.complete(template, {"name": "backend", "value": "lo"})
        assert backends.completion.values == ["local"]
        prompt = PromptReference(type="ref/prompt", name="draft_reply")
        statuses = await client.complete(prompt, {"name": "status", "value": "o"})
        assert statuses.completion.values == ["open", "on_hold"]
        tickets = await client.complete(prompt, {"name": "ticket", "value": ""})
        assert tickets.completion.values == ["local:"]
        for subject in ("first", "second"):
            await client.call_tool("create_ticket", {"subject": subject, "body": "x"})
        recent = await client.complete(prompt, {"name": "ticket", "value": "local:"})
        assert recent.completion.values == ["local:2", "local:1"], "most recently updated first"


async def test_long_bodies_are_cut_with_directions(make_settings: MakeSettings) -> None:
    long_body = "word " * 2000
    async with connect(make_settings(), "auto") as client:
        created = await client.call_tool("create_ticket", {"subject": "Long", "body": long_body})
        ref = created.structured_content["ticket"]  # type: ignore[index]
        shown = (await client.call_tool("get_ticket", {"ticket": ref})).structured_content
        first = shown["messages"][0]  # type: ignore[index]
        assert (
            len(first["body"]) < 2300 and "more characters" in first["body"] and first["id"] in first["body"]
        )
        whole = (
            await client.call_tool("get_ticket", {"ticket": ref, "messages": first["id"]})
        ).structured_content
        assert whole["messages"][0]["body"] == long_body.strip()  # type: ignore[index]


async def test_files_from_allowed_directories_only(make_settings: MakeSettings, tmp_path: Path) -> None:
    allowed = tmp_path / "outbox"
    allowed.mkdir()
    (allowed / "invoice.txt").write_bytes(b"invoice 7")
    (tmp_path / "secret.txt").write_bytes(b"do not send")
    (allowed / "sneaky.txt").symlink_to(tmp_path / "secret.txt")
    async with connect(make_settings(HELPDESK_ALLOWED_DIRS=str(allowed)), "auto") as client:
        created = await client.call_tool("create_ticket", {"subject": "Files", "body": "Here."})
        ref = created.structured_content["ticket"]  # type: ignore[index]
        sent = await client.call_tool(
            "attach_file", {"ticket": ref, "filename": "invoice.txt", "path": str(allowed / "invoice.txt")}
        )
        assert not sent.is_error
        uri = sent.structured_content["attachments"][0]["uri"]  # type: ignore[index]
        blob = (await client.read_resource(uri)).contents[0]
        assert base64.b64decode(blob.blob) == b"invoice 7"  # type: ignore[union-attr]
        for outside in (tmp_path / "secret.txt", allowed / "sneaky.txt", allowed / ".." / "secret.txt"):
            refused = await client.call_tool(
                "attach_file", {"ticket": ref, "filename": "x.txt", "path": str(outside)}
            )
            text = refused.content[0].text  # type: ignore[union-attr]
            assert refused.is_error and any(why in text for why in ("outside", "symbolic link", "'..'"))


async def test_several_backends_merge_newest_first(make_settings: MakeSettings, tmp_path: Path) -> None:
    config = tmp_path / "two.toml"
    config.write_text(
        f'[backends.alpha]\ntype = "local"\ndb = "{tmp_path / "a.db"}"\n'
        f'[backends.beta]\ntype = "local"\ndb = "{tmp_path / "b.db"}"\n'
    )
    async with connect(make_settings(HELPDESK_CONFIG=str(config)), "auto") as client:
        ambiguous = await client.call_tool("create_ticket", {"subject": "Where?", "body": "x"})
        assert ambiguous.is_error and "backend" in ambiguous.content[0].text  # type: ignore[union-attr]
        order = []
        for number, backend in enumerate(["alpha", "beta", "alpha", "beta", "beta"]):
            made = await client.call_tool(
                "create_ticket", {"subject": f"Merged {number}", "body": "mergetest", "backend": backend}
            )
            order.append(made.structured_content["ticket"])  # type: ignore[index]
        seen: list[str] = []
        cursor = None
        while True:
            arguments: dict[str, Any] = {
                "query": "mergetest",
                "limit": 2,
                **({"cursor": cursor} if cursor else {}),
            }
            page = (await client.call_tool("search_tickets", arguments)).structured_content
            seen += [t["ref"] for t in page["tickets"]]  # type: ignore[index]
            cursor = page.get("next_cursor")  # type: ignore[union-attr]
            if not cursor:
                break
        assert seen == list(reversed(order))
        only_beta = (
            await client.call_tool("search_tickets", {"query": "mergetest", "backend": "beta"})
        ).structured_content
        assert {t["ref"].split(":")[0] for t in only_beta["tickets"]} == {"beta"}  # type: ignore[index]


async def test_date_filters_accept_what_models_write(make_settings: MakeSettings) -> None:
    async with connect(make_settings(), "auto") as client:
        await client.call_tool("create_ticket", {"subject": "Dated", "body": "datetest"})
        for after, found in (("2000-01-01", 1), ("2000-01-01T00:00Z", 1), ("2999-01-01 10:00", 0)):
            result = await client.call_tool("search_tickets", {"query": "datetest", "created_after": after})
            assert not result.is_error, result.content
            assert len(result.structured_content["tickets"]) == found, after  # type: ignore[index]
        refused = await client.call_tool("search_tickets", {"created_after": "last tuesday"})
        assert refused.is_error and "created_after" in refused.content[0].text  # type: ignore[union-attr]


async def test_threads_hide_quoted_history_and_invisible_characters(make_settings: MakeSettings) -> None:
    reply = (
        "Thanks, the new\u200b password works.\n\n"
        "On Mon, 23 Nov 2026 at 10:00, Support <help@example.com> wrote:\n"
        "> Please try logging in again.\n> Regards, Support\n"
    )
    async with connect(make_settings(), "auto") as client:
        created = await client.call_tool("create_ticket", {"subject": "Login", "body": reply})
        ref = created.structured_content["ticket"]  # type: ignore[index]
        thread = (await client.call_tool("get_ticket", {"ticket": ref})).structured_content
        shown = thread["messages"][0]  # type: ignore[index]
        assert shown["body"].startswith(
            "Thanks, the new password works.\n[… quoted text and signature trimmed;"
        )
        assert "Please try logging in again" not in shown["body"]
        whole = (
            await client.call_tool("get_ticket", {"ticket": ref, "messages": shown["id"]})
        ).structured_content
        body = whole["messages"][0]["body"]  # type: ignore[index]
        assert "> Please try logging in again." in body and "\u200b" not in body
