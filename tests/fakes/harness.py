"""A small real HTTP server for vendor fakes: routing, request recording, and injected faults.

It is built on the standard library's threading HTTP server, not on an ASGI stack, so that faults
can be as rude as real networks are: a connection reset mid-request, a hang, a cut-off body.
"""

from __future__ import annotations

import email.parser
import email.policy
import gc
import json
import pickle
import re
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Request:
    """One request as it arrived on the wire."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Header names in lower case."""
    body: bytes
    at: float = field(default_factory=time.monotonic)
    """When it arrived (this process's monotonic clock)."""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def arg(self, name: str) -> str | None:
        """One value from the query string or, for form bodies, the form (first value)."""
        values = self.query.get(name) or self.form().get(name)
        return values[0] if values else None

    def form(self) -> dict[str, list[str]]:
        """Fields of an urlencoded or multipart body (files left out; see `files`)."""
        if not self.body:
            return {}
        content_type = self.header("content-type") or ""
        if content_type.startswith("application/x-www-form-urlencoded"):
            return parse_qs(self.body.decode(), keep_blank_values=True)
        fields: dict[str, list[str]] = {}
        for name, filename, _, content in self._parts():
            if filename is None:
                fields.setdefault(name, []).append(content.decode())
        return fields

    def files(self) -> dict[str, list[UploadedFile]]:
        files: dict[str, list[UploadedFile]] = {}
        for name, filename, part_type, content in self._parts():
            if filename is not None:
                files.setdefault(name, []).append(UploadedFile(filename, part_type, content))
        return files

    def _parts(self) -> Iterator[tuple[str, str | None, str, bytes]]:
        content_type = self.header("content-type") or ""
        if not content_type.startswith("multipart/form-data"):
            return
        parser = email.parser.BytesParser(policy=email.policy.HTTP)
        message = parser.parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + self.body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            yield str(name), filename, part.get_content_type(), payload if isinstance(payload, bytes) else b""


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(payload: Any, status: int = 200, **headers: str) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Response(status, body, {"Content-Type": "application/json; charset=utf-8", **headers})


def text_response(text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(status, text.encode(), {"Content-Type": content_type})


FaultAction = Literal["status", "hang", "reset", "garbage", "truncate"]


@dataclass
class Fault:
    """Something going wrong on the vendor's side, for the next `times` matching requests.

    `status`: answer `status` with `body` and `headers`. `hang`: wait `seconds`, then close without an
    answer. `reset`: drop the connection with a TCP reset. `garbage`: an HTML error page with status
    200. `truncate`: the real answer cut in half. With `apply`, the request is handled for real first
    (a write lands) and only then answered with the fault.
    """

    action: FaultAction
    status: int = 503
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 30.0
    apply: bool = False
    times: int = 1
    method: str | None = None
    path: str | None = None
    """A regular expression the request's path must match (search)."""

    def matches(self, request: Request) -> bool:
        if self.method is not None and request.method != self.method:
            return False
        return self.path is None or re.search(self.path, request.path) is not None


Handler = Callable[[Request, re.Match[str]], Response]

_SEEDED: dict[tuple[type, Hashable], bytes] = {}
"""Each fake class's seeded state by its seeding options, pickled: see `FakeVendor.seed_once`."""


def _unpickle(snapshot: bytes) -> Any:
    """Tens of thousands of new objects with no garbage among them: with the collector on, they would
    set off several full collections of a test process's large heap, which cost more than the unpickling."""
    if not gc.isenabled():
        return pickle.loads(snapshot)
    gc.disable()
    try:
        return pickle.loads(snapshot)
    finally:
        gc.enable()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up before its answer was written is how clients behave, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeVendor:
    """Base of the fakes: subclasses add routes and an `authorize` check; state lives in the subclass."""

    vendor = "fake"

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.latency = 0.0
        """Seconds every request waits before it is handled, as a far-away vendor would."""
        self.in_flight = 0
        self.peak_in_flight = 0
        """The most requests this fake was handling at one moment."""
        self.lock = threading.RLock()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._config_dir: Path | None = None

    def seed_once(self, key: Hashable, seed: Callable[[], None], *names: str) -> None:
        """Fill the attributes `names` by calling `seed`, or with a copy of what it filled them with
        for an earlier fake of this class with the same `key` (the options seeding depends on).

        Hundreds of tickets drawn one by one from a seeded `random` cost tens of milliseconds, the bulk
        of a short test's setup; unpickling the same state is several times cheaper. Each fake gets its
        own copy, so what one test writes no other test sees. `names` must be every attribute `seed`
        changes, the random generator's state included when the fake keeps drawing from it.
        """
        snapshot = _SEEDED.get((type(self), key))
        if snapshot is not None:
            vars(self).update(_unpickle(snapshot))
            return
        seed()
        state = {name: getattr(self, name) for name in names}
        _SEEDED[type(self), key] = pickle.dumps(state, pickle.HIGHEST_PROTOCOL)

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern + r"\Z"), handler))

    def authorize(self, request: Request) -> Response | None:
        """The vendor's answer to a request with bad credentials, or None to let it through."""
        return None

    def not_routed(self, request: Request) -> Response:
        return text_response("Not Found", 404)

    def inject(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    def received(self, method: str | None = None, path: str | None = None) -> list[Request]:
        """Recorded requests, optionally only those of `method` whose path matches `path` (search)."""
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or re.search(path, r.path))
            ]

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeVendor:
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two sends; with Nagle's algorithm the body would wait ~40 ms
            # for the client's delayed ACK, an artefact no real web server has.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test output is for the tests."""

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

            def do_PUT(self) -> None:
                fake._handle(self)

            def do_PATCH(self) -> None:
                fake._handle(self)

            def do_DELETE(self) -> None:
                fake._handle(self)

        self._server = _QuietServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=f"fake-{self.vendor}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._config_dir is not None:
            shutil.rmtree(self._config_dir, ignore_errors=True)
            self._config_dir = None

    def config_file(self, text: str) -> Path:
        """A file that lives as long as the fake runs (for a TOML configuration pointing at it)."""
        if self._config_dir is None:
            self._config_dir = Path(tempfile.mkdtemp(prefix=f"fake-{self.vendor}-"))
        path = self._config_dir / "helpdesk.toml"
        path.write_text(text, encoding="utf-8")
        return path

    @contextmanager
    def running(self) -> Iterator[FakeVendor]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def dispatch(self, request: Request) -> Response:
        denied = self.authorize(request)
        if denied is not None:
            return denied
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                with self.lock:
                    return handler(request, match)
        return self.not_routed(request)

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            self._serve(http)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length) if length else b""
        split = urlsplit(http.path)
        request = Request(
            method=http.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in http.headers.items()},
            body=body,
        )
        with self.lock:
            self.requests.append(request)
            fault = next((f for f in self.faults if f.times > 0 and f.matches(request)), None)
            if fault is not None:
                fault.times -= 1
        if self.latency:
            time.sleep(self.latency)
        if fault is None:
            self._write(http, self.dispatch(request))
            return
        answer = self.dispatch(request) if fault.apply or fault.action == "truncate" else None
        if fault.action == "status":
            self._write(http, Response(fault.status, fault.body, fault.headers))
        elif fault.action == "garbage":
            page = b"<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
            self._write(http, Response(200, page, {"Content-Type": "text/html"}))
        elif fault.action == "truncate":
            assert answer is not None
            half = answer.body[: len(answer.body) // 2]
            self._write(http, Response(answer.status, half, answer.headers))
        elif fault.action == "hang":
            time.sleep(fault.seconds)
            http.close_connection = True
        else:
            http.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            http.connection.close()
            http.close_connection = True

    @staticmethod
    def _write(http: BaseHTTPRequestHandler, response: Response) -> None:
        http.send_response(response.status)
        for name, value in response.headers.items():
            http.send_header(name, value)
        http.send_header("Content-Length", str(len(response.body)))
        http.end_headers()
        http.wfile.write(response.body)
