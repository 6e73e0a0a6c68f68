"""The one HTTP layer every vendor adapter talks through.

Policy that all vendors share lives here once: connection and read timeouts, a bound on concurrent
requests and on their rate, retries of reads with backoff and jitter that honour `Retry-After`, the
rule that writes are never retried once they may have reached the vendor, and turning transport
failures and HTTP statuses into the error taxonomy, and keeping the backend's credentials out of any
vendor text that becomes an error. A vendor adapter supplies only what is its own: base URL, auth, and
a `read_error` hook that recognizes the vendor's error bodies and reports what they say
(`VendorFailure`); which error that is, and whether a write it answered may have been applied, is
decided here alone.

A wait a vendor asks for (`Retry-After`) is honoured only when it fits the call's deadline (anyio's
effective deadline, which the server sets per call): a longer one is reported at once as "rate
limited, retry after N s" rather than slept through until the call times out. Sleeping and the wall
clock are injectable, so tests of waits do not wait.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import httpx

from .budget import Budget, budgets_in_use
from .errors import (
    AuthError,
    HelpdeskError,
    InvalidInputError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    UnavailableError,
    UnsupportedError,
)
from .redact import Redactor
from .settings import HttpSettings

log = logging.getLogger(__name__)

_WRITE = "helpdesk_mcp.write"
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
USER_AGENT = "helpdesk-mcp"


@dataclass(frozen=True)
class VendorFailure:
    """What a vendor's answer says went wrong, as its `read_error` hook reads it from the body."""

    said: str
    """The vendor's own words, on one line."""
    status: int
    """The HTTP status the words amount to: vendors answer failures with 200, or a missing ticket with
    500, so this may differ from the answer's own."""
    advice: str = ""
    """What to do about it, where the vendor's case calls for more than the usual advice."""
    error: type[HelpdeskError] | None = None
    """The vendor's own error class for a case its adapter tells apart; worded by `status` all the same."""
    setting: str | None = None
    """The backend setting the advice is about (`api_token`), for the server to say where it is given."""


ReadError = Callable[[httpx.Response], VendorFailure | None]
"""A vendor's hook: the failure an answer reports (even one with status 200), or None if it is fine."""

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Backoff:
    base: float = 0.25
    cap: float = 4.0

    def delay(self, attempt: int) -> float:
        """Full jitter: a random wait up to an exponentially growing bound, so retries spread out."""
        return random.uniform(0, min(self.cap, self.base * 2**attempt))  # noqa: S311 - jitter, not crypto


class VendorClient:
    """An httpx client with the shared policy, bound to one backend of one vendor."""

    def __init__(
        self,
        *,
        backend: str,
        vendor: str,
        base_url: str,
        settings: HttpSettings,
        read_error: ReadError,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff: Backoff | None = None,
        budget: Budget | None = None,
        sleep: Sleep = anyio.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.vendor = vendor
        self._settings = settings
        self._read_error = read_error
        self._redact = Redactor(settings.credentials())
        self._backoff = backoff or Backoff()
        self._base_url = base_url.rstrip("/") + "/"
        self._budget = budget or budgets_in_use().for_backend(backend, self._base_url, settings)
        self._headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self._auth = auth
        self._transport = transport
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """Built at the first request: the first client loads the CA bundle, which a server may never need."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self._base_url,
                headers=self._headers,
                auth=self._auth,
                timeout=httpx.Timeout(
                    self._settings.read_timeout,
                    connect=self._settings.connect_timeout,
                    pool=self._settings.read_timeout,
                ),
                transport=self._transport,
                verify=_tls(),
                follow_redirects=False,
            )
        return self._client

    async def read(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request that changes nothing: retried after transient faults."""
        attempts = self._settings.read_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await self._send(method, path, kwargs)
            except httpx.TransportError as exc:
                if last:
                    raise self._unreachable(exc) from None
                await self._pause(attempt, None)
                continue
            if response.status_code in RETRYABLE_STATUSES and not last:
                wait = retry_after(response, self._wall_clock)
                if wait is not None and not self._can_wait(wait):
                    break
                await self._pause(attempt, wait)
                continue
            return self._checked(response, write=False)
        return self._checked(response, write=False)

    async def write(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request that changes something: sent once, retried only if it provably never left.

        A connection that could not be opened carried no request, so that alone is retried. Any
        failure after the request may have reached the vendor raises `OutcomeUnknownError`, which
        the adapter resolves by looking (where the vendor lets it) instead of sending it again.
        """
        attempts = self._settings.read_retries + 1
        for attempt in range(attempts):
            try:
                response = await self._send(method, path, kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                if attempt == attempts - 1:
                    raise self._unreachable(exc) from None
                await self._pause(attempt, None)
                continue
            except httpx.TransportError as exc:
                raise OutcomeUnknownError(
                    f"The connection to {self._who()} broke after the request was sent "
                    f"({_describe(exc)}), so whether it was applied is unknown."
                ) from None
            response.extensions[_WRITE] = True
            return self._checked(response, write=True)
        raise AssertionError("unreachable: every attempt returns or raises")

    def json(self, response: httpx.Response) -> Any:
        """The answer's JSON, or a clear error when the vendor sent something else (an HTML page, a cut body).

        After a write such an answer leaves its outcome unknown: the write may well have been applied.
        """
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            said = (
                f"{self._who()} answered {response.request.method} {response.request.url.path} with "
                f"something that is not the JSON its API documents ({kind}, {len(response.content)} bytes)"
            )
            if response.extensions.get(_WRITE):
                raise OutcomeUnknownError(f"{said}, so whether the change was applied is unknown.") from None
            raise UnavailableError(f"{said}; it may be failing or behind a proxy. Try again later.") from None

    async def download(
        self, url: str, *, max_bytes: int, allowed: Callable[[str], None], max_redirects: int = 3
    ) -> tuple[httpx.Response, bytes]:
        """A file's bytes, streamed: refused once it is known to exceed `max_bytes`, without reading on.

        `allowed` sees every address first, the given one and each a redirect leads to, and raises to
        refuse it: a file is read only from where the caller trusts.
        """
        for _ in range(max_redirects + 1):
            allowed(url)
            response, content = await self._stream(url, max_bytes)
            location = response.headers.get("location") if response.is_redirect else None
            if location is None:
                return response, content
            url = str(response.url.join(location))
        raise UnavailableError(
            f"{self._who()} redirected the file more than {max_redirects} times; open it in the helpdesk "
            "itself."
        )

    async def _stream(self, url: str, max_bytes: int) -> tuple[httpx.Response, bytes]:
        chunks: list[bytes] = []
        size = 0
        async with self._budget.slot():
            try:
                async with self.client.stream("GET", url) as response:
                    if response.is_redirect:
                        return response, b""
                    if not response.is_success:
                        raise self._error(response, None, write=False)
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise self._too_large(int(declared), max_bytes)
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise self._too_large(None, max_bytes)
                        chunks.append(chunk)
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from None
        return response, b"".join(chunks)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _too_large(self, size: int | None, max_bytes: int) -> UnsupportedError:
        said = f"{size:,} bytes" if size is not None else f"more than {max_bytes:,} bytes"
        return UnsupportedError(
            f"The file on {self._who()} is {said}; files of up to {max_bytes:,} bytes are downloaded "
            "here, so open it in the helpdesk itself."
        )

    async def _send(self, method: str, path: str, kwargs: dict[str, Any]) -> httpx.Response:
        # Built before the budget's slot is taken: building takes long enough that requests spaced
        # by the budget would otherwise reach the vendor bunched together.
        client = self.client
        async with self._budget.slot():
            started = time.monotonic()
            response = await client.request(method, path.lstrip("/"), **kwargs)
            log.debug(
                "%s %s %s -> %s in %.0f ms",
                self.backend,
                method,
                response.request.url.path,
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
            return response

    async def _pause(self, attempt: int, retry_after: float | None) -> None:
        await self._sleep(retry_after if retry_after is not None else self._backoff.delay(attempt))

    def _can_wait(self, wait: float) -> bool:
        """Whether a wait the vendor asked for is allowed, and ends before the call's deadline."""
        left = anyio.current_effective_deadline() - anyio.current_time()
        return wait <= self._settings.retry_after_cap and wait < left

    def _checked(self, response: httpx.Response, *, write: bool) -> httpx.Response:
        failure = self._vendor_failure(response)
        if failure is None and response.is_success:
            return response
        raise self._error(response, failure, write=write)

    def _vendor_failure(self, response: httpx.Response) -> VendorFailure | None:
        """The failure the vendor's answer reports, read with none of this backend's credentials in it.

        Vendors echo a token or password back in their error texts. When the body quotes one, the hook
        reads a copy with each one blanked out, since hooks shorten what they quote and half a secret
        would no longer be recognized; the error built from it is then redacted as a whole.
        """
        failure = self._read_error(response)
        if failure is None:
            return None
        blanked = self._redact.data(response.content)
        if blanked != response.content:
            headers = [
                (k, v) for k, v in response.headers.items() if k not in {"content-encoding", "content-length"}
            ]
            copy = httpx.Response(
                response.status_code, headers=headers, content=blanked, request=response.request
            )
            failure = self._read_error(copy) or failure
        return failure

    def _error(
        self, response: httpx.Response, failure: VendorFailure | None, *, write: bool
    ) -> HelpdeskError:
        """The error an answer that failed means: by the status the vendor's words amount to (else the
        answer's own), in those words; after a write, a failure on the vendor's side leaves it unknown."""
        status = failure.status if failure is not None else response.status_code
        who = self._who()
        said = f" ({' '.join(failure.said.split()).rstrip('.')})" if failure else f" (HTTP {status})"
        advice = f"; {failure.advice}" if failure is not None and failure.advice else ""
        wait = retry_after(response, self._wall_clock)
        error: HelpdeskError
        if status in {401, 403}:
            default = f"; check the credentials configured for backend {self.backend!r}"
            error = AuthError(f"{who} refused the credentials{said}{advice or default}.")
        elif status == 404:
            error = NotFoundError(f"{who} answered: not found{said}{advice}.")
        elif status == 429:
            later = f"retry after {math.ceil(wait)} s" if wait is not None else "retry later"
            error = RateLimitedError(f"{who} answered: rate limited{said}; {later}.", retry_after=wait)
        elif 400 <= status < 500 and status != 408:
            error = InvalidInputError(f"{who} refused the request as invalid{said}{advice}.")
        elif write:
            error = OutcomeUnknownError(
                f"{who} failed on its side{said} after receiving the request, so whether it was applied "
                "is unknown."
            )
        else:
            later = f"try again in {math.ceil(wait)} s" if wait is not None else "try again later"
            error = UnavailableError(f"{who} failed on its side{said}{advice}; {later}.")
        if failure is not None and failure.error is not None and not isinstance(error, failure.error):
            error = failure.error(error.message)
        if failure is not None:
            error.setting = failure.setting
        return self._redact.error(error)

    def _unreachable(self, exc: httpx.TransportError) -> UnavailableError:
        return UnavailableError(f"{self._who()} could not be reached ({_describe(exc)}); try again later.")

    def _who(self) -> str:
        return f"{self.vendor} (backend {self.backend!r})"


@functools.cache
def _tls() -> ssl.SSLContext:
    """The verifying TLS context every vendor client shares, as httpx would build it for each (the
    CA bundle of certifi, or of `SSL_CERT_FILE`/`SSL_CERT_DIR` as set when the first client is built):
    loading a bundle takes some 25 ms of CPU, once per process instead of once per backend. Sharing
    is safe while every client asks for the same ALPN protocols (HTTP/1.1 only), which httpcore sets
    on the context at each connection."""
    return httpx.create_ssl_context()


def retry_after(response: httpx.Response, wall_clock: Callable[[], float] = time.time) -> float | None:
    """The wait a `Retry-After` header asks for, in seconds (given as seconds or as an HTTP date)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - wall_clock())
    except (TypeError, ValueError):
        return None


def _describe(exc: httpx.TransportError) -> str:
    """The kind of transport failure, never the URL or headers (they may carry credentials)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection failed"
    return "connection lost"
