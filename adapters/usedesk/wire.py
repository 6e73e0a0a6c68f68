"""UseDesk's JSON turned into the normalized model, and our text turned into what UseDesk stores.

UseDesk is loose about types: the same field arrives as a number in one answer and as a string in
another (`"id": "2265179"` in `/ticket`, `"id": 2992803` in `/tickets`), and `0`, `"0"` or `null`
all mean "none". Everything here tolerates both. Times are `YYYY-MM-DD HH:MM:SS` in UTC+0: UseDesk
documents that its API ignores the account's own time zone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from ..model import Attachment, Message, MessageKind, Person, Priority, Ticket, TicketSummary, make_ref
from ..text import to_plain_text
from .statuses import StatusMap

PRIORITY_FROM_USEDESK: dict[str, Priority] = {
    "low": "low",
    "medium": "normal",
    "urgent": "high",
    "extreme": "urgent",
}
PRIORITY_TO_USEDESK: dict[Priority, str] = {ours: theirs for theirs, ours in PRIORITY_FROM_USEDESK.items()}
STATUS_NAMES = {
    "1": "Open",
    "2": "Solved",
    "3": "Closed",
    "4": "Deleted",
    "5": "On hold",
    "6": "Pending",
    "7": "Spam",
    "8": "New",
    "9": "Newsletter",
    "10": "Merged",
}
_NONE = {"", "0", "null", "none"}
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------------------------------
# Loose values
# ---------------------------------------------------------------------------------------------------


def ident(value: Any) -> str | None:
    """An id as a string; numbers and strings alike, with 0, "0", "" and null meaning none."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(value) if value > 0 else None
    if isinstance(value, str):
        text = value.strip()
        return None if text.lower() in _NONE else text
    return None


def text(value: Any) -> str | None:
    """A non-empty string (numbers written as text), or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def number(value: Any) -> int | None:
    """A whole number from an int or a numeric string (as ids and flags arrive), or None."""
    found = ident(value)
    return int(found) if found is not None and found.isascii() and found.isdigit() else None


def parse_time(value: Any) -> datetime | None:
    """A UseDesk timestamp (UTC+0, without a zone) as an aware UTC datetime; None if absent or invalid."""
    raw = text(value)
    if raw is None or raw.startswith("0000"):
        return None
    for layout in _TIME_FORMATS:
        try:
            return datetime.strptime(raw, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def vendor_minute(moment: datetime, *, up: bool = False) -> str:
    """`moment` as UseDesk's filter format `YYYY-MM-DD HH:MM` (UTC), rounded down or `up` to the minute."""
    moment = moment.astimezone(UTC)
    floor = moment.replace(second=0, microsecond=0)
    if up and floor != moment:
        floor += timedelta(minutes=1)
    return floor.strftime("%Y-%m-%d %H:%M")


def vendor_second(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


# ---------------------------------------------------------------------------------------------------
# Text going out
# ---------------------------------------------------------------------------------------------------


def same_text(stored_html: str, sent_html: str) -> bool:
    """Whether a stored message body is the one we sent, whatever markup UseDesk normalized."""
    return " ".join(to_plain_text(stored_html).split()) == " ".join(to_plain_text(sent_html).split())


# ---------------------------------------------------------------------------------------------------
# Tickets
# ---------------------------------------------------------------------------------------------------


def tag_names(value: Any) -> list[str]:
    """Tags as `[{"name": ...}]` (the list) or plain strings (seen elsewhere), deduplicated."""
    names: list[str] = []
    for item in value if isinstance(value, list) else []:
        name = text(item.get("name") or item.get("tag")) if isinstance(item, Mapping) else text(item)
        if name is not None and name not in names:
            names.append(name)
    return names


def _priority(value: Any) -> Priority | None:
    raw = text(value)
    return PRIORITY_FROM_USEDESK.get(raw.lower()) if raw else None


def _person(person_id: Any, name: Any = None, email: Any = None) -> Person | None:
    found = Person(id=ident(person_id), name=text(name), email=_email(email))
    return found if found.id or found.name or found.email else None


def _email(value: Any) -> str | None:
    found = text(value)
    return found if found is not None and "@" in found else None


def _queue(group: Any) -> str | None:
    # An id, as documented; it has also been seen as an object carrying the id (third-party report).
    group_id = ident(group.get("id")) if isinstance(group, Mapping) else ident(group)
    return f"group {group_id}" if group_id else None


def summary(item: Mapping[str, Any], backend: str, statuses: StatusMap) -> TicketSummary:
    """One element of `/tickets` (its status field is `status`, an id or, rarely, an object)."""
    raw_status = item.get("status")
    if isinstance(raw_status, Mapping):
        raw_status = raw_status.get("id")
    status, label = statuses.read(ident(raw_status))
    return TicketSummary(
        ref=make_ref(backend, ident(item.get("id")) or "0"),
        subject=text(item.get("subject")) or "(no subject)",
        status=status,
        status_label=label,
        priority=_priority(item.get("priority")),
        requester=_person(item.get("client_id"), item.get("client_name")),
        assignee=_person(item.get("assignee_id")),
        queue=_queue(item.get("group")),
        tags=tag_names(item.get("tags")),
        created_at=parse_time(item.get("created_at")),
        updated_at=parse_time(item.get("last_updated_at")) or parse_time(item.get("created_at")),
    )


def ticket(document: Mapping[str, Any], backend: str, statuses: StatusMap) -> Ticket:
    """The answer of `/ticket`: `{ticket, comments, changes, tags, custom_fields}`."""
    head = _mapping(document.get("ticket"))
    ticket_id = ident(head.get("id")) or "0"
    comments = _mappings(document.get("comments"))
    status, label = statuses.read(ident(head.get("status_id")))
    first_client = next((c for c in comments if text(c.get("from")) == "client"), None)
    client_name = head.get("client_name") or (first_client and _client_name(first_client))
    messages = [_comment(c) for c in comments] + [
        m for m in (_change(c) for c in _mappings(document.get("changes"))) if m is not None
    ]
    return Ticket(
        ref=make_ref(backend, ticket_id),
        subject=text(head.get("subject")) or "(no subject)",
        status=status,
        status_label=label,
        priority=_priority(head.get("priority")),
        requester=_person(head.get("client_id"), client_name, head.get("email")),
        assignee=_person(head.get("assignee_id")),
        queue=_queue(head.get("group")),
        tags=tag_names(document.get("tags") or head.get("tags")),
        created_at=parse_time(head.get("published_at")) or parse_time(head.get("created_at")),
        updated_at=parse_time(head.get("last_updated_at")),
        messages=sorted(messages, key=_thread_order),
        custom_fields=_custom_fields(document.get("custom_fields")),
    )


def _thread_order(message: Message) -> tuple[datetime, int, int]:
    # Comments before the changes of the same second: a reply comes before the status change it carries.
    is_change = message.id.startswith("change-")
    serial = number(message.id.removeprefix("change-")) or 0
    return (message.created_at or datetime.min.replace(tzinfo=UTC), int(is_change), serial)


def _custom_fields(value: Any) -> dict[str, str]:
    fields: dict[str, str] = {}
    for field in _mappings(value):
        field_id = ident(field.get("ticket_field_id")) or ident(field.get("id"))
        field_value = text(field.get("value"))
        if field_id and field_value:
            fields[field_id] = field_value
    return fields


# ---------------------------------------------------------------------------------------------------
# Thread
# ---------------------------------------------------------------------------------------------------


def comment_kind(comment: Mapping[str, Any]) -> MessageKind:
    """Private comments are internal notes whoever wrote them; public ones are the client's or an agent's.

    A trigger's public comment (UseDesk posts it as its bot) reached the customer, so it reads as agent.
    """
    if (text(comment.get("type")) or "").lower() == "private":
        return "internal_note"
    return "customer" if (text(comment.get("from")) or "").lower() == "client" else "agent"


def _client_name(comment: Mapping[str, Any]) -> str | None:
    return text(_mapping(comment.get("client")).get("name")) or text(comment.get("client_name"))


def _author(comment: Mapping[str, Any]) -> Person | None:
    origin = (text(comment.get("from")) or "").lower()
    if origin == "client":
        client = _mapping(comment.get("client"))
        emails = client.get("emails")
        email = client.get("email") or (
            _mapping(emails[0]).get("email") if isinstance(emails, list) and emails else None
        )
        return _person(comment.get("client_id") or client.get("id"), _client_name(comment), email)
    if origin == "trigger":
        return Person(name="UseDesk bot")
    user = _mapping(comment.get("user"))
    return _person(comment.get("user_id") or user.get("id"), user.get("name"), user.get("email"))


def attachment_id(comment_id: str, index: int) -> str:
    """UseDesk files have a URL and a name but no id; ours is the comment's id and the file's place."""
    return f"{comment_id}-{index + 1}"


def _files(comment_id: str, value: Any) -> list[Attachment]:
    attachments = []
    for index, entry in enumerate(value if isinstance(value, list) else []):
        url, name = file_location(entry)
        if url is not None:
            attachments.append(Attachment(id=attachment_id(comment_id, index), filename=name))
    return attachments


def find_file(document: Mapping[str, Any], attachment: str) -> tuple[str | None, str] | None:
    """The URL and name of the file `attachment_id` named in a `/ticket` answer, or None."""
    for comment in _mappings(document.get("comments")):
        comment_id = ident(comment.get("id"))
        files = comment.get("files")
        for index, entry in enumerate(files if comment_id and isinstance(files, list) else []):
            if attachment_id(str(comment_id), index) == attachment:
                return file_location(entry)
    return None


def file_location(entry: Any) -> tuple[str | None, str]:
    """The URL and name of one `files[]` element: `{"file": url, "name": ...}`, or a bare URL."""
    fields = {"file": entry} if isinstance(entry, str) else _mapping(entry)
    url = text(fields.get("file")) or text(fields.get("url"))
    name = text(fields.get("name")) or unquote(urlsplit(url or "").path.rsplit("/", 1)[-1]) or "file"
    return url, name


def _comment(comment: Mapping[str, Any]) -> Message:
    comment_id = ident(comment.get("id")) or "0"
    return Message(
        id=comment_id,
        kind=comment_kind(comment),
        author=_author(comment),
        body=to_plain_text(text(comment.get("message")) or ""),
        created_at=parse_time(comment.get("published_at")) or parse_time(comment.get("created_at")),
        attachments=_files(comment_id, comment.get("files")),
    )


def _change(change: Mapping[str, Any]) -> Message | None:
    """An entry of the audit trail as a system event, or None when it records nothing readable."""
    said = []
    old, new = ident(change.get("old_status")), ident(change.get("new_status"))
    if new is not None and new != old:
        before = f" from {_status_name(old)}" if old else ""
        said.append(f"Status changed{before} to {_status_name(new)}")
    for item in _mappings(change.get("data")):
        target, value = text(item.get("target")), text(item.get("value"))
        if target and target not in ("status", "status_id"):
            said.append(f"{target.replace('_', ' ').capitalize()} set to {value or 'nothing'}")
    if not said:
        return None
    trigger = ident(change.get("trigger_id"))
    author = _person(change.get("user_id")) or (Person(name=f"Trigger {trigger}") if trigger else None)
    return Message(
        id=f"change-{ident(change.get('id')) or '0'}",
        kind="system",
        author=author,
        body="; ".join(said) + ".",
        created_at=parse_time(change.get("changed_at")),
    )


def _status_name(status_id: str) -> str:
    return STATUS_NAMES.get(status_id, f"status {status_id}")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _mappings(value: Any) -> Sequence[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []
