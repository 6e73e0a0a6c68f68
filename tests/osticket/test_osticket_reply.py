"""Replies through reply.json: the exact request, success judged by `status_code`, the status set in the
same call, and every way a reply can fail without being sent twice."""

from __future__ import annotations

import base64

import pytest

from helpdesk_mcp.adapters.errors import InvalidInputError, OutcomeUnknownError, UnsupportedError
from helpdesk_mcp.adapters.model import FileUpload, NewReply
from helpdesk_mcp.adapters.osticket.adapter import OsticketAdapter
from tests.fakes.harness import Fault, json_response
from tests.fakes.osticket import OsticketFake, Ticket, plain
from tests.osticket.conftest import adapter_for

pytestmark = pytest.mark.anyio

BODY = "Dzień dobry,\nwymieniliśmy toner <HP 26A> & bęben.\n\nЕсли что — пишите.  Spacje  zostają."


def open_ticket(fake: OsticketFake) -> Ticket:
    return next(t for t in fake.tickets if t.status_id == 1 and t.staff_id is None and t.team is None)


async def test_the_request_and_what_the_thread_shows(fake: OsticketFake, adapter: OsticketAdapter) -> None:
    ticket = open_ticket(fake)
    message = await adapter.reply(ticket.number, NewReply(body=BODY))

    [request] = fake.received("POST", r"/reply\.json$")
    assert request.path == "/api/http.php/tickets/reply.json" and request.header("X-API-Key") == fake.api_key
    assert request.json() == {
        "ticketNumber": ticket.number,
        "a": "reply",
        "emailreply": "1",
        "emailcollab": "1",
        # Every `&` escaped twice: osTicket decodes entities once before it cleans the HTML.
        "response": "Dzień dobry,<br />\nwymieniliśmy toner &amp;lt;HP 26A&amp;gt; &amp;amp; bęben.<br />\n"
        "<br />\nЕсли что — пишите. &amp;nbsp;Spacje &amp;nbsp;zostają.",
        "signature": "none",
        "staffUserName": fake.staff[0].username,
    }
    entry = ticket.entries[-1]
    assert message.id == str(entry.id) and message.kind == "agent" and entry.type == "R"
    assert message.body == BODY and message.not_stored == []
    assert message.author is not None and message.author.name == fake.staff[0].name
    assert fake.outbox == [(fake.user(ticket.user_id).email, f"Re: {ticket.subject} [#{ticket.number}]")]  # type: ignore[union-attr]
    assert ticket.staff_id == fake.staff[0].id, "osTicket claims an unassigned ticket for the replying agent"


async def test_a_status_goes_in_the_same_call(fake: OsticketFake, adapter: OsticketAdapter) -> None:
    ticket = open_ticket(fake)
    await adapter.reply(ticket.number, NewReply(body="Naprawione.", status="solved"))
    assert fake.received("POST", r"/reply\.json$")[-1].json()["reply_status_id"] == "2"
    assert ticket.status_id == 2
    assert (await adapter.get_ticket(ticket.number)).status == "solved"
    await adapter.reply(ticket.number, NewReply(body="Zamykam.", status="closed"))
    assert fake.received("POST", r"/reply\.json$")[-1].json()["reply_status_id"] == "3"


async def test_a_status_osticket_does_not_have_is_refused_before_sending(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        await adapter.reply(open_ticket(fake).number, NewReply(body="Czekamy.", status="pending"))
    assert (
        "no status mapped to 'pending'" in refused.value.message and "`status_ids`" in refused.value.message
    )
    assert fake.received("POST") == []


async def test_an_added_status_is_set_by_its_configured_id(fake: OsticketFake) -> None:
    adapter = adapter_for(
        fake, statuses={"Awaiting customer": "pending"}, status_ids={"Awaiting customer": 6}
    )
    ticket = open_ticket(fake)
    await adapter.reply(ticket.number, NewReply(body="Czekamy na odpowiedź.", status="pending"))
    assert fake.received("POST", r"/reply\.json$")[-1].json()["reply_status_id"] == "6"
    assert (await adapter.get_ticket(ticket.number)).status == "pending"
    await adapter.aclose()


async def test_a_status_osticket_silently_ignores_is_reported_without_resending(fake: OsticketFake) -> None:
    adapter = adapter_for(fake, statuses={"On hold": "on_hold"}, status_ids={"On hold": 42})
    ticket = open_ticket(fake)
    with pytest.raises(InvalidInputError) as partly:
        await adapter.reply(ticket.number, NewReply(body="Wstrzymane.", status="on_hold"))
    assert "The reply to" in partly.value.message and "was sent" in partly.value.message
    assert "do not send the reply again" in partly.value.message
    assert len(fake.received("POST", r"/reply\.json$")) == 1 and ticket.entries[-1].body == "Wstrzymane."
    await adapter.aclose()


async def test_success_is_judged_by_status_code_not_by_wording(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    ticket = open_ticket(fake)
    worded = json_response({"status_code": "0", "status_msg": "reply posted successfully"})
    fake.inject(
        Fault("status", status=200, body=worded.body, headers=worded.headers, apply=True, path=r"reply")
    )
    message = await adapter.reply(ticket.number, NewReply(body="Gotowe."))
    assert message.id == str(ticket.entries[-1].id)

    failed = json_response({"tickets": [], "status_code": "FAILURE", "status_msg": "Deadlock found"})
    fake.inject(Fault("status", status=500, body=failed.body, headers=failed.headers, path=r"reply"))
    with pytest.raises(OutcomeUnknownError, match="read the ticket before trying again"):
        await adapter.reply(ticket.number, NewReply(body="Jeszcze raz."))


async def test_files_ride_on_a_reply_with_a_text_osticket_requires(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    ticket = open_ticket(fake)
    log = FileUpload(filename="gateway.log", mime_type="text/plain", content=b"ERROR timeout\n")
    message = await adapter.reply(ticket.number, NewReply(body="gateway.log", attachments=(log,)))
    sent = fake.received("POST", r"/reply\.json$")[-1].json()
    assert sent["response"] == "gateway.log"
    assert sent["attachments"] == [
        {"gateway.log": "data:text/plain;base64," + base64.b64encode(log.content).decode()}
    ]
    assert [a.filename for a in message.attachments] == ["gateway.log"]
    assert ticket.entries[-1].files[0].content == log.content
    again = await adapter.get_ticket(ticket.number)
    assert [a.filename for a in again.messages[-1].attachments] == ["gateway.log"]


async def test_what_osticket_cannot_do_is_refused_before_sending(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    ticket = open_ticket(fake)
    with pytest.raises(UnsupportedError, match="no internal notes"):
        await adapter.reply(ticket.number, NewReply(body="Notatka", internal=True))
    assert fake.received("POST") == []


async def test_an_unknown_staff_user_and_an_empty_response_are_not_sent(fake: OsticketFake) -> None:
    ticket = open_ticket(fake)
    adapter = adapter_for(fake, staff_user="ghost")
    with pytest.raises(InvalidInputError, match="no staff user 'ghost', so the reply was not sent"):
        await adapter.reply(ticket.number, NewReply(body="Hello"))
    await adapter.aclose()
    adapter = adapter_for(fake)
    await adapter.start()
    refusal = plain("Unable to reply to this ticket: unknown error", 500)
    fake.inject(Fault("status", status=500, body=refusal.body, headers=refusal.headers, path=r"reply"))
    with pytest.raises(InvalidInputError, match="Unable to reply to this ticket: unknown error"):
        await adapter.reply(ticket.number, NewReply(body="Hello"))
    await adapter.aclose()


@pytest.mark.parametrize(
    "fault",
    [Fault("status", status=500, apply=True), Fault("reset", apply=True), Fault("garbage", apply=True)],
    ids=["applied-then-500", "applied-then-reset", "applied-then-garbage"],
)
async def test_a_lost_answer_is_resolved_by_the_thread(fake: OsticketFake, fault: Fault) -> None:
    adapter = adapter_for(fake)
    ticket = open_ticket(fake)
    fault.path = r"/reply\.json$"
    fake.inject(fault)
    message = await adapter.reply(ticket.number, NewReply(body="Wymieniony bęben."))
    assert message.id == str(ticket.entries[-1].id)
    assert len(fake.received("POST", r"/reply\.json$")) == 1, "never sent twice"
    await adapter.aclose()


async def test_a_reply_that_did_not_land_is_unknown_with_directions(fake: OsticketFake) -> None:
    adapter = adapter_for(fake)
    ticket = open_ticket(fake)
    before = len(ticket.entries)
    fake.inject(Fault("status", status=503, path=r"/reply\.json$"))
    with pytest.raises(OutcomeUnknownError, match="read the ticket before trying again"):
        await adapter.reply(ticket.number, NewReply(body="Nie dotarło."))
    assert len(ticket.entries) == before and len(fake.received("POST")) == 1
    await adapter.aclose()
