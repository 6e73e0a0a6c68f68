"""Attachment downloads go only to UseDesk's own hosts and stop at the file size limit (issue 11 item 9).

A ticket document names whatever URL it likes for a file; before, the server fetched any http(s)
URL and read the whole answer into memory. Each attempt here is made through a real MCP client.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from mcp import Client, MCPError

from helpdesk_mcp.adapters.limits import MAX_FILE_BYTES
from helpdesk_mcp.server.config import ConfigError, load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import connect, unthrottled
from tests.fakes.harness import FakeVendor, Response
from tests.fakes.usedesk import UsedeskFake, env_for

pytestmark = pytest.mark.anyio

HUGE = 300 * 1024 * 1024
CHUNK = 256 * 1024


@dataclass
class FileServer:
    """Serves one file of `size` bytes on 127.0.0.1, written a chunk at a time, and counts what went out."""

    size: int
    declare_length: bool = True
    redirect: str | None = None
    """Where a request for any path other than `/file` is sent on (a 302), if anywhere."""
    sent: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    url: str = ""


@contextmanager
def file_server(
    size: int, *, declare_length: bool = True, redirect: str | None = None
) -> Iterator[FileServer]:
    served = FileServer(size, declare_length, redirect)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # without a length the body ends when the connection closes

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            if served.redirect is not None and self.path != "/file":
                self.send_response(302)
                self.send_header("Location", served.redirect)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            if served.declare_length:
                self.send_header("Content-Length", str(served.size))
            self.end_headers()
            try:
                while served.sent < served.size:
                    piece = min(CHUNK, served.size - served.sent)
                    self.wfile.write(b"\x00" * piece)
                    served.sent += piece
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                served.done.set()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def usedesk() -> Iterator[UsedeskFake]:
    with UsedeskFake(tickets=24).running() as running:
        assert isinstance(running, UsedeskFake)
        yield running


def with_file_at(fake: UsedeskFake, url: str) -> int:
    """A ticket whose customer's first message carries a file UseDesk says is at `url`."""
    ticket = next(t for t in fake.newest_first() if t.comments)
    ticket.comments[0].files = [url]
    return ticket.id


async def attachment_uri(client: Client, ticket_id: int) -> str:
    result = await client.call_tool("get_ticket", {"ticket": f"usedesk:{ticket_id}"})
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    document = json.loads(result.content[0].text)  # type: ignore[union-attr]
    [attachment] = [a for m in document["messages"] for a in m.get("attachments", [])]
    uri: str = attachment["uri"]
    return uri


async def read_refused(client: Client, uri: str) -> str:
    with pytest.raises(MCPError) as refused:
        await client.read_resource(uri)
    return refused.value.error.message


def settings_for(fake: UsedeskFake, **env: str) -> Any:
    return unthrottled(load_settings({**env_for(fake), **env}, known_tools=TOOL_NAMES))


async def test_a_file_on_another_host_is_not_fetched(mode: str) -> None:
    elsewhere = FakeVendor()
    elsewhere.route("GET", r"/.*", lambda request, match: Response(200, b"secret", {}))
    with usedesk() as fake, elsewhere.running():
        ticket_id = with_file_at(fake, f"{elsewhere.url}/files/0001/faktura.pdf")
        async with connect(settings_for(fake), mode) as client:
            said = await read_refused(client, await attachment_uri(client, ticket_id))
        assert not elsewhere.received(), "nothing was asked of the other host"
        host = elsewhere.url.removeprefix("http://")
    assert "faktura.pdf" in said and "not on the API's own host" in said and "USEDESK_FILE_HOSTS" in said
    assert f"is at {host}," in said, "the sentence names the host"
    assert "Traceback" not in said


async def test_a_redirect_is_followed_only_to_a_trusted_host() -> None:
    elsewhere = FakeVendor()
    elsewhere.route("GET", r"/.*", lambda request, match: Response(200, b"secret", {}))
    with usedesk() as fake, elsewhere.running(), file_server(2048, redirect="/file") as files:
        # A file host that sends the client on within itself, and one that sends it elsewhere.
        inside = with_file_at(fake, f"{files.url}/files/0003/umowa.pdf")
        async with connect(settings_for(fake, USEDESK_FILE_HOSTS=files.url), "auto") as client:
            blob = (await client.read_resource(await attachment_uri(client, inside))).contents[0]
            files.redirect = f"{elsewhere.url}/stolen"
            said = await read_refused(client, await attachment_uri(client, inside))
        assert not elsewhere.received(), "the redirect to an untrusted host was not followed"
    assert base64.b64decode(blob.blob) == b"\x00" * 2048  # type: ignore[union-attr]
    assert "umowa.pdf" in said and "USEDESK_FILE_HOSTS" in said


async def test_a_file_on_a_configured_file_host_is_fetched(mode: str) -> None:
    with usedesk() as fake, file_server(4096, declare_length=True) as files:
        ticket_id = with_file_at(fake, f"{files.url}/files/0001/umowa.pdf")
        async with connect(settings_for(fake, USEDESK_FILE_HOSTS=files.url), mode) as client:
            blob = (await client.read_resource(await attachment_uri(client, ticket_id))).contents[0]
    assert base64.b64decode(blob.blob) == b"\x00" * 4096  # type: ignore[union-attr]


@pytest.mark.parametrize("declare_length", [True, False], ids=["declared", "undeclared"])
async def test_an_oversized_file_is_refused_without_reading_it_all(declare_length: bool) -> None:
    with usedesk() as fake, file_server(HUGE, declare_length=declare_length) as files:
        ticket_id = with_file_at(fake, f"{files.url}/files/0002/nagranie.bin")
        async with connect(settings_for(fake, USEDESK_FILE_HOSTS=files.url), "auto") as client:
            said = await read_refused(client, await attachment_uri(client, ticket_id))
        assert files.done.wait(30), "the file server noticed the client hang up"
    assert f"{MAX_FILE_BYTES:,} bytes" in said and "open it in the helpdesk" in said
    assert files.sent < HUGE // 2, f"{files.sent:,} of {HUGE:,} bytes went out before the download stopped"


def test_file_hosts_are_checked_at_start() -> None:
    with pytest.raises(ConfigError, match="USEDESK_FILE_HOSTS: 'ftp://files"):
        load_settings(
            {"USEDESK_API_TOKEN": "t0ken", "USEDESK_FILE_HOSTS": "ftp://files.example.com"},
            known_tools=TOOL_NAMES,
        )
