"""The audit log: one JSON line per write, and per write refused for want of a scope.

Each line (logger `helpdesk_mcp.audit`, `"audit": "write"`) says who (the token's subject, "static
token", or the transport), what (tool, backend, ticket, whether the customer sees it, SHA-256 of
the text and of each file) and the outcome (`ok`, `replayed`, the error's kind, or
`insufficient_scope`). The text and the files themselves are never written: a digest lets an auditor
match a line to a message they hold without the log becoming a second copy of customers' data.
Audit lines are written whatever HELPDESK_LOG_LEVEL says.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any

from .scopes import current_caller

_log = logging.getLogger("helpdesk_mcp.audit")
_log.setLevel(logging.INFO)


def write(tool: str, backend: str, ticket: str, arguments: Mapping[str, Any], outcome: str) -> None:
    """Record a write the ledger saw through: `arguments` as the ledger compares them (text as
    given, files as (name, type, sha256))."""
    files = arguments.get("files") or ()
    _record(
        tool,
        outcome,
        backend=backend,
        ticket=ticket or None,
        internal=arguments.get("internal"),
        text_sha256=_digest(arguments.get("body")),
        files=[{"type": kind, "sha256": digest} for _, kind, digest in files],
    )


def refused(tool: str, arguments: Any, scope: str) -> None:
    """Record a write refused before anything ran: the caller's sign-in lacks `scope`."""
    given = arguments if isinstance(arguments, dict) else {}
    ticket = given.get("ticket")
    _record(
        tool,
        "insufficient_scope",
        backend=given.get("backend") or (ticket.split(":", 1)[0] if isinstance(ticket, str) else None),
        ticket=ticket if isinstance(ticket, str) else None,
        internal=given.get("internal") if isinstance(given.get("internal"), bool) else None,
        text_sha256=_digest(given.get("body") or given.get("message")),
        scope=scope,
    )


def _record(tool: str, outcome: str, **what: Any) -> None:
    who = current_caller().who
    fields = {"audit": "write", "who": who, "tool": tool, "outcome": outcome}
    fields.update({key: value for key, value in what.items() if value not in (None, [])})
    _log.info("%s by %s: %s", tool, who, outcome, extra=fields)


def _digest(text: Any) -> str | None:
    return hashlib.sha256(text.encode()).hexdigest() if isinstance(text, str) and text else None
