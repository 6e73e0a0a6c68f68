"""An agent's session with the installed console script over stdio, osTicket configured by environment only:
everything the API allows through the five tools, and one clear sentence for everything it does not."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.conftest import MODES, child_env, console_script
from tests.fakes.osticket import OsticketFake, vendor_env

pytestmark = pytest.mark.anyio

RECEIPT = "Paragon: 49,99 zł / чек\n".encode()
LOG = b"2026-11-23 ERROR gateway timeout\n"


def ok(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    structured: dict[str, Any] = result.structured_content
    return structured


def refused(result: Any) -> str:
    assert result.is_error, result.structured_content
    text: str = result.content[0].text
    assert "\n" not in text and "Traceback" not in text and text.endswith("."), text
    return text


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def server(tmp_path: Path, fake: OsticketFake) -> StdioServerParameters:
    return StdioServerParameters(
        command=console_script(), args=[], env=dict(child_env(tmp_path, **vendor_env(fake)))
    )


async def capabilities(client: Client) -> dict[str, Any]:
    document = json.loads((await client.read_resource("helpdesk://backends")).contents[0].text)  # type: ignore[union-attr]
    [backend] = document["backends"]
    assert backend["name"] == "osticket" and backend["type"] == "osticket"
    caps: dict[str, Any] = backend["capabilities"]
    return caps


async def every_page(client: Client, arguments: dict[str, Any]) -> list[str]:
    refs: list[str] = []
    while True:
        page = ok(await client.call_tool("search_tickets", arguments))
        refs += [t["ref"] for t in page["tickets"]]
        if "next_cursor" not in page:
            return refs
        arguments = {**arguments, "cursor": page["next_cursor"]}


@pytest.mark.parametrize("mode", MODES)
async def test_agent_session_with_the_extension(tmp_path: Path, fake: OsticketFake, mode: str) -> None:
    async with Client(server(tmp_path, fake), mode=mode) as client:
        caps = await capabilities(client)
        assert caps["search"] and caps["reply"] and caps["status_on_reply"]
        assert caps["search_requires"] == ["requester", "assignee"] and caps["internal_notes"] is False

        # Every ticket an agent holds, page by page, once each; agents together hold all assigned ones.
        held: list[str] = []
        for agent in fake.staff:
            held += await every_page(client, {"assignee": agent.username, "limit": 25})
        assert len(held) == len(set(held))
        assert set(held) == {f"osticket:{t.number}" for t in fake.tickets if t.staff_id is not None}
        refused(await client.call_tool("search_tickets", {"query": "faktura"}))
        tagged = ok(
            await client.call_tool("search_tickets", {"requester": "ola@example.com", "tags": ["vip"]})
        )
        assert tagged["tickets"] == [] and "cannot filter by tags" in tagged["notes"][0]

        # Filters applied over what osTicket returns: words and status within one customer's tickets.
        theirs = [t for t in fake.tickets if t.user_id == 1]
        found = await every_page(client, {"requester": "ola@example.com", "status": ["open"], "limit": 2})
        assert set(found) == {f"osticket:{t.number}" for t in theirs if t.status_id in (1, 6)}

        # A thread with every kind of message, every character intact, a long one readable whole.
        stored = next(
            t
            for t in fake.tickets
            if {"M", "R", "N", "SYSTEM"} <= {"SYSTEM" if e.poster == "SYSTEM" else e.type for e in t.entries}
        )
        ticket = ok(await client.call_tool("get_ticket", {"ticket": f"osticket:{stored.number}"}))
        assert {m["kind"] for m in ticket["messages"]} == {"customer", "agent", "internal_note", "system"}
        assert ticket["subject"] == stored.subject
        long_one = next(t for t in fake.tickets if any(len(e.body) > 10000 for e in t.entries))
        entry = next(e for e in long_one.entries if len(e.body) > 10000)
        whole = ok(
            await client.call_tool(
                "get_ticket", {"ticket": f"osticket:{long_one.number}", "messages": str(entry.id)}
            )
        )
        assert whole["messages"][0]["body"].endswith("Koniec logu.")

        # Open a ticket with a file, reply, set the status, attach a file.
        created = ok(
            await client.call_tool(
                "create_ticket",
                {
                    "subject": "Zwrot za zamówienie 1042 / возврат",
                    "body": "Pobrano dwa razy. Деньги списали дважды.",
                    "requester_email": "kim@example.com",
                    "requester_name": "Kim Łęcka",
                    "priority": "high",
                    "attachments": [{"filename": "paragon.txt", "content_base64": b64(RECEIPT)}],
                },
            )
        )
        ref = created["ticket"]
        assert created["status"] == "open" and [a["filename"] for a in created["attachments"]] == [
            "paragon.txt"
        ]
        reply = ok(await client.call_tool("reply_ticket", {"ticket": ref, "body": "Zwrot zlecony — 3 dni."}))
        assert reply["kind"] == "agent"
        solved = ok(
            await client.call_tool("reply_ticket", {"ticket": ref, "body": "Gotowe.", "status": "solved"})
        )
        assert solved["status"] == "solved"
        attached = ok(
            await client.call_tool(
                "attach_file", {"ticket": ref, "filename": "gateway.log", "content_base64": b64(LOG)}
            )
        )
        assert [a["filename"] for a in attached["attachments"]] == ["gateway.log"]

        # What osTicket's API cannot do, each in one sentence.
        assert "internal" in refused(
            await client.call_tool("reply_ticket", {"ticket": ref, "body": "x", "internal": True})
        )
        assert "pending" in refused(
            await client.call_tool("reply_ticket", {"ticket": ref, "body": "x", "status": "pending"})
        )
        assert "tags" in refused(
            await client.call_tool(
                "create_ticket",
                {"subject": "s", "body": "b", "requester_email": "kim@example.com", "tags": ["vip"]},
            )
        )
        assert "requester_email" in refused(
            await client.call_tool("create_ticket", {"subject": "s", "body": "b"})
        )

        again = ok(await client.call_tool("get_ticket", {"ticket": ref}))
        assert again["status"] == "solved" and again["status_label"] == "Resolved"
        assert [m["kind"] for m in again["messages"]] == ["customer", "agent", "agent", "agent"]
        assert again["messages"][0]["body"] == "Pobrano dwa razy. Деньги списали дважды."
        files = [a["filename"] for m in again["messages"] for a in m.get("attachments", [])]
        assert files == ["paragon.txt", "gateway.log"]

    number = ref.partition(":")[2]
    stored_new = next(t for t in fake.tickets if t.number == number)
    assert stored_new.entries[0].files[0].content == RECEIPT
    assert [
        r.json()["reply_status_id"]
        for r in fake.received("POST", r"/reply\.json$")
        if "reply_status_id" in r.json()
    ] == ["2"]


async def test_agent_session_with_stock_osticket(tmp_path: Path, stock: OsticketFake) -> None:
    async with Client(server(tmp_path, stock), mode="auto") as client:
        caps = await capabilities(client)  # read first: the probe ran as the server started
        assert caps["create"] and not caps["search"] and not caps["reply"]

        created = ok(
            await client.call_tool(
                "create_ticket",
                {
                    "subject": "Nie działa VPN",
                    "body": "Od rana brak połączenia. Нет соединения.",
                    "requester_email": "ola@example.com",
                    "attachments": [{"filename": "paragon.txt", "content_base64": b64(RECEIPT)}],
                },
            )
        )
        ref = created["ticket"]
        assert ref == f"osticket:{stock.tickets[-1].number}"
        assert stock.tickets[-1].entries[0].body == "Od rana brak połączenia. Нет соединения."

        assert "ticket API extension" in refused(await client.call_tool("get_ticket", {"ticket": ref}))
        assert "cannot search" in refused(
            await client.call_tool("search_tickets", {"requester": "ola@example.com", "backend": "osticket"})
        )
        refused(await client.call_tool("reply_ticket", {"ticket": ref, "body": "Dzień dobry"}))
        assert "ticket API extension" in refused(
            await client.call_tool(
                "attach_file", {"ticket": ref, "filename": "a.log", "content_base64": b64(LOG)}
            )
        )
    assert [r.path for r in stock.received("POST")] == ["/api/http.php/tickets.json"]
