"""The UseDesk adapter: UseDesk's HTTP API mapped onto the normalized model.

Every UseDesk method is a POST to `<url>/<method>` with the channel's `api_token` in the body: JSON
for plain calls, multipart with `files[]` parts when files go along. Replies are `/create/comment`
with `type=public` (without it UseDesk makes the comment private) from the configured agent; notes
are `type=private`; a status is set afterwards with `/update/ticket`. See `search` for how the
cursor pages across UseDesk's pages of 100.

Files: UseDesk documents `files[]` on `/create/comment` only. They are sent with `/create/ticket`
too, in case UseDesk keeps them there, and the new ticket is read back; files it did not keep are
added in one internal note (documented: a comment with `type=private` and `files[]`), which no
customer sees, since a public comment from the agent would mail them to the customer and one from
the client would be words the customer never wrote. The result names that note in `not_stored`.
A file is downloaded only from the API's own origin or a host configured in `file_hosts`, since the
ticket document names any URL it likes (redirects too are followed only to those); it is streamed
and refused past `MAX_FILE_BYTES`.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..base import Adapter
from ..errors import (
    HelpdeskError,
    InvalidInputError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    UnavailableError,
    UnsupportedError,
)
from ..escaped_html import escaped_html
from ..http import VendorClient
from ..limits import MAX_FILE_BYTES
from ..model import (
    SEARCH_FILTERS,
    AttachmentContent,
    Capabilities,
    FileUpload,
    Message,
    NewReply,
    NewTicket,
    NotStored,
    SearchPage,
    SearchQuery,
    Ticket,
    make_ref,
)
from ..sent_once import not_carried, read_back, send_once
from . import search, wire
from .errors import vendor_error_reader
from .settings import UsedeskSettings
from .statuses import StatusMap

# How far back a write that may have landed is looked for: UseDesk's clock and ours may differ a little.
LOOK_BACK = timedelta(minutes=2)
# Tickets with our subject among the newest that are opened to compare their `additional_id`.
MAX_CANDIDATES = 3
Origin = tuple[str, str, int]


def origin(url: str) -> Origin | None:
    """Scheme, host and port of an http(s) URL (a bare host means HTTPS), or None if it is not one."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return None
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


class UsedeskAdapter(Adapter):
    """One UseDesk account (one API channel's token).

    Search: `query` is UseDesk's own search (subjects, custom field values, the client's e-mail and
    phone; not message text, and UseDesk allows 10 such searches a minute). `status`, `assignee` (agent
    id), `requester` (client id or e-mail), `tags` and the dates are filtered by UseDesk; exact
    times, all-of-the-tags and requester names are checked here over what it returns.
    """

    type = "usedesk"
    capabilities = Capabilities(
        search=True,
        full_text_search=False,
        search_filters=SEARCH_FILTERS,
        create=True,
        reply=True,
        internal_notes=True,
        status_on_reply=True,
        attachments=True,
        attachment_download=True,
    )

    def __init__(
        self, name: str, settings: UsedeskSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(name)
        self._settings = settings
        self._token = settings.api_token.get_secret_value()
        self._statuses = StatusMap(name, settings.statuses)
        self._queries = search.QueryResults()
        self._file_origins = {
            found for found in map(origin, [settings.url, *settings.file_hosts]) if found is not None
        }
        self._client = VendorClient(
            backend=name,
            vendor="UseDesk",
            base_url=settings.url,
            settings=settings,
            read_error=vendor_error_reader(self._token),
            transport=transport,
        )

    # -- reading -----------------------------------------------------------------------------------

    async def search(self, query: SearchQuery, limit: int, cursor: str | None = None) -> SearchPage:
        found = search.plan(query, self._statuses, self.name)
        if found is None:
            return SearchPage(hits=[], more=False)
        try:
            fetch: search.Fetch = self._list
            if "query" in found.params:
                fetch = self._queries.fetcher(self._list, fresh=cursor is None)
            return await search.scan(
                found,
                limit,
                cursor,
                fetch=fetch,
                read=lambda item: wire.summary(item, self.name, self._statuses),
                backend=self.name,
            )
        except RateLimitedError as exc:
            if "query" not in found.params:
                raise
            raise exc.reworded(
                f"{exc.message.rstrip('.')}; UseDesk allows only {search.QUERY_RATE} searches a minute "
                "that carry words or a requester e-mail."
            ) from None

    async def get_ticket(self, ticket_id: str) -> Ticket:
        document = await self._fetch_ticket(self._ticket_number(ticket_id))
        return wire.ticket(document, self.name, self._statuses)

    async def download_attachment(self, ticket_id: str, attachment_id: str) -> AttachmentContent:
        document = await self._fetch_ticket(self._ticket_number(ticket_id))
        location = wire.find_file(document, attachment_id)
        if location is not None:
            return await self._download(*location)
        raise NotFoundError(
            f"Ticket {make_ref(self.name, ticket_id)} has no attachment {attachment_id!r}; "
            "read the ticket to see its attachments."
        )

    # -- writing -----------------------------------------------------------------------------------

    async def create_ticket(self, ticket: NewTicket) -> Ticket:
        # A hidden id of our own lets us tell afterwards whether an unanswered create went through.
        marker = f"helpdesk-mcp-{uuid.uuid4().hex}"
        fields: dict[str, Any] = {
            "subject": ticket.subject,
            "message": escaped_html(ticket.body),
            "additional_id": marker,
        }
        if ticket.requester_email:
            fields["client_email"] = ticket.requester_email
        if ticket.requester_name:
            fields["client_name"] = ticket.requester_name
        if ticket.priority:
            fields["priority"] = wire.PRIORITY_TO_USEDESK[ticket.priority]
        if ticket.tags:
            fields["tag"] = self._tag_list(ticket.tags)
        if self._settings.fields:
            # Custom fields travel as two parallel semicolon-separated strings.
            fields["field_id"] = ";".join(self._settings.fields)
            fields["field_value"] = ";".join(self._settings.fields.values())
        started = datetime.now(UTC)

        async def send() -> Ticket:
            ticket_id = await self._write_for_id("create/ticket", fields, ticket.attachments, "ticket_id")
            return await read_back(
                lambda: self.get_ticket(ticket_id),
                done=f"The ticket was opened as {make_ref(self.name, ticket_id)}",
                advice="read it and do not open it again",
            )

        created = await send_once(
            send,
            lambda: self._find_created(marker, ticket.subject, started),
            unknown=f"UseDesk shows no such new ticket yet, so search for the subject {ticket.subject!r} "
            "before trying again.",
        )
        return await self._files_kept(created, ticket.attachments)

    async def reply(self, ticket_id: str, reply: NewReply) -> Message:
        number = self._ticket_number(ticket_id)
        ref = make_ref(self.name, ticket_id)
        user_id = self._settings.user_id
        if user_id is None:
            raise UnsupportedError(
                f"Backend {self.name!r} (usedesk) needs the agent to post as: set its `user_id` setting to "
                "that agent's UseDesk user id.",
                setting="user_id",
            )
        status_id = self._statuses.write(reply.status) if reply.status else None
        what = "note" if reply.internal else "reply"
        if not reply.body.strip():
            raise InvalidInputError("A UseDesk comment needs text; give the message a body.")
        message = escaped_html(reply.body)
        fields: dict[str, Any] = {
            "ticket_id": number,
            "message": message,
            "type": "private" if reply.internal else "public",
            "from": "user",
            "user_id": int(user_id),
        }
        started = datetime.now(UTC)

        try:
            comment_id = await send_once(
                lambda: self._write_for_id("create/comment", fields, reply.attachments, "comment_id"),
                lambda: self._find_posted(number, message, reply.internal, started),
                unknown=f"the {what} is not in the thread yet, so read the ticket {ref} to see whether it "
                "arrived before trying again.",
            )
        except NotFoundError as exc:
            raise self._missing(ref, exc) from None
        if status_id is not None:
            await self._set_status(number, status_id, user_id, f"The {what} was sent (message {comment_id})")
        return await self._posted(number, comment_id, what)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _files_kept(self, created: Ticket, uploads: Sequence[FileUpload]) -> Ticket:
        """The new ticket with every file sent along: those UseDesk did not keep go in an internal note."""
        first = next((message for message in created.messages if message.kind != "system"), None)
        missing = not_carried(first, uploads)
        if not missing:
            return created
        ref = created.ref
        number = self._ticket_number(ref.split(":", 1)[1])
        names = ", ".join(upload.filename for upload in missing)
        # `silent` keeps a New ticket New: it is documented on /update/ticket and assumed here.
        fields: dict[str, Any] = {
            "ticket_id": number,
            "message": escaped_html(f"Files sent with the ticket when it was opened: {names}"),
            "type": "private",
            "silent": "true",
        }
        if self._settings.user_id is not None:
            fields |= {"from": "user", "user_id": int(self._settings.user_id)}
        done = f"The ticket was opened as {ref}, but UseDesk did not keep its files ({names})"
        try:
            answer = await self._write("create/comment", fields, missing)
        except OutcomeUnknownError as exc:
            raise OutcomeUnknownError(
                f"{done}, and whether the internal note that adds them arrived is unknown "
                f"({exc.message.rstrip('.')}); read {ref} before attaching them again, and do not open "
                "the ticket again."
            ) from None
        except HelpdeskError as exc:
            raise exc.reworded(
                f"{done}, and adding them in an internal note failed ({exc.message.rstrip('.')}); attach "
                f"them to {ref} again, and do not open the ticket again.",
                written=True,
            ) from None
        note = wire.ident(answer.get("comment_id")) or "?"
        try:
            reread = await self.get_ticket(str(number))
        except HelpdeskError:
            reread = created
        where = f"in internal note {note} (agents only)"
        reason = "UseDesk keeps files sent with a comment, not with a new ticket"
        return reread.model_copy(
            update={
                "not_stored": [
                    *reread.not_stored,
                    *(
                        NotStored(field="attachments", name=upload.filename, reason=reason, stored=where)
                        for upload in missing
                    ),
                ]
            }
        )

    # -- UseDesk calls -----------------------------------------------------------------------------

    async def _list(self, params: dict[str, Any]) -> Sequence[wire.ListedTicket]:
        response = await self._client.read("POST", "tickets", json={"api_token": self._token, **params})
        items = self._client.json(response)
        if not isinstance(items, list):
            raise UnavailableError(
                f"UseDesk (backend {self.name!r}) answered the ticket list with something that is not "
                "a list; try again later."
            )
        return [wire.ListedTicket.model_validate(item) for item in items if isinstance(item, Mapping)]

    async def _fetch_ticket(self, number: int) -> wire.TicketDocument:
        try:
            response = await self._client.read(
                "POST", "ticket", json={"api_token": self._token, "ticket_id": number}
            )
        except NotFoundError as exc:
            raise self._missing(make_ref(self.name, str(number)), exc) from None
        document = self._client.json(response)
        if not isinstance(document, Mapping) or not isinstance(document.get("ticket"), Mapping):
            raise UnavailableError(
                f"UseDesk (backend {self.name!r}) answered ticket {number} without the ticket; "
                "try again later."
            )
        return wire.TicketDocument.model_validate(document)

    async def _write(
        self, method: str, fields: dict[str, Any], files: Sequence[FileUpload] = ()
    ) -> Mapping[str, Any]:
        """One write; JSON without files, multipart with a `files[]` part per file."""
        if files:
            response = await self._client.write(
                "POST",
                method,
                data={"api_token": self._token, **{key: str(value) for key, value in fields.items()}},
                files=[("files[]", (f.filename, f.content, f.mime_type)) for f in files],
            )
        else:
            response = await self._client.write("POST", method, json={"api_token": self._token, **fields})
        answer = self._client.json(response)
        if not isinstance(answer, Mapping):
            raise OutcomeUnknownError(
                f"UseDesk answered /{method} with something other than its usual object."
            )
        return answer

    async def _write_for_id(
        self, method: str, fields: dict[str, Any], files: Sequence[FileUpload], key: str
    ) -> str:
        """One write whose answer names what it made by `key`; an answer without it leaves that unknown."""
        made = wire.ident((await self._write(method, fields, files)).get(key))
        if made is None:
            raise OutcomeUnknownError(f"UseDesk answered /{method} without the `{key}` of what it made.")
        return made

    async def _set_status(self, number: int, status_id: str, user_id: str, done: str) -> None:
        """Apply a status after the message landed; a failure says so, lest the message be sent twice."""

        async def send() -> bool:
            fields = {"ticket_id": number, "status": int(status_id), "user_id": int(user_id)}
            await self._write("update/ticket", fields)
            return True

        async def look() -> bool | None:
            return True if (await self._fetch_ticket(number)).ticket.status_id == status_id else None

        try:
            await send_once(
                send,
                look,
                unknown=f"{done[0].lower()}{done[1:]}, so read the ticket and, if the status did not change, "
                "set it in UseDesk or with your next reply, without resending this one.",
            )
        except OutcomeUnknownError:
            raise
        except HelpdeskError as exc:
            raise exc.reworded(
                f"{done}, but the status was not changed ({exc.message.rstrip('.')}); set it in UseDesk or "
                "with your next reply, without resending this one.",
                written=True,
            ) from None

    async def _posted(self, number: int, comment_id: str, what: str) -> Message:
        done = f"The {what} was sent (message {comment_id})"
        document = await read_back(
            lambda: self._fetch_ticket(number),
            done=done,
            advice="read the ticket to see it, and do not send it again",
        )
        for message in wire.ticket(document, self.name, self._statuses).messages:
            if message.id == comment_id:
                return message
        raise UnavailableError(
            f"{done}, but the ticket does not show it yet; read the ticket before sending again.",
            written=True,
        )

    async def _find_created(self, marker: str, subject: str, started: datetime) -> Ticket | None:
        """The ticket an unanswered create opened, recognized by its `additional_id`; None if none is seen."""
        newest = await self._list(
            {
                "created_after": wire.vendor_minute(started - LOOK_BACK),
                "sort": "id",
                "order": "desc",
                "offset": 0,
            }
        )
        candidates = [item for item in newest if item.subject.strip() == subject.strip()]
        for item in candidates[:MAX_CANDIDATES]:
            number = wire.number(item.id)
            if number is None:
                continue
            document = await self._fetch_ticket(number)
            if document.ticket.additional_id.strip() == marker:
                return wire.ticket(document, self.name, self._statuses)
        return None

    async def _find_posted(self, number: int, message: str, internal: bool, started: datetime) -> str | None:
        """The id of the comment an unanswered write posted (ours, just now, our words), or None."""
        document = await self._fetch_ticket(number)
        kind = "internal_note" if internal else "agent"
        since = started - LOOK_BACK
        found = None
        for comment in document.comments:
            posted = wire.parse_time(comment.published_at)
            if (
                wire.comment_kind(comment) == kind
                and comment.user_id in (None, self._settings.user_id)
                and (posted is None or posted >= since)
                and wire.same_text(comment.message, message)
            ):
                found = comment.id
        return found

    async def _download(self, url: str | None, name: str) -> AttachmentContent:
        if url is None or origin(url) is None or "://" not in url:
            raise UnavailableError(f"UseDesk gives no download address for {name!r}.")

        def allowed(address: str) -> None:
            # Checked for the address UseDesk gives and for every address a redirect leads to.
            place = origin(address)
            if place is not None and place in self._file_origins:
                return
            if place is None:
                host = "an address that is not http(s)"
            else:
                scheme, host, port = place
                host += "" if port == (443 if scheme == "https" else 80) else f":{port}"
            host = host if len(host) <= 100 else host[:99] + "…"
            raise UnsupportedError(
                f"The file {name!r} is at {host}, not on the API's own host, so it is not downloaded; if "
                f"{host} is where this UseDesk account keeps its files, add it to the backend's `file_hosts` "
                "setting.",
                setting="file_hosts",
            )

        response, content = await self._client.download(url, max_bytes=MAX_FILE_BYTES, allowed=allowed)
        mime_type = response.headers.get("content-type", "").split(";")[0].strip()
        if not mime_type or mime_type == "application/octet-stream":
            mime_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return AttachmentContent(filename=name, mime_type=mime_type, content=content)

    # -- checks ------------------------------------------------------------------------------------

    def _ticket_number(self, ticket_id: str) -> int:
        if not (ticket_id.isascii() and ticket_id.isdigit() and len(ticket_id) <= 18):
            raise InvalidInputError(
                f"Ticket id {ticket_id!r} is not valid; {self.name} ticket ids are whole numbers, "
                f"such as {make_ref(self.name, '2992803')}."
            )
        return int(ticket_id)

    def _missing(self, ref: str, exc: NotFoundError) -> NotFoundError:
        return NotFoundError(
            f"Ticket {ref} was not found ({exc.message.rstrip('.')}); check the ref or find it by searching."
        )

    def _tag_list(self, tags: Sequence[str]) -> str:
        names = list(dict.fromkeys(tag.strip() for tag in tags if tag.strip()))
        for name in names:
            if "," in name:
                raise InvalidInputError(
                    f"UseDesk tags cannot contain commas; {name!r} would become two tags."
                )
        return ", ".join(names)
