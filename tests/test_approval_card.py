"""The approval card (MCP Apps) through mcp.Client in both protocol eras: where the host shows apps
but no forms, a reply or file for a customer goes out only when the card's Send answers for exactly
what was held, once, within its lifetime."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.extension import ClientExtension
from mcp_types import CallToolResult, TextResourceContents

from helpdesk_mcp.server.app import build_server
from helpdesk_mcp.server.config import Settings
from tests.conftest import MODES, Human, MakeSettings, connect, serve_http

pytestmark = pytest.mark.anyio

APP_MIME = "text/html;profile=mcp-app"
CARD = "ui://helpdesk-mcp/approval"


class ShowsApps(ClientExtension):
    """What Claude Desktop declares: it renders MCP Apps (and shows no elicitation forms)."""

    identifier = "io.modelcontextprotocol/ui"

    def settings(self) -> dict[str, Any]:
        return {"mimeTypes": [APP_MIME]}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def apps_host(
    settings: Settings, mode: str, clock: Clock | None = None, human: Human | None = None
) -> AsyncIterator[Client]:
    server = build_server(settings, clock=clock or Clock())
    async with Client(server, mode=mode, extensions=[ShowsApps()], elicitation_callback=human) as client:  # type: ignore[arg-type]
        yield client


def text(result: CallToolResult) -> str:
    return result.content[0].text  # type: ignore[union-attr]


async def ok(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, text(result)
    structured: dict[str, Any] = result.structured_content  # type: ignore[assignment]
    return structured


async def agent_replies(client: Client, ref: str) -> list[str]:
    messages = (await ok(client, "get_ticket", {"ticket": ref}))["messages"]
    return [m["body"] for m in messages if m["kind"] == "agent"]


async def held(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[CallToolResult, dict[str, Any]]:
    """The agent's call, held for the card: its result and the card the host is given."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error and text(result).startswith("Not sent yet:"), text(result)
    card: dict[str, Any] = (result.meta or {})["helpdesk-mcp/approval"]
    return result, card


async def answer(client: Client, card: dict[str, Any], send: bool = True, **changes: Any) -> CallToolResult:
    """What the card's Send (or Cancel) button calls through the host."""
    arguments = {"approval": card["id"], "digest": card["digest"], "send": send, **changes}
    return await client.call_tool("answer_approval", arguments)


async def open_ticket(client: Client, subject: str = "Refund") -> str:
    ticket = {"subject": subject, "body": "Charged twice.", "requester_email": "ann@example.com"}
    created = await ok(client, "create_ticket", ticket)
    return str(created["ticket"])


async def test_the_card_is_a_listed_app_resource_bound_to_the_writers(
    make_settings: MakeSettings, mode: str
) -> None:
    async with apps_host(make_settings(HELPDESK_CONFIRM_REPLIES="1"), mode) as client:
        resources = {r.uri: r for r in (await client.list_resources()).resources}
        assert resources[CARD].mime_type == APP_MIME
        [page] = (await client.read_resource(CARD)).contents
        assert isinstance(page, TextResourceContents) and page.mime_type == APP_MIME
        assert page.text.startswith("<!DOCTYPE html>")
        for wire in ("ui/initialize", "ui/notifications/tool-result", "answer_approval"):
            assert wire in page.text
        tools = {t.name: t for t in (await client.list_tools()).tools}
        for writer in ("reply_ticket", "attach_file"):
            assert (tools[writer].meta or {})["ui"] == {"resourceUri": CARD}
        assert (tools["answer_approval"].meta or {})["ui"]["visibility"] == ["app"]


async def test_a_host_without_apps_is_not_offered_the_card(make_settings: MakeSettings, mode: str) -> None:
    async with connect(make_settings(HELPDESK_CONFIRM_REPLIES="1"), mode) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert "answer_approval" not in tools
        assert "ui" not in (tools["reply_ticket"].meta or {})
        assert CARD not in [r.uri for r in (await client.list_resources()).resources]
        refused = await client.call_tool("answer_approval", {"approval": "x", "digest": "y", "send": True})
        assert refused.is_error and "nothing was sent" in text(refused)


async def test_a_reply_is_sent_only_when_the_card_says_send(make_settings: MakeSettings, mode: str) -> None:
    async with apps_host(make_settings(HELPDESK_CONFIRM_REPLIES="1"), mode) as client:
        ref = await open_ticket(client)
        draft = "Refund issued <b>today</b>.\nSorry & thanks!"
        result, card = await held(client, "reply_ticket", {"ticket": ref, "body": draft, "status": "solved"})
        # The model's text names neither the approval nor its digest; only the host gets those.
        assert card["id"] not in text(result) and card["digest"] not in text(result)
        assert ref in text(result) and "nothing has been sent" in text(result)
        assert await agent_replies(client, ref) == []

        shown = card["html"]
        assert "Refund issued &lt;b&gt;today&lt;/b&gt;.\nSorry &amp; thanks!" in shown
        assert "<b>today</b>" not in shown
        assert ref in shown and "<dd>Refund</dd>" in shown and "&lt;ann@example.com&gt;" in shown
        assert "solved" in shown and card["digest"][:12] in shown
        assert "data-answer=send>Send</button>" in shown and "data-answer=cancel>Cancel</button>" in shown

        posted = await answer(client, card)
        assert not posted.is_error, text(posted)
        assert posted.structured_content is not None and posted.structured_content["status"] == "solved"
        assert await agent_replies(client, ref) == [draft]


async def test_a_file_card_shows_name_size_type_and_hash(make_settings: MakeSettings, mode: str) -> None:
    content = b"%PDF-1.7\n" + b"x" * 1225
    async with apps_host(make_settings(HELPDESK_CONFIRM_REPLIES="1"), mode) as client:
        ref = await open_ticket(client)
        arguments = {
            "ticket": ref,
            "filename": "invoice.pdf",
            "content_base64": base64.b64encode(content).decode(),
            "message": "Here it is.",
        }
        _, card = await held(client, "attach_file", arguments)
        shown = card["html"]
        assert "invoice.pdf" in shown and "1,234 bytes" in shown and "PDF" in shown
        assert hashlib.sha256(content).hexdigest()[:12] in shown and "Here it is." in shown
        messages = (await ok(client, "get_ticket", {"ticket": ref}))["messages"]
        assert all(not m.get("attachments") for m in messages)

        assert not (await answer(client, card)).is_error
        messages = (await ok(client, "get_ticket", {"ticket": ref}))["messages"]
        assert [a["filename"] for m in messages for a in m.get("attachments", [])] == ["invoice.pdf"]


async def test_an_approval_is_for_the_held_text_once(make_settings: MakeSettings, mode: str) -> None:
    async with apps_host(make_settings(HELPDESK_CONFIRM_REPLIES="1"), mode) as client:
        ref = await open_ticket(client)
        _, first = await held(client, "reply_ticket", {"ticket": ref, "body": "Refund issued."})
        assert not (await answer(client, first)).is_error

        reused = await answer(client, first)
        assert reused.is_error and "already answered" in text(reused)

        # A changed message is a new call with its own card: the approval given does not carry over.
        _, changed = await held(client, "reply_ticket", {"ticket": ref, "body": "Send us your password."})
        assert changed["id"] != first["id"] and changed["digest"] != first["digest"]
        wrong = await answer(client, changed, digest=first["digest"])
        assert wrong.is_error and "does not match" in text(wrong)
        # A mismatched answer spends the card: the right digest cannot follow it.
        assert (await answer(client, changed)).is_error
        assert await agent_replies(client, ref) == ["Refund issued."]


async def test_an_approval_expires(make_settings: MakeSettings, mode: str) -> None:
    clock = Clock()
    async with apps_host(make_settings(HELPDESK_CONFIRM_REPLIES="1"), mode, clock) as client:
        ref = await open_ticket(client)
        _, card = await held(client, "reply_ticket", {"ticket": ref, "body": "Refund issued."})
        clock.now += 601
        late = await answer(client, card)
        assert late.is_error and "expired" in text(late) and "nothing was sent" in text(late)
        assert await agent_replies(client, ref) == []


async def test_cancel_drops_the_held_message(make_settings: MakeSettings, mode: str) -> None:
    async with apps_host(make_settings(), mode) as client:
        ref = await open_ticket(client)
        _, card = await held(client, "reply_ticket", {"ticket": ref, "body": "Refund issued."})
        cancelled = await answer(client, card, send=False)
        assert cancelled.is_error and text(cancelled).startswith("Cancelled:")
        assert (await answer(client, card)).is_error
        assert await agent_replies(client, ref) == []


async def test_forms_come_first_and_notes_need_no_card(make_settings: MakeSettings, mode: str) -> None:
    human = Human()
    async with apps_host(make_settings(HELPDESK_CONFIRM_REPLIES="1"), mode, human=human) as client:
        ref = await open_ticket(client)
        await ok(client, "reply_ticket", {"ticket": ref, "body": "Asked by form."})
        await ok(client, "reply_ticket", {"ticket": ref, "body": "A note.", "internal": True})
        assert len(human.questions) == 1
        assert await agent_replies(client, ref) == ["Asked by form."]


async def test_no_card_is_held_for_a_ticket_that_does_not_exist(
    make_settings: MakeSettings, mode: str
) -> None:
    async with apps_host(make_settings(HELPDESK_CONFIRM_REPLIES="1"), mode) as client:
        refused = await client.call_tool("reply_ticket", {"ticket": "local:999", "body": "Hello"})
        assert refused.is_error and "local:999" in text(refused)
        assert "helpdesk-mcp/approval" not in (refused.meta or {})


@pytest.mark.parametrize("stateless", [False, True])
async def test_the_card_over_http(tmp_path: Path, stateless: bool) -> None:
    """The card needs no request from server to host, so a 2026-07-28 host gets it from a stateless
    server too; a 2025-11-25 host's capabilities do not outlive its `initialize` there, so it is not
    known to show apps and, under HELPDESK_CONFIRM_REPLIES=1, is refused."""
    flags = ("--stateless", "--json-response") if stateless else ()
    with serve_http(tmp_path, *flags, HELPDESK_CONFIRM_REPLIES="1") as server:
        for mode in MODES:
            async with Client(server.url, mode=mode, extensions=[ShowsApps()]) as client:  # type: ignore[arg-type]
                ref = await open_ticket(client, subject=f"Over {mode}")
                arguments = {"ticket": ref, "body": f"Over {mode}."}
                if stateless and mode == "legacy":
                    refused = await client.call_tool("reply_ticket", arguments)
                    assert refused.is_error and "neither a form nor an approval card" in text(refused)
                    continue
                _, card = await held(client, "reply_ticket", arguments)
                assert not (await answer(client, card)).is_error
                assert await agent_replies(client, ref) == [f"Over {mode}."]
