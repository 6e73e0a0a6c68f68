"""A fake osTicket 1.18 helpdesk, stock or with the ticket API extension, as the vendor's code behaves.

Stock (`extension=False`) it serves osTicket's one API call; with the extension (the `amalmagdy/osTicket`
fork documented in vendor-docs/osticket-extended-api.txt) it also serves ticketInfo, staffTickets,
clientTickets and reply.json. All under `/api/http.php/...` and, as `api/.htaccess` rewrites them, `/api/...`.

- Auth: `X-API-Key`, valid only from the IP address the key is bound to (`key_ip`; every client of the
  fake comes from 127.0.0.1). 401 plain text `Valid API key required`, `API key not found/active or
  source IP not authorized`, or `API key not authorized` for a key that may not create tickets.
- Every answer that is not JSON is plain text sent as `text/html; charset=UTF-8`, as `Http::response`
  does; a path under /api that no route takes is 400 `URL not supported` (before any key check), which is
  also how stock osTicket answers the extension's URLs.
- `POST tickets.json` takes email, name, subject, message and the documented optional fields; unknown keys
  only land in `system_log`. Data URIs are parsed like `Format::parseRfc2397`: `;charset=x;base64` makes
  the charset `x;base64` and leaves the base64 undecoded, and a message URI without a charset is
  transcoded from ISO-8859-1 (mangling UTF-8). Attachments are single-key objects, name to data URI; a file
  over `max_file_size` is dropped with a SYSTEM "File Import Error" note `<name>: File size is too large`
  (api.tickets.php validate, FileUploadField::uploadAttachment), written before the message itself, and
  with attachments disabled on the message field all are dropped without a word.
- Text is cleaned as ThreadEntry::create does: emoji stripped (`Format::strip_emoticons`, from the message
  and from subjects), an HTML body decoded once (`Format::htmldecode`) before its tags are cleaned (so
  `&lt;tag&gt;` becomes a tag and is removed), a text body balanced and stored HTML-escaped
  (`TextThreadEntryBody::getClean`: an unclosed `<tag>` gains a `</tag>`), and a subject with its entities
  decoded, tags stripped (`TextboxField::parse`).
- Validation failures are 500 `Unable to create new ticket :<field>\\n<msg>` (1.17+; `version="1.16"`
  gives 400 and the older wording); a banned address is 403 `Ticket denied`; success is 201 with the
  ticket number as plain text. The xml and email formats are not served.
- ticketInfo, staffTickets and clientTickets serialize tickets as the fork's ORM does: thread entries in
  `model`/`annotations` with `has_attachments` counts and no file names, names as `PersonsName` objects,
  timestamps as wall-clock text in `timezone`, the user's e-mail as the `EmailAddress` object (`email` bare,
  `address` in display form), ticket numbers checked with PHP's `is_numeric`. List items carry the status
  as `status`, as the vendor's page shows them. There is no paging or filtering. An unknown customer is
  500 FAILURE JSON, an unknown agent FAILURE JSON with status 200 (the fork answers with an undefined
  status variable); `php8=True` makes both lists fail the way the fork does on PHP 8.
- reply.json posts a staff response (HTML, rich text being on) that is e-mailed to the customer, sets
  `reply_status_id` when it is a known status (anything else is silently ignored), assigns an unassigned
  ticket to the replying agent (auto-claim), and answers `{"status_code": "0", "status_msg": "success"}`;
  an empty response is 500 `Unable to reply to this ticket: unknown error`, an unknown staff user 500
  FAILURE JSON.
Its clock ticks at least a second per write, so tickets written in a burst still sort by time.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.harness import FakeVendor, Request, Response

ROUTES = {
    "search": ("GET", r"/tickets/(?:clientTickets|staffTickets)$"),
    "get": ("GET", r"/tickets/ticketInfo$"),
    "create": ("POST", r"/tickets\.json$"),
    "reply": ("POST", r"/tickets/reply\.json$"),
}

API = r"/api(?:/http\.php)?"
STATUSES: dict[int, tuple[str, str]] = {
    1: ("Open", "open"),
    2: ("Resolved", "closed"),
    3: ("Closed", "closed"),
    4: ("Archived", "archived"),
    5: ("Deleted", "deleted"),
    6: ("Awaiting customer", "open"),  # added by this helpdesk's admin, as admins do
}
PRIORITIES = {1: "Low", 2: "Normal", 3: "High", 4: "Emergency"}
KNOWN_FIELDS = frozenset({
    "email", "name", "subject", "message", "alert", "autorespond", "ip", "phone", "phone_ext", "priorityId",
    "source", "topicId", "attachments",
})  # fmt: skip
STAMP = "%Y-%m-%d %H:%M:%S"
BASE = datetime(2026, 11, 1, 9, 0)
"""The seeded history ends here (helpdesk wall-clock time); later writes happen at the real time."""
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHP_NUMERIC = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
"""What PHP's `is_numeric` accepts, which the extension's ticketInfo checks numbers with."""


@dataclass
class Person:
    id: int
    first: str
    last: str
    email: str = ""
    username: str = ""
    phone: str = ""

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}".strip()

    def persons_name(self) -> dict[str, Any]:
        parts = {"salutation": "", "first": self.first, "suffix": "", "last": self.last, "middle": ""}
        return {"format": "original", "parts": parts, "name": self.name}


@dataclass
class StoredFile:
    name: str
    type: str
    content: bytes


@dataclass
class Entry:
    id: int
    type: str
    poster: str
    body: str
    format: str
    created: datetime
    title: str = ""
    source: str = ""
    user_id: int | None = None
    staff_id: int | None = None
    files: list[StoredFile] = field(default_factory=list)


@dataclass
class Ticket:
    id: int
    number: str
    subject: str
    user_id: int
    created: datetime
    status_id: int = 1
    priority_id: int = 2
    department: str = "Support"
    help_topic: str | None = None
    source: str = "API"
    staff_id: int | None = None
    team: str | None = None
    due: datetime | None = None
    closed: datetime | None = None
    entries: list[Entry] = field(default_factory=list)


class OsticketFake(FakeVendor):
    vendor = "osticket"

    def __init__(
        self,
        *,
        extension: bool = True,
        tickets: int = 300,
        seed: int = 1018,
        timezone: str = "Europe/Warsaw",
        api_key: str = "4F2C1B0E9D8A7F6E5D4C3B2A19081726",
        key_ip: str = "127.0.0.1",
        can_create: bool = True,
        version: str = "1.18",
        rich_text: bool = True,
        attachments_enabled: bool = True,
        max_file_size: int = 1024 * 1024,
        banned: tuple[str, ...] = (),
        php8: bool = False,
    ) -> None:
        super().__init__()
        self.extension = extension
        self.zone = ZoneInfo(timezone)
        self.timezone = timezone
        self.api_key = api_key
        self.key_ip = key_ip
        self.can_create = can_create
        self.version = version
        self.rich_text = rich_text
        self.attachments_enabled = attachments_enabled
        self.max_file_size = max_file_size
        self.banned = {address.casefold() for address in banned}
        self.php8 = php8
        self.system_log: list[str] = []
        """Warnings osTicket writes to its system log, such as unexpected keys in an API request."""
        self.outbox: list[tuple[str, str]] = []
        """(address, subject) of every reply osTicket e-mailed to a customer."""
        self.tickets: list[Ticket] = []
        self.users: list[Person] = []
        self.staff: list[Person] = []
        self._rng = random.Random(seed)
        self._last_write = BASE
        self._entry_ids = 0
        self.seed_once(
            (seed, tickets),
            lambda: _Seeder(self, self._rng).seed(tickets),
            *("tickets", "users", "staff", "_rng", "_entry_ids"),
        )

        self.route("POST", rf"{API}/tickets\.json", self._create)
        if extension:
            self.route("GET", rf"{API}/tickets/ticketInfo", self._ticket_info)
            self.route("GET", rf"{API}/tickets/staffTickets", self._staff_tickets)
            self.route("GET", rf"{API}/tickets/clientTickets", self._client_tickets)
            self.route("POST", rf"{API}/tickets/reply\.json", self._reply)

    # -- state ------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The helpdesk's wall clock, a second past the last write at least."""
        real = datetime.now(self.zone).replace(tzinfo=None, microsecond=0)
        self._last_write = max(real, self._last_write + timedelta(seconds=1))
        return self._last_write

    def next_entry_id(self) -> int:
        self._entry_ids += 1
        return self._entry_ids

    def ticket(self, number: str) -> Ticket | None:
        return next((t for t in self.tickets if t.number == number), None)

    def user(self, user_id: int | None) -> Person | None:
        return next((u for u in self.users if u.id == user_id), None)

    def user_by_email(self, address: str) -> Person | None:
        return next((u for u in self.users if u.email.casefold() == address.strip().casefold()), None)

    def staff_member(self, staff_id: int | None) -> Person | None:
        return next((s for s in self.staff if s.id == staff_id), None)

    def staff_by_username(self, username: str) -> Person | None:
        return next((s for s in self.staff if s.username == username), None)

    def new_number(self) -> str:
        while True:
            number = str(self._rng.randint(100000, 999999))
            if self.ticket(number) is None:
                return number

    # -- the web server and the API dispatcher ----------------------------------------------------

    def not_routed(self, request: Request) -> Response:
        if re.match(r"/api(?:/|$)", request.path):
            return plain("URL not supported", 400)
        return Response(404, b"<html><body><h1>Not Found</h1></body></html>", {"Content-Type": "text/html"})

    def _key(self, request: Request, *, create: bool) -> Response | None:
        """`requireApiKey()`, and `canCreateTickets()` where the call writes."""
        key = request.header("x-api-key")
        if not key:
            return plain("Valid API key required", 401)
        if key != self.api_key or self.key_ip != "127.0.0.1":
            return plain("API key not found/active or source IP not authorized", 401)
        if create and not self.can_create:
            return plain("API key not authorized", 401)
        return None

    # -- stock: create ----------------------------------------------------------------------------

    def _create(self, request: Request, _: re.Match[str]) -> Response:
        denied = self._key(request, create=True)
        if denied is not None:
            return denied
        data = parse_request(request, self.system_log)
        if isinstance(data, Response):
            return data
        errors = self._validate(data)
        if errors:
            return self._validation_failed(errors)
        email = str(data["email"]).strip()
        if email.casefold() in self.banned:
            return plain("Ticket denied", 403)
        user = self.user_by_email(email) or self._new_user(email, str(data.get("name") or ""))
        now = self.now()
        ticket = Ticket(
            id=len(self.tickets) + 1,
            number=self.new_number(),
            subject=clean_subject(str(data["subject"])),
            user_id=user.id,
            created=now,
            priority_id=int(data["priorityId"]) if str(data.get("priorityId")) in {"1", "2", "3", "4"} else 2,
            source=str(data.get("source") or "API"),
            due=now + timedelta(days=3),
        )
        body, kind = data["message"]
        files = self._accepted(ticket, data.get("attachments") or [], now)
        first = Entry(
            id=self.next_entry_id(),
            type="M",
            poster=user.name,
            body=clean_body(body, kind),
            format=kind,
            created=now,
            title=ticket.subject,
            source=ticket.source,
            user_id=user.id,
        )
        first.files = files
        ticket.entries.append(first)
        self.tickets.append(ticket)
        return plain(ticket.number, 201)

    def _validate(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        errors = []
        if not EMAIL.fullmatch(str(data.get("email") or "").strip()):
            errors.append(("email", "Valid email address required"))
        if not str(data.get("subject") or "").strip():
            errors.append(("subject", "Issue summary is required"))
        if not isinstance(data.get("message"), tuple) or not data["message"][0].strip():
            errors.append(("message", "Issue details are required"))
        return errors

    def _validation_failed(self, errors: list[tuple[str, str]]) -> Response:
        if tuple(int(part) for part in self.version.split(".")) < (1, 17):
            listed = "\n".join(f"{name}: {message}" for name, message in errors)
            return plain(f"Unable to create new ticket: validation errors:\n{listed}", 400)
        name, message = errors[0]
        return plain(f"Unable to create new ticket :{name}\n{message}", 500)

    def _new_user(self, email: str, name: str) -> Person:
        first, _, last = (name.strip() or email.partition("@")[0]).partition(" ")
        user = Person(id=len(self.users) + 1, first=first, last=last, email=email)
        self.users.append(user)
        return user

    def _accepted(self, ticket: Ticket, files: list[StoredFile], now: datetime) -> list[StoredFile]:
        """The files the message field takes; each rejected one leaves a SYSTEM note in the thread, written
        while the entry is being created and so before it (ThreadEntry::normalizeFileInfo)."""
        if not self.attachments_enabled:
            return []
        kept = []
        for file in files:
            if len(file.content) > self.max_file_size:
                said = f"{htmlchars(file.name)}: File size is too large"
                note = Entry(self.next_entry_id(), "N", "SYSTEM", clean_body(said, "text"), "text", now)
                note.title = "File Import Error"
                ticket.entries.append(note)
            else:
                kept.append(file)
        return kept

    # -- the extension ----------------------------------------------------------------------------

    def _ticket_info(self, request: Request, _: re.Match[str]) -> Response:
        denied = self._key(request, create=False)
        if denied is not None:
            return denied
        number = request.arg("ticketNumber")
        if not number:
            return plain("missing ticketNumber parameter ", 422)
        if not PHP_NUMERIC.fullmatch(number):
            return plain("Invalid ticket number", 404)
        ticket = self.ticket(number)
        if ticket is None:
            return plain("Ticket not found", 404)
        payload = {
            "ticket": self.serialize(ticket, list_item=False),
            "status_code": "0",
            "status_msg": "ticket details retrieved successfully",
        }
        return php_json(payload)

    def _staff_tickets(self, request: Request, _: re.Match[str]) -> Response:
        denied = self._key(request, create=False)
        if denied is not None:
            return denied
        username = request.arg("staffUserName")
        if not username:
            return plain("missing staffUserName parameter ", 422)
        staff = self.staff_by_username(username)
        if self.php8 or staff is None:
            # The fork answers its catch block with an undefined status variable: PHP sends 200.
            return php_json(failure(self.php8))
        mine = [t for t in self.tickets if t.staff_id == staff.id]
        return php_json(
            {"tickets": [self.serialize(t) for t in mine], "status_code": "0", "status_msg": "success"}
        )

    def _client_tickets(self, request: Request, _: re.Match[str]) -> Response:
        denied = self._key(request, create=False)
        if denied is not None:
            return denied
        address = request.arg("clientUserMail")
        if not address:
            return plain("missing clientUserMail parameter ", 422)
        user = self.user_by_email(address)
        if self.php8 or user is None:
            return php_json(failure(self.php8), 500)
        theirs = [t for t in self.tickets if t.user_id == user.id]
        return php_json(
            {"tickets": [self.serialize(t) for t in theirs], "status_code": "0", "status_msg": "success"}
        )

    def _reply(self, request: Request, _: re.Match[str]) -> Response:
        denied = self._key(request, create=True)
        if denied is not None:
            return denied
        data = parse_request(request, self.system_log)
        if isinstance(data, Response):
            return data
        ticket = self.ticket(str(data.get("ticketNumber") or ""))
        if ticket is None:
            return plain("Ticket not found", 404)
        staff = self.staff_by_username(str(data.get("staffUserName") or ""))
        if staff is None:
            return php_json(failure(False), 500)
        response = data.get("response")
        if not isinstance(response, str) or not response.strip():
            return plain("Unable to reply to this ticket: unknown error", 500)
        now = self.now()
        files = self._accepted(ticket, data.get("attachments") or [], now)
        kind = "html" if self.rich_text else "text"
        entry = Entry(
            id=self.next_entry_id(),
            type="R",
            poster=staff.name,
            body=clean_body(strip_emoticons(response), kind),
            format=kind,
            created=now,
            source="API",
            staff_id=staff.id,
        )
        entry.files = files
        ticket.entries.append(entry)
        status = str(data.get("reply_status_id") or "")
        if status.isdigit() and int(status) in STATUSES:
            ticket.status_id = int(status)
            ticket.closed = None if STATUSES[ticket.status_id][1] == "open" else now
        if ticket.staff_id is None and ticket.team is None:
            ticket.staff_id = staff.id
        user = self.user(ticket.user_id)
        if user is not None and str(data.get("emailreply", "1")) == "1":
            self.outbox.append((user.email, f"Re: {ticket.subject} [#{ticket.number}]"))
        return php_json({"status_code": "0", "status_msg": "success"})

    # -- serialization ----------------------------------------------------------------------------

    def serialize(self, ticket: Ticket, *, list_item: bool = True) -> dict[str, Any]:
        user = self.user(ticket.user_id) or Person(0, "", "")
        messages = [e.created for e in ticket.entries if e.type == "M"]
        responses = [e.created for e in ticket.entries if e.type == "R"]
        staff = self.staff_member(ticket.staff_id)
        assigned: list[Any] = [staff.persons_name()] if staff else []
        if ticket.team:
            assigned.append(ticket.team)
        return {
            "ticket_number": ticket.number,
            "subject": ticket.subject,
            ("status" if list_item else "ticket_status"): STATUSES[ticket.status_id][0],
            "statusId": ticket.status_id,
            "priority": PRIORITIES[ticket.priority_id],
            "department": ticket.department,
            "create_timestamp": stamp(ticket.created),
            "user_name": user.name,
            "user_email": {"email": user.email, "address": f'"{user.name}" <{user.email}>'},
            "user_phone": user.phone or None,
            "source": ticket.source,
            "due_timestamp": stamp(ticket.due),
            "close_timestamp": stamp(ticket.closed),
            "help_topic": ticket.help_topic,
            "last_message_timestamp": stamp(max(messages)) if messages else None,
            "last_response_timestamp": stamp(max(responses)) if responses else None,
            "assigned_to": assigned,
            "thread_entries": [self._entry(ticket, e) for e in ticket.entries],
        }

    def _entry(self, ticket: Ticket, entry: Entry) -> dict[str, Any]:
        user = self.user(entry.user_id)
        staff = self.staff_member(entry.staff_id)
        model = {
            "id": entry.id,
            "pid": 0,
            "thread_id": ticket.id,
            "staff_id": entry.staff_id,
            "user_id": entry.user_id,
            "type": entry.type,
            "poster": entry.poster,
            "editor": None,
            "source": entry.source,
            "title": entry.title,
            "body": entry.body,
            "message": {
                "body": entry.body,
                "type": entry.format,
                "stripped_images": [],
                "embedded_images": [],
                "options": {"strip-embedded": True},
            },
            "format": entry.format,
            "created": stamp(entry.created),
            "updated": "0000-00-00 00:00:00",
            "staff_name": staff.persons_name() if staff else None,
            "user_name": user.persons_name() if user else None,
        }
        return {"model": model, "annotations": {"has_attachments": len(entry.files)}}


# ---------------------------------------------------------------------------------------------------
# osTicket's request parsing and answers
# ---------------------------------------------------------------------------------------------------


def plain(text: str, status: int) -> Response:
    """`Http::response`: plain text, sent as HTML."""
    return Response(status, text.encode(), {"Content-Type": "text/html; charset=UTF-8"})


def php_json(payload: Any, status: int = 200) -> Response:
    """PHP's `json_encode`: non-ASCII escaped as \\uXXXX, slashes escaped."""
    body = json.dumps(payload, ensure_ascii=True).replace("/", "\\/")
    return Response(status, body.encode(), {"Content-Type": "application/json"})


def failure(php8: bool) -> dict[str, Any]:
    said = (
        "mysqli_set_charset() expects exactly 2 arguments, 1 given"
        if php8
        else ("Call to a member function getId() on null")
    )
    return {"tickets": [], "status_code": "FAILURE", "status_msg": said}


EMOTICONS = re.compile(
    "[\U0001f601-\U0001f64f\U0001f680-\U0001f6c0\U0001f600-\U0001f636\U0001f681-\U0001f6c5"
    "\U0001f30d-\U0001f567\U0001f910-\U0001f999\U0001f9d0-\U0001f9df\U0001f9e0-\U0001f9ef"
    "\U0001f6f0-\U0001f6ff\U0001f6e0-\U0001f6ef\U0001f6c0-\U0001f6cf\U0001f9c0-\U0001f9c2"
    "\U0001f6d0-\U0001f6d2\U0001f500-\U0001f5ff\U0001f300-\U0001f3ff\u2702-\u27b0\u00a9-\u00ae"
    "\u23f0-\u23ff\u23e0-\u23ef\u2310-\u231f\U001000b6\u2322-\u232f]"
)
"""The ranges `Format::strip_emoticons` removes (1.18): emoji, dingbats, clock and keyboard signs, and
also U+00A9-U+00AE (the copyright and registered signs, and with them « and the soft hyphen)."""
HTML_ELEMENTS = frozenset({
    "a", "abbr", "address", "area", "b", "bdi", "bdo", "big", "blockquote", "br", "caption", "center", "cite",
    "code", "col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "map", "ol", "p", "pre", "q", "s", "samp", "small",
    "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt",
    "u", "ul", "var",
})  # fmt: skip
"""Elements htmLawed keeps in osTicket's configuration; any other tag (`<tag>`, `<script>`) is dropped."""
VOID = frozenset({"area", "br", "col", "hr", "img", "input", "meta", "link", "wbr"})
TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^<>]*)>")
ENTITY = re.compile(r"&(#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def strip_emoticons(text: str) -> str:
    return EMOTICONS.sub("", text)


def htmlchars(text: str) -> str:
    """`Format::htmlchars`: htmlspecialchars without double encoding (an entity already there stays)."""
    text = re.sub(r"&(?!(#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)", "&amp;", text)
    return text.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def htmldecode(text: str) -> str:
    """`Format::htmldecode` (htmlspecialchars_decode, ENT_COMPAT): these four entities, once."""
    named = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&amp;": "&"}
    return re.sub(r"&(lt|gt|quot|amp);", lambda m: named[m.group()], text)


def balance(text: str) -> str:
    """`Format::html_balance` as libxml leaves it: every tag still open at the end gets closed there."""
    open_tags: list[str] = []
    for match in TAG.finditer(text):
        closing, name = match.group(1), match.group(2).lower()
        if name in VOID or match.group(3).rstrip().endswith("/"):
            continue
        if not closing:
            open_tags.append(name)
        elif name in open_tags:
            del open_tags[len(open_tags) - 1 - open_tags[::-1].index(name) :]
    return text + "".join(f"</{name}>" for name in reversed(open_tags))


def clean_body(body: str, kind: str) -> str:
    """A thread entry's body as ThreadEntry::create stores it; `-` stands for an empty one."""
    if kind == "html":
        # Format::sanitize: entities decoded first ("which can be used to skip cleaning"), then htmLawed.
        decoded = htmldecode(body)
        decoded = re.sub(r"<(script|style|head)\b.*?</\1>", "", decoded, flags=re.S | re.I)
        cleaned = TAG.sub(lambda m: m.group() if m.group(2).lower() in HTML_ELEMENTS else "", decoded)
        cleaned = re.sub(r"&(?!(#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)", "&amp;", cleaned)
        stored = cleaned if cleaned.strip(" <>br/\t\n\r") else ""
    else:
        text = re.sub(r"\n{3,}", "\n\n", body.strip())
        stored = htmlchars(balance(text)) if text else ""
    return strip_emoticons(stored) or "-"


def clean_subject(subject: str) -> str:
    """`TextboxField::parse`: entities decoded, tags stripped (PHP strip_tags), emoji removed."""
    stripped = re.sub(r"<[A-Za-z/!?][^>]*(?:>|$)", "", htmldecode(subject))
    return strip_emoticons(stripped).strip()


def stamp(moment: datetime | None) -> str | None:
    return moment.strftime(STAMP) if moment else None


def parse_rfc2397(value: str, *, convert: bool) -> tuple[bytes, str, str | None]:
    """`Format::parseRfc2397`: (bytes, mime type, charset) of a data URI, quirks included.

    The parameter loop re-splits the whole parameter string, so `charset=utf-8;base64` is one charset
    and the base64 stays encoded; with `convert` (the message), a URI without charset is taken as
    ISO-8859-1 and transcoded to UTF-8.
    """
    meta, _, contents = value[len("data:") :].partition(",")
    mime, _, parameters = meta.partition(";")
    charset = parameters[len("charset=") :] if parameters.startswith("charset=") else None
    data = contents.encode()
    if parameters == "base64":
        try:
            data = base64.b64decode(contents, validate=True)
        except binascii.Error:
            data = b""
    if convert or charset:
        # iconv fails on a charset it does not know and leaves the bytes as they were.
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            data = data.decode(charset or "iso-8859-1").encode()
    return data, mime or "text/plain", charset


def parse_request(request: Request, log: list[str]) -> dict[str, Any] | Response:
    """`getRequest('json')` with the JSON parser's fixups: the message and attachments decoded."""
    try:
        data = json.loads(request.body.decode("utf-8")) if request.body.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict):
        return plain("Unable to parse JSON request: Syntax error", 400)
    for key in data:
        if key not in KNOWN_FIELDS:
            log.append(f"API Error: Unexpected data received in API request: {key}")
    message = data.get("message")
    if isinstance(message, str):
        if message.startswith("data:"):
            content, mime, _ = parse_rfc2397(message, convert=True)
            text = strip_emoticons(content.decode("utf-8", "replace"))
            data["message"] = (text, "html" if strip_emoticons(mime) == "text/html" else "text")
        else:
            data["message"] = (strip_emoticons(message), "text")
    files = []
    for item in data.get("attachments") or []:
        if not isinstance(item, dict):
            return plain("Unexpected or invalid data received", 400)
        for name, uri in item.items():
            if isinstance(uri, str) and uri.startswith("data:"):
                content, mime, _ = parse_rfc2397(uri, convert=False)
                files.append(StoredFile(str(name), mime, content))
    data["attachments"] = files
    return data


# ---------------------------------------------------------------------------------------------------
# Seeded history
# ---------------------------------------------------------------------------------------------------

STAFF = (
    ("agata.nowak", "Agata", "Nowak"),
    ("pwisniewski", "Paweł", "Wiśniewski"),
    ("ismirnova", "Ирина", "Смирнова"),
    ("dkozlov", "Дмитрий", "Козлов"),
    ("jmiller", "Jordan", "Miller"),
    ("lzielinska", "Łucja", "Zielińska"),
)
TEAMS = ("Level II Support", "Zespół sieciowy")
DEPARTMENTS = ("Support", "Sales", "Billing", "Dział techniczny", "Техподдержка")
TOPICS = ("General Inquiry", "Report a Problem", "Feedback", "Billing question", None)
FIRST_NAMES = (
    ("Zofia", "zofia"), ("Łukasz", "lukasz"), ("Małgorzata", "malgorzata"), ("Grzegorz", "grzegorz"),
    ("Żaneta", "zaneta"), ("Jędrzej", "jedrzej"), ("Анна", "anna"), ("Сергей", "sergey"), ("Ольга", "olga"),
    ("Михаил", "mikhail"), ("Emma", "emma"), ("Oliver", "oliver"), ("Priya", "priya"), ("Tomás", "tomas"),
)  # fmt: skip
LAST_NAMES = (
    ("Wójcik", "wojcik"), ("Kowalczyk", "kowalczyk"), ("Brzęczyszczykiewicz", "brzeczyszczykiewicz"),
    ("Dąbrowska", "dabrowska"), ("Иванова", "ivanova"), ("Петров", "petrov"), ("Кузнецова", "kuznetsova"),
    ("Соколов", "sokolov"), ("Taylor", "taylor"), ("O'Brien", "obrien"), ("García", "garcia"),
)  # fmt: skip
DOMAINS = ("example.com", "firma.pl", "mail.example.ru", "example.org")
SUBJECTS = (
    "Nie działa logowanie do panelu klienta",
    "Faktura za październik — błędna kwota",
    "Prośba o zmianę adresu dostawy (zamówienie {n})",
    "Не приходит письмо для сброса пароля",
    "Ошибка 502 при оплате заказа №{n}",
    "Как подключить второй номер к аккаунту?",
    "VPN drops every 10 minutes",
    "Invoice {n} shows the wrong VAT rate",
    "Request: export of all our tickets (CSV)",
    "Drukarka w pokoju 214 — zacięcia papieru",
    "Wniosek o zwrot środków / refund request",
    "Zażółć gęślą jaźń — test znaków w temacie",
)
PLAIN_BODIES = (
    "Dzień dobry,\n\nod rana nie mogę się zalogować — system pokazuje „Nieprawidłowe hasło”, choć hasło jest "
    "poprawne.\nProszę o pilną pomoc.\n\nPozdrawiam\n{name}",
    "Здравствуйте!\n\nПосле обновления приложение выдаёт ошибку «Сессия истекла» каждые 5 минут.\n"
    "Пробовал(а) переустановить — не помогло.\n\nС уважением,\n{name}",
    "Hi team,\n\nthe export job failed again last night (exit code 137). Could you check the worker?\n\n"
    "Thanks,\n{name}\n\nOn Mon, 26 Oct 2026 at 09:12, Support <support@example.com> wrote:\n"
    "> We restarted the worker.\n> Please let us know if it happens again.",
    "W dniu 02.11.2026 o 14:03 Pomoc techniczna pisze:\n> Czy problem nadal występuje?\n\nTak, nadal. "
    "Załączam zrzut ekranu.\n{name}",
)
HTML_BODIES = (
    "<p>Dzień dobry,</p><p>w załączniku przesyłam <b>fakturę</b> nr <i>FV/2026/10/{n}</i>. Kwota "
    "brutto&nbsp;to 1&nbsp;230,00&nbsp;zł, a powinna być 1&nbsp;000,00&nbsp;zł.</p><ul><li>pozycja 1: "
    "abonament</li><li>pozycja 2: usługa &quot;Premium&quot;</li></ul><p>Pozdrawiam,<br>{name}</p>",
    "<div>Добрый день!</div><div><br></div><div>Прошу проверить платёж по ссылке "
    '<a href="https://pay.example.ru/orders/{n}">заказ {n}</a>.</div><table><tr><th>Дата</th><th>Сумма'
    "</th></tr><tr><td>01.11.2026</td><td>4&nbsp;500 ₽</td></tr></table><div>— {name}</div>",
    "<p>Hello,</p><blockquote>Have you tried turning it off and on again?</blockquote><p>Yes &amp; it "
    "still fails with <code>ERR_CONN_RESET</code> &lt;sigh&gt;.</p><p>{name}</p>",
)
REPLIES = (
    "<p>Dzień dobry,</p><p>dziękujemy za zgłoszenie. Sprawdziliśmy konto — hasło zostało zresetowane, "
    "nowy link wysłaliśmy na adres e-mail.</p><p>Z poważaniem,<br>{agent}</p>",
    "<p>Здравствуйте!</p><p>Мы проверили платёж: он прошёл успешно, чек отправлен на почту.</p>"
    "<p>С уважением,<br>{agent}</p>",
    "<p>Hi,</p><p>we have rolled out a fix for the worker memory limit. Please retry the export.</p>"
    "<p>Best regards,<br>{agent}</p>",
)
NOTES = (
    "<p>Klient dzwonił — potwierdził, że problem dotyczy tylko Firefoksa.</p>",
    "<p>Передал в биллинг, ждём ответа до пятницы.</p>",
    "<p>Escalated to L2: looks like the same bug as #{n}.</p>",
)
FILES = (
    ("zrzut_ekranu.png", "image/png"),
    ("счёт-фактура.pdf", "application/pdf"),
    ("export.log", "text/plain"),
    ("umowa_2026.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
)


class _Seeder:
    def __init__(self, fake: OsticketFake, rng: random.Random) -> None:
        self.fake = fake
        self.rng = rng

    def seed(self, count: int) -> None:
        fake = self.fake
        fake.staff = [
            Person(i + 1, first, last, username=user) for i, (user, first, last) in enumerate(STAFF)
        ]
        fake.users = [Person(1, "Ola", "Nowak", "ola@example.com", phone="48600100200")]
        for i in range(90):
            (first, first_ascii), (last, last_ascii) = (
                self.rng.choice(FIRST_NAMES),
                self.rng.choice(LAST_NAMES),
            )
            address = f"{first_ascii}.{last_ascii}{i}@{self.rng.choice(DOMAINS)}"
            phone = f"48{self.rng.randint(500000000, 799999999)}" if self.rng.random() < 0.3 else ""
            fake.users.append(Person(len(fake.users) + 1, first, last, address, phone=phone))
        for i in range(count):
            fake.tickets.append(self.ticket(i + 1))

    def ticket(self, ticket_id: int) -> Ticket:
        rng, fake = self.rng, self.fake
        user = fake.users[0] if ticket_id % 60 == 0 else rng.choice(fake.users)
        created = BASE - timedelta(days=rng.randint(1, 150), seconds=rng.randint(0, 86399))
        n = rng.randint(1000, 99999)
        ticket = Ticket(
            id=ticket_id,
            number=fake.new_number(),
            subject=rng.choice(SUBJECTS).format(n=n),
            user_id=user.id,
            created=created,
            priority_id=rng.choices((1, 2, 3, 4), (2, 6, 3, 1))[0],
            department=rng.choice(DEPARTMENTS),
            help_topic=rng.choice(TOPICS),
            source=rng.choice(("Email", "Web", "API", "Phone")),
            due=created + timedelta(days=3) if rng.random() < 0.5 else None,
        )
        assignment = rng.random()
        if assignment < 0.7:
            ticket.staff_id = rng.choice(fake.staff).id
        elif assignment < 0.8:
            ticket.team = rng.choice(TEAMS)
        moment = created
        for position in range(rng.randint(1, 6)):
            ticket.entries.append(self.entry(ticket, user, position, moment, n))
            moment += timedelta(minutes=rng.randint(5, 3000))
        ticket.status_id = rng.choices(tuple(STATUSES), (40, 20, 25, 5, 4, 6))[0]
        if STATUSES[ticket.status_id][1] != "open":
            ticket.closed = ticket.entries[-1].created + timedelta(minutes=rng.randint(1, 600))
        return ticket

    def entry(self, ticket: Ticket, user: Person, position: int, at: datetime, n: int) -> Entry:
        rng, fake = self.rng, self.fake
        kind = "M" if position == 0 else rng.choices(("R", "M", "N", "S"), (45, 30, 20, 5))[0]
        agent = fake.staff_member(ticket.staff_id) or rng.choice(fake.staff)
        if kind == "M":
            html = rng.random() < 0.4
            body = (rng.choice(HTML_BODIES) if html else rng.choice(PLAIN_BODIES)).format(name=user.name, n=n)
            if html and rng.random() < 0.15:
                body += long_html(rng)
            kind = "html" if html else "text"
            # Mail goes through the same ThreadEntry::create: a text body is stored escaped.
            entry = Entry(0, "M", user.name, clean_body(body, kind) if kind == "text" else body, kind, at)
            entry.user_id = user.id
            entry.source, entry.title = ticket.source, ticket.subject if position == 0 else ""
        elif kind == "R":
            body = rng.choice(REPLIES).format(agent=agent.name)
            entry = Entry(0, "R", agent.name, body, "html", at, staff_id=agent.id, source="")
        elif kind == "N":
            entry = Entry(0, "N", agent.name, rng.choice(NOTES).format(n=n), "html", at, staff_id=agent.id)
            entry.title = "Notatka wewnętrzna"
        else:
            entry = Entry(0, "N", "SYSTEM", "Ticket flagged as overdue by the system.", "text", at)
            entry.title = "Ticket Marked Overdue"
        entry.id = fake.next_entry_id()
        if kind in "MR" and rng.random() < 0.15:
            for name, mime in rng.sample(FILES, rng.randint(1, 2)):
                entry.files.append(StoredFile(name, mime, rng.randbytes(rng.randint(200, 4000))))
        return entry


def long_html(rng: random.Random) -> str:
    """A long HTML mail: a log pasted as a table, the kind of body that gets cut for reading."""
    rows = "".join(
        f"<tr><td>2026-10-{day:02d} 0{day % 10}:{rng.randint(10, 59)}</td><td>worker-{rng.randint(1, 9)}</td>"
        f"<td>ERROR Połączenie zerwane / соединение разорвано (код {rng.randint(100, 599)})</td></tr>"
        for day in range(1, 29)
        for _ in range(4)
    )
    return f"<p>Pełny log poniżej / полный журнал ниже:</p><table>{rows}</table><p>Koniec logu.</p>"


def make_fake(**options: Any) -> OsticketFake:
    return OsticketFake(**options)


def vendor_env(fake: FakeVendor) -> dict[str, str]:
    """The contract's environment variables, and only those, pointed at the started fake."""
    assert isinstance(fake, OsticketFake)
    return {
        "OSTICKET_URL": fake.url,
        "OSTICKET_API_KEY": fake.api_key,
        "OSTICKET_STAFF_USER": fake.staff[0].username,
        "OSTICKET_TIMEZONE": fake.timezone,
    }


def env_for(fake: FakeVendor) -> dict[str, str]:
    """The backend `osticket` against the fake, declared in a TOML file as a user would who maps the
    status their admin added ("Awaiting customer", id 6) to `pending`; secrets stay in the environment."""
    assert isinstance(fake, OsticketFake)
    config = fake.config_file(
        "[backends.osticket]\n"
        'type = "osticket"\n'
        'url = "${OSTICKET_URL}"\n'
        'api_key = "${OSTICKET_API_KEY}"\n'
        'staff_user = "${OSTICKET_STAFF_USER}"\n'
        'timezone = "${OSTICKET_TIMEZONE}"\n'
        'statuses = { "Awaiting customer" = "pending" }\n'
        'status_ids = { "Awaiting customer" = 6 }\n'
    )
    return {**vendor_env(fake), "HELPDESK_CONFIG": str(config)}
