"""A faithful fake of UseDesk's API (api.usedesk.ru), seeded with a realistic account.

What it follows (vendor-docs/usedesk-tickets-list.txt first, then vendor-apis.md section 4):
- Every method is a POST to `/<method>`; the channel's `api_token` travels in the body, which may
  be JSON, a urlencoded form or multipart (PHP-style `name[]` / `name[0][key]` fields work).
- `/tickets`: fixed pages of 100, `offset` is a page index; filters `fstatus`, `fgroup`, `fchannel`,
  `ftype`, `fpriority` (comma-separated), `fassigned` (objects of `assignee_id`/`group_id`),
  `client_id`, `tag` ("a, b", any of them), `query` (every word in the subject, custom field
  values or the client's e-mail and phone), `created_after` and the other dates (`YYYY-MM-DD
  HH:MM`, inclusive, UTC+0), `fields`, `sort` and `order` (default `desc`). `offset`, `tag`, `query` and
  `accessible_for_agent_id` refuse null. Numbers are numbers here and the status field is `status`.
- `/ticket`: `{ticket, comments, changes, tags, custom_fields}` with every number as a string (as
  in UseDesk's own example) and the status field named `status_id`.
- `/create/ticket`, `/create/comment`, `/update/ticket` as documented: `additional_id`, tags as
  "a, b", custom fields as parallel `field_id`/`field_value` strings split on ";", comments private
  unless `type=public`, `from=user` requires `user_id`, `files[]` multipart parts on
  `/create/comment`, any action on a New ticket moves it to Open unless `silent`.
- `files[]` on `/create/ticket` is not documented, so by default they are ignored (the ticket opens
  without them); `files_on_create=True` makes a variant that keeps them.
- `group` is an id in `/tickets` (documented); in `/ticket` it is an id, or with
  `group_as_object=True` an object `{"id", "name"}`, as it has been seen (third-party report).
- Failures are HTTP 200 with `{"error": "...", "code": n}`, except the rate limits: 10 a minute for
  `/tickets` with `query` (documented), and an overall 150 a minute (a figure with no source, kept
  as a guard), answered HTTP 429 with Laravel's `{"message": "Too Many Attempts."}` and
  `Retry-After` (the shape is an inference; UseDesk runs on Laravel). Attachments are served at
  plain file URLs on the API's host; a test may point a comment's file at any other URL.

Inferred where the docs are silent: error texts and codes, the shape of `files` elements
(`{"file": url, "name": ...}`, as seen in client code), `tag` matching any of several tags, `query`
matching words rather than one string, and the order of tickets updated in the same second (by id,
ascending).
"""

from __future__ import annotations

import html
import random
import re
import time
import zlib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from tests.fakes.harness import FakeVendor, Request, Response, json_response

ROUTES = {
    "search": ("POST", r"^/tickets$"),
    "get": ("POST", r"^/ticket$"),
    "create": ("POST", r"^/create/ticket$"),
    "reply": ("POST", r"^/create/comment$"),
}
TOKEN = "e1cbe1c1c9d910ef2ae975215644cb53dd555de4"
PAGE = 100
COMPANY_ID = 153561
API_CHANNEL = 7777
MAIL_CHANNEL = 123
STATUS_IDS = range(1, 11)
PRIORITIES = ("low", "medium", "urgent", "extreme")
TYPES = ("question", "task", "problem", "incident")
SORTS = {
    "id": lambda t: t.id,
    "status_id": lambda t: t.status_id,
    "client_id": lambda t: t.client_id,
    "assignee_id": lambda t: t.assignee_id or 0,
    "group": lambda t: t.group or 0,
    "last_updated_at": lambda t: t.updated_at,
    "published_at": lambda t: t.created_at,
}
FIELDS = {
    25: ("Жалоба", "checkbox", {}),
    37: ("Причина обращений", "list", {"39": "Доставка", "40": "Оплата", "41": "Возврат"}),
    52: ("Numer zamówienia", "text", {}),
}
AGENTS = {
    17063: ("Анна Смирнова", "anna.smirnova@shop.example"),
    15023: ("Piotr Wiśniewski", "piotr.wisniewski@shop.example"),
    16211: ("Дмитрий Волков", "d.volkov@shop.example"),
    18450: ("Zofia Dąbrowska", "zofia.dabrowska@shop.example"),
}
GROUPS = (6216, 8294)


class VendorError(Exception):
    def __init__(self, message: str, code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Comment:
    id: int
    message: str
    origin: str  # "client" | "user" | "trigger"
    type: str  # "public" | "private"
    published_at: datetime
    user_id: int | None = None
    client_id: int | None = None
    is_first: bool = False
    files: list[str] = field(default_factory=list)
    """Tokens of stored files, or the full URL of a file kept elsewhere."""


@dataclass
class Change:
    id: int
    changed_at: datetime
    old_status: int
    new_status: int
    user_id: int | None = None
    trigger_id: int | None = None
    data: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Ticket:
    id: int
    subject: str
    status_id: int
    priority: str
    type: str
    client_id: int
    created_at: datetime
    updated_at: datetime
    channel_id: int = API_CHANNEL
    assignee_id: int | None = None
    group: int | None = None
    additional_id: str | None = None
    tags: list[str] = field(default_factory=list)
    fields: dict[int, str] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


@dataclass
class Client:
    id: int
    name: str
    emails: list[str]
    phones: list[str]


@dataclass
class StoredFile:
    name: str
    content_type: str
    content: bytes


class UsedeskFake(FakeVendor):
    vendor = "UseDesk"

    def __init__(
        self,
        *,
        seed: int = 20250303,
        tickets: int = 300,
        token: str = TOKEN,
        rate_limit: int = 150,
        query_limit: int = 10,
        files_on_create: bool = False,
        group_as_object: bool = False,
    ) -> None:
        super().__init__()
        self.token = token
        self.rate_limit = rate_limit
        self.query_limit = query_limit
        self.files_on_create = files_on_create
        self.group_as_object = group_as_object
        self.tickets: dict[int, Ticket] = {}
        self.clients: dict[int, Client] = {}
        self.files: dict[str, StoredFile] = {}
        self._calls: deque[float] = deque()
        self._queries: deque[float] = deque()
        self._ids = {
            "ticket": 2_991_400,
            "comment": 40_210_000,
            "change": 913_000,
            "client": 15_300,
            "file": 0,
        }
        self.seed_once(
            (seed, tickets),
            lambda: Seeder(self, random.Random(seed)).seed(tickets),
            *("tickets", "clients", "files", "_ids"),
        )
        for method, path, handler in (
            ("POST", "/tickets", self._list),
            ("POST", "/ticket", self._ticket),
            ("POST", "/create/ticket", self._create_ticket),
            ("POST", "/create/comment", self._create_comment),
            ("POST", "/update/ticket", self._update_ticket),
        ):
            self.route(method, re.escape(path), self._api(handler))
        self.route("GET", r"/files/(?P<token>[0-9a-f]+)/(?P<name>[^/]+)", self._file)

    # -- helpers for tests -------------------------------------------------------------------------

    @property
    def agent_id(self) -> int:
        return next(iter(AGENTS))

    def next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def store_file(self, name: str, content_type: str, content: bytes) -> str:
        token = f"{self.next_id('file'):04x}{zlib.crc32(name.encode() + content) & 0xFFFF:04x}"
        self.files[token] = StoredFile(name, content_type, content)
        return token

    def newest_first(self) -> list[Ticket]:
        """Every ticket as `/tickets` sorted by `last_updated_at` orders them."""
        return _sorted(list(self.tickets.values()), "last_updated_at", "desc")

    # -- the wire ----------------------------------------------------------------------------------

    def authorize(self, request: Request) -> Response | None:
        if request.method != "POST":
            return None
        params = _params(request)
        # Throttling comes first, as in UseDesk's framework: refused requests count too.
        windows = [(self._calls, self.rate_limit)]
        if request.path == "/tickets" and params.get("query"):
            windows.append((self._queries, self.query_limit))
        now = time.monotonic()
        with self.lock:
            for calls, limit in windows:
                while calls and calls[0] <= now - 60:
                    calls.popleft()
                if len(calls) >= limit:
                    wait = max(1, int(60 - (now - calls[0])) + 1)
                    return json_response(
                        {"message": "Too Many Attempts."},
                        status=429,
                        **{
                            "Retry-After": str(wait),
                            "X-RateLimit-Limit": str(limit),
                            "X-RateLimit-Remaining": "0",
                        },
                    )
                calls.append(now)
        token = params.get("api_token")
        if token != self.token:
            return _error("Api token is not valid", 401)
        return None

    def _api(self, handler: Any) -> Any:
        def handle(request: Request, match: re.Match[str]) -> Response:
            try:
                return json_response(handler(_params(request), request))
            except VendorError as exc:
                return _error(exc.message, exc.code)

        return handle

    def _file(self, request: Request, match: re.Match[str]) -> Response:
        stored = self.files.get(match["token"])
        if stored is None or quote(stored.name) != quote(unquote(match["name"])):
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        return Response(200, stored.content, {"Content-Type": stored.content_type})

    def file_url(self, token: str) -> str:
        if token.startswith(("http://", "https://")):
            return token
        return f"{self.url}/files/{token}/{quote(self.files[token].name)}"

    def file_name(self, token: str) -> str:
        if token.startswith(("http://", "https://")):
            return unquote(token.rsplit("/", 1)[-1])
        return self.files[token].name

    # -- /tickets ----------------------------------------------------------------------------------

    def _list(self, params: dict[str, Any], request: Request) -> Any:
        for name in ("offset", "tag", "query", "accessible_for_agent_id"):
            if name in params and params[name] is None:
                raise VendorError(f"The {name} field must not be null.")
        offset = _integer(params.get("offset", 0), "offset")
        if offset < 0:
            raise VendorError("The offset must be at least 0.")
        tickets = [t for t in self.tickets.values() if self._matches(t, params)]
        sort = str(params.get("sort") or "id")
        order = str(params.get("order") or "desc").lower()
        if sort not in SORTS:
            raise VendorError(f"The selected sort is invalid: {sort}.")
        if order not in ("asc", "desc"):
            raise VendorError(f"The selected order is invalid: {order}.")
        page = _sorted(tickets, sort, order)[offset * PAGE : (offset + 1) * PAGE]
        return [self._summary(t) for t in page]

    def _matches(self, ticket: Ticket, params: Mapping[str, Any]) -> bool:
        for name, value in (
            ("fstatus", ticket.status_id),
            ("fgroup", ticket.group),
            ("fchannel", ticket.channel_id),
            ("ftype", ticket.type),
            ("fpriority", ticket.priority),
        ):
            wanted = params.get(name)
            if wanted not in (None, "") and str(value) not in _comma_list(wanted, name):
                return False
        if params.get("client_id") not in (None, "") and ticket.client_id != _integer(
            params["client_id"], "client_id"
        ):
            return False
        if params.get("fassigned") not in (None, "") and not self._assigned(ticket, params["fassigned"]):
            return False
        tag = params.get("tag")
        if tag not in (None, ""):
            wanted_tags = {t.strip().lower() for t in str(tag).split(",") if t.strip()}
            if not wanted_tags & {t.lower() for t in ticket.tags}:
                return False
        for name, moment, upper in (
            ("created_after", ticket.created_at, False),
            ("created_before", ticket.created_at, True),
            ("updated_after", ticket.updated_at, False),
            ("updated_before", ticket.updated_at, True),
        ):
            if params.get(name) not in (None, "") and not _within(moment, params[name], name, upper):
                return False
        query = params.get("query")
        if query not in (None, "") and not self._found(ticket, str(query).strip().lower()):
            return False
        return not (params.get("fields") and not self._fields_match(ticket, params["fields"]))

    def _assigned(self, ticket: Ticket, value: Any) -> bool:
        wanted = value if isinstance(value, list) else [value]
        for entry in wanted:
            if not isinstance(entry, Mapping) or "assignee_id" not in entry:
                raise VendorError("fassigned must hold objects with assignee_id.")
            agent, group = entry.get("assignee_id"), entry.get("group_id")
            agent_ok = (
                ticket.assignee_id is None
                if str(agent) == "unassigned"
                else ticket.assignee_id == _integer(agent, "assignee_id")
            )
            group_ok = (
                group in (None, "")
                or (str(group) == "unassigned" and ticket.group is None)
                or (str(group) != "unassigned" and ticket.group == _integer(group, "group_id"))
            )
            if agent_ok and group_ok:
                return True
        return False

    def _found(self, ticket: Ticket, query: str) -> bool:
        # UseDesk searches the subject, custom field values and the client's e-mail and phone; every
        # word must be found in one of them (word matching is an inference, as search engines do).
        client = self.clients[ticket.client_id]
        haystack = " ".join([ticket.subject, *ticket.fields.values(), *client.emails, *client.phones]).lower()
        return all(word in haystack for word in query.split())

    def _fields_match(self, ticket: Ticket, value: Any) -> bool:
        for entry in value if isinstance(value, list) else [value]:
            if not isinstance(entry, Mapping):
                raise VendorError("fields must hold objects with id and value.")
            field_id = _integer(entry.get("id"), "fields.id")
            current = ticket.fields.get(field_id, "")
            wanted = str(entry.get("value"))
            empty = current in ("", "0", "false")
            if (wanted == "empty" and not empty) or (wanted == "not_empty" and empty):
                return False
            if wanted not in ("empty", "not_empty") and current != wanted:
                return False
        return True

    def _summary(self, ticket: Ticket) -> dict[str, Any]:
        client = self.clients[ticket.client_id]
        public = [c for c in ticket.comments if c.type == "public"]
        return {
            "id": ticket.id,
            "subject": ticket.subject,
            "client_id": ticket.client_id,
            "client_name": client.name,
            "assignee_id": ticket.assignee_id,
            "channel_id": ticket.channel_id,
            "group": ticket.group,
            "created_at": _stamp(ticket.created_at),
            "last_updated_at": _stamp(ticket.updated_at),
            "channel_email": "support@shop.example" if ticket.channel_id == MAIL_CHANNEL else None,
            "active_sla": [],
            "ticket_fields": [
                {"id": fid, "name": name, "value": ticket.fields.get(fid)}
                for fid, (name, _, _) in FIELDS.items()
            ],
            "tags": [{"name": tag} for tag in ticket.tags],
            "status": ticket.status_id,
            "priority": ticket.priority,
            "type": ticket.type,
            "last_comment": _strip_tags(public[-1].message) if public else "",
            "remind_at": None,
        }

    # -- /ticket -----------------------------------------------------------------------------------

    def _ticket(self, params: dict[str, Any], request: Request) -> Any:
        ticket = self._existing(params)
        client = self.clients[ticket.client_id]
        return {
            "ticket": {
                "id": str(ticket.id),
                "status_id": str(ticket.status_id),
                "subject": ticket.subject,
                "client_id": str(ticket.client_id),
                "client_name": client.name,
                "assignee_id": None if ticket.assignee_id is None else str(ticket.assignee_id),
                "group": self._group(ticket),
                "last_updated_at": _stamp(ticket.updated_at),
                "email": client.emails[0] if client.emails else "0",
                "published_at": _stamp(ticket.created_at),
                "company_id": str(COMPANY_ID),
                "channel_id": str(ticket.channel_id),
                "priority": ticket.priority,
                "type": ticket.type,
                "additional_id": ticket.additional_id,
            },
            "comments": [self._comment(ticket, c) for c in ticket.comments],
            "changes": [
                {
                    "id": str(change.id),
                    "trigger_id": None if change.trigger_id is None else str(change.trigger_id),
                    "user_id": None if change.user_id is None else str(change.user_id),
                    "ticket_id": str(ticket.id),
                    "data": change.data,
                    "changed_at": _stamp(change.changed_at),
                    "old_status": str(change.old_status),
                    "new_status": str(change.new_status),
                    "company_id": str(COMPANY_ID),
                }
                for change in ticket.changes
            ],
            "tags": [
                {"ticket_tag_id": 900 + i, "tag_company_id": COMPANY_ID, "name": tag, "ticket_count": 1}
                for i, tag in enumerate(ticket.tags)
            ],
            "custom_fields": [
                {
                    "id": str(ticket.id * 10 + i),
                    "ticket_id": str(ticket.id),
                    "ticket_field_id": str(fid),
                    "value": v,
                }
                for i, (fid, v) in enumerate(ticket.fields.items())
            ],
        }

    def _group(self, ticket: Ticket) -> Any:
        if self.group_as_object:
            return None if ticket.group is None else {"id": ticket.group, "name": f"Группа {ticket.group}"}
        return str(ticket.group or 0)

    def _comment(self, ticket: Ticket, comment: Comment) -> dict[str, Any]:
        client = self.clients[comment.client_id] if comment.client_id else None
        agent = AGENTS.get(comment.user_id or 0)
        return {
            "id": str(comment.id),
            "message": comment.message,
            "from": comment.origin,
            "type": comment.type,
            "user_id": None if comment.user_id is None else str(comment.user_id),
            "client_id": None if client is None else str(client.id),
            "client_name": None if client is None else client.name,
            "ticket_id": str(ticket.id),
            "is_first": "1" if comment.is_first else "0",
            "delivered": "1",
            "readed": "0",
            "published_at": _stamp(comment.published_at),
            "file": None,
            "files": [
                {"file": self.file_url(token), "name": self.file_name(token)} for token in comment.files
            ],
            "cc": [],
            "bcc": [],
            "client": None
            if client is None
            else {"id": client.id, "name": client.name, "emails": [{"email": e} for e in client.emails]},
            "user": None
            if agent is None
            else {"id": comment.user_id, "name": agent[0], "email": agent[1], "role": "employee"},
        }

    # -- writes ------------------------------------------------------------------------------------

    def _create_ticket(self, params: dict[str, Any], request: Request) -> Any:
        subject = _string(params.get("subject"))
        message = _string(params.get("message"))
        if not subject:
            raise VendorError("The subject field is required.")
        if len(subject) > 255:
            raise VendorError("The subject may not be greater than 255 characters.")
        if not message:
            raise VendorError("The message field is required.")
        priority = _choice(params.get("priority"), PRIORITIES, "medium", "priority")
        kind = _choice(params.get("type"), TYPES, "question", "type")
        status = _integer(params.get("status", 8), "status")
        if status not in STATUS_IDS:
            raise VendorError("The selected status is invalid.")
        additional_id = _string(params.get("additional_id")) or None
        if additional_id is not None and len(additional_id) > 255:
            raise VendorError("The additional_id may not be greater than 255 characters.")
        fields = _parallel_fields(params)
        client = self._client_for(params)
        now = _now()
        ticket = Ticket(
            id=self.next_id("ticket"),
            subject=subject,
            status_id=status,
            priority=priority,
            type=kind,
            client_id=client.id,
            created_at=now,
            updated_at=now,
            additional_id=additional_id,
            tags=_tag_names(params.get("tag")),
            fields=fields,
        )
        if params.get("assignee_id") not in (None, ""):
            ticket.assignee_id = self._agent(params["assignee_id"])
        if params.get("group_id") not in (None, ""):
            ticket.group = _integer(params["group_id"], "group_id")
        private = str(params.get("private_comment", "")).lower() == "true"
        ticket.comments.append(
            Comment(
                id=self.next_id("comment"),
                message=message,
                origin="client",
                type="private" if private else "public",
                published_at=now,
                client_id=client.id,
                is_first=True,
                files=self._uploads(request) if self.files_on_create else [],
            )
        )
        self.tickets[ticket.id] = ticket
        return {"status": "success", "ticket_id": ticket.id}

    def _create_comment(self, params: dict[str, Any], request: Request) -> Any:
        ticket = self._existing(params)
        message = _string(params.get("message"))
        if not message:
            raise VendorError("The message field is required.")
        kind = _choice(params.get("type"), ("public", "private"), "private", "type")
        origin = _choice(params.get("from"), ("user", "client", "trigger"), "user", "from")
        user_id = None
        if origin == "user":
            if params.get("user_id") in (None, ""):
                if "from" in params:
                    raise VendorError("The user_id field is required when from is user.")
                user_id = next(iter(AGENTS))  # "the first user of the company"
            else:
                user_id = self._agent(params["user_id"])
        if origin == "trigger" and params.get("trigger_id") in (None, ""):
            raise VendorError("The trigger_id field is required when from is trigger.")
        now = _now()
        comment = Comment(
            id=self.next_id("comment"),
            message=message,
            origin=origin,
            type=kind,
            published_at=now,
            user_id=user_id,
            client_id=ticket.client_id if origin == "client" else None,
            files=self._uploads(request),
        )
        ticket.comments.append(comment)
        self._touch(ticket, now, user_id, params)
        return {"status": "success", "comment_id": comment.id}

    def _update_ticket(self, params: dict[str, Any], request: Request) -> Any:
        ticket = self._existing(params)
        now = _now()
        user_id = self._agent(params["user_id"]) if params.get("user_id") not in (None, "") else None
        data: list[dict[str, str]] = []
        old = ticket.status_id
        if params.get("status") not in (None, ""):
            status = _integer(params["status"], "status")
            if status not in STATUS_IDS:
                raise VendorError("The selected status is invalid.")
            ticket.status_id = status
        if params.get("priority") not in (None, ""):
            ticket.priority = _choice(params["priority"], PRIORITIES, ticket.priority, "priority")
            data.append({"target": "priority", "value": ticket.priority})
        if params.get("type") not in (None, ""):
            ticket.type = _choice(params["type"], TYPES, ticket.type, "type")
        if params.get("subject") not in (None, ""):
            ticket.subject = _string(params["subject"])
        if params.get("assignee_id") not in (None, ""):
            ticket.assignee_id = (
                None if params["assignee_id"] == "null" else self._agent(params["assignee_id"])
            )
            data.append({"target": "assignee", "value": str(ticket.assignee_id or "")})
        for tag in _tag_names(params.get("tag")):
            if tag not in ticket.tags:
                ticket.tags.append(tag)
        ticket.fields.update(_parallel_fields(params))
        if ticket.status_id != old or data:
            ticket.changes.append(
                Change(self.next_id("change"), now, old, ticket.status_id, user_id=user_id, data=data)
            )
        ticket.updated_at = now
        return {"status": "success", "ticket_id": ticket.id}

    def _touch(self, ticket: Ticket, now: datetime, user_id: int | None, params: Mapping[str, Any]) -> None:
        """What any action does: the ticket is updated, and a New one opens unless told to be silent."""
        ticket.updated_at = now
        silent = str(params.get("silent", "")).lower() in ("true", "1")
        if ticket.status_id == 8 and not silent:
            ticket.status_id = 1
            ticket.changes.append(Change(self.next_id("change"), now, 8, 1, user_id=user_id))

    def _existing(self, params: Mapping[str, Any]) -> Ticket:
        if params.get("ticket_id") in (None, ""):
            raise VendorError("The ticket_id field is required.")
        ticket = self.tickets.get(_integer(params["ticket_id"], "ticket_id"))
        if ticket is None:
            raise VendorError("Ticket not found", 404)
        return ticket

    def _agent(self, value: Any) -> int:
        agent = _integer(value, "user_id")
        if agent not in AGENTS:
            raise VendorError(f"The selected user_id is invalid: {agent}.")
        return agent

    def _client_for(self, params: Mapping[str, Any]) -> Client:
        client_id = params.get("client_id")
        email = _string(params.get("client_email")).lower()
        name = _string(params.get("client_name"))
        if client_id not in (None, "", "new_client"):
            found = self.clients.get(_integer(client_id, "client_id"))
            if found is None:
                raise VendorError("Client not found", 404)
            return found
        if email and client_id != "new_client":
            for client in self.clients.values():
                if email in client.emails:
                    return client
        phone = _string(params.get("client_phone"))
        client = Client(
            self.next_id("client"),
            name or email or "Клиент",
            [email] if email else [],
            [phone] if phone else [],
        )
        self.clients[client.id] = client
        return client

    def _uploads(self, request: Request) -> list[str]:
        tokens = []
        for name, uploads in request.files().items():
            if re.fullmatch(r"files(\[\d*\])?", name):
                for upload in uploads:
                    tokens.append(self.store_file(upload.filename, upload.content_type, upload.content))
        return tokens


# ---------------------------------------------------------------------------------------------------
# Request parsing: JSON, urlencoded and multipart bodies, PHP-style nested names
# ---------------------------------------------------------------------------------------------------


def _params(request: Request) -> dict[str, Any]:
    content_type = request.header("content-type") or ""
    if content_type.startswith("application/json"):
        try:
            body = request.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    return _php_fields(request.form())


def _php_fields(form: Mapping[str, list[str]]) -> dict[str, Any]:
    """`a[]=1&a[]=2&b[0][x]=3` as PHP reads it: {"a": ["1", "2"], "b": [{"x": "3"}]}."""
    result: dict[str, Any] = {}
    for key, values in form.items():
        name, bracket, rest = key.partition("[")
        parts = re.findall(r"\[([^\]]*)\]", bracket + rest)
        for value in values:
            if not parts:
                result[name] = value
                continue
            node = result.get(name)
            if not isinstance(node, dict):
                node = result[name] = {}
            for part in parts[:-1]:
                child = node.get(part or str(len(node)))
                if not isinstance(child, dict):
                    child = node[part or str(len(node))] = {}
                node = child
            node[parts[-1] or str(len(node))] = value
    return {key: _listify(value) for key, value in result.items()}


def _listify(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    items = {key: _listify(item) for key, item in value.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def _error(message: str, code: int) -> Response:
    return json_response({"error": message, "code": code})


def _string(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value))


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise VendorError(f"The {name} must be an integer.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise VendorError(f"The {name} must be an integer.")


def _choice(value: Any, allowed: tuple[str, ...], default: str, name: str) -> str:
    if value in (None, ""):
        return default
    if str(value) not in allowed:
        raise VendorError(f"The selected {name} is invalid.")
    return str(value)


def _comma_list(value: Any, name: str) -> set[str]:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise VendorError(f"The {name} must be a string.")
    return {part.strip() for part in str(value).split(",") if part.strip()}


def _tag_names(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    return list(dict.fromkeys(t.strip() for t in str(value).split(",") if t.strip()))


def _parallel_fields(params: Mapping[str, Any]) -> dict[int, str]:
    ids, values = params.get("field_id"), params.get("field_value")
    if ids in (None, "") and values in (None, ""):
        return {}
    id_list = str(ids or "").split(";")
    value_list = str(values if values is not None else "").split(";")
    if len(id_list) != len(value_list):
        raise VendorError("The number of field_id and field_value entries must match.")
    fields: dict[int, str] = {}
    for raw_id, value in zip(id_list, value_list, strict=True):
        field_id = _integer(raw_id, "field_id")
        if field_id not in FIELDS:
            raise VendorError(f"Field {field_id} does not exist", 422)
        kind, options = FIELDS[field_id][1], FIELDS[field_id][2]
        if kind == "checkbox" and value not in ("true", "false"):
            raise VendorError(f"Field {field_id} takes true or false.")
        if kind == "list" and value not in options:
            raise VendorError(f"Field {field_id} takes one of the option ids {', '.join(options)}.")
        if kind == "text" and len(value) > 255:
            raise VendorError(f"Field {field_id} may not be greater than 255 characters.")
        fields[field_id] = value
    return fields


def _within(moment: datetime, raw: Any, name: str, upper: bool) -> bool:
    text = _string(raw)
    for layout, step in (
        ("%Y-%m-%d %H:%M:%S", timedelta(seconds=1)),
        ("%Y-%m-%d %H:%M", timedelta(minutes=1)),
    ):
        try:
            bound = datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
        # Inclusive, to the bound's own precision: "12:34" before includes 12:34:59.
        return moment < bound + step if upper else moment >= bound
    raise VendorError(f"The {name} does not match the format Y-m-d H:i.")


def _sorted(tickets: list[Ticket], sort: str, order: str) -> list[Ticket]:
    # Ties keep id order whatever the direction, as a database sorting on one column may.
    by_id = sorted(tickets, key=lambda t: t.id)
    return sorted(by_id, key=SORTS[sort], reverse=order == "desc")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _strip_tags(message: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", message)).split())


# ---------------------------------------------------------------------------------------------------
# A realistic account
# ---------------------------------------------------------------------------------------------------

POLISH = [
    ("Agnieszka Wójcik", "agnieszka.wojcik"),
    ("Łukasz Zieliński", "lukasz.zielinski"),
    ("Małgorzata Kamińska", "malgorzata.kaminska"),
    ("Grzegorz Szymański", "grzegorz.szymanski"),
    ("Katarzyna Woźniak", "katarzyna.wozniak"),
    ("Paweł Kozłowski", "pawel.kozlowski"),
    ("Żaneta Jabłońska", "zaneta.jablonska"),
]
RUSSIAN = [
    ("Лащук Василий", "v.lashchuk"),
    ("Ирина Соколова", "irina.sokolova"),
    ("Сергей Кузнецов", "s.kuznetsov"),
    ("Ольга Лебедева", "olga.lebedeva"),
    ("Алексей Морозов", "a.morozov"),
    ("Юлия Фёдорова", "yulia.fedorova"),
    ("Наталья Ёлкина", "n.yolkina"),
]
SUBJECTS = [
    "Не приходит письмо с подтверждением заказа №{n}",
    "Возврат денег за заказ {n} — «прошло 10 дней»",
    "Счёт-фактура за март: ошибка в ИНН",
    "Zwrot zamówienia {n} – proszę o pilną odpowiedź",
    "Nie działa płatność BLIK 😕",
    "Reklamacja: uszkodzona paczka, zamówienie nr {n}",
    "Cannot log in after password reset",
    "Invoice {n} shows the wrong VAT rate",
    "Где мой заказ? Трек-номер не обновляется 📦",
    "Zmiana adresu dostawy dla zamówienia {n}",
    'Priority <urgent> & "quoted" characters in subject {n}',
]
TAGS = ["Важный", "Холодный", "vip", "доставка", "zwrot", "płatność", "bug"]
OPENINGS = [
    "<p>Здравствуйте!</p><p>Заказ №{n} оплачен 3 дня назад, но письмо с подтверждением так и не пришло. "
    "Проверил папку «Спам» — пусто.</p><p>С уважением,<br>{name}</p>",
    "<p>Dzień dobry,</p><p>zamówienie {n} dotarło uszkodzone: pęknięta obudowa, brakuje ładowarki. "
    "Proszę o zwrot pieniędzy na konto.</p><p>Pozdrawiam serdecznie<br>{name}</p>",
    "<div>Hello,<br><br>after resetting my password I get &quot;invalid credentials&quot; &amp; the page "
    "reloads. Steps:<ol><li>open /login</li><li>enter the new password</li></ol>Thanks, {name}</div>",
    "Добрый день! Пишу из чата, без разметки: сумма 1 500 ₽ списана дважды.\nПожалуйста, верните одну.",
]
REPLIES = [
    "<p>{client}, добрый день!</p><p>Проверили: письмо ушло на адрес с опечаткой. Отправили повторно.</p>"
    "<blockquote><p>Заказ №{n} оплачен 3 дня назад</p></blockquote>",
    "<p>Dzień dobry,</p><p>przepraszamy za kłopot. Zwrot zlecony, środki wrócą w ciągu 3–5 dni "
    "roboczych.</p>",
    "<p>Hi {client},</p><p>we have reset your session; please try again &mdash; it should work now.</p>",
]
NOTES = [
    "<p>Проверил в 1С — оплата прошла, дубль платежа есть. [~anna.smirnova@shop.example] посмотри, "
    "пожалуйста.</p>",
    "<p>Klient dzwonił drugi raz, jest zdenerwowany. Priorytet podniesiony.</p>",
    "<p>Internal: refund approved by finance, ticket can be solved after confirmation.</p>",
]
LONG_SENTENCE = (
    "Ещё раз подробно описываю ситуацию, потому что предыдущие ответы её не решили; "
    "zależy mi na szybkim rozwiązaniu, bo sprawa ciągnie się od tygodni. "
)


class Seeder:
    """Hundreds of tickets with every kind of message, deterministic for one seed."""

    def __init__(self, fake: UsedeskFake, rng: random.Random) -> None:
        self.fake = fake
        self.rng = rng

    def seed(self, count: int) -> None:
        fake, rng = self.fake, self.rng
        for index in range(max(12, count // 2)):
            name, login = rng.choice(POLISH if index % 2 else RUSSIAN)
            domain = "example.pl" if index % 2 else "example.ru"
            phone = (
                f"+48 600 {index:03d} {rng.randint(100, 999)}"
                if index % 2
                else f"+7 912 {index:03d}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
            )
            client = Client(fake.next_id("client"), name, [f"{login}{index}@{domain}"], [phone])
            fake.clients[client.id] = client
        clients = list(fake.clients.values())
        moment = datetime(2025, 3, 3, 7, 12, 5, tzinfo=UTC)
        for index in range(count):
            moment += timedelta(minutes=rng.randint(5, 400), seconds=rng.randint(0, 59))
            fake._ids["ticket"] += rng.randint(1, 9)
            self._ticket(fake.next_id("ticket"), rng.choice(clients), moment, index)
        self._ties()

    def _ticket(self, ticket_id: int, client: Client, created: datetime, index: int) -> None:
        fake, rng = self.fake, self.rng
        number = 10_000 + index
        status = rng.choices(list(STATUS_IDS), weights=[30, 15, 15, 2, 5, 15, 2, 10, 2, 4])[0]
        ticket = Ticket(
            id=ticket_id,
            subject=rng.choice(SUBJECTS).format(n=number),
            status_id=status,
            priority=rng.choices(PRIORITIES, weights=[10, 70, 15, 5])[0],
            type=rng.choice(TYPES),
            client_id=client.id,
            created_at=created,
            updated_at=created,
            channel_id=rng.choice((API_CHANNEL, MAIL_CHANNEL)),
            tags=rng.sample(TAGS, rng.randint(0, 3)),
        )
        if rng.random() < 0.7:
            ticket.fields[37] = rng.choice(["39", "40", "41"])
        if rng.random() < 0.5:
            ticket.fields[52] = f"PL/{number}/2025"
        if rng.random() < 0.3:
            ticket.fields[25] = "true"
        at = created
        first = Comment(
            fake.next_id("comment"),
            rng.choice(OPENINGS).format(n=number, name=html.escape(client.name)),
            "client",
            "public",
            at,
            client_id=client.id,
            is_first=True,
        )
        if index % 4 == 0:
            first.files.append(fake.store_file(f"zdjęcie paragonu {number}.jpg", "image/jpeg", _jpeg(number)))
        ticket.comments.append(first)
        if status == 8:
            fake.tickets[ticket.id] = ticket
            return
        if rng.random() < 0.4:
            at += timedelta(seconds=rng.randint(1, 20))
            ticket.comments.append(
                Comment(
                    fake.next_id("comment"),
                    f"<p>Ваше обращение зарегистрировано под номером {ticket.id}. "
                    "Мы ответим в течение дня.</p>",
                    "trigger",
                    "public",
                    at,
                )
            )
        agent = rng.choice(list(AGENTS))
        ticket.assignee_id, ticket.group = agent, rng.choice(GROUPS)
        at += timedelta(minutes=rng.randint(3, 600))
        ticket.changes.append(
            Change(
                fake.next_id("change"),
                at,
                8,
                1,
                trigger_id=1260,
                data=[{"target": "assignee", "value": str(agent)}],
            )
        )
        if rng.random() < 0.35:
            at += timedelta(minutes=rng.randint(1, 90))
            ticket.comments.append(
                Comment(fake.next_id("comment"), rng.choice(NOTES), "user", "private", at, user_id=agent)
            )
        at += timedelta(minutes=rng.randint(1, 300))
        reply = rng.choice(REPLIES).format(client=html.escape(client.name.split()[0]), n=number)
        ticket.comments.append(Comment(fake.next_id("comment"), reply, "user", "public", at, user_id=agent))
        if rng.random() < 0.3:
            at += timedelta(hours=rng.randint(1, 40))
            body = (
                "<p>" + LONG_SENTENCE * rng.randint(20, 40) + "</p>"
                if index % 3 == 0
                else "<p>Спасибо! Dziękuję!</p>"
            )
            follow = Comment(fake.next_id("comment"), body, "client", "public", at, client_id=client.id)
            if index % 5 == 0:
                follow.files.append(
                    fake.store_file("выписка.pdf", "application/pdf", b"%PDF-1.4 " + bytes(range(256)))
                )
            ticket.comments.append(follow)
        if status != 1:
            at += timedelta(minutes=rng.randint(1, 120))
            ticket.changes.append(Change(fake.next_id("change"), at, 1, status, user_id=agent))
        ticket.updated_at = at
        fake.tickets[ticket.id] = ticket

    def _ties(self) -> None:
        """Some tickets updated in the same second, as bulk actions and triggers leave them."""
        tickets = sorted(self.fake.tickets.values(), key=lambda t: t.updated_at)
        for start in range(10, len(tickets) - 4, 37):
            group = tickets[start : start + 3]
            latest = max(t.updated_at for t in group)
            for ticket in group:
                ticket.updated_at = latest


def _jpeg(number: int) -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + number.to_bytes(4, "big") + bytes(range(200)) + b"\xff\xd9"


# ---------------------------------------------------------------------------------------------------
# What the shared suites use
# ---------------------------------------------------------------------------------------------------


def make_fake(**options: Any) -> UsedeskFake:
    return UsedeskFake(**options)


def env_for(fake: FakeVendor) -> dict[str, str]:
    assert isinstance(fake, UsedeskFake)
    return {"USEDESK_API_TOKEN": fake.token, "USEDESK_URL": fake.url, "USEDESK_USER_ID": str(fake.agent_id)}


__all__ = ["ROUTES", "UsedeskFake", "env_for", "make_fake"]
