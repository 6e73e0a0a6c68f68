"""Every tool, through a real MCP client, against each backend under test (see conftest.py).

The suite reads each backend's capabilities and expects a clear error, never a silent success,
where a backend cannot do something.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from mcp import Client

from helpdesk_mcp.adapters.cursor import BAD_CURSOR
from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.capabilities import CUSTOMER, creatable, create_only, scoped
from tests.conftest import connect, unthrottled

pytestmark = pytest.mark.anyio

REPORT = b"%PDF-1.4 quarterly report \x00\x01\x02 not really a pdf"
LOG = b"2026-11-23 ERROR payment gateway timeout\n"


@pytest.fixture
async def client(backend_env: Mapping[str, str], mode: str) -> AsyncIterator[Client]:
    settings = unthrottled(load_settings(backend_env, known_tools=TOOL_NAMES))
    async with connect(settings, mode) as connected:
        yield connected


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.is_error, text
    assert result.structured_content is not None
    assert json.loads(text) == result.structured_content, (
        "text and structured content must carry the same JSON"
    )
    return result.structured_content


async def error_of(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} {arguments} should have failed"
    text: str = result.content[0].text  # type: ignore[union-attr]
    return text


async def capabilities(client: Client) -> dict[str, Any]:
    contents = (await client.read_resource("helpdesk://backends")).contents
    document = json.loads(contents[0].text)  # type: ignore[union-attr]
    assert len(document["backends"]) == 1, "the conformance suite serves one backend at a time"
    caps: dict[str, Any] = document["backends"][0]["capabilities"]
    return caps


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_ticket_lifecycle_is_reflected_when_read_again(client: Client) -> None:
    caps = await capabilities(client)
    created = await call(
        client,
        "create_ticket",
        creatable(
            caps,
            {
                "subject": "Printer on floor 3 eats paper",
                "body": "Since Monday the printer jams on every second page.",
                "requester_email": "ola@example.com",
                "requester_name": "Ola Nowak",
                "priority": "high",
                "tags": ["hardware"],
                "attachments": [{"filename": "report.pdf", "content_base64": b64(REPORT)}],
            },
        ),
    )
    ref = created["ticket"]
    assert ref.count(":") == 1 and created["status"] in {"new", "open"}
    if create_only(caps):
        message = await error_of(client, "get_ticket", {"ticket": ref})
        assert ref in message and "\n" not in message
        return

    words = "printer jams" if caps["full_text_search"] else "printer floor"  # else subjects only
    found = await call(client, "search_tickets", scoped(caps, {"query": words}))
    assert ref in [t["ref"] for t in found["tickets"]]

    ticket = await call(client, "get_ticket", {"ticket": ref})
    assert ticket["subject"] == "Printer on floor 3 eats paper"
    assert ticket["messages"][0]["kind"] == "customer"
    assert "jams on every second page" in ticket["messages"][0]["body"]
    # The file is on the opening message, or the create said where it was stored instead (UseDesk keeps
    # files sent with a new ticket in a note of their own).
    if any(n["field"] == "attachments" and n.get("stored") for n in created.get("not_stored", [])):
        [first_file] = [a for m in ticket["messages"] for a in m.get("attachments", [])]
    else:
        [first_file] = ticket["messages"][0]["attachments"]
    assert first_file["filename"] == "report.pdf"

    if caps["attachment_download"]:
        blob = (await client.read_resource(first_file["uri"])).contents[0]
        assert base64.b64decode(blob.blob) == REPORT  # type: ignore[union-attr]

    reply = await call(client, "reply_ticket", {"ticket": ref, "body": "We are sending a technician today."})
    # On a customer-side backend (the account's own tickets with a vendor), a reply is the customer's.
    assert reply["kind"] == ("customer" if caps.get("customer_side") else "agent") and reply["ticket"] == ref

    if caps["internal_notes"]:
        note = await call(
            client,
            "reply_ticket",
            {"ticket": ref, "body": "Roller worn out, part ordered.", "internal": True},
        )
        assert note["kind"] == "internal_note"
    else:
        message = await error_of(client, "reply_ticket", {"ticket": ref, "body": "x", "internal": True})
        assert "internal" in message

    if caps["status_on_reply"]:
        solved = await call(
            client, "reply_ticket", {"ticket": ref, "body": "Fixed: new roller fitted.", "status": "solved"}
        )
        assert solved["status"] == "solved"

    # Without a message, the file travels with its name as the text, whatever the backend.
    attached = await call(
        client, "attach_file", {"ticket": ref, "filename": "gateway.log", "content_base64": b64(LOG)}
    )
    assert [a["filename"] for a in attached["attachments"]] == ["gateway.log"]

    again = await call(client, "get_ticket", {"ticket": ref})
    bodies = [m.get("body", "") for m in again["messages"]]
    assert "We are sending a technician today." in bodies
    if caps["internal_notes"]:
        notes = [m for m in again["messages"] if m["kind"] == "internal_note"]
        assert [n["body"] for n in notes][-1:] == ["Roller worn out, part ordered."]
    if caps["status_on_reply"]:
        assert again["status"] == "solved"
    files = [a["filename"] for m in again["messages"] for a in m.get("attachments", [])]
    assert files == ["report.pdf", "gateway.log"]
    [carrier] = [
        m for m in again["messages"] if m.get("attachments", [{}])[0].get("filename") == "gateway.log"
    ]
    assert carrier["body"] == "gateway.log"


BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("get_ticket", {"ticket": "nosuch:1"}, "not configured"),
    ("get_ticket", {"ticket": "no-colon-here"}, "not a ticket ref"),
    ("create_ticket", {"subject": "   ", "body": "text"}, "subject"),
    ("search_tickets", {"limit": 10000}, "limit"),
    ("search_tickets", {"limit": 0}, "limit"),
    ("search_tickets", {"cursor": "bm90IG91cnM"}, "cursor"),
    ("reply_ticket", {"ticket": "local:1", "body": ""}, "body"),
    ("attach_file", {"ticket": "local:1", "filename": "a.txt", "content_base64": "%%%"}, "base64"),
    ("attach_file", {"ticket": "local:1", "filename": "a.txt", "path": "/etc/passwd"}, "content_base64"),
]


async def test_bad_input_gets_one_sentence_and_the_server_keeps_serving(client: Client) -> None:
    """Every bad input in turn, on one connection: each must leave it serving the next."""
    contents = (await client.read_resource("helpdesk://backends")).contents
    name = json.loads(contents[0].text)["backends"][0]["name"]  # type: ignore[union-attr]
    scope = scoped(await capabilities(client), {"limit": 1})
    for tool, arguments, expected in BAD_INPUTS:
        case = f"{tool} {arguments}"
        # A ref of the backend under test, so the input is what fails.
        if arguments.get("ticket") == "local:1":
            arguments = {**arguments, "ticket": f"{name}:1"}
        message = await error_of(client, tool, arguments)
        assert expected in message, f"{case}: {message}"
        assert "\n" not in message and "Traceback" not in message and "Error executing tool" not in message, (
            f"{case}: {message}"
        )
        assert message.endswith("."), f"{case}: {message}"
        listed = await call(client, "search_tickets", scope)
        assert "tickets" in listed, case


async def test_unknown_ticket_is_not_found(client: Client) -> None:
    caps = await capabilities(client)
    created = await call(
        client,
        "create_ticket",
        creatable(caps, {"subject": "Exists", "body": "So the backend name is known.", **CUSTOMER}),
    )
    name = created["ticket"].partition(":")[0]
    message = await error_of(client, "get_ticket", {"ticket": f"{name}:987654321"})
    assert "987654321" in message and "\n" not in message


async def test_search_pages_through_every_ticket_once(client: Client) -> None:
    caps = await capabilities(client)
    if not caps["search"]:
        pytest.skip("this backend cannot list tickets")
    words = "pagetest" if caps["full_text_search"] else "Paging"  # else subjects only
    refs = []
    for number in range(5):
        created = await call(
            client,
            "create_ticket",
            creatable(caps, {"subject": f"Paging {number}", "body": "pagetest body", **CUSTOMER}),
        )
        refs.append(created["ticket"])
    seen: list[str] = []
    updated: list[str] = []
    cursor = None
    for _ in range(10):
        arguments: dict[str, Any] = scoped(caps, {"query": words, "limit": 2})
        if cursor:
            arguments["cursor"] = cursor
        page = await call(client, "search_tickets", arguments)
        seen.extend(t["ref"] for t in page["tickets"])
        updated.extend(t["updated_at"] for t in page["tickets"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert sorted(seen) == sorted(refs), "each ticket exactly once"
    # Vendors keep times to the second or the minute; among equal times no order is promised.
    assert updated == sorted(updated, reverse=True), "newest update first"


async def test_query_words_match_word_starts_case_and_accents_aside(client: Client) -> None:
    caps = await capabilities(client)
    contents = (await client.read_resource("helpdesk://backends")).contents
    if json.loads(contents[0].text)["backends"][0]["type"] == "usedesk":  # type: ignore[union-attr]
        pytest.skip("UseDesk matches `query` itself, against its own fields")
    if not caps["search"] or "query" not in caps["search_filters"]:
        pytest.skip("this backend cannot search by words")
    subject = "Café résumé kwyjibo printer-cartridge"
    created = await call(
        client, "create_ticket", creatable(caps, {"subject": subject, "body": "x", **CUSTOMER})
    )
    # The same words find the same ticket whichever backend answers (adapters/filtering.py).
    for words, found in (
        ("KWYJIB print", True),
        ("kwyjibo CAFE resume", True),
        ("kwyjibo printer-cart", True),
        ("kwyjibo rinter", False),
        ("kwyjibo toner", False),
    ):
        page = await call(client, "search_tickets", scoped(caps, {"query": words}))
        assert [t["ref"] for t in page["tickets"]] == ([created["ticket"]] if found else []), words


async def test_a_cursor_no_search_returned_is_refused_in_one_sentence(client: Client) -> None:
    caps = await capabilities(client)
    if not caps["search"]:
        pytest.skip("this backend cannot list tickets")
    for number in range(2):
        subject = f"Cursor probe {number}"
        await call(client, "create_ticket", creatable(caps, {"subject": subject, "body": "x", **CUSTOMER}))
    first = await call(client, "search_tickets", scoped(caps, {"query": "Cursor probe", "limit": 1}))
    merged = json.loads(base64.urlsafe_b64decode(first["next_cursor"] + "=="))
    # The backend's own position inside the server's cursor, replaced by one it never wrote.
    merged["p"] = {name: b64(b'["yesterday", -1]').rstrip("=") for name in merged["p"]}
    forged = base64.urlsafe_b64encode(json.dumps(merged).encode()).decode().rstrip("=")
    for cursor in ("garbage!!", forged):
        arguments = scoped(caps, {"query": "Cursor probe", "limit": 1, "cursor": cursor})
        assert await error_of(client, "search_tickets", arguments) == BAD_CURSOR


async def test_results_leave_empty_fields_out(client: Client) -> None:
    caps = await capabilities(client)
    if create_only(caps):
        pytest.skip("this backend cannot read tickets back")
    bare = {"subject": "Bare ticket", "body": "Nothing else given.", **CUSTOMER}
    created = await call(client, "create_ticket", creatable(caps, bare))
    ticket = await call(client, "get_ticket", {"ticket": created["ticket"]})

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                assert value not in (None, [], {}), f"{key} is empty but present"
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(ticket)
    assert "tags" not in ticket and "assignee" not in ticket


async def test_status_filter_and_status_change(client: Client) -> None:
    caps = await capabilities(client)
    if not caps["status_on_reply"] or "status" not in caps["search_filters"]:
        pytest.skip("this backend cannot set or filter status")
    created = await call(
        client,
        "create_ticket",
        creatable(caps, {"subject": "Status probe", "body": "statusprobe", **CUSTOMER}),
    )
    ref = created["ticket"]
    await call(client, "reply_ticket", {"ticket": ref, "body": "Waiting for you.", "status": "pending"})
    words = "statusprobe" if caps["full_text_search"] else "Status probe"  # else subjects only
    pending = await call(client, "search_tickets", scoped(caps, {"query": words, "status": ["pending"]}))
    assert [t["ref"] for t in pending["tickets"]] == [ref]
    solved = await call(client, "search_tickets", scoped(caps, {"query": words, "status": ["solved"]}))
    assert solved["tickets"] == []
