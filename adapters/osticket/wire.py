"""osTicket's wire formats: the ticket API extension's JSON read into the model, requests written out,
and the vendor's error answers recognized.

The extension serializes osTicket's own ORM objects, so fields come as the PHP code left them: ids as
numbers or strings, names as plain strings or `PersonsName` objects, thread entries wrapped in
`model`/`annotations`, timestamps without offset in the database server's time zone, and a list item's
status under `status` where ticketInfo says `ticket_status`. All of that is tolerated here.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from ..errors import (
    AuthError,
    HelpdeskError,
    InvalidInputError,
    NotFoundError,
    OutcomeUnknownError,
    UnavailableError,
    UnsupportedError,
)
from ..model import (
    Attachment,
    FileUpload,
    Message,
    MessageKind,
    NewTicket,
    Person,
    Priority,
    Ticket,
    make_ref,
)
from ..text import looks_like_html, to_plain_text
from .statuses import StatusMap

PRIORITY_IDS: dict[Priority, int] = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
PRIORITIES: dict[str, Priority] = {"low": "low", "normal": "normal", "high": "high", "emergency": "urgent"}
KINDS: dict[str, MessageKind] = {"M": "customer", "R": "agent", "N": "internal_note"}
# osTicket writes its own notes (a rejected attachment, say) with this poster and no staff member.
SYSTEM_POSTER = "SYSTEM"
# Ticket numbers are six digits by default, but admins may configure other formats.
TICKET_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_MAX_VENDOR_TEXT = 2000


class ExtensionMissingError(UnsupportedError):
    """Stock osTicket's dispatcher answered `URL not supported`: the ticket API extension is absent."""


class NoSuchPersonError(NotFoundError):
    """The extension failed to find the staff user or customer a call named (PHP `getId()` on null)."""


# ---------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------


def local_time(value: Any, zone: ZoneInfo) -> datetime | None:
    """A `YYYY-MM-DD HH:MM:SS` in the helpdesk's time zone as UTC; MySQL's zero date and junk are None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str) or not value.strip() or value.startswith("0000-00-00"):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)


def _text(value: Any) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value).strip() or None
    return None


def _id(value: Any) -> str | None:
    """An id as a string; osTicket's 0 and null both mean "nobody"."""
    text = _text(value)
    return None if text in (None, "0") else text


def person_name(value: Any) -> str | None:
    """A name given as a plain string or as osTicket's `PersonsName` object."""
    if isinstance(value, Mapping):
        name = _text(value.get("name"))
        if name:
            return name
        parts = value.get("parts")
        if isinstance(parts, Mapping):
            words = [_text(parts.get(key)) for key in ("salutation", "first", "middle", "last", "suffix")]
            return " ".join(word for word in words if word) or None
        return None
    return _text(value)


def _email(value: Any) -> str | None:
    return _text(value.get("address")) if isinstance(value, Mapping) else _text(value)


def _assignee(value: Any) -> Person | None:
    """The first staff member the ticket is assigned to, else its team; osTicket lists both by name."""
    entries = value if isinstance(value, list) else [value]
    names = [(isinstance(entry, Mapping), person_name(entry)) for entry in entries]
    for staff in (True, False):
        for is_person, name in names:
            if name and is_person == staff:
                return Person(name=name)
    return None


def _unwrap(entry: Any) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """An entry's fields and annotations; the ORM wraps annotated rows in `model`/`annotations`."""
    if not isinstance(entry, Mapping):
        return {}, {}
    model = entry.get("model")
    annotations = entry.get("annotations")
    if isinstance(model, Mapping):
        return model, annotations if isinstance(annotations, Mapping) else {}
    return entry, entry


def _kind(model: Mapping[str, Any]) -> MessageKind:
    kind = KINDS.get((_text(model.get("type")) or "").upper(), "system")
    if (
        kind == "internal_note"
        and model.get("poster") == SYSTEM_POSTER
        and _id(model.get("staff_id")) is None
    ):
        return "system"
    return kind


def _body(model: Mapping[str, Any]) -> str:
    body = model.get("body")
    kind = model.get("format")
    nested = model.get("message")
    if not isinstance(body, str) and isinstance(nested, Mapping):
        body, kind = nested.get("body"), kind or nested.get("type")
    if not isinstance(body, str):
        return ""
    return to_plain_text(body, html={"html": True, "text": False}.get(str(kind).lower()))


def unnamed_attachments(entry_id: str, count: int) -> list[Attachment]:
    """What the extension tells of an entry's files: how many there are, not their names."""
    return [
        Attachment(
            id=f"{entry_id}.{n}", filename=f"attachment {n} of {count} (osTicket's API gives no file name)"
        )
        for n in range(1, count + 1)
    ]


def parse_entry(entry: Any, zone: ZoneInfo) -> Message | None:
    model, annotations = _unwrap(entry)
    entry_id = _id(model.get("id"))
    if entry_id is None:
        return None
    kind = _kind(model)
    if kind == "customer":
        author_name, author_id = person_name(model.get("user_name")), _id(model.get("user_id"))
    else:
        author_name, author_id = person_name(model.get("staff_name")), _id(model.get("staff_id"))
    author_name = author_name or (None if kind == "system" else _text(model.get("poster")))
    count = annotations.get("has_attachments")
    files = int(count) if isinstance(count, int | str) and str(count).isdigit() else 0
    return Message(
        id=entry_id,
        kind=kind,
        author=Person(id=author_id, name=author_name) if author_name or author_id else None,
        body=_body(model),
        created_at=local_time(model.get("created"), zone),
        attachments=unnamed_attachments(entry_id, files),
    )


def _entry_order(message: Message) -> tuple[datetime, int, str]:
    number = int(message.id) if message.id.isdigit() else 0
    return (message.created_at or datetime.min.replace(tzinfo=UTC), number, message.id)


def parse_ticket(raw: Mapping[str, Any], *, backend: str, statuses: StatusMap, zone: ZoneInfo) -> Ticket:
    """One ticket object of ticketInfo, staffTickets or clientTickets."""
    number = _text(raw.get("ticket_number")) or _text(raw.get("number")) or ""
    status_value = raw.get("ticket_status", raw.get("status"))
    status_name = person_name(status_value)  # a name, or an object with `name`
    closed_at = local_time(raw.get("close_timestamp"), zone)
    status, label = statuses.normalize(status_name, closed=closed_at is not None)
    created = local_time(raw.get("create_timestamp"), zone)
    activity = [
        t
        for t in (
            created,
            local_time(raw.get("last_message_timestamp"), zone),
            local_time(raw.get("last_response_timestamp"), zone),
        )
        if t is not None
    ]
    entries = raw.get("thread_entries")
    messages = [m for m in (parse_entry(e, zone) for e in entries or []) if m is not None]
    requester_name, requester_email = person_name(raw.get("user_name")), _email(raw.get("user_email"))
    due = local_time(raw.get("due_timestamp"), zone)
    extra = {
        "help_topic": _text(raw.get("help_topic")),
        "source": _text(raw.get("source")),
        "phone": _text(raw.get("user_phone")),
        "due_at": due.strftime("%Y-%m-%dT%H:%M:%SZ") if due else None,
    }
    return Ticket(
        ref=make_ref(backend, number),
        subject=_text(raw.get("subject")) or "",
        status=status,
        status_label=label,
        priority=PRIORITIES.get((person_name(raw.get("priority")) or "").casefold()),
        requester=Person(name=requester_name, email=requester_email)
        if requester_name or requester_email
        else None,
        assignee=_assignee(raw.get("assigned_to")),
        queue=_text(raw.get("department")),
        created_at=created,
        updated_at=max(activity) if activity else None,
        messages=sorted(messages, key=_entry_order),
        custom_fields={key: value for key, value in extra.items() if value},
    )


def ticket_of(payload: Any) -> Mapping[str, Any] | None:
    """The ticket object of a ticketInfo answer."""
    ticket = payload.get("ticket") if isinstance(payload, Mapping) else None
    return ticket if isinstance(ticket, Mapping) else None


def tickets_of(payload: Any) -> list[Mapping[str, Any]]:
    """The ticket objects of a staffTickets or clientTickets answer."""
    tickets = payload.get("tickets") if isinstance(payload, Mapping) else None
    return [t for t in tickets if isinstance(t, Mapping)] if isinstance(tickets, list) else []


def created_number(response: httpx.Response) -> str | None:
    """The ticket number a create answered with (HTTP 201, plain text), or None for anything else."""
    if response.status_code != 201:
        return None
    text = response.text.strip()
    return text if TICKET_NUMBER.fullmatch(text) else None


def succeeded(payload: Any) -> bool:
    """reply.json's verdict: its `status_code`, never the wording of `status_msg`."""
    return isinstance(payload, Mapping) and str(payload.get("status_code")) == "0"


# ---------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------


def text_data_uri(text: str) -> str:
    """A message as an RFC 2397 data URI that declares UTF-8.

    Without a charset osTicket transcodes a message from ISO-8859-1 and mangles Cyrillic and Polish; a
    plain string that happens to start with "data:" would be parsed as a URI. Raw text follows the comma:
    osTicket applies no URL-decoding.
    """
    return f"data:text/plain;charset=utf-8,{text}"


def file_data_uri(upload: FileUpload) -> str:
    """A file as `data:<mime>;base64,...`, never with a charset.

    osTicket's parser reads `;charset=x;base64` as charset `x;base64` and then never decodes the base64,
    so the parameters a MIME type may carry are dropped.
    """
    mime = upload.mime_type.split(";")[0].strip() or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(upload.content).decode()}"


def attachments_field(uploads: Sequence[FileUpload]) -> list[dict[str, str]]:
    """osTicket's attachment list: one single-key object per file, name to data URI."""
    return [{upload.filename: file_data_uri(upload)} for upload in uploads]


def create_payload(ticket: NewTicket, email: str) -> dict[str, Any]:
    # `name` is required; osTicket itself falls back to the address's local part, and so do we.
    payload: dict[str, Any] = {
        "email": email,
        "name": (ticket.requester_name or "").strip() or email.partition("@")[0],
        "subject": ticket.subject,
        "message": text_data_uri(ticket.body),
    }
    if ticket.priority is not None:
        payload["priorityId"] = PRIORITY_IDS[ticket.priority]
    if ticket.attachments:
        payload["attachments"] = attachments_field(ticket.attachments)
    return payload


def reply_html(text: str) -> str:
    """Plain text as the HTML osTicket stores a response as (rich text is on by default)."""
    escaped = html.escape(text.strip(), quote=False)
    # HTML collapses runs of spaces; all but the last of a run become non-breaking so that they stay.
    escaped = re.sub(r" {2,}", lambda run: "&nbsp;" * (len(run.group()) - 1) + " ", escaped)
    return escaped.replace("\r\n", "\n").replace("\n", "<br />\n")


def reply_payload(
    number: str, staff_user: str, body: str, status_id: int | None, uploads: Sequence[FileUpload]
) -> dict[str, Any]:
    """The body of reply.json, with the fields of the vendor's own example that matter.

    `emailreply` e-mails the reply to the customer, as a public reply must; a reply that only carries
    files still needs text, since osTicket refuses an empty `response`.
    """
    text = body.strip() or "Attached: " + ", ".join(upload.filename for upload in uploads)
    payload: dict[str, Any] = {
        "ticketNumber": number,
        "a": "reply",
        "emailreply": "1",
        "emailcollab": "1",
        "response": reply_html(text),
        "signature": "none",
        "staffUserName": staff_user,
    }
    if status_id is not None:
        payload["reply_status_id"] = str(status_id)
    if uploads:
        payload["attachments"] = attachments_field(uploads)
    return payload


def same_text(stored: str, sent: str) -> bool:
    """Whether a thread entry's text is the text we sent, whatever HTML did to its spacing."""
    return " ".join(stored.split()) == " ".join(sent.split())


# ---------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _plain_text(response: httpx.Response) -> str | None:
    """osTicket's own plain-text error, as `Http::response` sends it; not a proxy's HTML page."""
    kind = response.headers.get("content-type", "")
    if not kind.startswith("text/") or len(response.content) > _MAX_VENDOR_TEXT:
        return None
    try:
        text = response.content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if not text.strip() or looks_like_html(text) else _one_line(text)


def _json_object(response: httpx.Response) -> Mapping[str, Any] | None:
    if not response.content.lstrip().startswith(b"{"):
        return None
    try:
        payload = response.json()
    except ValueError:
        return None
    return payload if isinstance(payload, Mapping) else None


def make_read_error(backend: str) -> Callable[[httpx.Response], HelpdeskError | None]:
    """The hook that recognizes osTicket's answers that are errors, whatever their HTTP status."""
    who = f"osTicket (backend {backend!r})"

    def read_error(response: httpx.Response) -> HelpdeskError | None:
        payload = _json_object(response)
        if payload is not None:
            if "status_code" not in payload or succeeded(payload):
                return None
            failure = _one_line(str(payload.get("status_msg") or "no message"))
            if "on null" in failure:
                return NoSuchPersonError(f"{who} found no such staff user or customer ({failure}).")
            if response.request.method == "POST":
                return OutcomeUnknownError(
                    f"{who} failed after receiving the request ({failure}), so whether it was applied is "
                    "unknown."
                )
            return UnavailableError(f"{who} failed on its side ({failure}); try again later.")
        said = _plain_text(response)
        if said is None:
            return None
        status = response.status_code
        if status == 400 and said == "URL not supported":
            return ExtensionMissingError(f"{who} does not have the ticket API extension ({said}).")
        if status == 401:
            return AuthError(
                f"{who} refused the API key ({said}): check the key and that osTicket binds it to the "
                "IP address this server connects from."
            )
        if status == 403 and said == "Ticket denied":
            return InvalidInputError(
                f"{who} refused the ticket ({said}): a ban list, a ticket filter or the limit of open "
                "tickets per customer rejects it."
            )
        if status == 404 and said == "Ticket not found":
            return NotFoundError(f"{who} has no such ticket.")
        if status == 404 and said == "Invalid ticket number":
            return InvalidInputError(
                f"{who} takes only letters and digits as ticket numbers in its ticket API ({said})."
            )
        if status in (400, 415, 422) or (status == 500 and said.startswith("Unable to")):
            # On 1.17 and later a validation failure arrives as HTTP 500; nothing was saved.
            return InvalidInputError(f"{who} refused the request ({said}); nothing was saved.")
        return None

    return read_error
