"""Creating, reading and replying to tickets of the local helpdesk, and the errors a user meets."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest

from helpdesk_mcp.adapters.errors import InvalidInputError, NotFoundError, UnavailableError
from helpdesk_mcp.adapters.local import schema
from helpdesk_mcp.adapters.local import store as store_module
from helpdesk_mcp.adapters.local.adapter import LocalAdapter
from helpdesk_mcp.adapters.model import FileUpload, NewReply, NewTicket, SearchQuery

pytestmark = pytest.mark.anyio

BINARY = bytes(range(256)) * 3


def ticket(subject: str = "Printer on fire", body: str = "Smoke everywhere.", **fields: object) -> NewTicket:
    return NewTicket.model_validate({"subject": subject, "body": body, **fields})


async def test_file_and_directories_are_created_on_first_use(db_path: Path) -> None:
    adapter = LocalAdapter("local", db_path)
    assert not await anyio.Path(db_path.parent).exists()
    page = await adapter.search(SearchQuery(), limit=5)
    assert page.hits == []
    assert await anyio.Path(db_path).is_file()
    await adapter.aclose()


async def test_created_ticket_reads_back_with_attachment_bytes_intact(adapter: LocalAdapter) -> None:
    created = await adapter.create_ticket(
        ticket(
            subject="  Invoice missing  ",
            body="Where is my invoice?",
            requester_email="ann@example.com",
            requester_name="Ann Lee",
            tags=(" Billing ", "billing", "", "VIP"),
            attachments=(
                FileUpload(filename="scan.bin", mime_type="application/octet-stream", content=BINARY),
            ),
        )
    )
    assert created.ref == "local:1"
    assert (created.subject, created.status, created.priority) == ("Invoice missing", "new", "normal")
    assert created.tags == ["billing", "vip"]
    assert created.requester is not None
    assert (created.requester.name, created.requester.email) == ("Ann Lee", "ann@example.com")
    [message] = created.messages
    assert (message.kind, message.author, message.body) == (
        "customer",
        created.requester,
        "Where is my invoice?",
    )
    [attachment] = message.attachments
    assert (attachment.filename, attachment.size, attachment.uri) == ("scan.bin", len(BINARY), None)

    assert await adapter.get_ticket("1") == created
    content = await adapter.download_attachment("1", attachment.id)
    assert (content.filename, content.mime_type, content.content) == (
        "scan.bin",
        "application/octet-stream",
        BINARY,
    )


async def test_requester_is_found_by_email_whatever_its_case(adapter: LocalAdapter) -> None:
    first = await adapter.create_ticket(ticket(requester_email="Bo@Example.com"))
    second = await adapter.create_ticket(ticket(requester_email="bo@example.com", requester_name="Bo"))
    assert first.requester is not None
    assert second.requester is not None
    assert second.requester.id == first.requester.id
    assert (await adapter.get_ticket("1")).requester == second.requester
    assert second.requester.name == "Bo"


async def test_ticket_without_requester_is_allowed(adapter: LocalAdapter) -> None:
    created = await adapter.create_ticket(ticket(priority="urgent"))
    assert created.requester is None
    assert created.priority == "urgent"
    assert created.messages[0].author is None


@pytest.mark.parametrize(("subject", "body"), [("   ", "body"), ("subject", "\n\t "), ("", "")])
async def test_blank_subject_or_body_is_rejected(adapter: LocalAdapter, subject: str, body: str) -> None:
    with pytest.raises(InvalidInputError, match="is empty"):
        await adapter.create_ticket(ticket(subject, body))
    assert (await adapter.search(SearchQuery(), limit=5)).hits == []


async def test_reply_that_changes_status_records_the_change(adapter: LocalAdapter) -> None:
    created = await adapter.create_ticket(ticket())
    reply = await adapter.reply("1", NewReply(body="We are on it.", status="pending"))
    assert (reply.kind, reply.body) == ("agent", "We are on it.")
    assert reply.author is not None
    assert reply.author.name == "Robin"

    after = await adapter.get_ticket("1")
    assert after.status == "pending"
    assert [(m.kind, m.body) for m in after.messages[1:]] == [
        ("agent", "We are on it."),
        ("system", "Status changed from new to pending."),
    ]
    assert after.updated_at is not None
    assert created.updated_at is not None
    assert after.updated_at > created.updated_at


async def test_reply_with_the_current_status_records_no_change(adapter: LocalAdapter) -> None:
    await adapter.create_ticket(ticket())
    await adapter.reply("1", NewReply(body="Noted.", status="new"))
    assert [m.kind for m in (await adapter.get_ticket("1")).messages] == ["customer", "agent"]


async def test_internal_note_is_kept_apart_from_replies(adapter: LocalAdapter) -> None:
    await adapter.create_ticket(ticket())
    note = await adapter.reply("1", NewReply(body="Customer is a reseller.", internal=True))
    assert note.kind == "internal_note"
    assert note.author is not None
    assert note.author.name == "Robin"


async def test_replies_are_signed_by_one_agent_person(adapter: LocalAdapter) -> None:
    await adapter.create_ticket(ticket())
    first = await adapter.reply("1", NewReply(body="One."))
    second = await adapter.reply("1", NewReply(body="Two."))
    assert first.author == second.author


async def test_empty_reply_is_rejected_unless_it_carries_a_file(adapter: LocalAdapter) -> None:
    await adapter.create_ticket(ticket())
    with pytest.raises(InvalidInputError, match="reply is empty"):
        await adapter.reply("1", NewReply(body="  "))
    log = FileUpload(filename="log.txt", mime_type="text/plain", content=b"line 1\n")
    message = await adapter.reply("1", NewReply(body="", attachments=(log,)))
    assert message.body == ""
    [attachment] = message.attachments
    assert (await adapter.download_attachment("1", attachment.id)).content == b"line 1\n"


async def test_reply_moves_the_ticket_to_the_top_of_searches(adapter: LocalAdapter) -> None:
    for subject in ("older", "newer"):
        await adapter.create_ticket(ticket(subject))
    await adapter.reply("1", NewReply(body="Bump."))
    page = await adapter.search(SearchQuery(), limit=5)
    assert [hit.ticket.subject for hit in page.hits] == ["older", "newer"]


@pytest.mark.parametrize("bad_id", ["abc", "", "4.2", "-1", " 1", "1 ", "٤٢", "0x1"])
async def test_malformed_ticket_id_says_what_ids_look_like(db_path: Path, bad_id: str) -> None:
    adapter = LocalAdapter("desk", db_path)
    with pytest.raises(InvalidInputError, match="desk ticket ids are whole numbers, such as desk:42"):
        await adapter.get_ticket(bad_id)
    with pytest.raises(InvalidInputError, match="whole numbers"):
        await adapter.reply(bad_id, NewReply(body="hi"))
    await adapter.aclose()


@pytest.mark.parametrize("missing_id", ["999", "0", "99999999999999999999999"])
async def test_missing_ticket_is_not_found(adapter: LocalAdapter, missing_id: str) -> None:
    await adapter.create_ticket(ticket())
    message = f"Ticket local:{missing_id} does not exist"
    with pytest.raises(NotFoundError, match=message):
        await adapter.get_ticket(missing_id)
    with pytest.raises(NotFoundError, match=message):
        await adapter.reply(missing_id, NewReply(body="hello"))
    with pytest.raises(NotFoundError, match=message):
        await adapter.download_attachment(missing_id, "1")


async def test_attachment_of_another_ticket_is_not_downloadable(adapter: LocalAdapter) -> None:
    upload = FileUpload(filename="a.txt", mime_type="text/plain", content=b"secret")
    first = await adapter.create_ticket(ticket(attachments=(upload,)))
    await adapter.create_ticket(ticket())
    attachment_id = first.messages[0].attachments[0].id
    with pytest.raises(NotFoundError, match=f"Attachment {attachment_id} is not on ticket local:2"):
        await adapter.download_attachment("2", attachment_id)
    for bad in ("x", "", "99", "99999999999999999999999"):
        with pytest.raises(NotFoundError, match="is not on ticket local:1"):
            await adapter.download_attachment("1", bad)


async def test_a_busy_file_is_reported_as_unavailable(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, adapter: LocalAdapter
) -> None:
    await adapter.create_ticket(ticket())
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 50)
    impatient = LocalAdapter("local", db_path)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(UnavailableError, match="is busy; try again in a moment"):
            await impatient.reply("1", NewReply(body="hello"))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert len((await impatient.get_ticket("1")).messages) == 1
    await impatient.aclose()


async def test_a_file_that_is_not_a_helpdesk_is_reported_as_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not the tickets you are looking for" * 100)
    adapter = LocalAdapter("local", path)
    with pytest.raises(UnavailableError, match="check that its file is a helpdesk-mcp database") as failed:
        await adapter.get_ticket("1")
    await adapter.aclose()
    # A model reads this error: the server's paths are for its log only.
    assert str(tmp_path) not in failed.value.message


async def test_a_file_from_a_newer_version_is_refused(db_path: Path, adapter: LocalAdapter) -> None:
    await adapter.create_ticket(ticket())
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.close()
    newer = LocalAdapter("local", db_path)
    with pytest.raises(UnavailableError, match="newer helpdesk-mcp"):
        await newer.get_ticket("1")
    await newer.aclose()


async def test_a_place_where_no_file_can_be_made_is_reported_as_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("not a directory")
    adapter = LocalAdapter("local", blocker / "helpdesk.db")
    with pytest.raises(
        UnavailableError, match=r"cannot be created .*point HELPDESK_DB at a writable place"
    ) as failed:
        await adapter.get_ticket("1")
    await adapter.aclose()
    assert str(tmp_path) not in failed.value.message
