"""Resource links beside a tool's JSON: the ticket a result names and the files it carries.

A host can open, attach or download these without the model spending a call or tokens on them.
Search results get none: twenty links would add a third to a result the model reads, for tickets it
has not chosen yet; once it reads or changes one, that result links it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from mcp_types import ResourceLink
from pydantic import BaseModel

from helpdesk_mcp.adapters.model import Attachment

if TYPE_CHECKING:
    from .views import FileView

TICKET_TEMPLATE = "helpdesk://{backend}/tickets/{ticket_id}"
ATTACHMENT_TEMPLATE = "helpdesk://{backend}/tickets/{ticket_id}/attachments/{attachment_id}"


def ticket_uri(ref: str) -> str:
    backend, _, ticket_id = ref.partition(":")
    return TICKET_TEMPLATE.format(backend=backend, ticket_id=ticket_id)


def resource_links(result: BaseModel) -> list[ResourceLink]:
    """Links for what `result` names; none for results that name no single ticket."""
    from .views import CreatedTicket, PostedMessage, TicketView  # loaded at the first call, not at start

    if isinstance(result, TicketView):
        files = [a for m in result.messages for a in m.attachments]
        return _links(result.ref, files)
    if isinstance(result, CreatedTicket | PostedMessage):
        return _links(result.ticket, result.attachments)
    return []


def _links(ref: str, attachments: Iterable[Attachment | FileView]) -> list[ResourceLink]:
    ticket = ResourceLink(type="resource_link", uri=ticket_uri(ref), name=ref, mime_type="application/json")
    files = [
        ResourceLink(
            type="resource_link",
            uri=a.uri,
            name=a.filename,
            mime_type=a.mime_type or "application/octet-stream",
            size=a.size,
        )
        for a in attachments
        if a.uri  # only files the backend lets us download have a resource
    ]
    return [ticket, *files]
