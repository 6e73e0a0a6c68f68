"""The extension's JSON as PHP leaves it, read whatever shape each field arrives in."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from helpdesk_mcp.adapters.osticket.statuses import StatusMap
from helpdesk_mcp.adapters.osticket.wire import parse_ticket

WARSAW = ZoneInfo("Europe/Warsaw")


def test_mixed_shapes_are_tolerated() -> None:
    raw = {
        "ticket_number": 849510,
        "subject": "Zwrot",
        "status": {"id": 3, "name": "Closed"},
        "statusId": "3",
        "priority": "Emergency",
        "department": "Sales",
        "create_timestamp": "2026-07-01 10:00:00",
        "user_name": {"format": "original", "parts": {"first": "Анна", "last": "Иванова"}},
        "user_email": "anna@example.ru",
        "close_timestamp": "0000-00-00 00:00:00",
        "last_message_timestamp": "2026-07-02 12:30:00",
        "last_response_timestamp": None,
        "assigned_to": ["Level II Support"],
        "thread_entries": [
            {"id": "7", "type": "M", "user_id": "5", "poster": "Анна", "body": "<p>Добрый&nbsp;день</p>",
             "format": "html", "created": "2026-07-01 10:00:00", "has_attachments": "2"},
            {"model": {"id": 9, "type": "X", "poster": "cron", "message": {"body": "Merged", "type": "text"},
                       "created": "2026-07-02 12:30:00"}, "annotations": {}},
        ],
    }  # fmt: skip
    ticket = parse_ticket(raw, backend="osticket", statuses=StatusMap("osticket", {}, {}), zone=WARSAW)
    assert ticket.ref == "osticket:849510" and ticket.status == "closed" and ticket.status_label is None
    assert ticket.priority == "urgent" and ticket.queue == "Sales"
    assert ticket.requester is not None
    assert (ticket.requester.name, ticket.requester.email) == ("Анна Иванова", "anna@example.ru")
    assert ticket.assignee is not None and ticket.assignee.name == "Level II Support"
    assert ticket.created_at == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    assert ticket.updated_at == datetime(2026, 7, 2, 10, 30, tzinfo=UTC)
    first, other = ticket.messages
    assert (first.kind, first.body, len(first.attachments)) == ("customer", "Добрый день", 2)
    assert first.author is not None and first.author.id == "5"
    assert (other.kind, other.body) == ("system", "Merged")
