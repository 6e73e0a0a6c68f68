"""Whatever JSON type a vendor sends in a field, reading the ticket does not fail on it.

Each vendor's wire models read loose types (ids as numbers or strings, numbers as strings, one object
where a list is expected); a value of a kind no vendor sends reads as if the field were absent. Only
the fields without which there is no ticket may refuse, and then with the vendor's own error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from helpdesk_mcp.adapters.errors import UnavailableError
from helpdesk_mcp.adapters.model import Ticket
from helpdesk_mcp.adapters.osticket.statuses import StatusMap as OsticketStatuses
from helpdesk_mcp.adapters.osticket.wire import parse_ticket
from helpdesk_mcp.adapters.plusofon.wire import ShapeError, Statuses, read_ticket
from helpdesk_mcp.adapters.thulium.attachments import AttachmentNames
from helpdesk_mcp.adapters.thulium.statuses import StatusMap as ThuliumStatuses
from helpdesk_mcp.adapters.thulium.wire import Reader, ThuliumTicket
from helpdesk_mcp.adapters.usedesk import wire as usedesk
from helpdesk_mcp.adapters.usedesk.statuses import StatusMap as UsedeskStatuses

ZONE = ZoneInfo("Europe/Warsaw")
JUNK: list[Any] = [None, True, [], {}, 0, 1.5, "", ["x"], {"a": 1}]
# How a junk value would show if it leaked into the ticket as text.
LEAKS = ("True", "{'a'", "['x']", '"[]"', '"{}"')

THULIUM = {
    "ticket_id": "23962",
    "subject": "Zwrot",
    "status_id": 2,
    "full_status_name": "Otwarte",
    "from": "anna@example.pl",
    "customer_id": "17",
    "user_login": "bok",
    "ticket_queue_name": "BOK",
    "tags": ["faktura"],
    "created_at": "2026-07-01 10:00",
    "updated_at": "2026-07-01 11:00:00",
    "custom_fields": {"NIP": "123"},
    "messages": [
        {"message_id": "5", "type": "MAIL", "body": "<p>Dzień dobry</p>", "created_at": "2026-07-01 10:00",
         "attachments": [7]},
        {"message_id": 6, "type": "COMMENT", "user_login": "bok", "comment": "", "system_comment": "Status",
         "created_at": "2026-07-01 11:00"},
    ],
}  # fmt: skip
USEDESK = {
    "ticket": {
        "id": "2265179", "subject": "Refund", "status_id": 1, "priority": "urgent", "client_id": 5,
        "client_name": "Anna", "email": "anna@example.com", "assignee_id": "9", "group": {"id": 3},
        "published_at": "2026-07-01 10:00:00", "last_updated_at": "2026-07-01 11:00:00",
    },
    "comments": [
        {"id": 11, "type": "public", "from": "client", "message": "<p>Hi</p>", "client": {"name": "Anna",
         "emails": [{"email": "anna@example.com"}]}, "files": [{"file": "https://x/a.pdf", "name": "a.pdf"}],
         "published_at": "2026-07-01 10:00:00"},
    ],
    "changes": [{"id": 3, "old_status": 8, "new_status": "1", "changed_at": "2026-07-01 10:30:00",
                 "data": [{"target": "priority", "value": "urgent"}]}],
    "tags": [{"name": "vip"}],
    "custom_fields": [{"ticket_field_id": 4, "value": "Gold"}],
}  # fmt: skip
OSTICKET = {
    "ticket_number": 849510,
    "subject": "Zwrot",
    "ticket_status": {"name": "Open"},
    "priority": "High",
    "department": "Sales",
    "create_timestamp": "2026-07-01 10:00:00",
    "user_name": {"parts": {"first": "Анна", "last": "Иванова"}},
    "user_email": {"email": "anna@example.ru"},
    "assigned_to": [{"name": "Jan Kowalski"}],
    "thread_entries": [
        {"model": {"id": 9, "type": "M", "user_id": 5, "user_name": "Анна", "body": "<p>Добрый день</p>",
                   "format": "html", "created": "2026-07-01 10:00:00"},
         "annotations": {"has_attachments": 1}},
    ],
}  # fmt: skip
PLUSOFON = {
    "id": "1042",
    "status": "1",
    "subject": "Звонки",
    "date": "2026-07-01 10:00:00",
    "unread_messages": "0",
    "posts": {
        "post": {"id": "1", "date": "2026-07-01 10:00:00", "author": {"id": "7", "name": "anna@example.ru"},
                 "text": "Не работает", "attachments": {"attachment": {"id": "3", "filename": "log.txt"}}},
    },
}  # fmt: skip

Read = Callable[[dict[str, Any]], Ticket]


def _thulium(raw: dict[str, Any]) -> Ticket:
    reader = Reader("thulium", ZONE, ThuliumStatuses("thulium", {}), AttachmentNames())
    return reader.ticket(ThuliumTicket.model_validate(raw))


def _usedesk(raw: dict[str, Any]) -> Ticket:
    return usedesk.ticket(
        usedesk.TicketDocument.model_validate(raw), "usedesk", UsedeskStatuses("usedesk", {})
    )


def _osticket(raw: dict[str, Any]) -> Ticket:
    return parse_ticket(raw, backend="osticket", statuses=OsticketStatuses("osticket", {}, {}), zone=ZONE)


def _plusofon(raw: dict[str, Any]) -> Ticket:
    return read_ticket(raw, backend="plusofon", statuses=Statuses(open="open", closed="closed"), zone=ZONE)


# vendor: (reader, document, where its messages are, fields without which there is no ticket, the error)
VENDORS: dict[str, tuple[Read, dict[str, Any], tuple[str, ...], set[str], type[Exception]]] = {
    "thulium": (_thulium, THULIUM, ("messages", 0), {"ticket_id"}, UnavailableError),
    "usedesk": (_usedesk, USEDESK, ("comments", 0), set(), Exception),
    "osticket": (_osticket, OSTICKET, ("thread_entries", 0, "model"), set(), Exception),
    "plusofon": (_plusofon, PLUSOFON, ("posts", "post"), {"id", "posts", "message.id"}, ShapeError),
}


def _variants(document: dict[str, Any], message_at: tuple[str | int, ...]) -> Iterator[tuple[str, Any, Any]]:
    """(field, junk, document with that field of the ticket or of its first message replaced by junk)."""
    for key in document:
        for junk in JUNK:
            yield key, junk, {**document, key: junk}
    message: Any = document
    for step in message_at:
        message = message[step]
    for key in message:
        for junk in JUNK:
            changed: Any = {**document}
            parent = changed
            for step in message_at[:-1]:
                parent[step] = list(parent[step]) if isinstance(parent[step], list) else {**parent[step]}
                parent = parent[step]
            parent[message_at[-1]] = {**message, key: junk}
            yield f"message.{key}", junk, changed


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_a_field_of_any_type_reads_as_absent_or_is_refused_in_the_vendors_words(vendor: str) -> None:
    read, document, message_at, required, refusal = VENDORS[vendor]
    assert read(document).messages, "the sample must read whole before it is spoiled"
    for field, junk, spoiled in _variants(document, message_at):
        try:
            ticket = read(spoiled)
        except refusal:
            assert field in required, f"{vendor}: {field}={junk!r} refused the ticket"
            continue
        shown = ticket.model_dump_json()
        assert not any(leak in shown for leak in LEAKS), f"{vendor}: {field}={junk!r} read as text: {shown}"
