"""An agent works a several-hundred-ticket UseDesk account through the installed server over stdio.

Only UseDesk is configured, by its environment variables, with its default pace of 2 requests a
second; afterwards every request UseDesk received is checked against its documentation.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.conftest import child_env, console_script
from tests.fakes.usedesk import UsedeskFake, env_for, make_fake
from tests.usedesk.conftest import body

pytestmark = pytest.mark.anyio

DOCUMENTED = {"/tickets", "/ticket", "/create/ticket", "/create/comment", "/update/ticket"}
MINUTE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
BODY = "Zażółć gęślą jaźń — «Привет», 👩‍💻!\nIf 5 < 6 && <b>literal</b>, it stays so."
SCAN = b"%PDF-1.4\x00\x01\xff scan of the receipt"


async def ok(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    structured: dict[str, Any] = result.structured_content  # type: ignore[assignment]
    return structured


def rich_thread(fake: UsedeskFake) -> int:
    return next(
        t.id
        for t in fake.newest_first()
        if {c.origin for c in t.comments} == {"client", "user", "trigger"}
        and any(c.type == "private" for c in t.comments)
        and "zamówienie" in t.comments[0].message
    )


async def test_an_agent_works_a_usedesk_account_over_stdio(tmp_path: Path) -> None:
    with make_fake().running() as running:
        assert isinstance(running, UsedeskFake)
        fake = running
        # The account from the environment, as a user gives it; the request rate from a file (the one place
        # it is set), lifted so that the test does not wait on UseDesk's 2 a second.
        config = tmp_path / "helpdesk.toml"
        config.write_text(
            '[backends.usedesk]\ntype = "usedesk"\napi_token = "${USEDESK_API_TOKEN}"\n'
            'url = "${USEDESK_URL}"\nuser_id = "${USEDESK_USER_ID}"\nrequests_per_second = 1000\n'
        )
        env = dict(child_env(tmp_path, **env_for(fake), HELPDESK_CONFIG=str(config)))
        server = StdioServerParameters(command=console_script(), args=[], env=env)
        async with Client(server, mode="auto") as client:
            backends = json.loads((await client.read_resource("helpdesk://backends")).contents[0].text)  # type: ignore[union-attr]
            assert [(b["name"], b["type"]) for b in backends["backends"]] == [("usedesk", "usedesk")]

            # Every ticket, 100 at a time, each exactly once.
            seen: list[str] = []
            arguments: dict[str, Any] = {"limit": 100}
            while True:
                page = await ok(client, "search_tickets", arguments)
                seen += [t["ref"] for t in page["tickets"]]
                if "next_cursor" not in page:
                    break
                arguments["cursor"] = page["next_cursor"]
            assert len(seen) == len(set(seen)) == len(fake.tickets) == 300
            assert set(seen) == {f"usedesk:{i}" for i in fake.tickets}

            # Filtered by status and by UseDesk's own text search.
            pending = await ok(client, "search_tickets", {"status": ["pending"], "limit": 100})
            assert {t["ref"] for t in pending["tickets"]} == {
                f"usedesk:{t.id}" for t in fake.tickets.values() if t.status_id == 6
            }
            found = await ok(client, "search_tickets", {"query": "BLIK"})
            assert found["tickets"] and all("BLIK" in t["subject"] for t in found["tickets"])

            # A thread with every kind of message, every character intact.
            rich = rich_thread(fake)
            thread = await ok(client, "get_ticket", {"ticket": f"usedesk:{rich}"})
            assert {"customer", "agent", "internal_note", "system"} <= {m["kind"] for m in thread["messages"]}
            first = thread["messages"][0]
            assert "pęknięta obudowa, brakuje ładowarki" in first["body"]

            # Open a ticket with a file, then reply, note, set the status and attach a file.
            created = await ok(
                client,
                "create_ticket",
                {
                    "subject": "Zwrot: «uszkodzony» czajnik",
                    "body": BODY,
                    "requester_email": "ola@example.pl",
                    "requester_name": "Ola Nowak",
                    "attachments": [
                        {"filename": "paragon.pdf", "content_base64": base64.b64encode(SCAN).decode()}
                    ],
                },
            )
            ref = created["ticket"]
            # UseDesk does not keep files sent with a new ticket; they follow in an internal note.
            [moved] = created["not_stored"]
            assert (moved["field"], moved["name"]) == ("attachments", "paragon.pdf")
            assert "internal note" in moved["stored"]
            [scan] = created["attachments"]
            blob = (await client.read_resource(scan["uri"])).contents[0]
            assert base64.b64decode(blob.blob) == SCAN  # type: ignore[union-attr]
            whole = await ok(client, "get_ticket", {"ticket": ref})
            assert whole["messages"][0]["body"] == BODY

            reply = await ok(client, "reply_ticket", {"ticket": ref, "body": "Zwrot zlecony."})
            note = await ok(
                client, "reply_ticket", {"ticket": ref, "body": "Refund approved.", "internal": True}
            )
            solved = await ok(client, "reply_ticket", {"ticket": ref, "body": "Gotowe.", "status": "solved"})
            log = base64.b64encode("ошибка 502\n".encode()).decode()
            attached = await ok(
                client,
                "attach_file",
                {"ticket": ref, "filename": "журнал.log", "content_base64": log, "message": "Лог."},
            )
            assert (reply["kind"], note["kind"], solved["status"]) == ("agent", "internal_note", "solved")
            assert [a["filename"] for a in attached["attachments"]] == ["журнал.log"]

            final = await ok(client, "get_ticket", {"ticket": ref})
            assert final["status"] == "solved"
            assert [(m["kind"], m.get("body")) for m in final["messages"] if m["kind"] != "system"] == [
                ("customer", BODY),
                ("internal_note", "Files sent with the ticket when it was opened: paragon.pdf"),
                ("agent", "Zwrot zlecony."),
                ("internal_note", "Refund approved."),
                ("agent", "Gotowe."),
                ("agent", "Лог."),
            ]

    assert_as_documented(fake)


def assert_as_documented(fake: UsedeskFake) -> None:
    """Every request: a documented method, the token in the body, no nulls, UseDesk's own encodings."""
    api = [r for r in fake.requests if r.method == "POST"]
    assert {r.path for r in api} <= DOCUMENTED
    assert all(r.method == "POST" or r.path.startswith("/files/") for r in fake.requests)
    for request in api:
        sent = body(request)
        assert sent["api_token"] == fake.token, "the token travels in the body"
        assert None not in sent.values()
        if request.path == "/tickets":
            assert type(sent["offset"]) is int and sent["offset"] >= 0, "offset is a page index"
            assert all(MINUTE.fullmatch(sent[k]) for k in sent if k.endswith(("_before", "_after")))
            assert "fstatus" not in sent or re.fullmatch(r"\d+(,\d+)*", sent["fstatus"])
        if request.path == "/create/comment":
            assert sent["type"] in ("public", "private") and sent["from"] == "user"
            assert str(sent["user_id"]) == str(fake.agent_id)
        if request.path in ("/create/ticket", "/create/comment") and request.files():
            assert set(request.files()) == {"files[]"}
    replies = [body(r) for r in api if r.path == "/create/comment"]
    assert [r["type"] for r in replies] == ["private", "public", "private", "public", "public"]
    [update] = [body(r) for r in api if r.path == "/update/ticket"]
    assert update["status"] == 2
