"""The idempotency ledger of create_ticket: one key, at most one ticket."""

from __future__ import annotations

import anyio
import pytest

from helpdesk_mcp.adapters.errors import InvalidInputError, OutcomeUnknownError, UnavailableError
from helpdesk_mcp.server.idempotency import IdempotencyLedger
from tests.conftest import MakeSettings, connect

pytestmark = pytest.mark.anyio
ARGS = {"subject": "Printer", "body": "Jammed."}


class Vendor:
    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.created: list[str] = []

    async def create(self) -> str:
        await anyio.sleep(0.01)
        if self.failures:
            raise self.failures.pop(0)
        self.created.append(f"ticket-{len(self.created) + 1}")
        return self.created[-1]


async def test_the_same_key_returns_the_first_ticket_even_when_called_at_once() -> None:
    ledger, vendor = IdempotencyLedger(), Vendor()
    results: list[str] = []

    async def create() -> None:
        results.append(await ledger.once("k1", ARGS, vendor.create))

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(create)
    assert vendor.created == ["ticket-1"]
    assert results == ["ticket-1"] * 5


async def test_an_unknown_outcome_holds_the_key() -> None:
    ledger, vendor = IdempotencyLedger(), Vendor(OutcomeUnknownError("the connection broke"))
    with pytest.raises(OutcomeUnknownError):
        await ledger.once("k2", ARGS, vendor.create)
    with pytest.raises(OutcomeUnknownError, match="may have opened the ticket"):
        await ledger.once("k2", ARGS, vendor.create)
    assert vendor.created == []


async def test_a_certain_failure_frees_the_key_for_another_try() -> None:
    ledger, vendor = IdempotencyLedger(), Vendor(UnavailableError("could not be reached"))
    with pytest.raises(UnavailableError):
        await ledger.once("k3", ARGS, vendor.create)
    assert await ledger.once("k3", ARGS, vendor.create) == "ticket-1"


async def test_a_key_reused_for_another_ticket_is_refused() -> None:
    ledger, vendor = IdempotencyLedger(), Vendor()
    await ledger.once("k4", ARGS, vendor.create)
    with pytest.raises(InvalidInputError, match="already used for a different ticket"):
        await ledger.once("k4", {**ARGS, "subject": "Scanner"}, vendor.create)
    assert vendor.created == ["ticket-1"]


async def test_old_keys_are_forgotten_when_the_ledger_is_full() -> None:
    ledger, vendor = IdempotencyLedger(max_keys=2), Vendor()
    for key in ("a", "b", "c"):
        await ledger.once(key, ARGS, vendor.create)
    assert await ledger.once("c", ARGS, vendor.create) == "ticket-3"
    assert await ledger.once("a", ARGS, vendor.create) == "ticket-4", "the oldest key made room"


async def test_create_ticket_with_the_same_key_opens_one_ticket(make_settings: MakeSettings) -> None:
    arguments = {"subject": "Printer", "body": "Jammed.", "idempotency_key": "bot-run-7/ticket-1"}
    async with connect(make_settings(), "auto") as client:
        first = await client.call_tool("create_ticket", arguments)
        again = await client.call_tool("create_ticket", arguments)
        other = await client.call_tool(
            "create_ticket", {**arguments, "idempotency_key": "bot-run-7/ticket-2"}
        )
        listed = await client.call_tool("search_tickets", {"query": "printer"})
    assert first.structured_content == again.structured_content
    assert other.structured_content is not None and first.structured_content is not None
    assert other.structured_content["ticket"] != first.structured_content["ticket"]
    assert listed.structured_content is not None and len(listed.structured_content["tickets"]) == 2
