"""One-line fields a vendor sends are capped in what the model reads, saying how much was cut.

A helpdesk holds whatever its users and integrations wrote: a 300,000-character subject must not make a
search result of half a million characters. The ticket's ref stays whole, so it can still be read.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from helpdesk_mcp.server.views import FILENAME_CHARS, NAME_CHARS, SUBJECT_CHARS, TAG_CHARS
from tests.conftest import connect, unthrottled
from tests.fakes import usedesk
from tests.fakes.thulium import env_for, make_fake

pytestmark = pytest.mark.anyio

HUGE = 300_000


async def test_a_huge_vendor_subject_tag_and_file_name_are_capped_with_a_marker() -> None:
    with make_fake(tickets=20).running() as fake:
        ticket = fake.tickets[fake.showcase_id]
        ticket.subject = "Zwrot " + "x" * HUGE
        ticket.tags = ["faktura", "t" * HUGE]
        settings = unthrottled(load_settings(env_for(fake), known_tools=TOOL_NAMES))
        async with connect(settings, "auto") as client:
            found = await client.call_tool("search_tickets", {"limit": 20})
            read = await client.call_tool("get_ticket", {"ticket": f"thulium:{fake.showcase_id}"})
    assert not found.is_error and not read.is_error
    found_text: str = found.content[0].text  # type: ignore[union-attr]
    read_text: str = read.content[0].text  # type: ignore[union-attr]
    assert len(found_text) < 30_000 and len(read_text) < 30_000
    shown: dict[str, Any] = next(
        t for t in json.loads(found_text)["tickets"] if t["ref"] == f"thulium:{fake.showcase_id}"
    )
    cut = len("Zwrot ") + HUGE - SUBJECT_CHARS
    assert shown["subject"] == "Zwrot " + "x" * (SUBJECT_CHARS - 6) + f"…[+{cut:,} chars]"
    assert shown["tags"] == ["faktura", "t" * TAG_CHARS + f"…[+{HUGE - TAG_CHARS:,} chars]"]
    assert json.loads(read_text)["subject"] == shown["subject"]


async def test_a_huge_file_name_and_customer_name_are_capped_too() -> None:
    with usedesk.make_fake().running() as fake:
        ticket = max(fake.tickets.values(), key=lambda t: t.updated_at)
        fake.clients[ticket.client_id].name = "N" * HUGE
        token = fake.store_file("f" * HUGE + ".pdf", "application/pdf", b"%PDF-1.4")
        ticket.comments[0].files.append(token)
        settings = unthrottled(load_settings(usedesk.env_for(fake), known_tools=TOOL_NAMES))
        async with connect(settings, "auto") as client:
            read = await client.call_tool("get_ticket", {"ticket": f"usedesk:{ticket.id}"})
    text: str = read.content[0].text  # type: ignore[union-attr]
    assert not read.is_error and len(text) < 30_000, text[:300]
    whole = json.loads(text)
    names = [a["filename"] for m in whole["messages"] for a in m.get("attachments", [])]
    assert "f" * FILENAME_CHARS + f"…[+{HUGE + 4 - FILENAME_CHARS:,} chars]" in names
    assert whole["requester"]["name"] == "N" * NAME_CHARS + f"…[+{HUGE - NAME_CHARS:,} chars]"
