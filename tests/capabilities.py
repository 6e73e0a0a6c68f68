"""Shared by the backend suites: arguments shaped to what a backend says it can do."""

from __future__ import annotations

from typing import Any


def creatable(caps: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """`arguments` without the optional create_ticket fields the backend says it cannot set."""
    optional = ("requester_email", "requester_name", "priority", "tags")
    honoured = caps.get("create_fields", optional)
    return {key: value for key, value in arguments.items() if key not in optional or key in honoured}


CUSTOMER = {"requester_email": "ola@example.com", "requester_name": "Ola Nowak"}


def scoped(caps: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """`arguments` narrowed to the suite's customer where the backend lists tickets only per requester
    or agent (osTicket's extension); the suite's tickets are all opened by that customer."""
    if "requester" in caps.get("search_requires", ()):
        return {**arguments, "requester": CUSTOMER["requester_email"]}
    return arguments


def create_only(caps: dict[str, Any]) -> bool:
    """A backend whose API only opens tickets (stock osTicket): reading one back answers an error."""
    return not (caps["search"] or caps["reply"])
