"""The installed console script over stdio with only Plusofon configured, as a user's MCP host runs it."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.conftest import MODES, child_env, console_script
from tests.fakes.plusofon import ROUTES, PlusofonFake, Staff, User, make_fake

pytestmark = pytest.mark.anyio

INVOICE = b"%PDF-1.4 \xd0\xa1\xd1\x87\xd1\x91\xd1\x82 \x00\x01\x02"
LOG = "2026-11-23 10:15 INVITE → 403 Forbidden\n".encode()


@pytest.fixture
def fake() -> Iterator[PlusofonFake]:
    with make_fake().running() as running:
        assert isinstance(running, PlusofonFake)
        yield running


def ok(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    structured: dict[str, Any] = result.structured_content
    assert json.loads(result.content[0].text) == structured
    return structured


def refused(result: Any) -> str:
    assert result.is_error
    text: str = result.content[0].text
    assert "\n" not in text and "Traceback" not in text and text.endswith(".")
    return text


@pytest.mark.parametrize("mode", MODES)
async def test_a_plusofon_session_over_stdio(tmp_path: Path, fake: PlusofonFake, mode: str) -> None:
    env = child_env(tmp_path, PLUSOFON_TOKEN=fake.token, PLUSOFON_URL=fake.url)
    async with Client(
        StdioServerParameters(command=console_script(), args=[], env=dict(env)), mode=mode
    ) as client:
        backends = json.loads((await client.read_resource("helpdesk://backends")).contents[0].text)  # type: ignore[union-attr]
        [backend] = backends["backends"]
        caps = backend["capabilities"]
        assert (backend["name"], backend["type"], caps["customer_side"]) == ("plusofon", "plusofon", True)
        assert (
            caps["internal_notes"] is False
            and caps["status_on_reply"] is False
            and caps["create_fields"] == []
        )
        assert set(caps["search_filters"]) == {
            "query",
            "status",
            "requester",
            "created_after",
            "created_before",
            "updated_after",
            "updated_before",
        }

        # Every ticket once, newest activity first, then filters honoured and refused.
        refs: list[str] = []
        arguments: dict[str, Any] = {"limit": 100}
        while True:
            page = ok(await client.call_tool("search_tickets", arguments))
            refs.extend(t["ref"] for t in page["tickets"])
            if "next_cursor" not in page:
                break
            arguments["cursor"] = page["next_cursor"]
        assert sorted(refs) == sorted(f"plusofon:{n}" for n in fake.tickets) and len(refs) == 300
        open_refs = ok(await client.call_tool("search_tickets", {"status": ["open"], "limit": 100}))[
            "tickets"
        ]
        assert {t["ref"] for t in open_refs} == {
            f"plusofon:{t.id}" for t in fake.tickets.values() if t.active
        }
        for unsupported in ({"assignee": "Анна Смирнова"}, {"tags": ["voip"]}):
            left_out = ok(await client.call_tool("search_tickets", unsupported))
            assert left_out["tickets"] == [] and "cannot filter by" in left_out["notes"][0]
            named = {**unsupported, "backend": "plusofon"}
            assert "cannot filter by" in refused(await client.call_tool("search_tickets", named))

        # A thread with both kinds of message, HTML flattened, a long body read whole and to the character.
        ticket = next(
            t
            for t in fake.tickets.values()
            if any(len(p.text) > 3000 and isinstance(p.author, User) for p in t.posts)
            and any(isinstance(p.author, Staff) for p in t.posts)
        )
        ref = f"plusofon:{ticket.id}"
        thread = ok(await client.call_tool("get_ticket", {"ticket": ref}))
        assert [m["kind"] for m in thread["messages"]] == [
            "agent" if isinstance(p.author, Staff) else "customer" for p in ticket.posts
        ]
        long_post = next(p for p in ticket.posts if len(p.text) > 3000 and isinstance(p.author, User))
        whole = ok(await client.call_tool("get_ticket", {"ticket": ref, "messages": str(long_post.id)}))
        assert whole["messages"][0]["body"] == long_post.text
        assert all("<p>" not in m["body"] for m in thread["messages"])

        # Open a ticket with a file, answer it, attach another; what Plusofon cannot take is said.
        created = ok(
            await client.call_tool(
                "create_ticket",
                {
                    "subject": "Счёт № 4711 — двойное списание",
                    "body": "Списали дважды 1 990 ₽. Zwrot proszę na konto.",
                    "attachments": [
                        {"filename": "счёт.pdf", "content_base64": base64.b64encode(INVOICE).decode()}
                    ],
                },
            )
        )
        new_ref = created["ticket"]
        new_id = int(new_ref.partition(":")[2])
        assert created["status"] == "open" and [a["filename"] for a in created["attachments"]] == ["счёт.pdf"]
        assert "uri" not in created["attachments"][0], "Plusofon offers no download, so no URI is promised"
        urgent = ok(
            await client.call_tool("create_ticket", {"subject": "S", "body": "B", "priority": "urgent"})
        )
        assert [item["field"] for item in urgent["not_stored"]] == ["priority"], "opened, without it"

        reply = ok(
            await client.call_tool("reply_ticket", {"ticket": new_ref, "body": "Жду ответа, спасибо."})
        )
        assert reply["kind"] == "customer"
        assert "internal" in refused(
            await client.call_tool("reply_ticket", {"ticket": new_ref, "body": "Заметка", "internal": True})
        )
        assert "status" in refused(
            await client.call_tool(
                "reply_ticket", {"ticket": new_ref, "body": "Закрываю", "status": "closed"}
            )
        )
        attached = ok(
            await client.call_tool(
                "attach_file",
                {"ticket": new_ref, "filename": "sip.log", "content_base64": base64.b64encode(LOG).decode()},
            )
        )
        assert [a["filename"] for a in attached["attachments"]] == ["sip.log"]

        again = ok(await client.call_tool("get_ticket", {"ticket": new_ref}))
        bodies = [m["body"] for m in again["messages"]]
        assert bodies == ["Списали дважды 1 990 ₽. Zwrot proszę na konto.", "Жду ответа, спасибо.", "sip.log"]
        assert [a["filename"] for m in again["messages"] for a in m.get("attachments", [])] == [
            "счёт.pdf",
            "sip.log",
        ]
        assert [f.content for p in fake.tickets[new_id].posts for f in p.files] == [INVOICE, LOG]

    # Every request on the wire is a documented call with the documented headers.
    documented = [(method, re.compile(path)) for method, path in ROUTES.values()]
    for request in fake.requests:
        assert any(method == request.method and path.search(request.path) for method, path in documented)
        assert (
            request.header("authorization") == f"Bearer {fake.token}" and request.header("client") == "10553"
        )
    writes = [r for r in fake.requests if r.method != "GET"]
    assert [(r.method, r.path) for r in writes] == [
        ("POST", "/api/v1/ticket"),
        ("POST", "/api/v1/ticket/attachment"),
        ("POST", "/api/v1/ticket"),
        ("PUT", f"/api/v1/ticket/answer/{new_id}"),
        ("PUT", f"/api/v1/ticket/answer/{new_id}"),
        ("POST", "/api/v1/ticket/attachment"),
    ]
