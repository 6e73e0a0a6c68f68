"""A Thulium ticket and its reply read back as they were sent, through a real MCP client (issue 15, 13)."""

from __future__ import annotations

import pytest

from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import connect, unthrottled
from tests.fakes.thulium import FakeThulium, env_for, make_fake
from tests.round_trip import REPLY, SUBJECT, ok

pytestmark = pytest.mark.anyio

BODY = (
    "Dzień dobry,\n\nзаказ №1042 не пришёл. Dwie  spacje & <tag> \"cudzysłów\" 'apostrof'.\n"
    "Ёлка, żółw, Łódź: 5 < 6 && 7 > 6; &lt;b&gt; zostaje tekstem.\n\n    wcięty wiersz"
)


def words(text: str | None) -> list[str]:
    """Text but for whitespace, which mail-bound HTML may change."""
    return (text or "").split()


async def test_subject_and_bodies_read_back_as_sent(mode: str) -> None:
    with make_fake(tickets=20).running() as fake:
        assert isinstance(fake, FakeThulium)
        settings = unthrottled(load_settings(env_for(fake), known_tools=TOOL_NAMES))
        async with connect(settings, mode) as client:
            created = await ok(
                client,
                "create_ticket",
                {"subject": SUBJECT, "body": BODY, "requester_email": "ola@example.pl"},
            )
            assert "not_stored" not in created
            ref = created["ticket"]
            reply = await ok(client, "reply_ticket", {"ticket": ref, "body": REPLY})
            ticket = await ok(client, "get_ticket", {"ticket": ref})

    assert ticket["subject"] == SUBJECT
    first, answer = ticket["messages"]
    assert (first["kind"], answer["kind"], answer["id"]) == ("customer", "agent", reply["message_id"])
    assert words(first["body"]) == words(BODY)
    assert first["body"].endswith("\n    wcięty wiersz"), "indentation survives"
    assert words(answer["body"]) == words(REPLY)
    assert "\n" in answer["body"], "line breaks survive"


async def test_a_field_thulium_has_no_place_for_is_reported_not_stored(mode: str) -> None:
    with make_fake(tickets=20).running() as fake:
        assert isinstance(fake, FakeThulium)
        settings = unthrottled(load_settings(env_for(fake), known_tools=TOOL_NAMES))
        async with connect(settings, mode) as client:
            created = await ok(
                client,
                "create_ticket",
                {"subject": "Pilne", "body": "Brak dostawy.", "requester_name": "Ewa", "priority": "urgent"},
            )
    assert created["ticket"].startswith("thulium:") and created["status"] == "new"
    assert [(item["field"], item["reason"]) for item in created["not_stored"]] == [
        ("priority", "Thulium tickets have no priority; not sent."),
        ("requester_name", "Thulium knows a ticket's sender by e-mail address only (`from`); not sent."),
    ]
