"""The shared HTTP layer of the vendor adapters, against a real HTTP server with injected faults."""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx
import pytest
from anyio.abc import SocketAttribute, SocketStream
from anyio.streams.tls import TLSListener
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from helpdesk_mcp.adapters.errors import (
    AuthError,
    HelpdeskError,
    InvalidInputError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    UnavailableError,
)
from helpdesk_mcp.adapters.http import Backoff, Sleep, VendorClient, VendorFailure, _tls
from helpdesk_mcp.adapters.settings import HttpSettings
from tests.fakes.harness import FakeVendor, Fault, Request, Response, json_response

pytestmark = pytest.mark.anyio

PASSWORD = "s3cret-Pa55word"


class Counter(FakeVendor):
    """A vendor with one list to read and one counter to bump, and a 200-with-error quirk."""

    vendor = "Counter"

    def __init__(self) -> None:
        super().__init__()
        self.created = 0
        self.route("GET", "/api/items", lambda request, match: json_response({"items": [1, 2]}))
        self.route("POST", "/api/items", self._create)
        self.route("GET", "/api/quirk", lambda request, match: json_response({"error": "Ticket is locked"}))
        self.route("GET", r"/api/status/(\d+)", self._status)

    def _create(self, request: Request, match: re.Match[str]) -> Response:
        self.created += 1
        return json_response({"id": self.created}, status=201)

    def _status(self, request: Request, match: re.Match[str]) -> Response:
        return json_response({"message": "from the vendor"}, status=int(match[1]))


def vendor_error(response: httpx.Response) -> VendorFailure | None:
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        if isinstance(body, dict) and "error" in body:
            return VendorFailure(str(body["error"]), 400)
    return None


@pytest.fixture
def fake() -> Iterator[Counter]:
    with Counter().running() as running:
        assert isinstance(running, Counter)
        yield running


def make_client(url: str, sleep: Sleep = anyio.sleep, **settings: float) -> VendorClient:
    return VendorClient(
        backend="counter",
        vendor="Counter",
        base_url=url + "/api",
        settings=HttpSettings(read_timeout=0.5, **settings),  # type: ignore[arg-type]
        read_error=vendor_error,
        auth=httpx.BasicAuth("api", PASSWORD),
        backoff=Backoff(base=0.01, cap=0.02),
        sleep=sleep,
    )


@pytest.fixture
async def client(fake: Counter) -> AsyncIterator[VendorClient]:
    vendor_client = make_client(fake.url)
    yield vendor_client
    await vendor_client.aclose()


@pytest.mark.parametrize(
    "fault", [Fault("status", 503), Fault("status", 502), Fault("reset"), Fault("hang", seconds=2)]
)
async def test_a_read_survives_one_transient_fault(fake: Counter, client: VendorClient, fault: Fault) -> None:
    fake.inject(fault)
    response = await client.read("GET", "items")
    assert client.json(response) == {"items": [1, 2]}
    assert len(fake.received("GET", "/api/items")) == 2


async def test_a_read_gives_up_after_its_retries_with_a_clear_error(
    fake: Counter, client: VendorClient
) -> None:
    fake.inject(Fault("status", 503, times=10))
    with pytest.raises(
        UnavailableError, match=r"Counter \(backend 'counter'\) failed on its side \(HTTP 503\)"
    ):
        await client.read("GET", "items")
    assert len(fake.received("GET", "/api/items")) == 4, "one try and three retries"


async def test_retry_after_is_honoured_and_a_too_long_one_fails_at_once(
    fake: Counter, client: VendorClient
) -> None:
    fake.inject(Fault("status", 429, headers={"Retry-After": "0"}))
    assert client.json(await client.read("GET", "items")) == {"items": [1, 2]}

    fake.inject(Fault("status", 429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimitedError, match=r"rate limited .*; retry after 3600 s") as raised:
        await client.read("GET", "items")
    assert raised.value.retry_after == 3600
    assert len(fake.received("GET", "/api/items")) == 3


async def test_a_wait_asked_for_is_slept_through_the_injected_sleep(fake: Counter) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client = make_client(fake.url, sleep=sleep)
    try:
        fake.inject(Fault("status", 429, headers={"Retry-After": "7"}))
        assert client.json(await client.read("GET", "items")) == {"items": [1, 2]}
    finally:
        await client.aclose()
    assert slept == [7.0], "the wait the vendor asked for, and not a real one"


async def test_a_wait_past_the_calls_deadline_is_reported_at_once_not_as_a_timeout(
    fake: Counter, client: VendorClient
) -> None:
    fake.inject(Fault("status", 429, headers={"Retry-After": "20"}))
    with (
        anyio.fail_after(5),
        pytest.raises(RateLimitedError, match=r"rate limited.*; retry after 20 s") as raised,
    ):
        await client.read("GET", "items")
    assert raised.value.retry_after == 20
    assert len(fake.received("GET", "/api/items")) == 1, "no retry that the deadline would cut short"


@pytest.mark.parametrize(
    "fault", [Fault("status", 503, apply=True), Fault("reset", apply=True), Fault("garbage", apply=True)]
)
async def test_a_write_is_never_sent_twice_after_it_may_have_arrived(
    fake: Counter, client: VendorClient, fault: Fault
) -> None:
    fake.inject(fault)
    with pytest.raises(OutcomeUnknownError, match="unknown"):
        client.json(await client.write("POST", "items", json={}))
    assert len(fake.received("POST", "/api/items")) == 1
    assert fake.created == 1, "the vendor applied it once; nobody sent it again"


async def test_a_write_that_could_not_connect_is_reported_as_not_sent() -> None:
    with Counter().running() as stopped:
        url = stopped.url
    client = make_client(url)
    try:
        with pytest.raises(UnavailableError, match="could not be reached") as raised:
            await client.write("POST", "items", json={})
        assert not isinstance(raised.value, OutcomeUnknownError)
    finally:
        await client.aclose()


async def test_a_hanging_write_ends_at_the_read_timeout_as_unknown(
    fake: Counter, client: VendorClient
) -> None:
    fake.inject(Fault("hang", seconds=2, apply=True))
    with pytest.raises(OutcomeUnknownError, match="timed out"):
        await client.write("POST", "items", json={})
    assert len(fake.received("POST", "/api/items")) == 1


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (401, AuthError, "check the credentials"),
        (403, AuthError, "check the credentials"),
        (404, NotFoundError, "not found"),
        (422, InvalidInputError, "refused the request as invalid"),
        (500, UnavailableError, "failed on its side"),
    ],
)
async def test_statuses_become_the_matching_error(
    client: VendorClient, status: int, error: type[HelpdeskError], words: str
) -> None:
    with pytest.raises(error, match=words):
        await client.read("GET", f"status/{status}")


async def test_an_error_payload_with_status_200_is_a_failure(client: VendorClient) -> None:
    with pytest.raises(InvalidInputError, match="Ticket is locked"):
        await client.read("GET", "quirk")


async def test_an_html_page_instead_of_json_is_a_clear_error(fake: Counter, client: VendorClient) -> None:
    fake.inject(Fault("garbage"))
    with pytest.raises(UnavailableError, match=r"not the JSON its API documents \(text/html"):
        client.json(await client.read("GET", "items"))


async def test_requests_in_flight_stay_within_the_bound(fake: Counter) -> None:
    fake.latency = 0.05
    client = make_client(fake.url, max_concurrency=2, requests_per_second=1000)
    try:
        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(client.read, "GET", "items")
    finally:
        await client.aclose()
    assert len(fake.received("GET")) == 8
    assert fake.peak_in_flight == 2


async def test_no_error_carries_the_credentials(fake: Counter, client: VendorClient) -> None:
    fake.inject(Fault("status", 503, times=10))
    messages = []
    for attempt in (
        client.read("GET", "items"),
        client.write("POST", "items"),
        client.read("GET", "status/401"),
    ):
        with pytest.raises(HelpdeskError) as raised:
            await attempt
        messages.append(str(raised.value))
    assert all(PASSWORD not in message and "Authorization" not in message for message in messages)
    assert fake.received()[0].header("authorization") == "Basic YXBpOnMzY3JldC1QYTU1d29yZA=="


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that signs itself, as a private authority's would, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "helpdesk-mcp test authority")])
    now = datetime.now(UTC)
    here = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([here]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "vendor.crt", directory / "vendor.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@asynccontextmanager
async def https_vendor(cert_file: Path, key_file: Path) -> AsyncIterator[str]:
    """A vendor at https://127.0.0.1 that answers every request with an empty JSON object."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)

    async def answer(stream: SocketStream) -> None:
        async with stream:
            await stream.receive()
            await stream.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")

    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listener:
        port = listener.extra(SocketAttribute.local_port)
        async with anyio.create_task_group() as serving:
            serving.start_soon(TLSListener(listener, context, standard_compatible=False).serve, answer)
            yield f"https://127.0.0.1:{port}"
            serving.cancel_scope.cancel()


async def test_a_vendor_is_reached_only_with_a_certificate_an_authority_trusted_here_signed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert_file, key_file = self_signed(tmp_path)
    async with https_vendor(cert_file, key_file) as url:
        untrusted = make_client(url)
        with pytest.raises(UnavailableError, match="could not be reached"):
            await untrusted.read("GET", "items")
        await untrusted.aclose()
        # A private authority is trusted through SSL_CERT_FILE, which is read when a process builds its
        # first client: forget the one built so far, as a server started with the variable has none.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
        _tls.cache_clear()
        trusted = make_client(url)
        try:
            assert trusted.json(await trusted.read("GET", "items")) == {}
        finally:
            await trusted.aclose()
            _tls.cache_clear()
