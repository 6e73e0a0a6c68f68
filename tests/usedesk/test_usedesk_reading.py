"""Reading UseDesk tickets: the whole thread with every kind of message, loose types, UTC times, files."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpdesk_mcp.adapters.errors import InvalidInputError, NotFoundError
from helpdesk_mcp.adapters.model import SearchQuery
from helpdesk_mcp.adapters.usedesk import wire
from helpdesk_mcp.adapters.usedesk.adapter import UsedeskAdapter
from helpdesk_mcp.adapters.usedesk.statuses import StatusMap
from tests.fakes.usedesk import Ticket, UsedeskFake
from tests.usedesk.conftest import body

pytestmark = pytest.mark.anyio


def rich_ticket(fake: UsedeskFake) -> Ticket:
    """A seeded ticket whose thread has every kind of message, a file and a status change."""
    return next(
        t
        for t in fake.newest_first()
        if {c.origin for c in t.comments} == {"client", "user", "trigger"}
        and any(c.type == "private" for c in t.comments)
        and any(c.files for c in t.comments)
        and len(t.changes) == 2
    )


async def test_thread_has_every_kind_of_message_oldest_first(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    seeded = rich_ticket(fake)
    ticket = await adapter.get_ticket(str(seeded.id))

    kinds = [m.kind for m in ticket.messages]
    assert kinds[0] == "customer"
    assert {"customer", "agent", "internal_note", "system"} <= set(kinds)
    times = [m.created_at for m in ticket.messages]
    assert times == sorted(t for t in times if t is not None)
    bot = next(m for m in ticket.messages if m.author is not None and m.author.name == "UseDesk bot")
    assert bot.kind == "agent" and str(seeded.id) in bot.body, (
        "a trigger's public comment reached the customer"
    )
    note = next(m for m in ticket.messages if m.kind == "internal_note")
    assert note.author is not None and note.author.id in {str(a) for a in (17063, 15023, 16211, 18450)}
    system = [m.body for m in ticket.messages if m.kind == "system"]
    assert system[0].startswith("Status changed from New to Open; Assignee set to ")
    assert system[-1].startswith("Status changed from Open to ")
    assert ticket.ref == f"usedesk:{seeded.id}"
    assert [m.id for m in ticket.messages if m.kind != "system"] == [str(c.id) for c in seeded.comments]


async def test_bodies_come_whole_as_plain_text_with_every_character(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    polish = next(t for t in fake.newest_first() if "zamówienie" in t.comments[0].message)
    long = next(t for t in fake.newest_first() if any(len(c.message) > 4000 for c in t.comments))

    first = (await adapter.get_ticket(str(polish.id))).messages[0].body
    whole = max((await adapter.get_ticket(str(long.id))).messages, key=lambda m: len(m.body)).body

    assert "pęknięta obudowa, brakuje ładowarki. Proszę o zwrot pieniędzy" in first
    assert first.startswith("Dzień dobry,\nzamówienie ") and "<p>" not in first
    assert len(whole) > 4000 and whole.count("zależy mi na szybkim rozwiązaniu") >= 20
    assert "Ещё раз подробно описываю ситуацию" in whole


async def test_numbers_as_strings_and_times_in_utc(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    seeded = rich_ticket(fake)
    ticket = await adapter.get_ticket(str(seeded.id))
    listed = next(
        h.ticket for h in (await adapter.search(SearchQuery(), 100)).hits if h.ticket.ref == ticket.ref
    )

    # `/ticket` says "id": "2992803", `/tickets` says "id": 2992803; both read the same.
    assert (listed.ref, listed.status, listed.subject) == (ticket.ref, ticket.status, ticket.subject)
    assert ticket.assignee is not None and ticket.assignee.id == str(seeded.assignee_id)
    assert ticket.queue == f"group {seeded.group}"
    assert ticket.updated_at == seeded.updated_at == listed.updated_at
    assert ticket.created_at == seeded.created_at
    assert ticket.created_at is not None and ticket.created_at.tzinfo is not None


async def test_files_are_listed_and_download_byte_for_byte(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    seeded = next(t for t in fake.newest_first() if any(c.files for c in t.comments))
    carrier = next(c for c in seeded.comments if c.files)
    stored = fake.files[carrier.files[0]]

    ticket = await adapter.get_ticket(str(seeded.id))
    [attachment] = next(m for m in ticket.messages if m.id == str(carrier.id)).attachments
    content = await adapter.download_attachment(str(seeded.id), attachment.id)

    assert attachment.filename == stored.name
    assert (content.filename, content.mime_type, content.content) == (
        stored.name,
        stored.content_type,
        stored.content,
    )
    assert fake.received("GET", r"^/files/"), "files come from the URL UseDesk gives"
    with pytest.raises(NotFoundError, match="no attachment"):
        await adapter.download_attachment(str(seeded.id), f"{carrier.id}-9")


async def test_status_names_that_say_more_are_kept(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    deleted = next(t for t in fake.newest_first() if t.status_id == 4)
    merged = next(t for t in fake.newest_first() if t.status_id == 10)

    first, second = await adapter.get_ticket(str(deleted.id)), await adapter.get_ticket(str(merged.id))

    assert (first.status, first.status_label) == ("closed", "Deleted")
    assert (second.status, second.status_label) == ("closed", "Merged")


async def test_an_unknown_ticket_is_not_found_though_usedesk_answers_200(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    with pytest.raises(NotFoundError) as raised:
        await adapter.get_ticket("987654321")

    assert "usedesk:987654321" in raised.value.message and "Ticket not found" in raised.value.message
    assert body(fake.received("POST", r"^/ticket$")[0]) == {"api_token": fake.token, "ticket_id": 987654321}


async def test_a_malformed_id_is_refused_without_asking(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    for bad in ("abc", "12a", "-5", "١٢"):
        with pytest.raises(InvalidInputError, match="whole numbers"):
            await adapter.get_ticket(bad)
    assert fake.received("POST") == []


def test_loose_types_are_tolerated() -> None:
    statuses = StatusMap("usedesk", {})
    listed = wire.summary(
        wire.ListedTicket.model_validate(
            {
                "id": "2992803",
                "subject": "привет",
                "client_id": 15341,
                "client_name": "Лащук Василий",
                "assignee_id": None,
                "group": "0",
                "created_at": "2021-04-29 11:31:23",
                "last_updated_at": "2021-04-29 12:47:30",
                "tags": [{"name": "Важный"}, "Холодный", {"name": "Важный"}],
                "status": {"id": "2"},
                "priority": "extreme",
            }
        ),
        "usedesk",
        statuses,
    )
    document = {
        "ticket": {
            "id": 7,
            "status_id": 1,
            "email": "0",
            "client_id": "0",
            "published_at": "2021-04-29 11:31",
        },
        "comments": [
            {
                "id": 1,
                "message": "plain\ntext & more",
                "from": "client",
                "files": ["https://f.example/a%20b.pdf"],
            },
            {"id": "2", "message": "<p>note</p>", "from": "user", "type": "private", "user_id": 0},
        ],
        "changes": [{"id": 3, "old_status": "1", "new_status": "1", "data": []}],
        "custom_fields": [{"ticket_field_id": 37, "value": 39}, {"ticket_field_id": 25, "value": None}],
    }
    ticket = wire.ticket(wire.TicketDocument.model_validate(document), "usedesk", statuses)

    assert (listed.ref, listed.status, listed.priority) == ("usedesk:2992803", "solved", "urgent")
    assert listed.assignee is None and listed.queue is None and listed.tags == ["Важный", "Холодный"]
    assert listed.updated_at == datetime(2021, 4, 29, 12, 47, 30, tzinfo=UTC)
    assert ticket.requester is None and ticket.created_at == datetime(2021, 4, 29, 11, 31, tzinfo=UTC)
    assert [(m.kind, m.body) for m in ticket.messages] == [
        ("customer", "plain\ntext & more"),
        ("internal_note", "note"),
    ]
    assert ticket.messages[0].attachments[0].filename == "a b.pdf"
    assert ticket.messages[1].author is None, "no status change and no author: nothing invented"
    assert ticket.custom_fields == {"37": "39"}
