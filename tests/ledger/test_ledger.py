"""The write ledger through a real MCP client: no write is sent twice, and none is refused for good."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp import Client

from helpdesk_mcp.server.config import ConfigError
from helpdesk_mcp.server.ledger import ledger_path
from tests.conftest import MakeSettings, connect
from tests.fakes.harness import Fault
from tests.fakes.thulium import ROUTES, FakeThulium, make_fake, vendor_env

pytestmark = pytest.mark.anyio


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        return False, result.content[0].text  # type: ignore[union-attr]
    return True, result.structured_content


async def ok(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    succeeded, value = await call(client, tool, arguments)
    assert succeeded, value
    assert isinstance(value, dict)
    return value


async def copies(client: Client, ref: str, body: str) -> int:
    thread = (await ok(client, "get_ticket", {"ticket": ref}))["messages"]
    return sum(message.get("body") == body for message in thread)


async def test_a_create_with_the_same_key_returns_the_first_ticket(make_settings: MakeSettings) -> None:
    arguments = {"subject": "Printer", "body": "Jammed.", "idempotency_key": "bot-run-7/ticket-1"}
    async with connect(make_settings(), "auto") as client:
        first = await ok(client, "create_ticket", arguments)
        again = await ok(client, "create_ticket", arguments)
        other_ok, other = await call(client, "create_ticket", {**arguments, "subject": "Scanner"})
        second = await ok(client, "create_ticket", {**arguments, "idempotency_key": "bot-run-7/ticket-2"})
        listed = await ok(client, "search_tickets", {"query": "printer"})
    assert "replayed" not in first
    assert again == {**first, "replayed": True}
    assert not other_ok
    assert "already used for a different write" in other
    assert second["ticket"] != first["ticket"]
    assert len(listed["tickets"]) == 2


async def test_twenty_identical_replies_at_once_post_one(make_settings: MakeSettings) -> None:
    async with connect(make_settings(), "auto") as client:
        ref = (await ok(client, "create_ticket", {"subject": "Refund", "body": "Where is it?"}))["ticket"]
        results: list[dict[str, Any]] = []

        async def reply() -> None:
            results.append(await ok(client, "reply_ticket", {"ticket": ref, "body": "Refund sent today."}))

        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(reply)
        assert await copies(client, ref, "Refund sent today.") == 1
    assert len({r["message_id"] for r in results}) == 1
    assert sum(bool(r.get("replayed")) for r in results) == 19


async def test_with_the_window_off_an_identical_reply_is_sent_again(make_settings: MakeSettings) -> None:
    async with connect(make_settings(HELPDESK_DUPLICATE_WINDOW="0"), "auto") as client:
        ref = (await ok(client, "create_ticket", {"subject": "Refund", "body": "Where is it?"}))["ticket"]
        for _ in range(2):
            await ok(client, "reply_ticket", {"ticket": ref, "body": "Checking.", "internal": True})
        assert await copies(client, ref, "Checking.") == 2


async def test_a_key_with_a_different_reply_is_refused(make_settings: MakeSettings) -> None:
    async with connect(make_settings(), "auto") as client:
        ref = (await ok(client, "create_ticket", {"subject": "Refund", "body": "Where is it?"}))["ticket"]
        await ok(client, "reply_ticket", {"ticket": ref, "body": "One.", "idempotency_key": "r1"})
        refused, text = await call(
            client, "reply_ticket", {"ticket": ref, "body": "Two.", "idempotency_key": "r1"}
        )
        assert not refused
        assert "idempotency_key 'r1' was already used" in text
        assert await copies(client, ref, "Two.") == 0


async def test_a_write_that_certainly_failed_frees_its_key(make_settings: MakeSettings) -> None:
    async with connect(make_settings(), "auto") as client:
        ref = (await ok(client, "create_ticket", {"subject": "Refund", "body": "Where is it?"}))["ticket"]
        failed, text = await call(
            client, "reply_ticket", {"ticket": "local:404", "body": "Hi.", "idempotency_key": "k"}
        )
        assert not failed and "local:404" in text
        posted = await ok(client, "reply_ticket", {"ticket": ref, "body": "Hi.", "idempotency_key": "k"})
        assert "replayed" not in posted
        assert await copies(client, ref, "Hi.") == 1


async def test_a_file_attached_again_with_its_key_is_attached_once(make_settings: MakeSettings) -> None:
    content = base64.b64encode(b"%PDF-1.4 invoice").decode()
    async with connect(make_settings(), "auto") as client:
        ref = (await ok(client, "create_ticket", {"subject": "Invoice", "body": "Send it."}))["ticket"]
        arguments = {
            "ticket": ref,
            "filename": "invoice.pdf",
            "content_base64": content,
            "internal": True,
            "idempotency_key": "invoice-1",
        }
        first = await ok(client, "attach_file", arguments)
        again = await ok(client, "attach_file", arguments)
        thread = (await ok(client, "get_ticket", {"ticket": ref}))["messages"]
    assert again == {**first, "replayed": True}
    assert sum(len(m.get("attachments", [])) for m in thread) == 1


@pytest.fixture
def thulium() -> Iterator[FakeThulium]:
    with make_fake(tickets=3).running() as fake:
        assert isinstance(fake, FakeThulium)
        yield fake


async def test_after_an_unknown_outcome_the_key_waits_until_the_ticket_is_read(
    make_settings: MakeSettings, thulium: FakeThulium
) -> None:
    method, path = ROUTES["reply"]
    settings = make_settings(**vendor_env(thulium), HELPDESK_TIMEOUT="1")
    arguments = {"ticket": f"thulium:{thulium.showcase_id}", "body": "Fixed.", "idempotency_key": "fix-1"}
    async with connect(settings, "auto") as client:
        thulium.inject(Fault("hang", apply=True, seconds=4, method=method, path=path))
        first_ok, _ = await call(client, "reply_ticket", arguments)
        held_ok, held = await call(client, "reply_ticket", arguments)
        assert not first_ok and not held_ok
        assert "may have been applied" in held and "get_ticket" in held, held
        assert len(thulium.received(method, path)) == 1, "the held key sent nothing"
        await ok(client, "get_ticket", {"ticket": arguments["ticket"]})
        await ok(client, "reply_ticket", arguments)
    assert len(thulium.received(method, path)) == 2, "once read, the reply may be sent again"


async def test_an_identical_create_after_an_unknown_outcome_is_not_sent_again(
    make_settings: MakeSettings, thulium: FakeThulium
) -> None:
    method, path = ROUTES["create"]
    settings = make_settings(**vendor_env(thulium), HELPDESK_TIMEOUT="1")
    arguments = {"subject": "Printer", "body": "Jammed.", "requester_email": "jan@example.com"}
    async with connect(settings, "auto") as client:
        thulium.inject(Fault("hang", apply=True, seconds=4, method=method, path=path))
        assert not (await call(client, "create_ticket", arguments))[0]
        held_ok, held = await call(client, "create_ticket", arguments)
    assert not held_ok and "search for it" in held, held
    assert len(thulium.received(method, path)) == 1


def test_settings_of_the_ledger(make_settings: MakeSettings, tmp_path: Any) -> None:
    settings = make_settings(HELPDESK_LEDGER_DB="")
    assert ledger_path(settings) == tmp_path / "ledger.db", "beside the local helpdesk's file"
    assert make_settings(HELPDESK_DUPLICATE_WINDOW="0").duplicate_window == 0
    with pytest.raises(ConfigError) as caught:
        make_settings(HELPDESK_DUPLICATE_WINDOW="soon", HELPDESK_REDIS_URL="http://user:pw@cache:6379")
    problems = caught.value.problems
    assert len(problems) == 2
    assert problems[0].startswith("HELPDESK_DUPLICATE_WINDOW:")
    assert problems[1].startswith("HELPDESK_REDIS_URL:") and "pw" not in problems[1]


async def test_a_write_made_before_a_later_step_failed_keeps_its_key(
    make_settings: MakeSettings, thulium: FakeThulium
) -> None:
    # The reply is posted, then the status change after it is refused: the key must not be freed,
    # or the same call again would post the reply a second time.
    method, path = ROUTES["reply"]
    locked = b'{"request_id": "r1", "errors": [{"message": "Status change is locked.", "code": 1}]}'
    settings = make_settings(**vendor_env(thulium))
    arguments = {
        "ticket": f"thulium:{thulium.showcase_id}",
        "body": "Closing.",
        "status": "closed",
        "idempotency_key": "close-1",
    }
    async with connect(settings, "auto") as client:
        thulium.inject(
            Fault(
                "status", status=400, body=locked, headers={"Content-Type": "application/json"}, method="PUT"
            )
        )
        first_ok, first = await call(client, "reply_ticket", arguments)
        again_ok, again = await call(client, "reply_ticket", arguments)
    assert not first_ok and "The reply was sent" in first, first
    assert not again_ok, again
    assert len(thulium.received(method, path)) == 1, "the reply was posted once, whatever the retries"
