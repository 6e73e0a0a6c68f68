"""Backends are built at their first use: a host lists the tools before any vendor hears from the
server, the first call builds the adapter (once, however many calls arrive together), and a backend
that is broken says so in the first call's answer, as it would otherwise have said at start."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from helpdesk_mcp.adapters.registry import BACKEND_TYPES
from tests.conftest import MakeSettings, connect
from tests.fakes.osticket import OsticketFake, make_fake, vendor_env
from tests.round_trip import ok

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> Iterator[OsticketFake]:
    with make_fake().running() as running:
        assert isinstance(running, OsticketFake)
        yield running


def probes(fake: OsticketFake) -> list[Any]:
    """osTicket's capability probe: ticketInfo without a ticket number."""
    return [r for r in fake.received("GET", r"/ticketInfo$") if not r.query]


def refused(result: Any) -> str:
    assert result.is_error, result.structured_content
    text: str = result.content[0].text
    assert "\n" not in text and "Traceback" not in text, text
    return text


async def test_tools_are_listed_before_the_vendor_is_asked_anything_and_the_first_call_asks(
    make_settings: MakeSettings, fake: OsticketFake
) -> None:
    async with connect(make_settings(**vendor_env(fake)), "legacy") as client:
        assert {tool.name for tool in (await client.list_tools()).tools} >= {"search_tickets", "get_ticket"}
        assert fake.received() == [], "listing the tools sends nothing to the helpdesk"

        ticket = fake.tickets[0]
        shown = await ok(client, "get_ticket", {"ticket": f"osticket:{ticket.number}"})
        assert shown["subject"] == ticket.subject
        assert len(probes(fake)) == 1, "the first call learns what osTicket can do, then reads"


async def test_calls_arriving_together_at_the_start_build_the_backend_once(
    make_settings: MakeSettings, fake: OsticketFake
) -> None:
    async with connect(make_settings(**vendor_env(fake)), "legacy") as client:
        subjects: list[str] = []

        async def read(number: str) -> None:
            subjects.append((await ok(client, "get_ticket", {"ticket": f"osticket:{number}"}))["subject"])

        async with anyio.create_task_group() as group:
            for ticket in fake.tickets[:3]:
                group.start_soon(read, ticket.number)
        assert sorted(subjects) == sorted(t.subject for t in fake.tickets[:3])
        assert len(probes(fake)) == 1, "one adapter, probed once, serves all three"


async def test_a_refused_key_is_told_at_the_first_call_and_in_the_log(
    make_settings: MakeSettings, fake: OsticketFake, caplog: pytest.LogCaptureFixture
) -> None:
    env = {**vendor_env(fake), "OSTICKET_API_KEY": "not-the-key"}
    async with connect(make_settings(**env), "legacy") as client:
        await client.list_tools()
        assert fake.received() == []
        message = refused(await client.call_tool("search_tickets", {"requester": "ola@example.com"}))
        assert "refused the credentials" in message
        assert "not-the-key" not in message
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("osticket" in line and "refused" in line for line in warnings), warnings


async def test_a_backend_that_cannot_be_set_up_says_so_at_each_call_until_it_can(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A broken installation: the module the local backend's adapter lives in cannot be imported.
    local = BACKEND_TYPES["local"]
    monkeypatch.setitem(BACKEND_TYPES, "local", dataclasses.replace(local, adapter=".missing.adapter:build"))
    async with connect(make_settings(), "legacy") as client:
        await client.list_tools()
        for _ in range(2):  # not remembered as broken: each call tries again
            message = refused(await client.call_tool("search_tickets", {}))
            assert message == (
                "Backend 'local' could not be set up (ModuleNotFoundError); see the server log for details. "
                "It is tried again at the next call."
            )
        logged = [r for r in caplog.records if r.name == "helpdesk_mcp.server.backends"]
        assert [r.levelname for r in logged] == ["ERROR", "ERROR"]
        assert logged[0].exc_info and "helpdesk_mcp.adapters.missing" in str(logged[0].exc_info[1])

        monkeypatch.setitem(BACKEND_TYPES, "local", local)  # reinstalled while the server runs
        page = await ok(client, "search_tickets", {})
        assert page["tickets"] == [] and not page.get("notes")


async def test_a_search_across_backends_leaves_out_one_that_cannot_be_set_up_with_a_note(
    make_settings: MakeSettings, fake: OsticketFake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "helpdesk.toml"
    config.write_text(
        f'[backends.local]\ntype = "local"\ndb = "{tmp_path / "local.db"}"\n\n'
        '[backends.osticket]\ntype = "osticket"\nurl = "${OSTICKET_URL}"\napi_key = "${OSTICKET_API_KEY}"\n'
        'staff_user = "${OSTICKET_STAFF_USER}"\ntimezone = "${OSTICKET_TIMEZONE}"\n'
    )
    local = BACKEND_TYPES["local"]
    monkeypatch.setitem(BACKEND_TYPES, "local", dataclasses.replace(local, adapter=".missing.adapter:build"))
    staff = fake.staff[0].username
    async with connect(make_settings(**vendor_env(fake), HELPDESK_CONFIG=str(config)), "legacy") as client:
        page = await ok(client, "search_tickets", {"assignee": staff})
    assert page["tickets"] and all(t["ref"].startswith("osticket:") for t in page["tickets"])
    assert page["notes"] == [
        "Backend 'local' failed and is left out of this search: Backend 'local' could not be set up "
        "(ModuleNotFoundError); see the server log for details. It is tried again at the next call."
    ]
