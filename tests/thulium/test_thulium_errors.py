"""Thulium's errors in the taxonomy with its own words, and writes whose answer was lost, never sent twice."""

from __future__ import annotations

import json

import pytest

from helpdesk_mcp.adapters.errors import (
    AuthError,
    InvalidInputError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    UnavailableError,
)
from helpdesk_mcp.adapters.model import FileUpload, NewReply, NewTicket, SearchQuery
from helpdesk_mcp.adapters.thulium.adapter import ThuliumAdapter
from tests.fakes.harness import Fault
from tests.fakes.thulium import PASSWORD, ROUTES, FakeThulium, make_fake
from tests.thulium.conftest import MakeAdapter, settings_for

pytestmark = pytest.mark.anyio

NEW = NewTicket(subject="Brak dostawy 5521", body="Paczka nie dotarła.", requester_email="jan@example.pl")


def thulium_error(message: str, status: int) -> Fault:
    body = json.dumps({"request_id": "53678450401cf", "errors": [{"message": message, "code": 999001}]})
    return Fault("status", status=status, body=body.encode(), headers={"Content-Type": "application/json"})


async def test_wrong_credentials_say_so_without_the_password(make_adapter: MakeAdapter) -> None:
    adapter = make_adapter(password="wrong-" + PASSWORD)
    with pytest.raises(AuthError) as refused:
        await adapter.search(SearchQuery(), 5)
    assert "Authentication failed" in refused.value.message and "request id" in refused.value.message
    assert PASSWORD not in refused.value.message


async def test_a_method_missing_from_the_api_users_permissions() -> None:
    with make_fake(permissions=frozenset({"GET tickets"})).running() as fake:
        assert isinstance(fake, FakeThulium)
        adapter = ThuliumAdapter("thulium", settings_for(fake))
        try:
            with pytest.raises(AuthError, match="permissions"):
                await adapter.get_ticket(str(fake.showcase_id))
        finally:
            await adapter.aclose()


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        (thulium_error("Too many requests.", 429), RateLimitedError, "Too many requests"),
        (thulium_error("Database unavailable.", 500), UnavailableError, "Database unavailable"),
        (thulium_error("Wrong date format of date_to.", 400), InvalidInputError, "Wrong date format"),
        (Fault("garbage"), UnavailableError, "not the JSON"),
    ],
    ids=["429", "500", "400", "html"],
)
async def test_read_errors_map_to_the_taxonomy(
    fake: FakeThulium, adapter: ThuliumAdapter, fault: Fault, error: type[Exception], words: str
) -> None:
    fault.method, fault.path = ROUTES["search"]
    fake.inject(fault)
    with pytest.raises(error, match=words):
        await adapter.search(SearchQuery(), 5)


async def test_vendor_validation_comes_back_in_its_words(
    fake: FakeThulium, make_adapter: MakeAdapter
) -> None:
    with pytest.raises(InvalidInputError, match=r"Mailbox nie@ma\.pl is not defined"):
        await make_adapter(mailbox="nie@ma.pl").create_ticket(NEW)
    with pytest.raises(InvalidInputError, match="User ghost does not exist"):
        await make_adapter(agent_login="ghost").reply(str(fake.showcase_id), NewReply(body="Cześć."))


async def test_a_url_without_api_is_pointed_out(fake: FakeThulium, make_adapter: MakeAdapter) -> None:
    with pytest.raises(NotFoundError, match="/api"):
        await make_adapter(url=fake.url).get_ticket("23001")


async def test_a_create_whose_answer_was_lost_is_found_not_repeated(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    method, path = ROUTES["create"]
    fake.inject(Fault("reset", apply=True, method=method, path=path))

    ticket = await adapter.create_ticket(NEW)

    assert len(fake.received(method, path)) == 1
    assert (
        ticket.subject == NEW.subject
        and fake.tickets[int(ticket.ref.partition(":")[2])].sender == "jan@example.pl"
    )


async def test_a_create_that_did_not_land_says_how_to_check(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    method, path = ROUTES["create"]
    fake.inject(Fault("status", status=502, method=method, path=path))
    count = len(fake.tickets)

    with pytest.raises(OutcomeUnknownError) as unknown:
        await adapter.create_ticket(NEW)

    assert "search for 'Brak dostawy 5521'" in unknown.value.message
    assert len(fake.received(method, path)) == 1 and len(fake.tickets) == count


@pytest.mark.parametrize("action", ["truncate", "reset"])
async def test_a_reply_whose_answer_was_lost_is_found_not_repeated(
    fake: FakeThulium, adapter: ThuliumAdapter, action: str
) -> None:
    method, path = ROUTES["reply"]
    fake.inject(Fault(action, apply=True, method=method, path=path))  # type: ignore[arg-type]

    message = await adapter.reply(str(fake.showcase_id), NewReply(body="Odpowiedź po zerwanym połączeniu."))

    assert len(fake.received(method, path)) == 1
    assert message.body == "Odpowiedź po zerwanym połączeniu." and message.kind == "agent"


async def test_a_reply_that_did_not_land_is_not_resent(fake: FakeThulium, adapter: ThuliumAdapter) -> None:
    method, path = ROUTES["reply"]
    fake.inject(Fault("status", status=503, method=method, path=path))

    with pytest.raises(OutcomeUnknownError, match="read the ticket before sending the reply again"):
        await adapter.reply(str(fake.showcase_id), NewReply(body="Nie doszło."))

    assert len(fake.received(method, path)) == 1


async def test_a_failed_status_change_after_a_sent_reply_says_which_half_happened(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    locked = thulium_error("Status change is locked.", 400)
    locked.method, locked.path = "PUT", r"^/api/tickets/\d+$"
    fake.inject(locked)

    with pytest.raises(InvalidInputError) as failed:
        await adapter.reply(str(fake.showcase_id), NewReply(body="Zamykamy.", status="closed"))

    said = failed.value.message
    assert "The reply was sent" in said and "status was not changed to closed (Zamknięte)" in said
    assert "Status change is locked" in said and "do not send the reply again" in said
    assert len(fake.received("POST", ROUTES["reply"][1])) == 1
    assert fake.tickets[fake.showcase_id].messages[-1].body == "<p>Zamykamy.</p>"


async def test_a_failed_upload_posts_nothing(fake: FakeThulium, adapter: ThuliumAdapter) -> None:
    fake.inject(Fault("reset", method="POST", path=r"^/api/temporary_files$"))
    upload = FileUpload(filename="a.txt", mime_type="text/plain", content=b"a")

    with pytest.raises(UnavailableError, match="safe to try again"):
        await adapter.reply(str(fake.showcase_id), NewReply(body="Plik.", attachments=(upload,)))

    assert fake.received("POST", r"/agent_response$") == []


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
async def test_a_status_change_whose_answer_was_lost_is_looked_for_not_resent(
    fake: FakeThulium, adapter: ThuliumAdapter, applied: bool
) -> None:
    fake.inject(Fault("reset", apply=applied, method="PUT", path=r"^/api/tickets/\d+$"))

    if applied:
        await adapter.reply(str(fake.showcase_id), NewReply(body="Zamykamy.", status="closed"))
    else:
        with pytest.raises(OutcomeUnknownError) as unknown:
            await adapter.reply(str(fake.showcase_id), NewReply(body="Zamykamy.", status="closed"))
        said = unknown.value.message
        assert "the reply was sent to" in said and "if its status is not closed" in said
        assert "do not send the reply again" in said

    assert len(fake.received("PUT", r"^/api/tickets/\d+$")) == 1, "the status change is never sent twice"
    assert len(fake.received("POST", ROUTES["reply"][1])) == 1
