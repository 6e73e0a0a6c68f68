"""Reading and writing Thulium tickets: the thread as Thulium keeps it, each write's exact wire format."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest

from helpdesk_mcp.adapters.errors import InvalidInputError, NotFoundError, UnsupportedError
from helpdesk_mcp.adapters.model import FileUpload, NewReply, NewTicket, SearchQuery
from helpdesk_mcp.adapters.thulium.adapter import ThuliumAdapter
from tests.fakes.thulium import (
    IN_PROGRESS,
    NEW,
    PASSWORD,
    POSTPONED,
    SOLVED,
    USER,
    WAITING,
    FakeThulium,
    make_fake,
)
from tests.thulium.conftest import MakeAdapter, settings_for

pytestmark = pytest.mark.anyio

REPORT = FileUpload(
    filename="raport końcowy.pdf", mime_type="application/pdf", content=b"%PDF-1.4 \x00\x01 raport"
)


def number(ref: str) -> str:
    return ref.partition(":")[2]


async def test_a_thread_reads_whole_oldest_first_with_every_kind(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    stored = fake.tickets[fake.showcase_id]
    listed_order = [m.created for m in stored.messages]
    assert listed_order != sorted(listed_order), "Thulium lists an imported, backdated message last"

    ticket = await adapter.get_ticket(str(fake.showcase_id))

    assert [m.kind for m in ticket.messages] == ["customer", "customer", "agent", "internal_note", "system"]
    imported, first, reply, note, event = ticket.messages
    assert first.body == stored.messages[0].body, "every character arrives: Polish, Cyrillic, <, &, emoji"
    assert reply.body == "Dzień dobry,\nkorekta jest w załączniku."  # HTML flattened
    assert (
        note.body == "Sprawdzone z księgowością." and note.author is not None and note.author.id == "mnowak"
    )
    assert event.body == "Changed status from [Nowe] to [Oczekuje na klienta]"
    assert first.author is not None and first.author.email == "zofia.dabrowska@example.pl"
    assert [a.filename for a in first.attachments] == ["(unnamed)"], "the API names no attachment"
    # Warsaw wall clock in September is UTC+2; Thulium says 09:00, the thread says 07:00Z.
    assert first.created_at == datetime(2026, 9, 1, 7, 0, tzinfo=UTC)
    assert imported.created_at == datetime(2026, 8, 30, 7, 0, tzinfo=UTC)
    assert ticket.status == "pending" and ticket.status_label is None
    assert ticket.tags == ["faktura", "zwrot"]
    assert ticket.custom_fields == {"Numer zamówienia": "ZAM/2026/0777"}
    assert ticket.queue == "reklamacje@sklep-przyklad.pl"
    assert ticket.assignee is not None and ticket.assignee.id == "mnowak"


async def test_tags_come_from_the_list_call_since_the_single_ticket_call_has_none(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    await adapter.get_ticket(str(fake.showcase_id))

    [single] = fake.received("GET", r"^/api/tickets/\d+$")
    assert single.query == {"include_custom_fields": ["true"]}
    [listing] = fake.received("GET", r"^/api/tickets$")
    assert listing.query["message_id"] == [str(fake.tickets[fake.showcase_id].messages[0].id)]


async def test_a_ticket_just_listed_is_read_in_one_request(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    page = await adapter.search(SearchQuery(), limit=5)
    listed = page.hits[2].ticket
    before = len(fake.received("GET"))

    ticket = await adapter.get_ticket(number(listed.ref))

    assert ticket.tags == listed.tags
    assert [r.path for r in fake.received("GET")[before:]] == [f"/api/tickets/{number(listed.ref)}"]


async def test_times_follow_the_configured_time_zone(make_adapter: MakeAdapter) -> None:
    with make_fake(zone="Asia/Tokyo").running() as tokyo:
        assert isinstance(tokyo, FakeThulium)
        adapter = ThuliumAdapter("thulium", settings_for(tokyo, timezone="Asia/Tokyo"))
        try:
            ticket = await adapter.get_ticket(str(tokyo.showcase_id))
        finally:
            await adapter.aclose()
    assert ticket.created_at == datetime(2026, 9, 1, 7, 0, tzinfo=UTC)


async def test_substatuses_and_unmapped_statuses_keep_their_names(
    fake: FakeThulium, adapter: ThuliumAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    sub = next(t for t in fake.tickets.values() if t.substatus_id == 31)
    solved = next(t for t in fake.tickets.values() if t.status_id == SOLVED)

    with caplog.at_level(logging.WARNING):
        read_sub = await adapter.get_ticket(str(sub.id))
        read_solved = await adapter.get_ticket(str(solved.id))

    assert (read_sub.status, read_sub.status_label) == ("open", "W realizacji - Dział techniczny")
    assert (read_solved.status, read_solved.status_label) == ("open", "Rozwiązane")
    assert "Rozwiązane" in caplog.text and "statuses" in caplog.text


async def test_create_uploads_the_file_then_opens_the_ticket(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    ticket = await adapter.create_ticket(
        NewTicket(
            subject="Zwrot – zamówienie 7781",
            body="Proszę o zwrot.\nKwota < 100 zł & dostawa.",
            requester_email="ewa@example.pl",
            tags=("zwrot",),
            attachments=(REPORT,),
        )
    )

    [upload] = fake.received("POST", r"^/api/temporary_files$")
    assert upload.query == {"filename": ["raport końcowy.pdf"]}
    assert upload.header("content-type") == "application/octet-stream" and upload.body == REPORT.content
    [create] = fake.received("POST", r"^/api/tickets$")
    assert create.header("content-type") == "application/json; charset=utf-8"
    assert "Proszę".encode() in create.body, "UTF-8 as is, not escaped"
    token = next(iter(fake.temporary))
    # Escaped HTML: Thulium's answers do not say whether a body is HTML, so plain text could change.
    assert create.json() == {
        "to": "bok@sklep-przyklad.pl",
        "subject": "Zwrot – zamówienie 7781",
        "body": "<p>Proszę o zwrot.<br>\nKwota &lt; 100 zł &amp; dostawa.</p>",
        "body_type": "HTML",
        "from": "ewa@example.pl",
        "tags": ["zwrot"],
        "attachments": [token],
    }
    assert ticket.status == "new" and ticket.priority is None
    [message] = ticket.messages
    assert message.body == "Proszę o zwrot.\nKwota < 100 zł & dostawa."
    [attachment] = message.attachments
    assert (attachment.filename, attachment.mime_type, attachment.size) == (
        "raport końcowy.pdf",
        "application/pdf",
        len(REPORT.content),
    )
    again = await adapter.get_ticket(number(ticket.ref))
    assert [a.filename for a in again.messages[0].attachments] == ["raport końcowy.pdf"]
    assert again.tags == ["zwrot"]


async def test_reply_then_status_in_two_calls(fake: FakeThulium, adapter: ThuliumAdapter) -> None:
    ticket_id = str(fake.showcase_id)
    fake.tickets[fake.showcase_id].status_id = 12

    message = await adapter.reply(ticket_id, NewReply(body="Czekamy na potwierdzenie.", status="pending"))

    writes = [r for r in fake.requests if r.method in ("POST", "PUT")]
    assert [(r.method, r.path) for r in writes] == [
        ("POST", f"/api/tickets/{ticket_id}/agent_response"),
        ("PUT", f"/api/tickets/{ticket_id}"),
    ]
    assert writes[0].json() == {
        "body": "<p>Czekamy na potwierdzenie.</p>",
        "body_type": "HTML",
        "user_login": "akowalski",
    }
    assert writes[1].json() == {"status_id": "13"}
    assert message.kind == "agent" and message.body == "Czekamy na potwierdzenie."
    assert message.id == str(max(m.id for m in fake.tickets[fake.showcase_id].messages if m.type == "REPLY"))
    ticket = await adapter.get_ticket(ticket_id)
    assert ticket.status == "pending"
    assert ticket.messages[-1].kind == "system"


async def test_a_status_the_ticket_already_has_is_not_set_again(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    assert fake.tickets[fake.showcase_id].status_id == WAITING

    await adapter.reply(str(fake.showcase_id), NewReply(body="Nadal czekamy.", status="pending"))

    assert fake.received("PUT") == []
    assert fake.received("GET", r"^/api/tickets$") == [], "the ticket itself showed the status's id"


async def test_a_status_is_set_by_the_id_its_tickets_show_without_a_statuses_resource(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    # Every ticket in progress shows a substatus too: "W realizacji - Dział techniczny".
    for stored in fake.tickets.values():
        if stored.status_id == IN_PROGRESS:
            stored.substatus_id = 31
    other = next(t for t in fake.tickets.values() if t.id != fake.showcase_id)
    fake.set_status(other, IN_PROGRESS, 31, datetime.now(UTC))
    assert fake.tickets[fake.showcase_id].status_id == WAITING

    await adapter.reply(str(fake.showcase_id), NewReply(body="Przyjęte.", status="open"))

    assert fake.received("GET", r"^/api/ticket_statuses$"), "the guessed resource is tried"
    [update] = fake.received("PUT")
    assert update.json() == {"status_id": str(IN_PROGRESS)}
    read = await adapter.get_ticket(str(fake.showcase_id))
    assert (read.status, read.status_label) == ("open", None)


async def test_the_statuses_setting_gives_the_id_of_a_status_no_ticket_has_shown(
    fake: FakeThulium, make_adapter: MakeAdapter
) -> None:
    for stored in fake.tickets.values():
        if stored.status_id == SOLVED:
            stored.status_id = NEW
    adapter = make_adapter(statuses={str(SOLVED): "solved"})

    message = await adapter.reply(str(fake.showcase_id), NewReply(body="Rozwiązane.", status="solved"))

    [update] = fake.received("PUT")
    assert update.json() == {"status_id": str(SOLVED)}
    assert message.kind == "agent"
    read = await adapter.get_ticket(str(fake.showcase_id))
    assert (read.status, read.status_label) == ("solved", "Rozwiązane")


async def test_a_status_no_known_status_means_refuses_before_sending(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        await adapter.reply(str(fake.showcase_id), NewReply(body="Rozwiązane.", status="solved"))

    said = refused.value.message
    assert "'solved'" in said and "`statuses` setting" in said and "nothing was sent" in said
    assert refused.value.setting == "statuses"
    assert f"Rozwiązane (id {SOLVED}: open)" in said, "the statuses seen, with the ids to map"
    assert fake.received("POST") == [] and fake.received("PUT") == []
    with pytest.raises(InvalidInputError):
        await adapter.reply(str(fake.showcase_id), NewReply(body="Rozwiązane.", status="solved"))
    assert len(fake.received("GET", r"^/api/tickets$")) == 1, "the newest tickets are read once for ids"


async def test_where_the_statuses_resource_answers_it_names_the_ids() -> None:
    with make_fake(statuses_endpoint=True).running() as fake:
        assert isinstance(fake, FakeThulium)
        adapter = ThuliumAdapter("thulium", settings_for(fake))
        try:
            with pytest.raises(InvalidInputError) as refused:
                await adapter.reply(str(fake.showcase_id), NewReply(body="x", status="solved"))
            await adapter.reply(str(fake.showcase_id), NewReply(body="Odkładamy.", status="on_hold"))
        finally:
            await adapter.aclose()
        assert f"its statuses: Nowe (id {NEW}: new)" in refused.value.message
        assert fake.received("GET", r"^/api/tickets$") == [], "no tickets read to learn ids"
        [update] = fake.received("PUT")
        assert update.json() == {"status_id": str(POSTPONED)}


async def test_attaching_a_file_alone_sends_its_name_as_the_text(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    message = await adapter.reply(
        str(fake.showcase_id), NewReply(body=REPORT.filename, attachments=(REPORT,))
    )

    [reply] = fake.received("POST", r"/agent_response$")
    assert reply.json()["body"] == "<p>raport końcowy.pdf</p>"
    assert reply.json()["attachments"] == list(fake.temporary)
    assert [a.filename for a in message.attachments] == ["raport końcowy.pdf"]


async def test_what_thulium_cannot_do_is_refused_plainly(
    fake: FakeThulium, make_adapter: MakeAdapter
) -> None:
    adapter = make_adapter()
    with pytest.raises(UnsupportedError, match="internal notes"):
        await adapter.reply(str(fake.showcase_id), NewReply(body="Notatka.", internal=True))
    with pytest.raises(UnsupportedError, match="download"):
        await adapter.download_attachment(str(fake.showcase_id), "1260b55488e493060a4e73")

    assert adapter.capabilities.create_fields == ("requester_email", "tags")

    bare = make_adapter(mailbox=None, agent_login=None)
    assert not (bare.capabilities.create or bare.capabilities.reply or bare.capabilities.attachments)
    with pytest.raises(UnsupportedError, match="`mailbox` setting") as no_mailbox:
        await bare.create_ticket(NewTicket(subject="x", body="y"))
    with pytest.raises(UnsupportedError, match="`agent_login` setting") as no_login:
        await bare.reply(str(fake.showcase_id), NewReply(body="x"))
    assert (no_mailbox.value.setting, no_login.value.setting) == ("mailbox", "agent_login")
    assert fake.received("POST") == [] and fake.received("PUT") == []


async def test_unknown_and_malformed_ticket_ids(adapter: ThuliumAdapter) -> None:
    with pytest.raises(NotFoundError, match=r"thulium:987654321"):
        await adapter.get_ticket("987654321")
    with pytest.raises(InvalidInputError, match="whole numbers"):
        await adapter.get_ticket("12a")


async def test_fields_thulium_has_no_place_for_are_listed_not_stored_and_the_ticket_opens(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    ticket = await adapter.create_ticket(
        NewTicket(
            subject="Pilne: brak dostawy",
            body="Paczka nie dotarła.",
            requester_email="ewa@example.pl",
            requester_name="Ewa Nowak",
            priority="urgent",
        )
    )

    [create] = fake.received("POST", r"^/api/tickets$")
    assert set(create.json()) == {"to", "subject", "body", "body_type", "from"}
    assert [(n.field, n.reason) for n in ticket.not_stored] == [
        ("priority", "Thulium tickets have no priority; not sent."),
        ("requester_name", "Thulium knows a ticket's sender by e-mail address only (`from`); not sent."),
    ]
    assert ticket.requester is not None and ticket.requester.email == "ewa@example.pl"
    assert (await adapter.get_ticket(number(ticket.ref))).subject == "Pilne: brak dostawy"


async def test_the_fake_refuses_fields_the_create_page_does_not_list(fake: FakeThulium) -> None:
    async with httpx.AsyncClient(auth=(USER, PASSWORD)) as client:
        answer = await client.post(
            f"{fake.url}/api/tickets",
            json={"to": "bok@sklep-przyklad.pl", "subject": "x", "body": "y", "priority": "high"},
        )
    assert answer.status_code == 400 and answer.json()["errors"][0]["message"] == "Unknown fields: priority."
