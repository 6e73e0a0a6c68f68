"""The Thulium adapter: Thulium's ticket API (HTTP Basic, JSON) mapped onto the normalized model.

What Thulium's API cannot do, and how this adapter answers:
- no internal note on an existing ticket (only `comment` when opening one): UnsupportedError;
- no attachment names and no attachment download: files this process uploaded keep their names
  (see `attachments`), others read "(unnamed)"; downloading raises UnsupportedError;
- no full-text search: `query`, `requester` and `tags` are applied here over the tickets its list
  call returns (see `search`);
- no priority, and no customer name on a new ticket (the create call documents neither; Thulium
  knows the sender by address): the ticket is opened without them and the result lists each under
  `not_stored`, and `capabilities.create_fields` says so beforehand;
- a reply cannot set the status: the adapter sends the reply, then changes the status with a
  second call, and says precisely which of the two happened if the second fails;
- no documented list of the account's statuses: their ids come from the `statuses` setting, from
  the tickets read, and from `GET ticket_statuses` only if it answers (see `statuses`).

docs/vendors.md says, for each assumption made about Thulium's API, whether it is documented, seen
in third-party code, or a guess.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager, aclosing
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import httpx

from ..base import Adapter
from ..errors import (
    HelpdeskError,
    InvalidInputError,
    NotFoundError,
    OutcomeUnknownError,
    UnavailableError,
    UnsupportedError,
)
from ..escaped_html import escaped_html
from ..http import VendorClient
from ..model import (
    SEARCH_FILTERS,
    AttachmentContent,
    Capabilities,
    FileUpload,
    Message,
    NewReply,
    NewTicket,
    NotStored,
    SearchHit,
    SearchPage,
    SearchQuery,
    Status,
    Ticket,
    make_ref,
)
from ..paging import read_ahead
from ..sent_once import read_back, send_once
from ..text import to_plain_text
from .attachments import AttachmentNames
from .errors import MissingRecordError, read_error
from .recent import RecentValues
from .search import POSITIONS, Matcher, native_params, ordered
from .settings import ThuliumSettings
from .statuses import Catalogue, CatalogueEntry, StatusMap, parse_catalogue
from .wire import (
    Reader,
    ThuliumMessage,
    ThuliumTicket,
    attachment_ids,
    ident,
    serial,
    status_fields,
    vendor_minute,
)

log = logging.getLogger(__name__)

PAGE = 100
"""The most tickets Thulium lists per call."""
MIN_PAGE = 20
"""The fewest tickets asked for per call, so that a crowded minute takes few calls to read whole."""
CATALOGUE_TTL = 300.0
"""Seconds the statuses resource's answer (or its absence) is trusted before it is asked again, and
the least time between two reads of recent tickets to learn status ids (admins add statuses)."""
# Tags seen in a list call this recently stand for the ticket's own: an agent reads what it just found.
TAGS_FRESH_FOR = 60.0
LOOKBACK = timedelta(minutes=5)
"""How far before a lost create to look for the ticket it may have opened (clocks differ)."""


class ThuliumAdapter(Adapter):
    """One Thulium account, reached through its API user.

    Opening tickets needs `mailbox` (the `to` of new tickets) and replying needs `agent_login` (the
    agent replies are sent as); without them `capabilities` says so and those calls are refused.
    """

    type = "thulium"

    def __init__(
        self, name: str, settings: ThuliumSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(name)
        self._settings = settings
        self._zone = ZoneInfo(settings.timezone)
        self._statuses = StatusMap(name, settings.statuses)
        self._names = AttachmentNames()
        self._reader = Reader(name, self._zone, self._statuses, self._names)
        self._client = VendorClient(
            backend=name,
            vendor="Thulium",
            base_url=settings.url,
            settings=settings,
            read_error=read_error,
            headers={"Accept": "application/json"},
            auth=httpx.BasicAuth(settings.user, settings.password.get_secret_value()),
            transport=transport,
        )
        self._catalogue: tuple[float, Catalogue | None] | None = None
        self._learned_at: float | None = None
        # A ticket's tags come only with the list call; one just listed spares get_ticket a second request.
        self._tags_seen: RecentValues[list[str]] = RecentValues(TAGS_FRESH_FOR)
        self._catalogue_lock = anyio.Lock()
        can_create = settings.mailbox is not None
        can_reply = settings.agent_login is not None
        self.capabilities = Capabilities(
            search=True,
            full_text_search=True,
            search_filters=SEARCH_FILTERS,
            create=can_create,
            reply=can_reply,
            internal_notes=False,
            status_on_reply=can_reply,
            attachments=can_create or can_reply,
            attachment_download=False,
            create_fields=("requester_email", "tags"),
        )

    # -- reading ----------------------------------------------------------------------------------

    async def search(self, query: SearchQuery, limit: int, cursor: str | None = None) -> SearchPage:
        after = POSITIONS.decode(cursor) if cursor else None
        status_ids = await self._status_ids(query.statuses) if query.statuses else None
        if status_ids == []:
            return SearchPage(hits=[], more=False)  # no status of this account reads as those asked for
        matcher = Matcher(query)
        params = native_params(query, self._zone, status_ids, after)
        # Without filters applied here, a page needs one row beyond it (to say whether more follow)
        # and the rest of its last minute; the floor spares many tiny calls when a minute is crowded.
        size = PAGE if matcher.narrows else min(PAGE, max(limit + 1, MIN_PAGE))
        hits: list[SearchHit] = []
        async with self._pages(params, size) as pages, aclosing(ordered(pages, after)) as rows:
            async for row in rows:
                summary = self._reader.summary(row.raw)
                if not matcher.matches(summary, row.raw):
                    continue
                if len(hits) == limit:
                    return SearchPage(hits=hits, more=True)
                hits.append(SearchHit(ticket=summary, cursor=POSITIONS.encode(row.position)))
        return SearchPage(hits=hits, more=False)

    async def get_ticket(self, ticket_id: str) -> Ticket:
        number = self._number(ticket_id)
        raw = await self._fetch(number)
        if "tags" not in raw.model_fields_set:
            listed = self._tags_seen.get(number)
            tags = listed if listed is not None else await self._listed_tags(raw)
            raw = raw.model_copy(update={"tags": tags})
        return self._reader.ticket(raw)

    async def download_attachment(self, ticket_id: str, attachment_id: str) -> AttachmentContent:
        raise UnsupportedError(
            f"Backend {self.name!r} (thulium) cannot download attachments: Thulium's API names no "
            f"download for them; open ticket {make_ref(self.name, ticket_id)} in Thulium to get the file."
        )

    # -- writing ----------------------------------------------------------------------------------

    async def create_ticket(self, ticket: NewTicket) -> Ticket:
        mailbox = self._settings.mailbox
        if mailbox is None:
            raise UnsupportedError(
                f"Backend {self.name!r} (thulium) cannot open tickets until its `mailbox` setting "
                "names the Thulium mailbox new tickets are addressed to.",
                setting="mailbox",
            )
        tokens = await self._upload(ticket.attachments)
        body = escaped_html(ticket.body)
        payload: dict[str, Any] = {
            "to": mailbox,
            "subject": ticket.subject,
            "body": body,
            "body_type": "HTML",
        }
        if ticket.requester_email:
            payload["from"] = ticket.requester_email
        if ticket.tags:
            payload["tags"] = list(ticket.tags)
        if tokens:
            payload["attachments"] = tokens
        started = datetime.now(UTC)

        async def send() -> str:
            response = await self._client.write("POST", "tickets", **_json_body(payload))
            answer = self._client.json(response)
            ticket_id = ident(answer.get("ticket_id")) if isinstance(answer, dict) else None
            if ticket_id is None:
                raise OutcomeUnknownError(
                    f"Thulium (backend {self.name!r}) answered without the new ticket's id, so whether it "
                    "opened it is unknown."
                )
            return ticket_id

        ticket_id = await send_once(
            send,
            lambda: self._find_created(ticket, started),
            unknown=f"search for {ticket.subject!r} before opening it again.",
        )
        raw = await read_back(
            lambda: self._fetch(ticket_id),
            done=f"Thulium opened the ticket ({make_ref(self.name, ticket_id)})",
            advice="read it instead of opening it again",
        )
        first = min(
            (m for m in raw.messages if m.type == "MAIL"), key=lambda m: serial(m.message_id), default=None
        )
        if first is not None:
            self._names.remember(attachment_ids(first), ticket.attachments)
        return self._reader.ticket(raw).model_copy(update={"not_stored": _not_sent(ticket)})

    async def reply(self, ticket_id: str, reply: NewReply) -> Message:
        number = self._number(ticket_id)
        ref = make_ref(self.name, number)
        if reply.internal:
            raise UnsupportedError(
                f"Backend {self.name!r} (thulium) has no internal notes on existing tickets (Thulium's API "
                "takes a comment only when a ticket is opened); reply publicly or record the note in Thulium."
            )
        login = self._settings.agent_login
        if login is None:
            raise UnsupportedError(
                f"Backend {self.name!r} (thulium) cannot reply until its `agent_login` setting "
                "names the agent login replies are sent as.",
                setting="agent_login",
            )
        if not reply.body.strip():
            raise InvalidInputError("The reply is empty; write a body.")
        body = escaped_html(reply.body.strip())
        before = await self._fetch(number)
        # Settled before anything is sent, so that an impossible status never follows a sent reply.
        target = await self._target_status(reply.status) if reply.status else None
        tokens = await self._upload(reply.attachments)
        payload: dict[str, Any] = {"body": body, "body_type": "HTML", "user_login": login}
        if tokens:
            payload["attachments"] = tokens
        known = {m.message_id for m in before.messages}

        async def send() -> tuple[ThuliumMessage, ThuliumTicket]:
            await self._client.write("POST", f"tickets/{number}/agent_response", **_json_body(payload))
            return await self._posted_reply(number, known, body)

        posted, after = await send_once(
            send,
            lambda: self._find_reply(number, known, body),
            unknown=f"{ref} does not show it (yet), so read the ticket before sending the reply again.",
        )
        self._names.remember(attachment_ids(posted), reply.attachments)
        message = self._reader.message(posted, self._reader.summary(after).requester)
        if target is not None and reply.status is not None and after.status_id != target.id:
            await self._set_status(number, ref, message.id, reply.status, target)
        return message

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- helpers ----------------------------------------------------------------------------------

    def _pages(
        self, params: dict[str, str | list[str]], size: int
    ) -> AbstractAsyncContextManager[AsyncGenerator[list[ThuliumTicket], None]]:
        """The listing call after call, read ahead (`paging`), one slot of the concurrency left for
        other calls. Each call overlaps the last a little: a ticket already read that changes
        meanwhile leaves a `date_to` window and shifts the rest up, which would otherwise skip one;
        what is read twice counts once (`ordered`)."""
        step = size - max(1, size // 10)

        async def page(index: int) -> list[ThuliumTicket]:
            return await self._list({**params, "limit": str(size), "offset": str(index * step)})

        return read_ahead(page, lambda listed: len(listed) >= size, self._settings.max_concurrency - 1)

    async def _list(self, params: dict[str, str | list[str]]) -> list[ThuliumTicket]:
        response = await self._client.read("GET", "tickets", params=params)
        payload = self._client.json(response)
        result = payload.get("result") if isinstance(payload, dict) else None
        if not isinstance(result, list):
            raise UnavailableError(
                f"Thulium (backend {self.name!r}) listed tickets in a shape its API does not document; "
                "try again later."
            )
        items = [ThuliumTicket.model_validate(item) for item in result if isinstance(item, dict)]
        for item in items:
            if "tags" in item.model_fields_set and item.ticket_id:
                self._tags_seen.put(item.ticket_id, item.tags)
            # Each ticket shows its status's id beside its name: what setting a status needs.
            self._statuses.learn(*status_fields(item))
        return items

    async def _fetch(self, number: str) -> ThuliumTicket:
        try:
            response = await self._client.read(
                "GET", f"tickets/{number}", params={"include_custom_fields": "true"}
            )
        except MissingRecordError:
            raise NotFoundError(
                f"There is no ticket {make_ref(self.name, number)} in Thulium; check the ref, "
                "or find the ticket by searching."
            ) from None
        payload = self._client.json(response)
        if not isinstance(payload, dict):
            raise UnavailableError(
                f"Thulium (backend {self.name!r}) answered with a ticket in a shape its API does not "
                "document; try again later."
            )
        ticket = ThuliumTicket.model_validate(payload)
        self._statuses.learn(*status_fields(ticket))
        return ticket

    async def _listed_tags(self, raw: ThuliumTicket) -> list[str]:
        """A ticket's tags: the single-ticket call leaves them out, but the list call, asked for the
        ticket that holds one of its messages, has them."""
        messages = [m for m in raw.messages if ident(m.message_id)]
        if not messages:
            return []
        listed = await self._list({"message_id": messages[0].message_id, "limit": "1", "offset": "0"})
        same = [item for item in listed if item.ticket_id == raw.ticket_id]
        return same[0].tags if same else []

    async def _upload(self, files: tuple[FileUpload, ...]) -> list[str]:
        """Each file sent to Thulium's temporary files; the tokens that attach them to a message."""
        tokens = []
        for upload in files:
            try:
                response = await self._client.write(
                    "POST",
                    "temporary_files",
                    params={"filename": upload.filename},
                    content=upload.content,
                    headers={"Content-Type": "application/octet-stream"},
                )
                answer = self._client.json(response)
            except OutcomeUnknownError:
                answer = None
            token = ident(answer.get("token")) if isinstance(answer, dict) else None
            if token is None:
                # A temporary file reaches no one, so trying again is safe.
                raise UnavailableError(
                    f"Uploading {upload.filename!r} to Thulium (backend {self.name!r}) failed midway; "
                    "nothing was posted to the ticket, so it is safe to try again."
                )
            tokens.append(token)
        return tokens

    async def _find_created(self, ticket: NewTicket, started: datetime) -> str | None:
        """The ticket a create whose answer was lost opened, if Thulium shows one: same subject,
        sender and text, opened since just before the attempt."""
        params: dict[str, str | list[str]] = {
            "create_date_from": vendor_minute(started - LOOKBACK, self._zone),
            "limit": str(PAGE),
            "offset": "0",
        }
        listed = await self._list(params)
        sent = escaped_html(ticket.body)
        found = [
            raw
            for raw in listed
            if raw.subject.strip() == ticket.subject.strip()
            and raw.from_.strip().casefold() == (ticket.requester_email or "").strip().casefold()
            and any(_same_text(m.body, sent) for m in raw.messages)
        ]
        newest = max(found, key=lambda raw: serial(raw.ticket_id or ""), default=None)
        return None if newest is None else newest.ticket_id

    async def _posted_reply(
        self, number: str, known: set[str], body: str
    ) -> tuple[ThuliumMessage, ThuliumTicket]:
        """The reply Thulium just took (it answers `[]`, without its id) and the ticket as it is now."""
        ref = make_ref(self.name, number)
        after = await read_back(
            lambda: self._fetch(number),
            done=f"Thulium took the reply to {ref}",
            advice="read the ticket before sending anything again",
        )
        new = _new_replies(after, known)
        matching = [m for m in new if _same_text(m.body, body)] or new
        if not matching:
            raise UnavailableError(
                f"Thulium took the reply to {ref} but does not show it in the thread yet; "
                "read the ticket before sending anything again.",
                written=True,
            )
        return max(matching, key=lambda m: serial(m.message_id)), after

    async def _find_reply(
        self, number: str, known: set[str], body: str
    ) -> tuple[ThuliumMessage, ThuliumTicket] | None:
        """The reply a post whose answer was lost added, with the ticket as it is now; None if none shows."""
        after = await self._fetch(number)
        matching = [m for m in _new_replies(after, known) if _same_text(m.body, body)]
        return (max(matching, key=lambda m: serial(m.message_id)), after) if matching else None

    async def _set_status(
        self, number: str, ref: str, message_id: str, status: Status, target: CatalogueEntry
    ) -> None:
        """The second half of a reply with a status; its failure must not read as a failed reply."""
        sent = f"The reply was sent to {ref} (message {message_id})"
        name = target.shown
        advice = "do not send the reply again; set the status in Thulium"

        async def send() -> bool:
            await self._client.write("PUT", f"tickets/{number}", **_json_body({"status_id": target.id}))
            return True

        async def look() -> bool | None:
            return True if (await self._fetch(number)).status_id == target.id else None

        try:
            await send_once(
                send,
                look,
                unknown=f"{sent[0].lower()}{sent[1:]}, so read the ticket and, if its status is not {status} "
                f"({name}), {advice}.",
            )
        except OutcomeUnknownError:
            raise
        except HelpdeskError as exc:
            raise exc.reworded(
                f"{sent}, but its status was not changed to {status} ({name}): "
                f"{exc.message.rstrip('.')}; {advice}.",
                written=True,
            ) from None

    async def _status_ids(self, statuses: tuple[Status, ...]) -> list[str] | None:
        """Ids to filter by natively, or None to filter only here. Only the statuses resource lists
        every status; ids learned from tickets may miss one, and a filter by them would miss its tickets."""
        catalogue = await self._read_catalogue()
        return None if catalogue is None else self._statuses.ids_for(statuses, catalogue)

    async def _target_status(self, status: Status) -> CatalogueEntry:
        """The account's status to set for `status`, known from the setting, the statuses resource, the
        tickets read so far, or else the newest tickets, read now for the purpose."""
        catalogue = await self._read_catalogue()
        target = self._statuses.target(status, catalogue)
        if target is None and catalogue is None and await self._learn_statuses():
            target = self._statuses.target(status, None)
        if target is not None:
            return target
        if catalogue is not None:
            raise InvalidInputError(
                f"Backend {self.name!r} (thulium) has no status that means {status!r} (its statuses: "
                f"{self._statuses.describe(catalogue)}), so nothing was sent; choose another, or map one by "
                "id in the backend's `statuses` setting, such as 23=solved.",
                setting="statuses",
            )
        raise InvalidInputError(
            f"Backend {self.name!r} (thulium) knows no status that means {status!r}: Thulium's API does not "
            f"list an account's statuses, and its tickets show {self._statuses.describe(None)}, so nothing "
            "was sent; map the id of the status to set in the backend's `statuses` setting, such as "
            "23=solved.",
            setting="statuses",
        )

    async def _learn_statuses(self) -> bool:
        """Read the newest tickets for the status ids they show, at most once per CATALOGUE_TTL; whether
        anything was read."""
        if self._learned_at is not None and time.monotonic() - self._learned_at < CATALOGUE_TTL:
            return False
        try:
            await self._list({"limit": str(PAGE), "offset": "0"})
        except HelpdeskError as exc:
            raise exc.reworded(
                f"Thulium (backend {self.name!r}) did not list tickets, whose statuses show the id of the "
                f"status to set: {exc.message.rstrip('.')}; nothing was sent."
            ) from None
        self._learned_at = time.monotonic()
        return True

    async def _read_catalogue(self) -> Catalogue | None:
        """The account's statuses from `GET ticket_statuses`, or None: no public doc places that
        resource, so any failure means "not here", asked again after CATALOGUE_TTL."""
        async with self._catalogue_lock:
            if self._catalogue is not None and time.monotonic() - self._catalogue[0] < CATALOGUE_TTL:
                return self._catalogue[1]
            try:
                response = await self._client.read("GET", "ticket_statuses")
                catalogue = parse_catalogue(self._client.json(response))
            except HelpdeskError as exc:
                log.info("Thulium backend %r has no statuses resource here (%s).", self.name, exc.message)
                catalogue = None
            if catalogue is not None:
                self._statuses.learn_catalogue(catalogue)
            self._catalogue = (time.monotonic(), catalogue)
            return catalogue

    def _number(self, ticket_id: str) -> str:
        if not (ticket_id.isascii() and ticket_id.isdigit()):
            raise InvalidInputError(
                f"Ticket id {ticket_id!r} is not valid; {self.name} ticket ids are whole numbers, "
                f"such as {make_ref(self.name, '23962')}."
            )
        return str(int(ticket_id))


def _json_body(payload: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments that send `payload` as the docs show: UTF-8 JSON, said in the content type."""
    return {
        "content": json.dumps(payload, ensure_ascii=False).encode(),
        "headers": {"Content-Type": "application/json; charset=utf-8"},
    }


def _not_sent(ticket: NewTicket) -> list[NotStored]:
    """The optional fields of a new ticket that Thulium's create call has no place for."""
    reasons = {
        "priority": "Thulium tickets have no priority",
        "requester_name": "Thulium knows a ticket's sender by e-mail address only (`from`)",
    }
    given = {"priority": ticket.priority, "requester_name": ticket.requester_name}
    return [
        NotStored(field=name, reason=f"{reasons[name]}; not sent.") for name, value in given.items() if value
    ]


def _new_replies(ticket: ThuliumTicket, known: set[str]) -> list[ThuliumMessage]:
    """The agent replies of `ticket` whose ids are not in `known`."""
    return [m for m in ticket.messages if m.type == "REPLY" and m.message_id not in known]


def _same_text(vendor_body: str, sent_html: str) -> bool:
    """Whether a body Thulium stores is the HTML sent, whatever markup or spacing it changed."""
    return to_plain_text(vendor_body).split() == to_plain_text(sent_html).split()
