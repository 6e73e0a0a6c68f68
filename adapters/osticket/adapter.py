"""osTicket as an `Adapter`: the stock create call, and the ticket API extension where it is installed.

Stock osTicket has one API call, `POST /api/tickets.json`. The ticket API extension (ticketInfo,
staffTickets, clientTickets, reply.json) adds reading, listing per agent or per customer, and replies
that can set the status. Whether it is installed is learnt by one probe: ticketInfo without a ticket
number answers 422 where the extension runs and 400 `URL not supported` where it does not. The probe
runs before the backend's first operation (`start`), or at a later one if osTicket could not be reached
then; until it has answered, `capabilities` says what the extension would allow and every operation that
needs it checks first, so nothing is refused that would have worked and nothing unsupported is sent.

Search needs a scope the vendor can list: the customer's e-mail (`requester`, clientTickets) or the
agent's user name (`assignee`, staffTickets). Words, status, dates, and a requester within an agent's
tickets are filtered here over that complete list (see `search`). There are no tags, no internal
notes through the API, and no attachment download; the extension counts an entry's files but does
not name them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import anyio
import httpx

from ..base import Adapter
from ..errors import (
    AuthError,
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
    Message,
    NewReply,
    NewTicket,
    NotStored,
    SearchPage,
    SearchQuery,
    Ticket,
    make_ref,
)
from ..sent_once import read_back, send_once
from . import search, wire
from .errors import ExtensionMissingError, NoSuchPersonError, read_error, succeeded
from .names import UploadedNames
from .settings import OsticketSettings
from .statuses import StatusMap

log = logging.getLogger(__name__)

CREATE = "api/http.php/tickets.json"
TICKET_INFO = "api/http.php/tickets/ticketInfo"
STAFF_TICKETS = "api/http.php/tickets/staffTickets"
CLIENT_TICKETS = "api/http.php/tickets/clientTickets"
REPLY = "api/http.php/tickets/reply.json"
EXTENSION = "the ticket API extension (ticketInfo, staffTickets, clientTickets, reply.json)"
EXTENSION_DOCS = "the README, section osTicket (https://github.com/osTicket/osTicket/pull/4361)"
# How far back a ticket may have been opened to count as ours after a create whose answer was lost:
# generous, since osTicket's clock and ours may disagree.
RECENT = timedelta(minutes=10)
START_LIMIT = 5.0
# Clocks drift; a ticket opened this little "in the future" is no sign of a wrong time zone.
CLOCK_SLACK = timedelta(minutes=5)

STOCK = Capabilities(
    search=False,
    full_text_search=False,
    create=True,
    reply=False,
    internal_notes=False,
    status_on_reply=False,
    attachments=True,
    attachment_download=False,
    create_fields=("requester_email", "requester_name", "priority"),
)
SEARCH_FILTERS = (
    "query",
    "status",
    "assignee",
    "requester",
    "created_after",
    "created_before",
    "updated_after",
    "updated_before",
)


def extended(can_reply: bool) -> Capabilities:
    return STOCK.model_copy(
        update={
            "search": True,
            "full_text_search": True,
            "search_filters": SEARCH_FILTERS,
            "search_requires": ("requester", "assignee"),
            "reply": can_reply,
            "status_on_reply": can_reply,
        }
    )


class OsticketAdapter(Adapter):
    type = "osticket"

    def __init__(
        self, name: str, settings: OsticketSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(name)
        self._settings = settings
        self._zone = ZoneInfo(settings.timezone)
        self._statuses = StatusMap(name, settings.statuses, settings.status_ids)
        self._staff_user = (settings.staff_user or "").strip() or None
        self._extension: bool | None = None
        # osTicket's default; a helpdesk with rich text off shows it in the format of a reply's entry.
        self._rich_text = True
        self._detecting = anyio.Lock()
        self._names = UploadedNames()
        self.capabilities = extended(self._staff_user is not None)
        self._client = VendorClient(
            backend=name,
            vendor="osTicket",
            base_url=settings.url,
            settings=settings,
            read_error=read_error,
            headers={"X-API-Key": settings.api_key.get_secret_value()},
            transport=transport,
        )

    @property
    def extension(self) -> bool | None:
        """Whether the ticket API extension is installed; None until osTicket has said."""
        return self._extension

    # -- detection ----------------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            with anyio.fail_after(START_LIMIT):
                await self._detect()
        except (HelpdeskError, TimeoutError) as exc:
            reason = exc.message if isinstance(exc, HelpdeskError) else "no answer in time"
            log.warning(
                "osTicket backend %r: not probed (%s); probing again at its next operation", self.name, reason
            )

    async def _detect(self) -> bool:
        async with self._detecting:
            if self._extension is None:
                self._learn(await self._probe())
            return self._extension is True

    async def _probe(self) -> bool:
        """ticketInfo without a ticket number: 422 from the extension, `URL not supported` without it."""
        try:
            await self._client.read("GET", TICKET_INFO)
        except ExtensionMissingError:
            return False
        except InvalidInputError:  # `missing ticketNumber parameter`, after the key was accepted
            return True
        except AuthError:
            self._learn(True)  # only the extension checks the key before routing fails
            raise
        except NotFoundError:
            raise UnavailableError(
                f"osTicket (backend {self.name!r}) has no API at {self._settings.url}/api: check that "
                "the backend's `url` setting is the helpdesk's root.",
                setting="url",
            ) from None
        raise UnavailableError(
            f"osTicket (backend {self.name!r}) answered its API probe as osTicket never does; check that "
            "the backend's `url` setting is the helpdesk's root and that no proxy answers in its place.",
            setting="url",
        )

    def _learn(self, installed: bool) -> None:
        self._extension = installed
        self.capabilities = extended(self._staff_user is not None) if installed else STOCK
        if installed and self._staff_user is None:
            log.warning(
                "osTicket backend %r has the ticket API extension but no staff user: set its `staff_user` "
                "setting to send replies",
                self.name,
            )

    async def _need_extension(self, doing: str) -> None:
        if not await self._detect():
            raise self._stock(doing)

    def _stock(self, doing: str) -> UnsupportedError:
        return UnsupportedError(
            f"Backend {self.name!r} (osTicket) cannot {doing}: stock osTicket's API only opens tickets (it "
            f"cannot even read one back), and this needs {EXTENSION} installed on the helpdesk; see "
            f"{EXTENSION_DOCS}."
        )

    def why_not(self, action: Literal["search", "reply"]) -> UnsupportedError | None:
        if self._extension is False:
            return self._stock("search tickets" if action == "search" else "reply")
        if action == "reply" and self._staff_user is None:
            return self._no_staff_user()
        return None

    def _no_staff_user(self) -> UnsupportedError:
        return UnsupportedError(
            f"Backend {self.name!r} (osTicket) has the ticket API extension but cannot reply until a staff "
            "user is configured: set the backend's `staff_user` setting to the osTicket user name replies "
            "are sent as.",
            setting="staff_user",
        )

    async def check(self) -> str:
        # A fresh probe: the one at start may have learnt only that the extension is there, from the
        # very answer that refused the key.
        async with self._detecting:
            self._learn(await self._probe())
        if not self._extension:
            return (
                "osTicket answered without the ticket API extension: only opening tickets works, and the API "
                "key is first checked by a create"
            )
        return "the ticket API extension answered with this API key" + await self._clock_warning()

    async def _clock_warning(self) -> str:
        """A warning when the staff user's newest ticket was opened in the future: osTicket writes its
        times in the database host's system time zone, so the backend's `timezone` setting must name it."""
        if self._staff_user is None:
            return ""
        tickets = [self._parse(t) for t in await self._list(STAFF_TICKETS, "staffUserName", self._staff_user)]
        created = [t for t in tickets if t.created_at is not None]
        if not created:
            return ""
        newest = max(created, key=lambda t: t.created_at or datetime.min.replace(tzinfo=UTC))
        now = datetime.now(UTC)
        if newest.created_at is None or newest.created_at <= now + CLOCK_SLACK:
            return ""
        ahead = round((newest.created_at - now).total_seconds() / 60)
        return (
            f"; warning: ticket {newest.ref} was opened {ahead} minutes in the future as read with time zone "
            f"{self._settings.timezone}: set the backend's `timezone` setting to the database host's system "
            "time zone (MySQL's @@system_time_zone)"
        )

    # -- reading ------------------------------------------------------------------------------------

    async def get_ticket(self, ticket_id: str) -> Ticket:
        ref = make_ref(self.name, ticket_id)
        await self._need_extension(f"read ticket {ref}")
        return self._parse(await self._ticket_info(ticket_id))

    async def _ticket_info(self, number: str) -> dict[str, Any]:
        ref = make_ref(self.name, number)
        try:
            response = await self._client.read("GET", TICKET_INFO, params={"ticketNumber": number})
        except NotFoundError:
            raise NotFoundError(f"Ticket {ref} does not exist in osTicket (backend {self.name!r}).") from None
        ticket = wire.ticket_of(self._client.json(response))
        if ticket is None:
            raise UnavailableError(
                f"osTicket (backend {self.name!r}) answered ticketInfo for {ref} without a ticket; "
                "try again later."
            )
        return dict(ticket)

    def _parse(self, raw: Any) -> Ticket:
        ticket = wire.parse_ticket(raw, backend=self.name, statuses=self._statuses, zone=self._zone)
        return self._names.apply(ticket)

    async def search(self, query: SearchQuery, limit: int, cursor: str | None = None) -> SearchPage:
        await self._need_extension("search tickets")
        start = resume_at(cursor)
        if query.assignee:
            raw = await self._list(STAFF_TICKETS, "staffUserName", query.assignee.strip())
            applied = "assignee"
        elif query.requester and "@" in query.requester:
            raw = await self._list(CLIENT_TICKETS, "clientUserMail", query.requester.strip())
            applied = "requester"
        else:
            raise InvalidInputError(
                f"Backend {self.name!r} (osTicket) lists tickets only per customer or per agent: give "
                "requester as the customer's e-mail address, or assignee as the agent's osTicket user name."
            )
        tickets = [self._parse(t) for t in raw]
        return search.found(tickets, query, limit, start, applied=applied)

    async def _list(self, path: str, parameter: str, value: str) -> list[dict[str, Any]]:
        try:
            response = await self._client.read("GET", path, params={parameter: value})
        except NoSuchPersonError:
            if path == CLIENT_TICKETS:
                return []  # osTicket knows no customer with this address, so nobody by it has tickets
            raise InvalidInputError(
                f"osTicket (backend {self.name!r}) has no staff user named {value!r}; give assignee as the "
                "agent's osTicket user name (login)."
            ) from None
        return [dict(t) for t in wire.tickets_of(self._client.json(response))]

    async def download_attachment(self, ticket_id: str, attachment_id: str) -> AttachmentContent:
        raise UnsupportedError(
            f"Backend {self.name!r} (osTicket) cannot download attachments through its API; open ticket "
            f"{make_ref(self.name, ticket_id)} in osTicket to get the file."
        )

    # -- creating -----------------------------------------------------------------------------------

    async def create_ticket(self, ticket: NewTicket) -> Ticket:
        email = (ticket.requester_email or "").strip()
        if not email:
            raise InvalidInputError(
                f"Backend {self.name!r} (osTicket) opens a ticket only for a customer's e-mail address; "
                "give requester_email (and requester_name)."
            )
        if ticket.tags:
            raise UnsupportedError(
                f"Backend {self.name!r} (osTicket) has no tags; open the ticket without them."
            )
        installed = await self._detect()
        sent_at = datetime.now(UTC)

        async def send() -> Ticket:
            response = await self._client.write("POST", CREATE, json=wire.create_payload(ticket, email))
            number = wire.created_number(response)
            if number is None:
                raise OutcomeUnknownError(
                    f"osTicket (backend {self.name!r}) answered the create without the new ticket's number, "
                    "so whether it opened it is unknown."
                )
            return await self._read_created(number, ticket, installed)

        async def look() -> Ticket | None:
            return await self._find_created(ticket, email, sent_at) if installed else None

        unknown = (
            f"no ticket {ticket.subject!r} for {email} shows yet; search for it (requester={email}) before "
            "trying again."
            if installed
            else "stock osTicket cannot be searched through its API, so look for the ticket "
            f"{ticket.subject!r} for {email} in osTicket's staff panel before trying again."
        )
        return await send_once(send, look, unknown=unknown)

    async def _read_created(self, number: str, ticket: NewTicket, installed: bool) -> Ticket:
        """The new ticket as osTicket has it, or what we know of it where it cannot be read back."""
        if installed:
            try:
                return self._as_created(self._parse(await self._ticket_info(number)), ticket)
            except HelpdeskError as exc:
                log.warning(
                    "osTicket backend %r: created %s but could not read it back: %s", self.name, number, exc
                )
        # A new ticket is Open unless a help topic or filter says otherwise, which only reading would show.
        return Ticket(ref=make_ref(self.name, number), subject=ticket.subject, status="open")

    async def _find_created(self, ticket: NewTicket, email: str, sent_at: datetime) -> Ticket | None:
        """After a create whose answer was lost: the ticket, if the customer's list shows it."""
        listed = [self._parse(t) for t in await self._list(CLIENT_TICKETS, "clientUserMail", email)]
        recent = [
            t
            for t in listed
            if wire.same_text(t.subject, wire.stored_subject(ticket.subject))
            and t.created_at is not None
            and t.created_at >= sent_at - RECENT
            and any(
                m.kind == "customer" and wire.same_text(m.body, wire.as_stored(ticket.body))
                for m in t.messages
            )
        ]
        if not recent:
            return None
        newest = max(recent, key=lambda t: (t.created_at or sent_at, t.ref))
        return self._as_created(newest, ticket)

    # -- replying -----------------------------------------------------------------------------------

    async def reply(self, ticket_id: str, reply: NewReply) -> Message:
        ref = make_ref(self.name, ticket_id)
        await self._need_extension(f"reply to ticket {ref}")
        if reply.internal:
            raise UnsupportedError(
                f"Backend {self.name!r} (osTicket) has no internal notes in its API; reply publicly "
                "(internal=false) or add the note in osTicket's staff panel."
            )
        if self._staff_user is None:
            raise self._no_staff_user()
        text = reply.body.strip()
        if not text:
            raise InvalidInputError("The reply is empty; write a body.")
        status_id = self._statuses.status_id(reply.status) if reply.status else None
        before = self._parse(await self._ticket_info(ticket_id))
        response_body = wire.as_html(text) if self._rich_text else wire.as_escaped_text(text)
        payload = wire.reply_payload(ticket_id, self._staff_user, response_body, status_id, reply.attachments)
        stored = wire.as_stored(text)

        async def send() -> tuple[Message, dict[str, Any], Ticket]:
            response = await self._client.write("POST", REPLY, json=payload)
            if not succeeded(self._client.json(response)):
                raise OutcomeUnknownError(
                    f"osTicket (backend {self.name!r}) answered the reply without saying it was posted, so "
                    "whether it was is unknown."
                )
            raw_after = await read_back(
                lambda: self._ticket_info(ticket_id),
                done=f"The reply to {ref} was posted",
                advice="do not send it again",
            )
            after = self._parse(raw_after)
            # osTicket said it posted one: the newest new agent entry, should it have changed the text.
            message = _new_reply(before, after, stored, loose=True)
            if message is None:
                raise UnavailableError(
                    f"osTicket said the reply to {ref} was posted, but its thread does not show it yet; read "
                    "the ticket later and do not send the reply again.",
                    written=True,
                )
            return message, raw_after, after

        async def look() -> tuple[Message, dict[str, Any], Ticket] | None:
            raw_after = await self._ticket_info(ticket_id)
            after = self._parse(raw_after)
            message = _new_reply(before, after, stored, loose=False)
            return None if message is None else (message, raw_after, after)

        try:
            message, raw_after, after = await send_once(
                send,
                look,
                unknown=f"the thread of {ref} does not show it; read the ticket before trying again.",
            )
        except NoSuchPersonError:
            raise InvalidInputError(
                f"osTicket (backend {self.name!r}) has no staff user {self._staff_user!r}, so the reply was "
                "not sent; set the backend's `staff_user` setting to the osTicket user name replies are sent "
                "as.",
                setting="staff_user",
            ) from None
        if reply.status is not None and after.status != reply.status:
            # reply.json ignores a status id it does not accept, without saying so.
            raise InvalidInputError(
                f"The reply to {ref} was sent, but osTicket left the status at "
                f"{after.status_label or after.status} instead of {reply.status} (status id {status_id}); "
                "change it in osTicket's staff panel, and do not send the reply again.",
                written=True,
            )
        if self._rich_text and wire.entry_format(raw_after, message.id) == "text":
            # Rich text is off on this helpdesk: the HTML we sent was stored as text, as the result will
            # say; replies from now on go as text, which osTicket stores as sent.
            self._rich_text = False
            log.warning("osTicket backend %r stores replies as plain text (rich text is off)", self.name)
        known = {m.id for m in before.messages}
        notes = [m for m in after.messages if m.id not in known]
        message = self._names.remember(message, reply.attachments, wire.refused_files(notes))
        return message.model_copy(update={"not_stored": [*_text_changes(message, text), *message.not_stored]})

    def _as_created(self, ticket: Ticket, sent: NewTicket) -> Ticket:
        """A new ticket with the names of the files its first message carries, as we sent them, and
        what osTicket did not store as sent: the subject, the text, the files it refused or dropped."""
        not_stored = []
        if ticket.subject != sent.subject.strip():
            reason = "osTicket decodes HTML entities in subjects, then removes tags and emoji."
            not_stored.append(NotStored(field="subject", reason=reason, stored=ticket.subject))
        first = next((i for i, m in enumerate(ticket.messages) if m.kind == "customer"), None)
        if first is None:
            return ticket.model_copy(update={"not_stored": not_stored})
        messages = list(ticket.messages)
        refused = wire.refused_files(ticket.messages)
        message = self._names.remember(messages[first], sent.attachments, refused)
        not_stored += [*_text_changes(message, sent.body), *message.not_stored]
        messages[first] = message.model_copy(update={"not_stored": []})
        return ticket.model_copy(update={"messages": messages, "not_stored": not_stored})

    async def aclose(self) -> None:
        await self._client.aclose()


def _text_changes(message: Message, sent: str) -> list[NotStored]:
    """The text as stored, where osTicket changed more than its spacing."""
    if wire.same_text(message.body, sent):
        return []
    if wire.same_text(message.body, wire.as_stored(sent)):
        reason = "osTicket removes emoji and some symbols (such as ©, ® and «) from messages."
    else:
        reason = "osTicket changed the text as it stored it."
    return [NotStored(field="body", reason=reason, stored=message.body)]


def _new_reply(before: Ticket, after: Ticket, text: str, *, loose: bool) -> Message | None:
    """Our reply in the thread: a new agent entry with our text (or, when osTicket said it posted one,
    the newest new agent entry, should osTicket have changed the text on the way)."""
    known = {m.id for m in before.messages}
    new = [m for m in after.messages if m.id not in known and m.kind == "agent"]
    ours = [m for m in new if wire.same_text(m.body, text)] or (new if loose else [])
    return ours[-1] if ours else None
