"""An agent's session with the installed console script over stdio, Thulium configured by environment only."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.conftest import MODES, child_env, console_script
from tests.fakes.thulium import WAITING, FakeThulium, vendor_env

pytestmark = pytest.mark.anyio

RECEIPT = b"PLN 49,99\n"


def ok(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    structured: dict[str, Any] = result.structured_content
    return structured


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def newest_first(fake: FakeThulium, tickets: list[Any]) -> list[str]:
    rows = sorted(((fake.local(t.updated), str(t.id)) for t in tickets), reverse=True)
    return [f"thulium:{ticket_id}" for _, ticket_id in rows]


@pytest.mark.parametrize("mode", MODES)
async def test_agent_session_over_stdio(tmp_path: Path, fake: FakeThulium, mode: str) -> None:
    env = dict(child_env(tmp_path, **vendor_env(fake)))
    async with Client(StdioServerParameters(command=console_script(), args=[], env=env), mode=mode) as client:
        backends = json.loads((await client.read_resource("helpdesk://backends")).contents[0].text)  # type: ignore[union-attr]
        [backend] = backends["backends"]
        assert backend["name"] == "thulium" and backend["capabilities"]["internal_notes"] is False

        # Every ticket, page by page, once each, newest first.
        refs: list[str] = []
        arguments: dict[str, Any] = {"limit": 100}
        while True:
            page = ok(await client.call_tool("search_tickets", arguments))
            refs += [t["ref"] for t in page["tickets"]]
            if "next_cursor" not in page:
                break
            arguments["cursor"] = page["next_cursor"]
        assert refs == newest_first(fake, list(fake.tickets.values()))

        # Filters: Thulium's own (status, assignee) and those applied to its listing (text).
        waiting = ok(await client.call_tool("search_tickets", {"status": ["pending"], "assignee": "mnowak"}))
        assert [t["ref"] for t in waiting["tickets"]] == newest_first(
            fake, [t for t in fake.tickets.values() if t.status_id == WAITING and t.user_login == "mnowak"]
        )[:20]
        found = ok(await client.call_tool("search_tickets", {"query": "korygującą 120,50"}))
        assert [t["ref"] for t in found["tickets"]] == [f"thulium:{fake.showcase_id}"]

        # A thread with every kind of message, every character intact.
        showcase = f"thulium:{fake.showcase_id}"
        thread = ok(await client.call_tool("get_ticket", {"ticket": showcase}))
        assert [m["kind"] for m in thread["messages"]] == [
            "customer",
            "customer",
            "agent",
            "internal_note",
            "system",
        ]
        first = thread["messages"][1]
        whole = ok(await client.call_tool("get_ticket", {"ticket": showcase, "messages": first["id"]}))
        assert whole["messages"][0]["body"] == fake.tickets[fake.showcase_id].messages[0].body

        # Open, reply, note, status, attach.
        created = ok(
            await client.call_tool(
                "create_ticket",
                {
                    "subject": "Zwrot za zamówienie 1042",
                    "body": "Pobrano płatność dwa razy.",
                    "requester_email": "kim@example.pl",
                    "attachments": [{"filename": "paragon.txt", "content_base64": b64(RECEIPT)}],
                },
            )
        )
        ref = created["ticket"]
        assert created["status"] == "new" and [a["filename"] for a in created["attachments"]] == [
            "paragon.txt"
        ]
        ok(await client.call_tool("reply_ticket", {"ticket": ref, "body": "Zwrot zlecony."}))
        note = await client.call_tool(
            "reply_ticket", {"ticket": ref, "body": "Bank potwierdził.", "internal": True}
        )
        assert note.is_error and "internal" in note.content[0].text  # type: ignore[union-attr]
        waiting_now = ok(
            await client.call_tool(
                "reply_ticket", {"ticket": ref, "body": "Czekamy na numer konta.", "status": "pending"}
            )
        )
        assert waiting_now["status"] == "pending"
        attached = ok(
            await client.call_tool(
                "attach_file", {"ticket": ref, "filename": "potwierdzenie.txt", "content_base64": b64(b"OK")}
            )
        )
        assert [a["filename"] for a in attached["attachments"]] == ["potwierdzenie.txt"]

        ticket = ok(await client.call_tool("get_ticket", {"ticket": ref}))
        assert ticket["status"] == "pending"
        assert [m["kind"] for m in ticket["messages"]] == ["customer", "agent", "agent", "system", "agent"]
        assert [a["filename"] for m in ticket["messages"] for a in m.get("attachments", [])] == [
            "paragon.txt",
            "potwierdzenie.txt",
        ]
        assert "uri" not in ticket["messages"][0]["attachments"][0], "Thulium serves no attachment downloads"
