"""Reading a long thread through get_ticket: what is kept whole, what is cut or referred to, and
`messages` to read it in parts or one message whole. Through a real MCP client on the local helpdesk
(and the UseDesk fake, for people the ticket names by id alone)."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from helpdesk_mcp.server.app import build_server
from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import MakeSettings, connect
from tests.fakes.usedesk import AGENTS, env_for, make_fake

pytestmark = pytest.mark.anyio

TEMPLATE = "Thank you for your patience. Our team is looking into this and will write back within a day."


async def read(client: Client, ref: str, **arguments: str) -> dict[str, Any]:
    result = await client.call_tool("get_ticket", {"ticket": ref, **arguments})
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def thread(client: Client, notes: list[str]) -> str:
    request = " ".join(f"request{i}" for i in range(600))  # about 5,000 characters
    created = await client.call_tool("create_ticket", {"subject": "Long one", "body": request})
    ref: str = created.structured_content["ticket"]  # type: ignore[index]
    for number, note in enumerate(notes):
        # A key of its own: the same text sent again on purpose is a second note, not a retry.
        arguments = {"ticket": ref, "body": note, "internal": True, "idempotency_key": f"note-{number}"}
        posted = await client.call_tool("reply_ticket", arguments)
        assert not posted.is_error, posted.content
    return ref


async def test_a_thread_keeps_the_request_long_cuts_the_rest_and_refers_to_repeats(
    make_settings: MakeSettings,
) -> None:
    middle = " ".join(f"detail{i}" for i in range(200))  # about 1,500 characters
    async with connect(make_settings(), "auto") as client:
        ref = await thread(client, [middle, TEMPLATE, TEMPLATE, f"New words.\n{TEMPLATE}"])
        first, long_note, said, again, quoted = (await read(client, ref))["messages"]

        assert len(first["body"]) > 1900 and "more characters" in first["body"]
        assert first["body"].startswith("request0 ") and 600 < len(first["body"]) < 2200
        assert long_note["body"].startswith("detail0 ") and len(long_note["body"]) < 700
        assert f"get_ticket messages={long_note['id']!r} reads it whole" in long_note["body"]
        assert said["body"] == TEMPLATE
        assert again["body"] == (
            f"[… same text as message {said['id']!r}; get_ticket messages={again['id']!r} reads it whole]"
        )
        assert quoted["body"].startswith("New words.\n[… message ")
        assert TEMPLATE not in quoted["body"]

        whole = (await read(client, ref, messages=again["id"]))["messages"]
        assert [m["body"] for m in whole] == [TEMPLATE]
        assert (await read(client, ref, messages=long_note["id"]))["messages"][0]["body"] == middle


async def test_messages_last_n_reads_the_end_of_a_thread_and_counts_what_it_left_out(
    make_settings: MakeSettings,
) -> None:
    async with connect(make_settings(), "auto") as client:
        ref = await thread(client, ["One.", "Two.", "Three."])
        whole = await read(client, ref)
        last = await read(client, ref, messages="last:2")
        assert [m["body"] for m in last["messages"]] == ["Two.", "Three."]
        assert last["earlier"] == 2 and "earlier" not in whole
        assert last["messages"] == whole["messages"][-2:], "a message reads the same in any part"
        assert len((await read(client, ref, messages="last:50"))["messages"]) == 4


@pytest.mark.parametrize("selector", ["last:0", "first:2", "no-such-message", "last:x"])
async def test_a_selector_that_names_nothing_is_refused_with_what_to_pass(
    make_settings: MakeSettings, selector: str
) -> None:
    async with connect(make_settings(), "auto") as client:
        ref = await thread(client, ["One."])
        result = await client.call_tool("get_ticket", {"ticket": ref, "messages": selector})
        text = result.content[0].text  # type: ignore[union-attr]
        assert result.is_error and "'last:N'" in text and selector in text and "\n" not in text


async def test_people_are_named_once_and_messages_name_them_by_key(make_settings: MakeSettings) -> None:
    async with connect(make_settings(), "auto") as client:
        ref = await thread(client, ["One.", "Two."])
        shown = await read(client, ref)
    keys = {"requester", "assignee", *shown.get("people", {})}
    authors = [m["by"] for m in shown["messages"] if "by" in m]
    assert authors and set(authors) <= keys
    assert "by" not in shown["messages"][0], "the requester's own message names no author"
    named = [
        p for p in [shown.get("requester"), shown.get("assignee"), *shown.get("people", {}).values()] if p
    ]
    assert all("id" not in p for p in named if "name" in p or "email" in p)


async def test_an_assignee_known_by_id_is_named_by_what_their_own_message_says() -> None:
    """UseDesk's ticket names its assignee by id alone; their reply in the thread carries their name
    and address, so the ticket shows the assignee by name and their messages as `by: assignee`."""
    fake = make_fake(rate_limit=10**9, query_limit=10**9)
    seeded = next(
        t for t in fake.tickets.values() if any(c.user_id == t.assignee_id for c in t.comments if c.user_id)
    )
    name, email = AGENTS[seeded.assignee_id or 0]
    with fake.running():
        settings = load_settings(env_for(fake), known_tools=TOOL_NAMES)
        async with Client(build_server(settings), mode="legacy") as client:  # type: ignore[arg-type]
            shown = await read(client, f"{settings.backends[0].name}:{seeded.id}")
    assert shown["assignee"] == {"name": name, "email": email}
    by_assignee = [m for m in shown["messages"] if m.get("by") == "assignee"]
    assert by_assignee and not any(p.get("name") == name for p in shown.get("people", {}).values())
