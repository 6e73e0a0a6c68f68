"""A fake Thulium account: the ticket API of api.thulium.com/docs, served for real on 127.0.0.1.

What it reproduces, from the vendor's pages (docs/api/tickets/*, temporary_files, error_handling and
support.thulium.com):
- HTTP Basic auth of an API user, whose permission list may leave methods out (403);
- errors as `{"request_id", "errors": [{"message", "code"}]}`, English unless `Accept-Language: pl`,
  and an `X-Request-Id` header on every answer;
- `GET /api/tickets`: limit (at most 100) and offset, newest modification first, the documented
  filters (`date_from`/`date_to` on modification, `create_date_*`, `user_login`, `status_id[]`,
  `custom_fields[...]`...), each listed ticket with its messages; `ticket_id` a string there and
  `category_id` a number, the other way round in `GET /api/tickets/:id`, which lists no tags;
- times as the account's wall clock to the minute, though stored to the second, so a `date_to` of
  "12:34" leaves out what changed at 12:34:30;
- messages MAIL / REPLY / COMMENT, a status change logged as a COMMENT with only `system_comment`,
  attachments listed as bare ids, and messages in id order, not time order (imports backdate them);
- `POST /api/tickets` (`body_type` PLAIN by default) answering `{"ticket_id": n}`,
  `POST .../agent_response` (HTML by default, `user_login` required) answering `[]`,
  `POST .../customer_response` and `PUT /api/tickets/:id` answering an empty body, and
  `POST /api/temporary_files?filename=` taking raw bytes and answering a token;
- writes refuse fields their page does not list (`priority`, a sender's name...) with a 400. The
  pages do not say what Thulium does with them; refusing is the stricter guess, so an adapter that
  sends them fails here.
The statuses resource, which the docs name but do not place, is not served: no public page gives its
URL. `statuses_endpoint=True` serves it at `GET /api/ticket_statuses`, another integrator's guess.

State is seeded from `random.Random(seed)`: a few hundred tickets in Polish and Russian, HTML and
long bodies, attachments, internal comments, status changes, a bulk change within one minute, and an
account whose admin added a status ("Rozwiązane") and sub-statuses.
"""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.harness import FakeVendor, Request, Response, json_response, text_response

ROUTES = {
    "search": ("GET", r"^/api/tickets$"),
    "get": ("GET", r"^/api/tickets/\d+$"),
    "create": ("POST", r"^/api/tickets$"),
    "reply": ("POST", r"^/api/tickets/\d+/agent_response$"),
}

USER = "api_helpdesk"
PASSWORD = "s3cret-Pa55"
MAILBOXES = {"bok@sklep-przyklad.pl": 32, "reklamacje@sklep-przyklad.pl": 33}
AGENTS = ("akowalski", "mnowak", "jwisniewska", "o.petrenko")
ANCHOR = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
"""Seeded history ends before this moment; what tests write happens later, at the real time."""

MINUTE = "%Y-%m-%d %H:%M"

# The fields each write's page lists (api.thulium.com/docs: post_tickets, put_tickets_id,
# post_tickets_id_agent_response, post_tickets_id_customer_response).
CREATE_FIELDS = frozenset(
    {
        "to", "from", "subject", "body", "body_type", "comment", "cc", "attachments", "source", "direction",
        "user_login", "customer_id", "tags", "status_id", "substatus_id", "category_id", "ticket_queue_id",
        "custom_fields",
    }
)  # fmt: skip
UPDATE_FIELDS = frozenset(
    {"user_login", "status_id", "substatus_id", "category_id", "tags", "ticket_queue_id", "custom_fields"}
)
AGENT_RESPONSE_FIELDS = frozenset({"body", "body_type", "user_login", "date", "attachments"})
CUSTOMER_RESPONSE_FIELDS = frozenset({"body", "body_type", "date"})


@dataclass(frozen=True)
class FakeStatus:
    id: int
    name: str
    substatuses: dict[int, str] = field(default_factory=dict)


STATUSES = (
    FakeStatus(11, "Nowe"),
    FakeStatus(12, "W realizacji", {31: "Dział techniczny", 32: "Eskalacja"}),
    FakeStatus(13, "Oczekuje na klienta"),
    FakeStatus(14, "Odłożone"),
    FakeStatus(15, "Zamknięte"),
    FakeStatus(16, "Połączone"),
    FakeStatus(23, "Rozwiązane"),  # added by the account's admin, as the knowledge base suggests
)
NEW, IN_PROGRESS, WAITING, POSTPONED, CLOSED, MERGED, SOLVED = (s.id for s in STATUSES)


@dataclass
class FakeMessage:
    id: int
    type: str
    created: datetime
    body: str = ""
    comment: str = ""
    system_comment: str = ""
    user_login: str = ""
    attachments: list[str] = field(default_factory=list)


@dataclass
class FakeTicket:
    id: int
    sender: str
    subject: str
    queue_id: int
    status_id: int
    created: datetime
    updated: datetime
    substatus_id: int | None = None
    category_id: int | None = None
    customer_id: int | None = None
    company_id: int | None = None
    user_login: str = ""
    source: str = "email"
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, str | None] = field(default_factory=dict)
    closed: datetime | None = None
    messages: list[FakeMessage] = field(default_factory=list)


_FIELDS: dict[str, Callable[[FakeTicket], str]] = {
    "user_login": lambda t: t.user_login,
    "customer_id": lambda t: str(t.customer_id or ""),
    "company_id": lambda t: str(t.company_id or ""),
    "source": lambda t: t.source,
    "ticket_queue_id": lambda t: str(t.queue_id),
    "category_id": lambda t: str(t.category_id or ""),
}
"""List parameters that must equal a ticket's field, and that field as the parameter spells it."""


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content: bytes


class ApiError(Exception):
    def __init__(self, status: int, code: int, english: str, polish: str) -> None:
        super().__init__(english)
        self.status, self.code, self.english, self.polish = status, code, english, polish


class FakeThulium(FakeVendor):
    vendor = "thulium"

    def __init__(
        self,
        *,
        seed: int = 7,
        tickets: int = 300,
        zone: str = "Europe/Warsaw",
        permissions: frozenset[str] | None = None,
        statuses_endpoint: bool = False,
    ) -> None:
        super().__init__()
        self.zone = ZoneInfo(zone)
        self.permissions = permissions
        """Methods the API user may call ("GET tickets", "PUT tickets/:id", ...); None is `*`."""
        self.rng = random.Random(seed)
        self.tickets: dict[int, FakeTicket] = {}
        self.files: dict[str, StoredFile] = {}
        """Attachments of messages, by the id messages list them with."""
        self.temporary: dict[str, StoredFile] = {}
        self._next_message = 500_001
        self.after_list: Callable[[], None] | None = None
        """Something that happens in the account right after the next list call is answered."""
        self.showcase_id: int
        """The ticket with every kind of message and text that must arrive whole."""
        self.seed_once(
            (seed, tickets),
            lambda: self._seed(tickets),
            *("tickets", "files", "rng", "_next_message", "showcase_id"),
        )
        for method, path, handler, permission in (
            ("GET", r"/api/tickets", self._list, "GET tickets"),
            ("POST", r"/api/tickets", self._create, "POST tickets"),
            ("GET", r"/api/tickets/(\d+)", self._get, "GET tickets/:id"),
            ("PUT", r"/api/tickets/(\d+)", self._update, "PUT tickets/:id"),
            (
                "POST",
                r"/api/tickets/(\d+)/agent_response",
                self._agent_response,
                "POST tickets/:id/agent_response",
            ),
            (
                "POST",
                r"/api/tickets/(\d+)/customer_response",
                self._customer_response,
                "POST tickets/:id/customer_response",
            ),
            ("POST", r"/api/temporary_files", self._upload, "POST temporary_files"),
        ):
            self.route(method, path, self._guarded(handler, permission))
        if statuses_endpoint:
            self.route("GET", r"/api/ticket_statuses", self._guarded(self._statuses, "GET ticket_statuses"))

    # -- the harness's hooks ----------------------------------------------------------------------

    def authorize(self, request: Request) -> Response | None:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if request.header("authorization") != expected:
            return self._error(
                request, ApiError(401, 100401, "Authentication failed.", "Błąd uwierzytelnienia.")
            )
        return None

    def not_routed(self, request: Request) -> Response:
        if not request.path.startswith("/api/"):  # the web application, not the API
            return text_response("<html><body><h1>404</h1></body></html>", 404, "text/html; charset=utf-8")
        return self._error(request, ApiError(404, 100404, "Resource not found.", "Nie znaleziono zasobu."))

    # -- state helpers for the seeder and handlers ------------------------------------------------

    def _seed(self, tickets: int) -> None:
        _Seeder(self).seed(tickets)
        self.showcase_id = _Seeder(self).showcase()

    def message_id(self) -> int:
        self._next_message += 1
        return self._next_message

    def token(self, length: int = 22) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(length))

    def store_file(self, stored: StoredFile) -> str:
        file_id = self.token()
        self.files[file_id] = stored
        return file_id

    def status(self, status_id: int) -> FakeStatus:
        return next(s for s in STATUSES if s.id == status_id)

    def full_status_name(self, ticket: FakeTicket) -> str:
        status = self.status(ticket.status_id)
        sub = status.substatuses.get(ticket.substatus_id or 0)
        return f"{status.name} - {sub}" if sub else status.name

    def local(self, moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(self.zone).strftime(MINUTE)

    def set_status(
        self, ticket: FakeTicket, status_id: int, substatus_id: int | None, when: datetime, by: str = ""
    ) -> None:
        before = self.full_status_name(ticket)
        ticket.status_id, ticket.substatus_id = status_id, substatus_id
        after = self.full_status_name(ticket)
        if before != after:
            change = f"Changed status from [{before}] to [{after}]"
            ticket.messages.append(
                FakeMessage(self.message_id(), "COMMENT", when, system_comment=change, user_login=by)
            )
        ticket.closed = when if status_id == CLOSED else None
        ticket.updated = when

    # -- endpoints --------------------------------------------------------------------------------

    def _guarded(self, handler: Any, permission: str) -> Any:
        def run(request: Request, match: re.Match[str]) -> Response:
            try:
                if self.permissions is not None and permission not in self.permissions:
                    raise ApiError(
                        403, 100403, "Access to this method is denied.", "Brak dostępu do tej metody."
                    )
                return handler(request, *match.groups())  # type: ignore[no-any-return]
            except ApiError as error:
                return self._error(request, error)

        return run

    def _list(self, request: Request) -> Response:
        limit = _integer(request.arg("limit"), 100, "limit", 1, 100)
        offset = _integer(request.arg("offset"), 0, "offset", 0, None)
        keep = self._filter(request)
        found = [t for t in self.tickets.values() if keep(t)]
        found.sort(key=lambda t: (t.updated, -t.id), reverse=True)
        for part in reversed([p.strip() for p in (request.arg("order") or "").split(",") if p.strip()]):
            name = part.lstrip("-")
            if name in ("create_date", "update_date"):
                attribute = "created" if name == "create_date" else "updated"
                found.sort(key=lambda t: getattr(t, attribute), reverse=part.startswith("-"))
        custom = request.arg("include_custom_fields") == "true"
        payload: dict[str, Any] = {
            "result": [
                self._ticket_json(t, listing=True, custom=custom) for t in found[offset : offset + limit]
            ]
        }
        if request.arg("count") is not None:
            payload = {"count": len(found), **payload}
        if self.after_list is not None:
            self.after_list, meanwhile = None, self.after_list
            meanwhile()
        return json_response(payload, **self._headers())

    def _filter(self, request: Request) -> Callable[[FakeTicket], bool]:
        """Whether a ticket is one `request` lists: its parameters are read once, not once a ticket."""
        bounds = [
            (attribute, _date_parameter(name, value), upper)
            for name, attribute, upper in (
                ("date_from", "updated", False),
                ("date_to", "updated", True),
                ("create_date_from", "created", False),
                ("create_date_to", "created", True),
            )
            if (value := request.arg(name)) is not None
        ]
        wanted = [(of, value) for name, of in _FIELDS.items() if (value := request.arg(name)) is not None]
        message_id = request.arg("message_id")
        statuses = request.query.get("status_id[]", []) + request.query.get("status_id", [])
        custom = _custom_field_filters(request.query).items()

        def keep(ticket: FakeTicket) -> bool:
            for attribute, limit_at, upper in bounds:
                local = getattr(ticket, attribute).astimezone(self.zone).replace(tzinfo=None)
                if (upper and local > limit_at) or (not upper and local < limit_at):
                    return False
            if any(of(ticket) != value for of, value in wanted):
                return False
            if message_id is not None and all(str(m.id) != message_id for m in ticket.messages):
                return False
            if statuses and str(ticket.status_id) not in statuses:
                return False
            return all((ticket.custom_fields.get(name) or "") in values for name, values in custom)

        return keep

    def _get(self, request: Request, ticket_id: str) -> Response:
        ticket = self._ticket(ticket_id)
        custom = request.arg("include_custom_fields") == "true"
        return json_response(self._ticket_json(ticket, listing=False, custom=custom), **self._headers())

    def _create(self, request: Request) -> Response:
        data = _json_object(request, CREATE_FIELDS)
        mailbox = _text_field(data, "to", required=True)
        if mailbox not in MAILBOXES:
            raise ApiError(
                400,
                300101,
                f"Mailbox {mailbox} is not defined.",
                f"Skrzynka {mailbox} nie jest zdefiniowana.",
            )
        subject = _text_field(data, "subject", required=True)
        body = _text_field(data, "body", required=True)
        _body_type(data)
        direction = data.get("direction", "in_behalf_of")
        if direction not in ("in_behalf_of", "out"):
            raise ApiError(400, 300102, "Wrong value of direction.", "Niepoprawna wartość pola direction.")
        login = self._agent(data.get("user_login"), required=False)
        files = self._attachments(data.get("attachments"))
        tags = _tags(data.get("tags") or [])
        queue_id = _identifier(data.get("ticket_queue_id") or MAILBOXES[mailbox], "ticket_queue_id")
        if queue_id not in MAILBOXES.values():
            raise ApiError(
                400, 300104, f"Queue {queue_id} does not exist.", f"Kolejka {queue_id} nie istnieje."
            )
        status_id, substatus_id = self._status_fields(data, NEW, None)
        now = datetime.now(UTC)
        ticket = FakeTicket(
            id=max(self.tickets, default=23000) + 1,
            sender=_text_field(data, "from", required=False),
            subject=subject,
            queue_id=queue_id,
            status_id=status_id,
            substatus_id=substatus_id,
            created=now,
            updated=now,
            user_login=login,
            source=str(data.get("source") or "email"),
            tags=tags,
            custom_fields=dict(data.get("custom_fields") or {}),
        )
        kind = "REPLY" if direction == "out" else "MAIL"
        ticket.messages.append(
            FakeMessage(
                self.message_id(),
                kind,
                now,
                body=body,
                user_login=login if kind == "REPLY" else "",
                attachments=files,
            )
        )
        comment = _text_field(data, "comment", required=False)
        if comment:
            ticket.messages.append(FakeMessage(self.message_id(), "COMMENT", now, comment=comment))
        self.tickets[ticket.id] = ticket
        return json_response({"ticket_id": ticket.id}, **self._headers())

    def _update(self, request: Request, ticket_id: str) -> Response:
        ticket = self._ticket(ticket_id)
        data = _json_object(request, UPDATE_FIELDS)
        now = datetime.now(UTC)
        if data.get("user_login") is not None:
            ticket.user_login = self._agent(data["user_login"], required=True)
        if data.get("tags") is not None:
            ticket.tags = _tags(data["tags"])
        if data.get("category_id") is not None:
            ticket.category_id = _identifier(data["category_id"], "category_id")
        if data.get("custom_fields") is not None:
            ticket.custom_fields.update(data["custom_fields"])
        if data.get("status_id") is not None or data.get("substatus_id") is not None:
            status_id, substatus_id = self._status_fields(data, ticket.status_id, None)
            self.set_status(ticket, status_id, substatus_id, now)
        ticket.updated = now
        return Response(200, b"", {"Content-Type": "application/json", **self._headers()})

    def _agent_response(self, request: Request, ticket_id: str) -> Response:
        ticket = self._ticket(ticket_id)
        data = _json_object(request, AGENT_RESPONSE_FIELDS)
        body = _text_field(data, "body", required=True)
        _body_type(data)
        login = self._agent(data.get("user_login"), required=True)
        when = self._message_date(data)
        files = self._attachments(data.get("attachments"))
        ticket.messages.append(
            FakeMessage(self.message_id(), "REPLY", when, body=body, user_login=login, attachments=files)
        )
        ticket.updated = datetime.now(UTC)
        return json_response([], **self._headers())

    def _customer_response(self, request: Request, ticket_id: str) -> Response:
        ticket = self._ticket(ticket_id)
        data = _json_object(request, CUSTOMER_RESPONSE_FIELDS)
        body = _text_field(data, "body", required=True)
        _body_type(data)
        ticket.messages.append(FakeMessage(self.message_id(), "MAIL", self._message_date(data), body=body))
        # The customer wrote last, so the ticket is new again (support.thulium.com, "Ticket statuses").
        ticket.status_id, ticket.substatus_id = NEW, None
        ticket.updated = datetime.now(UTC)
        return Response(200, b"", {"Content-Type": "application/json", **self._headers()})

    def _upload(self, request: Request) -> Response:
        filename = request.query.get("filename", [""])[0].strip()
        if not filename:
            raise ApiError(400, 300201, "Parameter filename is required.", "Parametr filename jest wymagany.")
        token = self.token(23)
        self.temporary[token] = StoredFile(filename, request.body)
        return json_response(
            {"filename": filename, "token": token, "size": len(request.body)}, **self._headers()
        )

    def _statuses(self, request: Request) -> Response:
        result = [
            {
                "status_id": str(status.id),
                "name": status.name,
                "substatuses": [{"substatus_id": str(k), "name": v} for k, v in status.substatuses.items()],
            }
            for status in STATUSES
        ]
        return json_response({"result": result}, **self._headers())

    # -- validation -------------------------------------------------------------------------------

    def _ticket(self, ticket_id: str) -> FakeTicket:
        ticket = self.tickets.get(int(ticket_id))
        if ticket is None:
            raise ApiError(404, 200404, "Ticket not found.", "Nie znaleziono zgłoszenia.")
        return ticket

    def _agent(self, login: Any, *, required: bool) -> str:
        if login in (None, ""):
            if required:
                raise ApiError(400, 300301, "Field user_login is required.", "Pole user_login jest wymagane.")
            return ""
        if login not in AGENTS:
            raise ApiError(400, 300302, f"User {login} does not exist.", f"Użytkownik {login} nie istnieje.")
        return str(login)

    def _attachments(self, tokens: Any) -> list[str]:
        if tokens is None:
            return []
        if not isinstance(tokens, list):
            raise ApiError(
                400,
                300401,
                "Attachments must be an array of tokens.",
                "Załączniki muszą być tablicą tokenów.",
            )
        ids = []
        for token in tokens:
            stored = self.temporary.get(str(token))
            if stored is None:
                raise ApiError(
                    400,
                    300402,
                    f"Temporary file {token} does not exist.",
                    f"Plik tymczasowy {token} nie istnieje.",
                )
            ids.append(self.store_file(stored))
        return ids

    def _status_fields(
        self, data: dict[str, Any], status_id: int, substatus_id: int | None
    ) -> tuple[int, int | None]:
        if data.get("status_id") is not None:
            wanted = str(data["status_id"])
            match = next((s for s in STATUSES if str(s.id) == wanted), None)
            if match is None:
                raise ApiError(
                    400, 300501, f"Status {wanted} does not exist.", f"Status {wanted} nie istnieje."
                )
            status_id = match.id
        if data.get("substatus_id") is not None:
            sub = _identifier(data["substatus_id"], "substatus_id")
            if sub not in self.status(status_id).substatuses:
                raise ApiError(
                    400, 300502, f"Substatus {sub} does not exist.", f"Podstatus {sub} nie istnieje."
                )
            substatus_id = sub
        return status_id, substatus_id

    def _message_date(self, data: dict[str, Any]) -> datetime:
        if data.get("date") is None:
            return datetime.now(UTC)
        return _date_parameter("date", str(data["date"])).replace(tzinfo=self.zone).astimezone(UTC)

    # -- answers ----------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"X-Request-Id": self.token(13)}

    def _error(self, request: Request, error: ApiError) -> Response:
        polish = (request.header("accept-language") or "").lower().startswith("pl")
        request_id = self.token(13)
        body = {
            "request_id": request_id,
            "errors": [{"message": error.polish if polish else error.english, "code": error.code}],
        }
        return json_response(body, error.status, **{"X-Request-Id": request_id})

    def _ticket_json(self, ticket: FakeTicket, *, listing: bool, custom: bool) -> dict[str, Any]:
        first_reply = next((m for m in ticket.messages if m.type == "REPLY"), None)
        data: dict[str, Any] = {
            "ticket_id": str(ticket.id) if listing else ticket.id,
            "user_login": ticket.user_login,
            "from": ticket.sender,
            "ticket_queue_name": next(name for name, queue in MAILBOXES.items() if queue == ticket.queue_id),
            "ticket_queue_id": ticket.queue_id,
            "subject": ticket.subject,
            "category_id": ticket.category_id
            if listing or ticket.category_id is None
            else str(ticket.category_id),
            "status_id": str(ticket.status_id),
            "substatus_id": None if ticket.substatus_id is None else str(ticket.substatus_id),
            "customer_id": ticket.customer_id,
            "full_status_name": self.full_status_name(ticket),
            "created_at": self.local(ticket.created),
            "updated_at": self.local(ticket.updated),
            "closed_at": self.local(ticket.closed),
            "close_time": _duration(ticket.closed - ticket.created) if ticket.closed else None,
            "first_agent_responded_at": self.local(first_reply.created if first_reply else None),
            "first_agent_response_time": _duration(first_reply.created - ticket.created)
            if first_reply
            else None,
            "messages": [self._message_json(m, listing) for m in ticket.messages],
        }
        if listing:
            data["source"] = ticket.source
            data["tags"] = list(ticket.tags)
        if custom:
            data["custom_fields"] = dict(ticket.custom_fields)
        return data

    def _message_json(self, message: FakeMessage, listing: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.id,
            "user_login": message.user_login,
            "type": message.type,
            "body": message.body,
            "comment": message.comment,
            "system_comment": message.system_comment,
            "created_at": self.local(message.created),
            "attachments": list(message.attachments),
        }
        if listing:
            data["ratings"] = []
        return data


# -- request parsing --------------------------------------------------------------------------------


def _integer(value: str | None, default: int, name: str, low: int, high: int | None) -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) < low or (high is not None and int(value) > high):
        allowed = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise ApiError(
            400,
            300001,
            f"Parameter {name} must be a number {allowed}.",
            f"Parametr {name} musi być liczbą ({allowed}).",
        )
    return int(value)


def _identifier(value: Any, name: str) -> int:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    raise ApiError(
        400, 300006, f"Field {name} must be an identifier.", f"Pole {name} musi być identyfikatorem."
    )


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise ApiError(400, 300103, "Tags must be an array of strings.", "Tagi muszą być tablicą napisów.")
    return list(dict.fromkeys(value))


def _date_parameter(name: str, value: str) -> datetime:
    for layout in ("%Y-%m-%d %H:%M:%S", MINUTE, "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), layout)
        except ValueError:
            continue
    raise ApiError(400, 300002, f"Wrong date format of {name}.", f"Niepoprawny format daty {name}.")


def _custom_field_filters(query: dict[str, list[str]]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for key, values in query.items():
        match = re.fullmatch(r"custom_fields\[([^\]]+)\](?:\[\d*\])?", key)
        if match:
            filters.setdefault(match.group(1), []).extend(values)
    return filters


def _json_object(request: Request, fields: frozenset[str]) -> dict[str, Any]:
    try:
        data = json.loads(request.body.decode("utf-8")) if request.body else None
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise ApiError(
            400, 100400, "Request body is not a valid JSON object.", "Treść żądania nie jest obiektem JSON."
        )
    unknown = sorted(set(data) - fields)
    if unknown:
        listed = ", ".join(unknown)
        raise ApiError(400, 300007, f"Unknown fields: {listed}.", f"Nieznane pola: {listed}.")
    return data


def _text_field(data: dict[str, Any], name: str, *, required: bool) -> str:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ApiError(400, 300003, f"Field {name} is required.", f"Pole {name} jest wymagane.")
        return ""
    if not isinstance(value, str):
        raise ApiError(400, 300004, f"Field {name} must be a string.", f"Pole {name} musi być napisem.")
    return value


def _body_type(data: dict[str, Any]) -> None:
    if data.get("body_type") not in (None, "HTML", "PLAIN"):
        raise ApiError(
            400,
            300005,
            "Field body_type must be HTML or PLAIN.",
            "Pole body_type musi mieć wartość HTML lub PLAIN.",
        )


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


# -- seeded state ------------------------------------------------------------------------------------

_FIRST_NAMES = ("Anna", "Piotr", "Katarzyna", "Łukasz", "Małgorzata", "Paweł", "Zofia", "Grzegorz")
_LAST_NAMES = ("Nowak", "Wiśniewski", "Wójcik", "Kowalczyk", "Zieliński", "Szymańska", "Woźniak", "Dąbrowski")
_RUSSIAN_CUSTOMERS = (("Ольга", "olga.smirnova"), ("Дмитрий", "d.ivanov"), ("Наталья", "n.kuznetsova"))
_SUBJECTS_PL = (
    "Reklamacja zamówienia nr {n}",
    "Brak faktury VAT za zamówienie {n}",
    "Zmiana adresu dostawy – zamówienie {n}",
    "Nie mogę zalogować się do konta",
    "Zwrot towaru: uszkodzona paczka {n}",
    "Pytanie o status przesyłki {n}",
    "Błąd przy płatności BLIK",
    "Prośba o duplikat faktury {n}",
)
_SUBJECTS_RU = (
    "Не пришёл счёт за заказ {n}",
    "Проблема с доставкой заказа {n}",
    "Вопрос по возврату товара",
    "Ошибка при оплате картой",
)
_SENTENCES_PL = (
    "Zamówiłam towar tydzień temu i nadal nie dotarł.",
    "Paczka przyszła uszkodzona, załączam zdjęcia.",
    "Proszę o pilny kontakt w tej sprawie.",
    "Kwota na fakturze się nie zgadza: 249,99 zł zamiast 199,99 zł.",
    "Czy mogę zmienić adres dostawy na ul. Źródlaną 7/12 w Łodzi?",
    "Zażółć gęślą jaźń – sprawdzam, czy polskie znaki dochodzą poprawnie.",
    "Płatność BLIK została odrzucona, choć środki zeszły z konta.",
)
_SENTENCES_RU = (
    "Здравствуйте! Заказ до сих пор не доставлен.",
    "Прошу выслать счёт на юридическое лицо.",
    "Деньги списались дважды, проверьте, пожалуйста.",
    "Спасибо за быстрый ответ 🙂",
)
_REPLIES = (
    "Dzień dobry, dziękujemy za zgłoszenie. Sprawdzamy sprawę i wrócimy z odpowiedzią do 24 godzin.",
    "<p>Dzień dobry,</p><p>przesyłka została nadana ponownie, numer listu: <b>PL123456789</b>.</p>"
    "<p>Pozdrawiamy<br>Zespół BOK</p>",
    "Здравствуйте! Счёт отправлен на вашу почту.",
    "Prosimy o przesłanie numeru zamówienia oraz zdjęcia etykiety.",
)
_COMMENTS = (
    "Klient VIP – traktować priorytetowo.",
    "Sprawdzić stan magazynowy przed odpowiedzią.",
    "Эскалировано во второй уровень поддержки.",
    "Duplikat zgłoszenia 23015? Do weryfikacji.",
)
_FILES = (
    ("faktura_FV_2026_0412.pdf", b"%PDF-1.4 faktura"),
    ("zdjęcie uszkodzenia.jpg", b"\xff\xd8\xff\xe0 jpeg"),
    ("скриншот_ошибки.png", b"\x89PNG\r\n\x1a\n png"),
    ("log.txt", b"2026-03-01 12:00 ERROR timeout\n"),
)
_TAGS = ("reklamacja", "faktura", "dostawa", "vip", "b2b", "zwrot", "płatność")


class _Seeder:
    """Fills a fresh fake with a realistic, deterministic history."""

    def __init__(self, fake: FakeThulium) -> None:
        self.fake = fake
        self.rng = fake.rng

    def seed(self, count: int) -> None:
        rng = self.rng
        starts = sorted(
            ANCHOR - timedelta(minutes=rng.randint(3 * 24 * 60, 400 * 24 * 60)) for _ in range(count)
        )
        ticket_id = 23000
        for start in starts:
            ticket_id += 2 if rng.random() < 0.1 else 1  # deleted tickets leave gaps
            self.fake.tickets[ticket_id] = self._ticket(
                ticket_id, start + timedelta(seconds=rng.randint(0, 59))
            )
        # An administrator changed many tickets in one minute: same minute, seconds in no id order.
        bulk = ANCHOR - timedelta(days=1, hours=2)
        for ticket in rng.sample(sorted(self.fake.tickets.values(), key=lambda t: t.id), min(14, count)):
            when = bulk + timedelta(seconds=rng.randint(0, 59))
            if ticket.updated < when:
                self.fake.set_status(ticket, CLOSED, None, when, by="akowalski")

    def showcase(self) -> int:
        """One ticket with every kind of message and text that must arrive whole."""
        fake, rng = self.fake, self.rng
        start = ANCHOR - timedelta(hours=3)
        ticket = FakeTicket(
            id=max(fake.tickets, default=23000) + 1,
            sender="zofia.dabrowska@example.pl",
            subject="Faktura korygująca – zwrot 120,50 zł / Счёт-фактура",
            queue_id=33,
            status_id=NEW,
            created=start,
            updated=start,
            customer_id=40999,
            user_login="mnowak",
            tags=["faktura", "zwrot"],
            custom_fields={"Numer zamówienia": "ZAM/2026/0777", "Uwagi": None},
        )
        attachment = fake.store_file(StoredFile("korekta_FK_7.pdf", b"%PDF-1.4 korekta"))
        ticket.messages += [
            FakeMessage(
                fake.message_id(),
                "MAIL",
                start,
                body="Dzień dobry,\nproszę o fakturę korygującą: 120,50 zł < 150 zł & rabat 5%.\n"
                "Łódź, ul. Źródlana 7 — „cudzysłów” i emoji 🙂\nС уважением, Зофья",
                attachments=[attachment],
            ),
            FakeMessage(
                fake.message_id(),
                "REPLY",
                start + timedelta(minutes=20),
                body="<p>Dzień dobry,</p><p>korekta jest w załączniku.</p>",
                user_login="mnowak",
            ),
            FakeMessage(
                fake.message_id(),
                "COMMENT",
                start + timedelta(minutes=21),
                comment="Sprawdzone z księgowością.",
                user_login="mnowak",
            ),
            # An imported message, backdated: a higher id, an older time.
            FakeMessage(
                fake.message_id(), "MAIL", start - timedelta(days=2), body="Wcześniejsza wiadomość z importu."
            ),
        ]
        fake.set_status(
            ticket, WAITING, None, start + timedelta(minutes=22, seconds=rng.randint(0, 59)), by="mnowak"
        )
        fake.tickets[ticket.id] = ticket
        return ticket.id

    def _ticket(self, ticket_id: int, start: datetime) -> FakeTicket:
        fake, rng = self.fake, self.rng
        russian = rng.random() < 0.2
        if russian:
            first, local_part = rng.choice(_RUSSIAN_CUSTOMERS)
            sender = f"{local_part}@example.ru"
        else:
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            sender = f"{_ascii(first)}.{_ascii(last)}@example.pl".lower()
        number = f"{rng.randint(10000, 99999)}"
        subject = rng.choice(_SUBJECTS_RU if russian else _SUBJECTS_PL).format(n=number)
        ticket = FakeTicket(
            id=ticket_id,
            sender=sender,
            subject=subject,
            queue_id=rng.choice(list(MAILBOXES.values())),
            status_id=NEW,
            created=start,
            updated=start,
            category_id=rng.choice((None, 2, 3, 5)),
            customer_id=rng.choice((None, rng.randint(30000, 39999))),
            company_id=rng.choice((None, 21, 22)),
            user_login=rng.choice(("", *AGENTS)),
            source=rng.choice(("email", "email", "www", "phone")),
            tags=rng.sample(_TAGS, rng.randint(0, 3)),
            custom_fields={
                "Numer zamówienia": f"ZAM/2026/{number}",
                "Uwagi": rng.choice((None, "Klient firmowy")),
            },
        )
        ticket.messages.append(
            FakeMessage(
                fake.message_id(),
                "MAIL",
                start,
                body=self._body(first, russian),
                attachments=self._files(0.25),
            )
        )
        when = start
        for _ in range(rng.randint(0, 6)):
            when += timedelta(minutes=rng.randint(5, 3000), seconds=rng.randint(0, 59))
            if when >= ANCHOR - timedelta(days=2):
                break
            self._event(ticket, when, first, russian)
        if rng.random() < 0.05:
            imported = FakeMessage(
                fake.message_id(),
                "MAIL",
                start - timedelta(days=3),
                body="Wiadomość zaimportowana z poprzedniego systemu.",
            )
            ticket.messages.append(imported)
        return ticket

    def _event(self, ticket: FakeTicket, when: datetime, first: str, russian: bool) -> None:
        fake, rng = self.fake, self.rng
        agent = ticket.user_login or rng.choice(AGENTS)
        roll = rng.random()
        if roll < 0.35:
            body = rng.choice(_REPLIES)
            ticket.messages.append(
                FakeMessage(
                    fake.message_id(),
                    "REPLY",
                    when,
                    body=body,
                    user_login=agent,
                    attachments=self._files(0.1),
                )
            )
            ticket.updated = when
        elif roll < 0.55:
            ticket.messages.append(
                FakeMessage(
                    fake.message_id(),
                    "MAIL",
                    when,
                    body=self._body(first, russian),
                    attachments=self._files(0.15),
                )
            )
            ticket.status_id, ticket.substatus_id, ticket.updated = NEW, None, when
        elif roll < 0.7:
            ticket.messages.append(
                FakeMessage(
                    fake.message_id(), "COMMENT", when, comment=rng.choice(_COMMENTS), user_login=agent
                )
            )
            ticket.updated = when
        else:
            status = rng.choice([s for s in STATUSES if s.id not in (ticket.status_id, MERGED)])
            substatus = rng.choice([None, *status.substatuses])
            fake.set_status(ticket, status.id, substatus, when, by=agent)

    def _body(self, first: str, russian: bool) -> str:
        rng = self.rng
        pool = _SENTENCES_RU if russian else _SENTENCES_PL
        sentences = rng.sample(pool, min(len(pool), rng.randint(1, 3)))
        greeting = "Здравствуйте!" if russian else "Dzień dobry,"
        roll = rng.random()
        if roll < 0.3:
            paragraphs = "".join(f"<p>{sentence}</p>" for sentence in sentences)
            quote = (
                "<blockquote>W dniu 2026-03-01 o 10:00 BOK napisał:<br>Dziękujemy za wiadomość.</blockquote>"
                if rng.random() < 0.5
                else ""
            )
            return (
                f"<html><body><p>{greeting}</p>{paragraphs}<p>Pozdrawiam,<br>{first}</p>{quote}</body></html>"
            )
        if roll < 0.4:
            return "\n\n".join([greeting, *(" ".join(pool) for _ in range(40)), first])  # a long one
        return "\n".join([greeting, *sentences, first])

    def _files(self, chance: float) -> list[str]:
        if self.rng.random() >= chance:
            return []
        chosen = self.rng.sample(_FILES, self.rng.randint(1, 2))
        return [self.fake.store_file(StoredFile(name, content)) for name, content in chosen]


def _ascii(name: str) -> str:
    return name.translate(str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ"))


# -- what the shared suites call ------------------------------------------------------------------------


def make_fake(**options: Any) -> FakeThulium:
    return FakeThulium(**options)


def vendor_env(fake: FakeVendor) -> dict[str, str]:
    """The contract's environment variables, and only those, pointed at the started fake."""
    return {
        "THULIUM_URL": fake.url + "/api",
        "THULIUM_USER": USER,
        "THULIUM_PASSWORD": PASSWORD,
        "THULIUM_MAILBOX": "bok@sklep-przyklad.pl",
        "THULIUM_AGENT_LOGIN": "akowalski",
    }


def env_for(fake: FakeVendor, settings: str = "") -> dict[str, str]:
    """The backend `thulium` against the fake, declared in a TOML file as a user would who maps the
    status their admin added ("Rozwiązane", id 23 on its tickets) to `solved`; secrets stay in the
    environment. `settings`: more TOML lines for the backend, such as its request rate."""
    assert isinstance(fake, FakeThulium)
    config = fake.config_file(
        "[backends.thulium]\n"
        'type = "thulium"\n'
        'url = "${THULIUM_URL}"\n'
        'user = "${THULIUM_USER}"\n'
        'password = "${THULIUM_PASSWORD}"\n'
        'mailbox = "${THULIUM_MAILBOX}"\n'
        'agent_login = "${THULIUM_AGENT_LOGIN}"\n'
        f'statuses = {{ "{SOLVED}" = "solved" }}\n' + settings
    )
    return {**vendor_env(fake), "HELPDESK_CONFIG": str(config)}
