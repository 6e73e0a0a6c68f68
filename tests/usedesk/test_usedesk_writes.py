"""Opening tickets, replies, notes, statuses and files: the wire format, and writes that lose their answer."""

from __future__ import annotations

import pytest

from helpdesk_mcp.adapters.errors import (
    InvalidInputError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    UnsupportedError,
)
from helpdesk_mcp.adapters.model import FileUpload, NewReply, NewTicket
from helpdesk_mcp.adapters.usedesk.adapter import UsedeskAdapter
from tests.fakes.harness import Fault
from tests.fakes.usedesk import ROUTES, UsedeskFake
from tests.usedesk.conftest import adapter_for, body

pytestmark = pytest.mark.anyio

TEXT = "Zażółć gęślą jaźń — «Привет» 👩‍💻\n\nIf 5 < 6 && <b>this</b> stays literal,\n    indented  twice."
PDF = FileUpload(
    filename="umowa — część 1.pdf", mime_type="application/pdf", content=b"%PDF-1.7\x00\xff" * 50
)
LOG = FileUpload(filename="журнал.log", mime_type="text/plain", content="ошибка 502\n".encode())


def sent(fake: UsedeskFake, operation: str) -> list[dict[str, object]]:
    method, path = ROUTES[operation]
    return [body(r) for r in fake.received(method, path)]


def open_ticket(fake: UsedeskFake) -> str:
    return str(next(t.id for t in fake.newest_first() if t.status_id == 1))


async def test_a_ticket_opens_with_files_as_multipart() -> None:
    # A UseDesk that keeps files sent with a new ticket (undocumented): nothing more is sent.
    with UsedeskFake(files_on_create=True).running() as running:
        assert isinstance(running, UsedeskFake)
        fake = running
        adapter = adapter_for(fake, fields={"25": "true", "37": "39"})
        created = await adapter.create_ticket(
            NewTicket(
                subject="Reklamacja: «zepsuty» czajnik",
                body=TEXT,
                requester_email="ola@example.pl",
                requester_name="Ola Nowak",
                priority="high",
                tags=("zwrot", "vip"),
                attachments=(PDF, LOG),
            )
        )
        await adapter.aclose()

    [request] = fake.received(*ROUTES["create"])
    assert (request.header("content-type") or "").startswith("multipart/form-data")
    fields = body(request)
    assert fields["api_token"] == fake.token
    assert fields["client_email"] == "ola@example.pl" and fields["client_name"] == "Ola Nowak"
    assert fields["priority"] == "urgent", "our high is UseDesk's urgent (its top is extreme)"
    assert fields["tag"] == "zwrot, vip"
    assert (fields["field_id"], fields["field_value"]) == ("25;37", "true;39")
    assert str(fields["additional_id"]).startswith("helpdesk-mcp-")
    assert str(fields["message"]).startswith("<p>Zażółć") and "5 &lt; 6 &amp;&amp; &lt;b&gt;" in str(
        fields["message"]
    )
    assert [(f.filename, f.content) for f in request.files()["files[]"]] == [
        (PDF.filename, PDF.content),
        (LOG.filename, LOG.content),
    ]
    assert (created.status, created.priority, created.tags) == ("new", "high", ["zwrot", "vip"])
    assert created.custom_fields == {"25": "true", "37": "39"}
    [first] = created.messages
    assert (first.kind, first.body) == ("customer", TEXT)
    assert [a.filename for a in first.attachments] == [PDF.filename, LOG.filename]
    assert created.not_stored == [] and not fake.received(*ROUTES["reply"])


async def test_a_ticket_without_files_is_sent_as_json(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    created = await adapter.create_ticket(NewTicket(subject="Bare", body="Only words."))

    [request] = fake.received(*ROUTES["create"])
    assert request.header("content-type") == "application/json"
    assert set(body(request)) == {"api_token", "subject", "message", "additional_id"}
    assert created.requester is not None and created.messages[0].body == "Only words."


async def test_a_reply_is_public_from_the_configured_agent(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    ticket_id = open_ticket(fake)
    message = await adapter.reply(ticket_id, NewReply(body=TEXT))

    [fields] = sent(fake, "reply")
    assert fields["type"] == "public", "without type UseDesk would make it private"
    assert (fields["from"], fields["user_id"], fields["ticket_id"]) == ("user", fake.agent_id, int(ticket_id))
    assert (message.kind, message.body) == ("agent", TEXT)
    assert message.author is not None and message.author.id == str(fake.agent_id)
    assert fake.received("POST", r"^/update/ticket$") == []


async def test_a_note_is_private_and_a_status_follows_the_message(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    ticket_id = open_ticket(fake)
    note = await adapter.reply(ticket_id, NewReply(body="Sprawdzone w 1C.", internal=True, status="on_hold"))

    [fields] = sent(fake, "reply")
    [update] = [body(r) for r in fake.received("POST", r"^/update/ticket$")]
    assert fields["type"] == "private" and note.kind == "internal_note"
    assert update == {
        "api_token": fake.token,
        "ticket_id": int(ticket_id),
        "status": 5,
        "user_id": fake.agent_id,
    }
    paths = [r.path for r in fake.received("POST")]
    assert paths.index("/create/comment") < paths.index("/update/ticket")
    assert fake.tickets[int(ticket_id)].status_id == 5


async def test_a_file_travels_in_a_comment_with_a_caption(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    ticket_id = open_ticket(fake)
    message = await adapter.reply(ticket_id, NewReply(body=LOG.filename, attachments=(LOG,)))

    [request] = fake.received(*ROUTES["reply"])
    assert (request.header("content-type") or "").startswith("multipart/form-data")
    fields = body(request)
    assert (fields["type"], fields["from"], fields["user_id"]) == ("public", "user", str(fake.agent_id))
    assert fields["message"] == "<p>журнал.log</p>", "a file sent alone goes with its name as the text"
    assert [f.content for f in request.files()["files[]"]] == [LOG.content]
    assert [a.filename for a in message.attachments] == [LOG.filename]
    download = await adapter.download_attachment(ticket_id, message.attachments[0].id)
    assert download.content == LOG.content


async def test_replying_to_a_new_ticket_opens_it(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    created = await adapter.create_ticket(NewTicket(subject="Nowe", body="Pomocy"))
    ticket_id = created.ref.partition(":")[2]
    await adapter.reply(ticket_id, NewReply(body="Already on it."))

    ticket = await adapter.get_ticket(ticket_id)
    assert created.status == "new" and ticket.status == "open"
    assert [m.body for m in ticket.messages if m.kind == "system"] == ["Status changed from New to Open."]


async def test_without_an_agent_replies_say_which_variable_to_set(fake: UsedeskFake) -> None:
    adapter = adapter_for(fake, user_id=None)
    with pytest.raises(UnsupportedError, match="`user_id` setting") as refused:
        await adapter.reply(open_ticket(fake), NewReply(body="Hello"))
    assert refused.value.setting == "user_id", "the server says where the setting is given"
    created = await adapter.create_ticket(NewTicket(subject="Still possible", body="Customers open tickets."))
    await adapter.aclose()

    assert sent(fake, "reply") == [] and created.ref.startswith("usedesk:")


async def test_wrong_input_is_refused_before_anything_is_sent(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    with pytest.raises(InvalidInputError, match="commas"):
        await adapter.create_ticket(NewTicket(subject="S", body="B", tags=("a,b",)))
    with pytest.raises(InvalidInputError, match="whole numbers"):
        await adapter.reply("x1", NewReply(body="Hi"))
    assert fake.received("POST") == []


async def test_a_reply_to_a_missing_ticket_is_not_found(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    with pytest.raises(NotFoundError, match=r"usedesk:999999999 was not found \(.*Ticket not found"):
        await adapter.reply("999999999", NewReply(body="Hi"))


@pytest.mark.parametrize(
    "fault",
    [Fault("status", status=502, apply=True), Fault("reset", apply=True), Fault("garbage", apply=True)],
    ids=["502", "reset", "garbage"],
)
async def test_a_create_that_lost_its_answer_is_found_by_its_additional_id(
    fake: UsedeskFake, adapter: UsedeskAdapter, fault: Fault
) -> None:
    fault.method, fault.path = ROUTES["create"]
    fake.inject(fault)
    before = set(fake.tickets)

    created = await adapter.create_ticket(NewTicket(subject="Lost answer", body="Was it opened?"))

    [new_id] = set(fake.tickets) - before
    assert created.ref == f"usedesk:{new_id}"
    assert len(fake.received(*ROUTES["create"])) == 1, "never sent twice"
    listed = [body(r) for r in fake.received(*ROUTES["search"])]
    assert listed[0]["sort"] == "id" and "created_after" in listed[0]


async def test_a_create_that_did_not_land_says_how_to_check(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    fake.inject(Fault("status", status=503, method="POST", path=ROUTES["create"][1]))
    before = set(fake.tickets)

    with pytest.raises(OutcomeUnknownError, match="search for the subject 'Maybe not'"):
        await adapter.create_ticket(NewTicket(subject="Maybe not", body="?"))

    assert set(fake.tickets) == before and len(fake.received(*ROUTES["create"])) == 1


async def test_a_reply_that_lost_its_answer_is_found_in_the_thread(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    ticket_id = open_ticket(fake)
    fake.inject(Fault("reset", apply=True, method="POST", path=ROUTES["reply"][1]))

    message = await adapter.reply(ticket_id, NewReply(body="Wysłane raz."))

    comments = [c for c in fake.tickets[int(ticket_id)].comments if "Wysłane raz." in c.message]
    assert [str(c.id) for c in comments] == [message.id] and len(sent(fake, "reply")) == 1


async def test_a_reply_that_did_not_land_says_to_read_the_ticket(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    ticket_id = open_ticket(fake)
    fake.inject(Fault("status", status=500, method="POST", path=ROUTES["reply"][1]))

    with pytest.raises(OutcomeUnknownError, match=f"read the ticket usedesk:{ticket_id}"):
        await adapter.reply(ticket_id, NewReply(body="Perhaps."))
    assert len(sent(fake, "reply")) == 1


async def test_a_status_that_fails_after_the_reply_says_the_reply_was_sent(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    ticket_id = open_ticket(fake)
    refusal = b'{"error": "The selected status is invalid.", "code": 422}'
    fake.inject(Fault("status", status=200, body=refusal, method="POST", path=r"^/update/ticket$"))

    with pytest.raises(InvalidInputError) as raised:
        await adapter.reply(ticket_id, NewReply(body="Zamykam.", status="solved"))

    said = raised.value.message
    assert said.startswith("The reply was sent (message ") and "the status was not changed" in said
    assert "The selected status is invalid" in said and "without resending" in said
    assert raised.value.written, "the reply was made: a retry must not send it again"
    assert len(sent(fake, "reply")) == 1 and fake.tickets[int(ticket_id)].status_id == 1


async def test_a_rate_limited_status_after_the_reply_keeps_the_wait(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    ticket_id = open_ticket(fake)
    slow_down = b'{"message": "Too Many Attempts."}'
    fake.inject(
        Fault(
            "status",
            status=429,
            body=slow_down,
            headers={"Retry-After": "90"},
            method="POST",
            path=r"^/update/ticket$",
        )
    )

    with pytest.raises(RateLimitedError) as raised:
        await adapter.reply(ticket_id, NewReply(body="Zamykam.", status="solved"))

    assert raised.value.retry_after == 90, "the wait survives the words that say the reply was sent"
    assert raised.value.message.startswith("The reply was sent (message ")
    assert len(sent(fake, "reply")) == 1


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
async def test_a_status_change_whose_answer_was_lost_is_looked_for_not_resent(
    fake: UsedeskFake, adapter: UsedeskAdapter, applied: bool
) -> None:
    ticket_id = open_ticket(fake)
    fake.inject(Fault("reset", apply=applied, method="POST", path=r"^/update/ticket$"))

    if applied:
        await adapter.reply(ticket_id, NewReply(body="Zamykam.", status="solved"))
    else:
        with pytest.raises(OutcomeUnknownError) as unknown:
            await adapter.reply(ticket_id, NewReply(body="Zamykam.", status="solved"))
        said = unknown.value.message
        assert "the reply was sent (message " in said and "without resending this one" in said

    assert len(fake.received("POST", r"^/update/ticket$")) == 1, "the status change is never sent twice"
    assert len(sent(fake, "reply")) == 1
    assert ((await adapter.get_ticket(ticket_id)).status == "solved") is applied
