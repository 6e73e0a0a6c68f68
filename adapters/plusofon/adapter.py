"""Plusofon's ticket API as an `Adapter`: the account's own support tickets with Plusofon.

This is the customer's side of a helpdesk: tickets are opened by the account and answered by
Plusofon staff, so a reply here is the customer's message. The API lists, reads, opens and answers
tickets and attaches files to a message; it has no internal notes, assignees, queues, tags,
priorities or status changes, and no way to download a file, and the capabilities say so.

Every request carries the bearer token and the `Client` header, with the JSON headers the vendor's
examples send. Writes are sent once: when the answer is lost, the adapter looks for the ticket or
message it sent (by ids it saw before writing) instead of sending it again.

A new ticket is opened as the account itself, so a requester, priority or tags given for it are not
sent; the result lists them under `not_stored`. The attachment call documents a failure
(`{"message"}`, perhaps with `success: false`) but no answer for a success, so every file not
refused in so many words is looked for in the ticket before anything is said about it.
docs/vendors.md says, for each assumption about Plusofon's API, where it comes from.
"""

from __future__ import annotations

import base64
from collections.abc import Generator
from zoneinfo import ZoneInfo

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
from ..filtering import resume_at
from ..http import VendorClient
from ..model import (
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
    TicketSummary,
    make_ref,
)
from ..sent_once import not_carried, read_back, send_once
from . import search
from .errors import read_error
from .settings import PlusofonSettings
from .wire import ShapeError, Statuses, comparable, listed_tickets, read_ticket

TICKETS = "api/v1/ticket"
ATTACHMENT = "api/v1/ticket/attachment"


def _answer_path(ticket_id: str) -> str:
    return f"api/v1/ticket/answer/{ticket_id}"


class _Bearer(httpx.Auth):
    """The token, added to each request only as it is sent, so it sits in no default headers or repr."""

    def __init__(self, settings: PlusofonSettings) -> None:
        self._settings = settings

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._settings.token.get_secret_value()}"
        yield request


class PlusofonAdapter(Adapter):
    """One Plusofon account, reached with its personal-cabinet API token."""

    type = "plusofon"
    capabilities = Capabilities(
        search=True,
        full_text_search=False,
        search_filters=(
            "query",
            "status",
            "requester",
            "created_after",
            "created_before",
            "updated_after",
            "updated_before",
        ),
        create=True,
        reply=True,
        internal_notes=False,
        status_on_reply=False,
        attachments=True,
        attachment_download=False,
        create_fields=(),
        customer_side=True,
    )

    def __init__(
        self, name: str, settings: PlusofonSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(name)
        self._zone = ZoneInfo(settings.timezone)
        self._statuses = Statuses(open=settings.open_status, closed=settings.closed_status)
        self._client = VendorClient(
            backend=name,
            vendor="Plusofon",
            base_url=settings.url,
            settings=settings,
            read_error=read_error,
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Client": settings.client,
            },
            auth=_Bearer(settings),
            transport=transport,
        )

    # -- reading -----------------------------------------------------------------------------------

    async def search(self, query: SearchQuery, limit: int, cursor: str | None = None) -> SearchPage:
        start = resume_at(cursor)
        tickets: dict[str, TicketSummary] = {}
        for active in self._statuses.states(query.statuses):
            for ticket in await self._list(active):
                # A ticket closed or reopened between the two lists shows in both; one is enough.
                tickets.setdefault(ticket.ref, ticket)
        return search.found(tickets.values(), query, limit, start)

    async def get_ticket(self, ticket_id: str) -> Ticket:
        number = self._number(ticket_id)
        try:
            response = await self._client.read("GET", f"{TICKETS}/{number}")
        except NotFoundError:
            raise self._missing(number) from None
        return self._ticket(self._client.json(response))

    async def download_attachment(self, ticket_id: str, attachment_id: str) -> AttachmentContent:
        raise UnsupportedError(
            f"Backend {self.name!r} (plusofon) cannot download attachments: Plusofon's API offers no "
            "download; open the ticket in the Plusofon personal cabinet to get the file."
        )

    # -- writing -----------------------------------------------------------------------------------

    async def create_ticket(self, ticket: NewTicket) -> Ticket:
        not_sent = _not_sent(ticket)
        # The ids of the open tickets before writing tell the new one apart if the answer is lost.
        known = {t.ref for t in await self._list(True)}
        payload = {"subject": ticket.subject, "description": ticket.body}

        async def send() -> Ticket:
            response = await self._client.write("POST", TICKETS, json=payload)
            return self._ticket(self._client.json(response), written=True)

        created = await send_once(
            send,
            lambda: self._find_created(ticket.subject, known),
            unknown=f"no new ticket with subject {ticket.subject!r} shows yet, so search for that subject "
            "before trying again.",
        )
        if not ticket.attachments:
            return created.model_copy(update={"not_stored": not_sent})
        ticket_id = created.ref.partition(":")[2]
        if not created.messages:
            raise OutcomeUnknownError(
                f"Ticket {created.ref} was opened, but Plusofon showed no first message to attach the files "
                "to; read the ticket and attach them to it."
            )
        after, refused = await self._attach_all(
            ticket_id, created.messages[0].id, ticket.attachments, f"Ticket {created.ref} was opened"
        )
        return (after or created).model_copy(update={"not_stored": not_sent + refused})

    async def reply(self, ticket_id: str, reply: NewReply) -> Message:
        if reply.internal:
            raise UnsupportedError(
                f"Backend {self.name!r} (plusofon) has no internal notes: every message goes to Plusofon "
                "support; reply publicly (internal=false) or keep the note elsewhere."
            )
        if reply.status is not None:
            raise UnsupportedError(
                f"Backend {self.name!r} (plusofon) cannot change a ticket's status: Plusofon's API has no "
                "such call; send the reply without status and ask support in it to close the ticket."
            )
        number = self._number(ticket_id)
        text = reply.body.strip()
        if not text:
            raise InvalidInputError("The reply is empty; write a message.")
        before = {m.id for m in (await self.get_ticket(number)).messages}
        ref = make_ref(self.name, number)

        async def send() -> Message:
            response = await self._client.write("PUT", _answer_path(number), json={"text": text})
            answered = self._ticket(self._client.json(response), written=True)
            posted = _new_post(answered, before, text, strict=False)
            if posted is None:
                # Answered without the new post in it: read the thread once before saying anything.
                thread = await read_back(
                    lambda: self.get_ticket(number),
                    done=f"Plusofon took the reply to {ref}",
                    advice="read the ticket before sending it again",
                )
                posted = _new_post(thread, before, text, strict=False)
            if posted is None:
                raise OutcomeUnknownError(
                    f"Plusofon accepted the reply to {ref} but does not show it in the thread, so whether it "
                    "was posted is unknown."
                )
            return posted

        async def look() -> Message | None:
            return _new_post(await self.get_ticket(number), before, text, strict=True)

        try:
            posted = await send_once(
                send,
                look,
                unknown=f"the reply is not in the thread of {ref} yet; read the ticket before trying again.",
            )
        except NotFoundError:
            raise self._missing(number) from None
        if not reply.attachments:
            return posted
        after, refused = await self._attach_all(
            number, posted.id, reply.attachments, f"The message was posted to {ref}"
        )
        thread = after.messages if after is not None else []
        shown = next((m for m in thread if m.id == posted.id), posted)
        return shown.model_copy(update={"not_stored": refused})

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- helpers -----------------------------------------------------------------------------------

    async def _list(self, active: bool) -> list[TicketSummary]:
        # The vendor's examples send `state` as a JSON body on a GET, as the string "true" or "false".
        state = "true" if active else "false"
        response = await self._client.read("GET", TICKETS, json={"state": state})
        try:
            return listed_tickets(
                self._client.json(response),
                backend=self.name,
                status=self._statuses.of(active),
                zone=self._zone,
            )
        except ShapeError as exc:
            raise self._odd_shape("ticket list", exc) from None

    def _ticket(self, payload: object, *, written: bool = False) -> Ticket:
        try:
            return read_ticket(payload, backend=self.name, statuses=self._statuses, zone=self._zone)
        except ShapeError as exc:
            if written:
                raise OutcomeUnknownError(
                    f"Plusofon (backend {self.name!r}) answered the change with a ticket in a shape its API "
                    f"does not document ({exc}), so whether it was applied is unknown."
                ) from None
            raise self._odd_shape("ticket", exc) from None

    async def _find_created(self, subject: str, known: set[str]) -> Ticket | None:
        """The ticket a lost create opened, if the open list shows exactly one new one with its subject."""
        fresh = [
            t
            for t in await self._list(True)
            if t.ref not in known and comparable(t.subject) == comparable(subject)
        ]
        return await self.get_ticket(fresh[0].ref.partition(":")[2]) if len(fresh) == 1 else None

    async def _attach_all(
        self, ticket_id: str, post_id: str, uploads: tuple[FileUpload, ...], done: str
    ) -> tuple[Ticket | None, list[NotStored]]:
        """Attach each file to post `post_id`, one call each, then read the ticket once to see them.

        Returns the ticket as read (None when every file was refused, so nothing needed reading) and
        the files Plusofon refused in so many words (not stored, with its reason). A file that was not
        refused yet does not show may still have been attached, so that raises OutcomeUnknownError:
        sending it again could attach it twice.
        """
        refused: list[NotStored] = []
        sent: list[FileUpload] = []
        for upload in uploads:
            try:
                await self._client.write("POST", ATTACHMENT, json=_attachment(ticket_id, post_id, upload))
            except OutcomeUnknownError:
                pass  # it may have arrived: looked for below, like every file not refused
            except HelpdeskError as exc:
                refused.append(NotStored(field="attachments", name=upload.filename, reason=exc.message))
                continue
            sent.append(upload)
        if not sent:
            return None, refused
        try:
            after: Ticket | None = await self.get_ticket(ticket_id)
            reading = "the ticket does not show it yet"
        except HelpdeskError as exc:
            after, reading = None, f"reading the ticket back failed ({exc.message.rstrip('.')})"
        post = next((m for m in after.messages if m.id == post_id), None) if after is not None else None
        missing = not_carried(post, sent)
        if missing:
            names = ", ".join(repr(upload.filename) for upload in missing)
            raise OutcomeUnknownError(
                f"{done}, but whether Plusofon attached {names} is unknown: it did not confirm it (its "
                f"API documents no answer for a success), and {reading}. It may have been attached: "
                "read the ticket before attaching it again."
            )
        return after, refused

    def _number(self, ticket_id: str) -> str:
        if not (ticket_id.isascii() and ticket_id.isdigit()):
            raise InvalidInputError(
                f"Ticket id {ticket_id!r} is not valid; {self.name} ticket ids are whole numbers, "
                f"such as {make_ref(self.name, '22525')}."
            )
        return ticket_id

    def _missing(self, number: str) -> NotFoundError:
        return NotFoundError(
            f"Ticket {make_ref(self.name, number)} does not exist in this Plusofon account; "
            "a search lists its tickets."
        )

    def _odd_shape(self, what: str, exc: ShapeError) -> HelpdeskError:
        return UnavailableError(
            f"Plusofon (backend {self.name!r}) answered with a {what} in a shape its API does not document "
            f"({exc}); it may have changed its API, so try again later."
        )


def _new_post(ticket: Ticket, before: set[str], text: str, *, strict: bool) -> Message | None:
    """Our post among those not in `before`: the newest with our text, or (unless `strict`) the newest."""
    fresh = [m for m in ticket.messages if m.id not in before]
    ours = [m for m in fresh if comparable(m.body) == comparable(text)]
    if ours:
        return ours[-1]
    return None if strict or not fresh else fresh[-1]


def _attachment(ticket_id: str, post_id: str, upload: FileUpload) -> dict[str, object]:
    return {
        "ticketId": _integer(ticket_id),
        "filename": upload.filename,
        "ticketPostID": _integer(post_id),
        "contents": base64.b64encode(upload.content).decode("ascii"),
    }


def _not_sent(ticket: NewTicket) -> list[NotStored]:
    """The optional fields of a new ticket that Plusofon's create call has no place for."""
    reason = {
        "requester_email": "Plusofon opens every ticket as the account that owns the API token; not sent.",
        "requester_name": "Plusofon opens every ticket as the account that owns the API token; not sent.",
        "priority": "Plusofon's API takes no priority for a ticket; not sent.",
        "tags": "Plusofon's API takes no tags for a ticket; not sent.",
    }
    given = {
        "requester_email": ticket.requester_email,
        "requester_name": ticket.requester_name,
        "priority": ticket.priority,
        "tags": ticket.tags,
    }
    return [NotStored(field=name, reason=reason[name]) for name, value in given.items() if value]


def _integer(value: str) -> int | str:
    """Ids as the integers the attachment call documents, where they are numbers."""
    return int(value) if value.isdigit() else value
