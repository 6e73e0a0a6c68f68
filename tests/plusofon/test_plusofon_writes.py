"""Opening, answering and attaching on Plusofon: the requests sent, and writes that are never sent twice."""

from __future__ import annotations

import base64

import httpx
import pytest

from helpdesk_mcp.adapters.errors import OutcomeUnknownError, UnsupportedError
from helpdesk_mcp.adapters.model import FileUpload, NewReply, NewTicket
from helpdesk_mcp.adapters.plusofon.adapter import PlusofonAdapter
from tests.fakes.harness import Fault
from tests.fakes.plusofon import OWNER, ROUTES, PlusofonFake, make_fake
from tests.plusofon.conftest import adapter_for

pytestmark = pytest.mark.anyio

SCAN = bytes(range(256)) * 4
TRACE = "Трассировка: INVITE → 403 Forbidden\n".encode()


def upload(filename: str, content: bytes) -> FileUpload:
    return FileUpload(filename=filename, mime_type="application/octet-stream", content=content)


def fault(fake: PlusofonFake, operation: str, **options: object) -> None:
    method, path = ROUTES[operation]
    fake.inject(Fault(method=method, path=path, **options))  # type: ignore[arg-type]


def closed_ticket(fake: PlusofonFake) -> int:
    return next(t.id for t in fake.tickets.values() if not t.active and t.user == OWNER)


async def test_a_ticket_is_opened_with_subject_and_description_and_its_files_tied_to_the_first_post(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    new = NewTicket(
        subject="Не работает переадресация — срочно",
        body="С 9:00 переадресация на +7 916 555-12-34 не срабатывает.\nZażółć gęślą jaźń.",
        attachments=(upload("скан договора.bin", SCAN), upload("trace.txt", TRACE)),
    )
    created = await adapter.create_ticket(new)

    [sent] = fake.received("POST", ROUTES["create"][1])
    assert sent.json() == {"subject": new.subject, "description": new.body}
    ticket_id = int(created.ref.partition(":")[2])
    first_post = fake.tickets[ticket_id].posts[0].id
    files = fake.received("POST", ROUTES["attach"][1])
    assert [r.json() for r in files] == [
        {
            "ticketId": ticket_id,
            "filename": "скан договора.bin",
            "ticketPostID": first_post,
            "contents": base64.b64encode(SCAN).decode(),
        },
        {
            "ticketId": ticket_id,
            "filename": "trace.txt",
            "ticketPostID": first_post,
            "contents": base64.b64encode(TRACE).decode(),
        },
    ]
    assert [f.content for f in fake.tickets[ticket_id].posts[0].files] == [SCAN, TRACE]

    assert (created.subject, created.status) == (new.subject, "open")
    [message] = created.messages
    assert (message.kind, message.body, message.id) == ("customer", new.body, str(first_post))
    assert message.author is not None and message.author.email == OWNER.email
    assert [(a.filename, a.size) for a in message.attachments] == [
        ("скан договора.bin", len(SCAN)),
        ("trace.txt", len(TRACE)),
    ]


async def test_a_reply_is_the_customers_answer_on_the_documented_put(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    ticket_id = closed_ticket(fake)
    body = "Проблема повторилась сегодня в 10:15 МСК.\n\nDziękuję — Łukasz"
    posted = await adapter.reply(str(ticket_id), NewReply(body=body))

    [sent] = fake.received("PUT", ROUTES["reply"][1])
    assert sent.path == f"/api/v1/ticket/answer/{ticket_id}" and sent.json() == {"text": body}
    assert (posted.kind, posted.body, posted.id) == ("customer", body, str(fake.tickets[ticket_id].last.id))
    thread = await adapter.get_ticket(str(ticket_id))
    assert thread.messages[-1] == posted
    assert thread.status == ("open" if fake.tickets[ticket_id].active else "closed")


async def test_a_file_rides_on_a_fresh_answer_named_after_it_or_on_the_given_message(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    ticket_id = str(closed_ticket(fake))
    bare = await adapter.reply(
        ticket_id, NewReply(body="акт сверки.pdf", attachments=(upload("акт сверки.pdf", SCAN),))
    )
    worded = await adapter.reply(
        ticket_id, NewReply(body="Лог во вложении.", attachments=(upload("sip.log", TRACE),))
    )

    answers = fake.received("PUT", ROUTES["reply"][1])
    assert [r.json() for r in answers] == [{"text": "акт сверки.pdf"}, {"text": "Лог во вложении."}]
    files = fake.received("POST", ROUTES["attach"][1])
    assert [(r.json()["ticketPostID"], r.json()["filename"]) for r in files] == [
        (int(bare.id), "акт сверки.pdf"),
        (int(worded.id), "sip.log"),
    ]
    assert [a.filename for a in bare.attachments] == ["акт сверки.pdf"]
    assert [a.filename for a in worded.attachments] == ["sip.log"] and worded.body == "Лог во вложении."


async def test_what_plusofon_cannot_do_is_refused_before_anything_is_sent(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    ticket_id = str(next(iter(fake.tickets)))
    refusals = [
        (adapter.reply(ticket_id, NewReply(body="note", internal=True)), "internal notes"),
        (adapter.reply(ticket_id, NewReply(body="closing", status="solved")), "status"),
        (adapter.download_attachment(ticket_id, "7001"), "download"),
    ]
    for attempt, named in refusals:
        with pytest.raises(UnsupportedError) as refused:
            await attempt
        assert named in refused.value.message and "plusofon" in refused.value.message
        assert "\n" not in refused.value.message
    assert fake.requests == []


@pytest.mark.parametrize(
    "failure",
    [
        {"action": "status", "status": 500, "apply": True},
        {"action": "reset", "apply": True},
        {"action": "garbage", "apply": True},
    ],
)
async def test_a_create_whose_answer_is_lost_is_found_not_sent_again(
    fake: PlusofonFake, adapter: PlusofonAdapter, failure: dict[str, object]
) -> None:
    before = set(fake.tickets)
    fault(fake, "create", **failure)
    created = await adapter.create_ticket(NewTicket(subject="Сбой АТС", body="Не звонит."))
    assert len(fake.received("POST", ROUTES["create"][1])) == 1
    [new_id] = set(fake.tickets) - before
    assert created.ref == f"plusofon:{new_id}" and created.messages[0].body == "Не звонит."


async def test_a_create_that_did_not_land_says_how_to_check(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    before = set(fake.tickets)
    fault(fake, "create", action="status", status=503)
    with pytest.raises(OutcomeUnknownError) as unknown:
        await adapter.create_ticket(NewTicket(subject="Сбой АТС", body="Не звонит."))
    assert "search for that subject before trying again" in unknown.value.message
    assert "'Сбой АТС'" in unknown.value.message
    assert len(fake.received("POST", ROUTES["create"][1])) == 1 and set(fake.tickets) == before


@pytest.mark.parametrize(
    "failure",
    [
        {"action": "status", "status": 502, "apply": True},
        {"action": "reset", "apply": True},
        {"action": "truncate"},
    ],
)
async def test_a_reply_whose_answer_is_lost_is_found_not_sent_again(
    fake: PlusofonFake, adapter: PlusofonAdapter, failure: dict[str, object]
) -> None:
    ticket_id = closed_ticket(fake)
    posts = len(fake.tickets[ticket_id].posts)
    fault(fake, "reply", **failure)
    posted = await adapter.reply(str(ticket_id), NewReply(body="Спасибо, ждём."))
    assert len(fake.received("PUT", ROUTES["reply"][1])) == 1
    assert len(fake.tickets[ticket_id].posts) == posts + 1
    assert (posted.id, posted.body) == (str(fake.tickets[ticket_id].last.id), "Спасибо, ждём.")


async def test_a_reply_that_did_not_land_says_to_read_the_ticket(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    ticket_id = closed_ticket(fake)
    fault(fake, "reply", action="status", status=503)
    with pytest.raises(OutcomeUnknownError) as unknown:
        await adapter.reply(str(ticket_id), NewReply(body="Спасибо, ждём."))
    assert f"plusofon:{ticket_id}" in unknown.value.message
    assert "read the ticket before trying again" in unknown.value.message
    assert len(fake.received("PUT", ROUTES["reply"][1])) == 1


async def test_a_file_whose_answer_is_lost_is_checked_and_a_refused_one_is_listed_not_stored(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    ticket_id = closed_ticket(fake)
    fault(fake, "attach", action="status", status=500, apply=True)
    landed = await adapter.reply(str(ticket_id), NewReply(body="Скан.", attachments=(upload("a.bin", SCAN),)))
    assert [a.filename for a in landed.attachments] == ["a.bin"] and landed.not_stored == []
    assert len(fake.received("POST", ROUTES["attach"][1])) == 1

    fault(
        fake,
        "attach",
        action="status",
        status=200,
        body=b'{"success": false, "message": "Ticket post not found"}',
        headers={"Content-Type": "application/json"},
    )
    posted = await adapter.reply(
        str(ticket_id),
        NewReply(body="Ещё скан.", attachments=(upload("b.bin", SCAN), upload("c.txt", TRACE))),
    )
    stored = fake.tickets[ticket_id].last
    assert stored.text == "Ещё скан." and [f.filename for f in stored.files] == ["c.txt"]
    assert [a.filename for a in posted.attachments] == ["c.txt"]
    [refused] = posted.not_stored
    assert (refused.field, refused.name) == ("attachments", "b.bin")
    assert "Ticket post not found" in refused.reason


@pytest.mark.parametrize("answer", ["object", "success", "empty"])
async def test_an_attachment_is_confirmed_by_the_ticket_whatever_the_undocumented_success_says(
    answer: str,
) -> None:
    with make_fake(attachment_answer=answer).running() as fake:
        assert isinstance(fake, PlusofonFake)
        adapter = adapter_for(fake)
        try:
            ticket_id = closed_ticket(fake)
            posted = await adapter.reply(
                str(ticket_id), NewReply(body="a.bin", attachments=(upload("a.bin", SCAN),))
            )
        finally:
            await adapter.aclose()
    assert [a.filename for a in posted.attachments] == ["a.bin"] and posted.not_stored == []
    assert len(fake.received("POST", ROUTES["attach"][1])) == 1


async def test_a_file_plusofon_did_not_refuse_but_does_not_show_is_unknown_and_not_sent_again() -> None:
    with make_fake(keep_attachments=False).running() as fake:
        assert isinstance(fake, PlusofonFake)
        adapter = adapter_for(fake)
        try:
            ticket_id = closed_ticket(fake)
            with pytest.raises(OutcomeUnknownError) as unknown:
                await adapter.reply(
                    str(ticket_id), NewReply(body="Акт.", attachments=(upload("акт.pdf", SCAN),))
                )
        finally:
            await adapter.aclose()
    said = unknown.value.message
    assert said.startswith(
        f"The message was posted to plusofon:{ticket_id}, but whether Plusofon attached 'акт.pdf'"
    )
    assert "may have been attached: read the ticket before attaching it again" in said
    assert len(fake.received("POST", ROUTES["attach"][1])) == 1


async def test_a_file_over_plusofons_limit_is_listed_not_stored_and_the_ticket_still_opens() -> None:
    with make_fake(max_file_size=512).running() as fake:
        assert isinstance(fake, PlusofonFake)
        adapter = adapter_for(fake)
        try:
            created = await adapter.create_ticket(
                NewTicket(
                    subject="Счёт",
                    body="См. вложения.",
                    attachments=(upload("big.bin", SCAN), upload("t.txt", TRACE)),
                )
            )
        finally:
            await adapter.aclose()
    assert [a.filename for m in created.messages for a in m.attachments] == ["t.txt"]
    [refused] = created.not_stored
    assert (refused.field, refused.name) == ("attachments", "big.bin")
    assert "larger than the allowed size" in refused.reason


async def test_a_requester_priority_or_tags_are_listed_not_stored_and_the_ticket_opens(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    created = await adapter.create_ticket(
        NewTicket(
            subject="Не проходят звонки",
            body="С утра тишина.",
            requester_email="ewa@example.pl",
            requester_name="Ewa",
            priority="high",
            tags=("voip",),
        )
    )

    [sent] = fake.received("POST", ROUTES["create"][1])
    assert sent.json() == {"subject": "Не проходят звонки", "description": "С утра тишина."}
    assert [n.field for n in created.not_stored] == ["requester_email", "requester_name", "priority", "tags"]
    assert all(n.reason.endswith("not sent.") for n in created.not_stored)
    assert created.requester is not None and created.requester.email == OWNER.email


async def test_the_fake_refuses_fields_the_create_page_does_not_list(fake: PlusofonFake) -> None:
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {fake.token}", "Client": fake.client}
    ) as client:
        answer = await client.post(
            f"{fake.url}/api/v1/ticket", json={"subject": "s", "description": "d", "email": "a@b.ru"}
        )
    assert answer.status_code == 400 and answer.json() == {"message": "Unknown fields: email", "code": 400}
