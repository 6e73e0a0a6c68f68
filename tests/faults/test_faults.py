"""Every vendor adapter under injected faults, driven through a real MCP client.

Each vendor fake (tests/fakes) gets the same faults on its own routes, and the outcome is read the
way a user would see it: in tool results, and in what the vendor received. Reads must survive
transient faults; a hang must end at the configured time limit; no fault may turn one write into two;
and no credential may appear in anything the server emits.
"""

from __future__ import annotations

import importlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from mcp import Client

from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.capabilities import CUSTOMER, creatable, scoped
from tests.conftest import connect, unthrottled
from tests.fakes.harness import FakeVendor, Fault

pytestmark = pytest.mark.anyio

VENDORS = ["thulium", "usedesk", "osticket", "plusofon"]
SECRET_WORDS = ("TOKEN", "PASSWORD", "KEY")
TIME_LIMIT = "2"
SEEDED = 30
"""Tickets in each fake before a test: faults need a few to list, not the default history of 300."""


@dataclass
class Vendor:
    name: str
    module: ModuleType
    fake: FakeVendor
    env: dict[str, str]

    def route(self, operation: str) -> tuple[str, str]:
        method, path = self.module.ROUTES[operation]
        return str(method), str(path)

    def fault(self, operation: str, action: Any, **options: Any) -> Fault:
        method, path = self.route(operation)
        return self.fake.inject(Fault(action, method=method, path=path, **options))

    def received(self, operation: str) -> int:
        method, path = self.route(operation)
        return len(self.fake.received(method, path))

    @property
    def secrets(self) -> list[str]:
        return [value for name, value in self.env.items() if any(word in name for word in SECRET_WORDS)]


@pytest.fixture(params=VENDORS)
def vendor(request: pytest.FixtureRequest) -> Iterator[Vendor]:
    module = importlib.import_module(f"tests.fakes.{request.param}")
    with module.make_fake(tickets=SEEDED).running() as fake:
        yield Vendor(request.param, module, fake, dict(module.env_for(fake)))


@pytest.fixture
async def client(vendor: Vendor, tmp_path: Path) -> AsyncIterator[Client]:
    env = {**vendor.env, "HELPDESK_TIMEOUT": TIME_LIMIT, "HELPDESK_LEDGER_DB": str(tmp_path / "ledger.db")}
    settings = unthrottled(load_settings(env, known_tools=TOOL_NAMES))
    async with connect(settings, "auto") as connected:
        yield connected


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[bool, str]:
    result = await client.call_tool(tool, arguments)
    text: str = result.content[0].text  # type: ignore[union-attr]
    return not result.is_error, text


async def ok(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    succeeded, text = await call(client, tool, arguments)
    assert succeeded, text
    parsed: dict[str, Any] = json.loads(text)
    return parsed


async def capabilities(client: Client) -> dict[str, Any]:
    contents = (await client.read_resource("helpdesk://backends")).contents
    caps: dict[str, Any] = json.loads(contents[0].text)["backends"][0]["capabilities"]  # type: ignore[union-attr]
    return caps


def new_ticket(caps: dict[str, Any], subject: str) -> dict[str, Any]:
    return creatable(caps, {"subject": subject, "body": "Paper jam on floor 3.", **CUSTOMER})


async def some_ticket(client: Client, vendor: Vendor) -> str:
    """A ticket of the suite's customer to read and write to, opened without faults."""
    caps = await capabilities(client)
    return str((await ok(client, "create_ticket", new_ticket(caps, "Fault suite")))["ticket"])


async def search(client: Client) -> dict[str, Any]:
    return scoped(await capabilities(client), {"limit": 3})


TRANSIENT = [
    pytest.param({"action": "status", "status": 503}, id="503"),
    pytest.param({"action": "status", "status": 502}, id="502"),
    pytest.param({"action": "status", "status": 429, "headers": {"Retry-After": "1"}}, id="429-retry-after"),
    pytest.param({"action": "reset"}, id="reset"),
]


@pytest.mark.parametrize("fault", TRANSIENT)
async def test_reads_survive_a_transient_fault(client: Client, vendor: Vendor, fault: dict[str, Any]) -> None:
    ref = await some_ticket(client, vendor)
    before = vendor.received("get")
    vendor.fault("get", **fault)
    ticket = await ok(client, "get_ticket", {"ticket": ref})
    assert ticket["ref"] == ref
    assert vendor.received("get") - before >= 2, "the faulted read was tried again"

    if (await capabilities(client))["search"]:
        before = vendor.received("search")
        vendor.fault("search", **fault)
        assert (await ok(client, "search_tickets", await search(client)))["tickets"]
        assert vendor.received("search") - before >= 2


async def test_a_hang_ends_at_the_time_limit_with_a_clear_error(client: Client, vendor: Vendor) -> None:
    ref = await some_ticket(client, vendor)
    vendor.fault("get", "hang", seconds=60, times=20)
    succeeded, text = await call(client, "get_ticket", {"ticket": ref})
    assert not succeeded
    assert f"did not finish reading the ticket within {TIME_LIMIT} s" in text


async def test_a_wait_longer_than_the_time_left_is_reported_as_a_rate_limit(
    client: Client, vendor: Vendor
) -> None:
    ref = await some_ticket(client, vendor)
    before = vendor.received("get")
    # Within retry_after_cap (30 s), but past the call's time limit: waiting would end in a timeout.
    vendor.fault("get", "status", status=429, headers={"Retry-After": "20"}, times=20)
    succeeded, text = await call(client, "get_ticket", {"ticket": ref})
    assert not succeeded
    assert "rate limited" in text and "retry after 20 s" in text, text
    assert "did not finish" not in text
    assert vendor.received("get") - before == 1, "not asked again before the wait is over"


async def test_garbage_from_the_vendor_is_a_clear_error(client: Client, vendor: Vendor) -> None:
    ref = await some_ticket(client, vendor)
    vendor.fault("get", "garbage", times=20)
    succeeded, text = await call(client, "get_ticket", {"ticket": ref})
    assert not succeeded
    assert "not the JSON its API documents" in text or "not what" in text, text
    assert "Traceback" not in text


AMBIGUOUS = [
    pytest.param({"action": "status", "status": 500, "apply": True}, id="applied-then-500"),
    pytest.param({"action": "status", "status": 502, "apply": True}, id="applied-then-502"),
    pytest.param({"action": "reset", "apply": True}, id="applied-then-reset"),
    pytest.param({"action": "garbage", "apply": True}, id="applied-then-garbage"),
    pytest.param({"action": "hang", "seconds": 60, "apply": True}, id="applied-then-hang"),
    pytest.param({"action": "status", "status": 503}, id="refused-with-503"),
]


@pytest.mark.parametrize("fault", AMBIGUOUS)
async def test_a_create_is_never_sent_twice(client: Client, vendor: Vendor, fault: dict[str, Any]) -> None:
    arguments = new_ticket(await capabilities(client), f"Printer jam {uuid.uuid4().hex[:8]}")
    vendor.fault("create", **fault)
    succeeded, text = await call(client, "create_ticket", arguments)
    assert vendor.received("create") == 1, (
        f"the create reached the vendor once and was never sent again: {text}"
    )
    if succeeded:
        assert fault.get("apply"), "a refused create must not be reported as created"
        assert json.loads(text)["ticket"].startswith(f"{vendor.name}:")
    else:
        assert "Traceback" not in text
        assert any(word in text for word in ("unknown", "before trying again", "was not")), text


@pytest.mark.parametrize("fault", AMBIGUOUS[:4])
async def test_a_create_retried_with_its_idempotency_key_is_not_sent_again(
    client: Client, vendor: Vendor, fault: dict[str, Any]
) -> None:
    arguments = new_ticket(await capabilities(client), f"Scanner {uuid.uuid4().hex[:8]}")
    arguments["idempotency_key"] = uuid.uuid4().hex
    vendor.fault("create", **fault)
    first_ok, first = await call(client, "create_ticket", arguments)
    again_ok, again = await call(client, "create_ticket", arguments)
    assert vendor.received("create") == 1, "the second call with the key sent nothing"
    if first_ok:
        assert again_ok and json.loads(again) == {**json.loads(first), "replayed": True}
    else:
        assert not again_ok
    if not again_ok:
        assert "may have opened the ticket" in again or first == again, again


@pytest.mark.parametrize("fault", AMBIGUOUS)
async def test_a_reply_is_never_sent_twice(client: Client, vendor: Vendor, fault: dict[str, Any]) -> None:
    ref = await some_ticket(client, vendor)
    body = f"We replaced the fuser unit {uuid.uuid4().hex[:8]}."
    vendor.fault("reply", **fault)
    succeeded, text = await call(client, "reply_ticket", {"ticket": ref, "body": body})
    assert vendor.received("reply") == 1, "the reply reached the vendor once and was never sent again"
    if not succeeded:
        assert "Traceback" not in text
        assert any(word in text for word in ("unknown", "before trying again", "read the ticket")), text
    thread = (await ok(client, "get_ticket", {"ticket": ref}))["messages"]
    copies = sum(body in message.get("body", "") for message in thread)
    assert copies == (1 if fault.get("apply") else 0)


async def test_no_credential_appears_in_anything_the_server_emits(
    client: Client, vendor: Vendor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emitted: list[str] = []
    caps = await capabilities(client)
    ref = await some_ticket(client, vendor)
    scenario = [
        ("get", {"action": "status", "status": 401}, "get_ticket", {"ticket": ref}),
        ("get", {"action": "status", "status": 500, "times": 10}, "get_ticket", {"ticket": ref}),
        ("get", {"action": "garbage"}, "get_ticket", {"ticket": ref}),
        ("reply", {"action": "reset", "apply": True}, "reply_ticket", {"ticket": ref, "body": "Hello."}),
        ("create", {"action": "status", "status": 403}, "create_ticket", new_ticket(caps, "Secret probe")),
    ]
    for operation, fault, tool, arguments in scenario:
        vendor.fault(operation, **fault)
        emitted.append((await call(client, tool, arguments))[1])
    emitted.append((await call(client, "get_ticket", {"ticket": ref}))[1])
    emitted.append((await client.read_resource("helpdesk://backends")).contents[0].text)  # type: ignore[union-attr]
    emitted.append(caplog.text)
    emitted.append(repr(load_settings(vendor.env, known_tools=TOOL_NAMES)))
    assert vendor.secrets, "the fake's configuration names at least one credential"
    for secret in vendor.secrets:
        assert all(secret not in text for text in emitted), f"a credential of {vendor.name} leaked"
