"""The adapter interface: what every helpdesk backend implements.

An adapter speaks its vendor's API and the normalized model, and nothing else: it knows no MCP. It
raises the errors in `errors`, and reports in `capabilities` what it can do, so that callers can
choose before they try. Anything it cannot do raises `UnsupportedError` with a sentence that says
what to do instead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

from .errors import UnsupportedError
from .model import (
    AttachmentContent,
    Capabilities,
    Message,
    NewReply,
    NewTicket,
    SearchPage,
    SearchQuery,
    Ticket,
)


class Adapter(ABC):
    """One configured helpdesk instance.

    `name` is the instance's configured name: the `<backend>` part of the refs it produces. Ids the
    methods take are the part after the colon, already split off by the caller.
    """

    type: str
    capabilities: Capabilities

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    async def search(self, query: SearchQuery, limit: int, cursor: str | None = None) -> SearchPage:
        """Tickets matching `query`, newest update first, at most `limit` (at least 1: the tool's schema
        says so), resuming after `cursor`."""

    @abstractmethod
    async def get_ticket(self, ticket_id: str) -> Ticket:
        """One ticket with its whole thread, oldest message first."""

    @abstractmethod
    async def create_ticket(self, ticket: NewTicket) -> Ticket:
        """Open a ticket and return it as the backend now has it."""

    @abstractmethod
    async def reply(self, ticket_id: str, reply: NewReply) -> Message:
        """Add a public reply or internal note (with any attachments) and apply `reply.status`.

        Never retried by the caller: a reply that reached the customer twice is damage.
        """

    @abstractmethod
    async def download_attachment(self, ticket_id: str, attachment_id: str) -> AttachmentContent:
        """The bytes of one attachment of one ticket."""

    async def start(self) -> None:  # noqa: B027 - most adapters know what they can do from the start
        """Learn, before any capability is read, what `capabilities` depends on (an optional vendor
        extension, say). Called once before the backend's first operation, under a time limit; a failure
        is logged and left for the operation to meet."""

    def why_not(self, action: Literal["search", "reply"]) -> UnsupportedError | None:
        """Why this backend cannot `action` where its capabilities say it cannot, naming what would
        allow it (a vendor add-on, a setting); None leaves the server's general sentence."""
        return None

    async def check(self) -> str:
        """Prove with one harmless read that the backend answers these credentials; says what was read."""
        page = await self.search(SearchQuery(), limit=1)
        return "listed tickets" if page.hits else "listed tickets (none yet)"

    async def aclose(self) -> None:  # noqa: B027 - most adapters hold nothing that needs releasing
        """Release connections and files; the adapter is not used afterwards."""
