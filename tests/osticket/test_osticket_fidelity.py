"""What the tools report is what osTicket really did (issue 15): text, subjects, files and e-mail
addresses as osTicket 1.18 stores them, seen through an MCP client against a fake that cleans them the
way osTicket's own code does."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client

from helpdesk_mcp.adapters.model import FileUpload, NewReply, NewTicket
from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import connect, unthrottled
from tests.fakes.harness import Fault
from tests.fakes.osticket import OsticketFake, env_for, vendor_env
from tests.osticket.conftest import adapter_for

pytestmark = pytest.mark.anyio

# What an agent may well write: markup-like text, entities, quotes, runs of spaces, Polish and Russian.
TRICKY = (
    "Dwie  spacje & <tag> \"cudzysłów\" i 'apostrof'\n"
    "&lt;b&gt;nie pogrubione&lt;/b&gt; a < b > c, 5 &amp; 6\n\n"
    "Съешь же ещё этих мягких французских булок."
)


@pytest.fixture
async def client(fake: OsticketFake) -> AsyncIterator[Client]:
    settings = unthrottled(load_settings(env_for(fake), known_tools=TOOL_NAMES))
    async with connect(settings, "auto") as connected:
        yield connected


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    structured: dict[str, Any] = result.structured_content  # type: ignore[assignment]
    return structured


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_text_and_subject_round_trip_on_create_and_reply(client: Client, fake: OsticketFake) -> None:
    subject = "Drukarka 5 & 6 — «принтер»"
    created = await call(
        client,
        "create_ticket",
        {"backend": "osticket", "subject": subject, "body": TRICKY, "requester_email": "ola@example.com"},
    )
    ref = created["ticket"]
    # « is one of the characters osTicket's strip_emoticons removes; the result says what was kept.
    [changed] = created["not_stored"]
    assert changed["field"] == "subject" and changed["stored"] == "Drukarka 5 & 6 — принтер»"

    # The reply differs from the first message: a repeat would be shown as a reference to it.
    answer = f"Odpowiedź: {TRICKY}"
    await call(client, "reply_ticket", {"ticket": ref, "body": answer})
    ticket = await call(client, "get_ticket", {"ticket": ref})
    assert ticket["subject"] == "Drukarka 5 & 6 — принтер»"
    first, reply = ticket["messages"]
    assert first["kind"] == "customer" and first["body"] == TRICKY
    assert reply["kind"] == "agent" and reply["body"] == answer
    stored = fake.ticket(ref.partition(":")[2])
    assert stored is not None and "<tag>" not in stored.entries[0].body, "never sent as markup"


async def test_what_osticket_changes_is_reported_with_what_it_stored(
    client: Client, fake: OsticketFake
) -> None:
    created = await call(
        client,
        "create_ticket",
        {
            "backend": "osticket",
            "subject": "Duży plik <tag> test",
            "body": "Działa 👍 dzięki",
            "requester_email": "ola@example.com",
        },
    )
    subject, body = created["not_stored"]
    assert subject == {
        "field": "subject",
        "reason": "osTicket decodes HTML entities in subjects, then removes tags and emoji.",
        "stored": "Duży plik  test",
    }
    assert body["field"] == "body" and body["stored"] == "Działa dzięki" and "emoji" in body["reason"]

    posted = await call(client, "reply_ticket", {"ticket": created["ticket"], "body": "Gotowe ✅ 🎉"})
    [changed] = posted["not_stored"]
    assert changed["field"] == "body" and changed["stored"] == "Gotowe"


async def test_a_file_over_the_limit_is_reported_with_osticket_s_reason(
    client: Client, fake: OsticketFake
) -> None:
    ticket = next(t for t in fake.tickets if t.status_id == 1)
    big = bytes(fake.max_file_size + 1)
    posted = await call(
        client,
        "attach_file",
        {"ticket": f"osticket:{ticket.number}", "filename": "big-1.5MB.bin", "content_base64": b64(big)},
    )
    assert "attachments" not in posted, "no file shown as attached"
    [missing] = posted["not_stored"]
    assert missing == {
        "field": "attachments",
        "name": "big-1.5MB.bin",
        "reason": "osTicket: File size is too large",
    }
    note = ticket.entries[-2]
    assert note.poster == "SYSTEM" and note.body == "big-1.5MB.bin: File size is too large"

    files = [
        {"filename": "big.bin", "content_base64": b64(big)},
        {"filename": "raport.txt", "content_base64": b64(b"ok")},
    ]
    created = await call(
        client,
        "create_ticket",
        {
            "backend": "osticket",
            "subject": "Pliki",
            "body": "W załączniku.",
            "requester_email": "ola@example.com",
            "attachments": files,
        },
    )
    assert [a["filename"] for a in created["attachments"]] == ["raport.txt"], "the kept file by its name"
    assert [(m["name"], m["reason"]) for m in created["not_stored"]] == [
        ("big.bin", "osTicket: File size is too large")
    ]


async def test_files_dropped_silently_on_reply_are_reported(fake: OsticketFake) -> None:
    fake.attachments_enabled = False
    adapter = adapter_for(fake)
    ticket = next(t for t in fake.tickets if t.status_id == 1)
    upload = FileUpload(filename="log.txt", mime_type="text/plain", content=b"x")
    message = await adapter.reply(ticket.number, NewReply(body="Log", attachments=(upload,)))
    assert message.attachments == []
    [missing] = message.not_stored
    assert missing.name == "log.txt" and "turned off" in missing.reason
    await adapter.aclose()


async def test_the_requester_is_the_bare_address_and_filters_an_agent_s_list(
    client: Client, fake: OsticketFake
) -> None:
    agent = fake.staff[0]
    mine = [t for t in fake.tickets if t.staff_id == agent.id]
    customer = fake.user(mine[0].user_id)
    assert customer is not None
    found = await call(
        client, "search_tickets", {"assignee": agent.username, "requester": customer.email, "limit": 100}
    )
    expected = {f"osticket:{t.number}" for t in mine if t.user_id == customer.id}
    assert {t["ref"] for t in found["tickets"]} == expected
    assert all(t["requester"]["email"] == customer.email for t in found["tickets"])


async def test_a_customer_s_text_comes_back_unescaped(client: Client, fake: OsticketFake) -> None:
    stored = next(t for t in fake.tickets if t.entries[0].format == "text" and "&gt;" in t.entries[0].body)
    ticket = await call(client, "get_ticket", {"ticket": f"osticket:{stored.number}"})
    body = ticket["messages"][0]["body"]
    assert "&gt;" not in body and "&amp;" not in body and "&quot;" not in body


async def test_a_lost_answer_finds_the_ticket_though_osticket_removed_its_emoji(
    fake: OsticketFake,
) -> None:
    adapter = adapter_for(fake)
    await adapter.start()
    fake.inject(Fault("status", status=500, apply=True, path=r"/tickets\.json$"))
    new = NewTicket(subject="Nie działa 😞", body="Pomocy 🙏 proszę", requester_email="ola@example.com")
    created = await adapter.create_ticket(new)
    assert created.ref == f"osticket:{fake.tickets[-1].number}"
    assert len(fake.received("POST", r"/tickets\.json$")) == 1, "never sent twice"
    await adapter.aclose()


async def test_a_reply_whose_answer_was_lost_is_found_without_its_emoji(fake: OsticketFake) -> None:
    adapter = adapter_for(fake)
    await adapter.start()
    ticket = next(t for t in fake.tickets if t.status_id == 1)
    fake.inject(Fault("reset", apply=True, path=r"/reply\.json$"))
    message = await adapter.reply(ticket.number, NewReply(body="Zrobione 👍"))
    assert message.id == str(ticket.entries[-1].id) and message.body == "Zrobione"
    assert len(fake.received("POST", r"/reply\.json$")) == 1
    await adapter.aclose()


async def refusal(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    """The sentence a tool refuses with; a search answers the backends it left out in `notes`."""
    result = await client.call_tool(tool, arguments)
    if tool == "search_tickets" and not result.is_error:
        [note] = result.structured_content["notes"]  # type: ignore[index]
        return str(note)
    assert result.is_error
    text: str = result.content[0].text  # type: ignore[union-attr]
    return text


async def test_stock_osticket_says_the_extension_is_needed_not_to_open_by_ref(stock: OsticketFake) -> None:
    settings = load_settings(vendor_env(stock), known_tools=TOOL_NAMES)
    async with connect(settings, "auto") as stock_client:
        ref = f"osticket:{stock.tickets[0].number}"
        for tool, arguments in (
            ("search_tickets", {"requester": "ola@example.com"}),
            ("get_ticket", {"ticket": ref}),
            ("reply_ticket", {"ticket": ref, "body": "Dzień dobry"}),
        ):
            said = await refusal(stock_client, tool, arguments)
            assert "ticket API extension" in said and "README, section osTicket" in said, said
            assert "by its ref" not in said and "osTicket" in said


async def test_a_reply_without_a_staff_user_names_the_setting(fake: OsticketFake) -> None:
    env = {k: v for k, v in vendor_env(fake).items() if k != "OSTICKET_STAFF_USER"}
    async with connect(load_settings(env, known_tools=TOOL_NAMES), "auto") as no_staff:
        said = await refusal(
            no_staff, "reply_ticket", {"ticket": f"osticket:{fake.tickets[0].number}", "body": "Dzień dobry"}
        )
    assert "OSTICKET_STAFF_USER" in said and "through its API" not in said
    assert fake.received("POST", r"/reply\.json$") == []


async def test_with_rich_text_off_replies_turn_to_plain_text(fake: OsticketFake) -> None:
    fake.rich_text = False
    adapter = adapter_for(fake)
    ticket = next(t for t in fake.tickets if t.status_id == 1)
    first = await adapter.reply(ticket.number, NewReply(body="Krok 1 & 2\nKrok 3"))
    # The HTML sent before the helpdesk showed its setting is stored as text, and the result says so.
    [changed] = first.not_stored
    assert changed.field == "body" and changed.stored is not None and "<br />" in changed.stored
    second = await adapter.reply(ticket.number, NewReply(body=TRICKY))
    assert second.body == TRICKY and second.not_stored == []
    assert "&amp;lt;b&amp;gt;" in fake.received("POST", r"/reply\.json$")[-1].json()["response"]
    await adapter.aclose()
