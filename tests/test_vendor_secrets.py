"""Vendors that echo our credentials back: the tool result and the log keep every spelling of them out.

Each vendor fake answers every request with an error in that vendor's own format whose text quotes the
configured secret as the vendor might have seen it: as itself, URL-encoded, JSON-escaped the way PHP
does it, and (for Basic auth) inside the `Authorization` header. The secret is long enough that the
adapters' own shortening of vendor text would cut it in half.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.logs import configure_logging
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import connect
from tests.fakes.harness import Fault, json_response, text_response

pytestmark = pytest.mark.anyio

SECRET = "Zq9/x+Kp&=wR#7%dN4/vT8+yL2=mB6&cH"
"""Every character here is spelled differently in a URL, a query string or PHP's JSON."""


def spellings(env: dict[str, str], secret_variable: str) -> list[str]:
    secret = env[secret_variable]
    found = [secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret).replace("/", "\\/")[1:-1]]
    if "THULIUM_USER" in env:
        found.append(base64.b64encode(f"{env['THULIUM_USER']}:{secret}".encode()).decode())
    return found


def echoing(vendor: str, spelled: list[str]) -> Fault:
    quoted = "Invalid credentials, we received: " + " | ".join(spelled)
    answer = {
        "thulium": json_response({"request_id": "5367845", "errors": [{"message": quoted, "code": 1}]}, 401),
        "osticket": text_response(quoted, 401),
        "plusofon": json_response({"message": quoted, "code": 401}, 401),
        "usedesk": json_response({"error": quoted, "code": 401}, 401),
    }[vendor]
    return Fault("status", status=answer.status, body=answer.body, headers=answer.headers, times=1000)


SECRET_VARIABLE = {
    "thulium": "THULIUM_PASSWORD",
    "osticket": "OSTICKET_API_KEY",
    "plusofon": "PLUSOFON_TOKEN",
    "usedesk": "USEDESK_API_TOKEN",
}


@pytest.fixture
def captured() -> Iterator[list[str]]:
    """Every line the server's own log handler writes at INFO, as JSON text."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    chatty = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    lines: list[str] = []
    yield lines
    root.handlers[:], root.level = saved
    for name, level in chatty.items():
        logging.getLogger(name).setLevel(level)


def listen(lines: list[str], secrets: list[str]) -> None:
    configure_logging("INFO", secrets)
    server_handler = logging.getLogger().handlers[0]

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(server_handler.format(record))

    logging.getLogger().addHandler(Lines(logging.INFO))


@pytest.mark.parametrize("vendor", sorted(SECRET_VARIABLE))
async def test_a_vendor_quoting_the_credential_shows_none_of_it(vendor: str, captured: list[str]) -> None:
    module = importlib.import_module(f"tests.fakes.{vendor}")
    with module.make_fake().running() as fake:
        env: dict[str, Any] = {
            **module.env_for(fake),
            SECRET_VARIABLE[vendor]: SECRET,
            "HELPDESK_TIMEOUT": "5",
        }
        spelled = spellings(env, SECRET_VARIABLE[vendor])
        fake.inject(echoing(vendor, spelled))
        settings = load_settings(env, known_tools=TOOL_NAMES)
        listen(captured, settings.secrets())
        async with connect(settings, "auto") as client:
            result = await client.call_tool("search_tickets", {"requester": "jan@example.pl"})
            logging.getLogger("tests.vendor").error("the vendor said: %s", " | ".join(spelled))
    text: str = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error and "Invalid credentials" in text and "***" in text, text
    for seen in (text, *captured):
        for form in spelled:
            assert form not in seen
        assert SECRET[:6] not in seen and quote(SECRET[:6], safe="") not in seen, seen


async def test_request_lines_with_customer_addresses_stay_out_of_an_info_log(captured: list[str]) -> None:
    module = importlib.import_module("tests.fakes.osticket")
    with module.make_fake().running() as fake:
        settings = load_settings(module.env_for(fake), known_tools=TOOL_NAMES)
        listen(captured, settings.secrets())
        async with connect(settings, "auto") as client:
            result = await client.call_tool("search_tickets", {"requester": "jan.kowalski@example.pl"})
        asked = [r for r in fake.received("GET") if "jan.kowalski@example.pl" in json.dumps(r.query)]
    assert not result.is_error
    assert asked, "the fake was asked for the customer by e-mail, in the query string"
    assert any('"tools/call ok"' in line for line in captured), "the INFO log was captured"
    assert not [line for line in captured if "jan.kowalski" in line]


def test_a_urls_user_info_never_reaches_the_log(captured: list[str]) -> None:
    listen(captured, [])
    logging.getLogger("tests.vendor").warning(
        "retrying https://api-user:hunter2-pass@crm.example.com/api/tickets"
    )
    assert captured and all("hunter2" not in line and "api-user" not in line for line in captured)
    assert "https://***@crm.example.com/api/tickets" in captured[-1]
