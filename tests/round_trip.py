"""Round-trip through a real MCP client: what an agent sends reads back the same (issue 15 item 13).

Shared by each backend's round-trip test. Polish and Russian text, characters that look like markup,
quotes, runs of spaces and line breaks go out through create_ticket and reply_ticket and are read back
through get_ticket.
"""

from __future__ import annotations

from typing import Any

from mcp import Client

SUBJECT = 'Zwrot zamówienia 1042 — «Возврат» & <tag> "cudzysłów" 📦'
BODY = (
    "Dzień dobry,\n\nзаказ №1042 не пришёл. Dwie  spacje & <tag> \"cudzysłów\" 'apostrof'.\n"
    "Ёлка, żółw, Łódź: 5 < 6 && 7 > 6.\n\n    wcięty wiersz"
)
REPLY = 'Здравствуйте! Zwrot zlecony: 1 500 ₽ < 2 000 zł & "szybko".\nПроверим <b>сегодня</b>.'
NOTE = "Notatka: klient dzwonił 2× — перезвонить завтра."


async def ok(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    structured: dict[str, Any] = result.structured_content  # type: ignore[assignment]
    return structured


def same(read: str | None, sent: str) -> bool:
    """Equal but for whitespace, the one change every helpdesk may make to text."""
    return " ".join((read or "").split()) == " ".join(sent.split())


async def assert_round_trip(client: Client, backend: str, **create: Any) -> dict[str, Any]:
    """Opens a ticket, replies and adds a note; each reads back as sent. Returns the ticket as read."""
    created = await ok(
        client, "create_ticket", {"backend": backend, "subject": SUBJECT, "body": BODY, **create}
    )
    assert "not_stored" not in created, created["not_stored"]
    ref = created["ticket"]
    reply = await ok(client, "reply_ticket", {"ticket": ref, "body": REPLY})
    note = await ok(client, "reply_ticket", {"ticket": ref, "body": NOTE, "internal": True})
    assert "not_stored" not in reply and "not_stored" not in note

    ticket = await ok(client, "get_ticket", {"ticket": ref})
    assert ticket["subject"] == SUBJECT
    written = [(m["kind"], m.get("body")) for m in ticket["messages"] if m["kind"] != "system"]
    assert [kind for kind, _ in written] == ["customer", "agent", "internal_note"], written
    for (_, read), sent in zip(written, (BODY, REPLY, NOTE), strict=True):
        assert same(read, sent), f"{read!r} was sent as {sent!r}"
    return ticket
