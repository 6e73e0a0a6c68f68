"""`helpdesk-mcp check`: is each configured backend reachable with its settings? One line each.

Every backend is built as the server would build it and makes one harmless read (`Adapter.check`)
under the configured time limit. A line says `ok` and what was read, or `FAIL` and the backend's own
sentence on what is wrong and what to do. Lines pass through the log's secret filter, so no token or
password is printed even if an error were to quote one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import anyio

from helpdesk_mcp.adapters.errors import HelpdeskError
from helpdesk_mcp.adapters.redact import redact
from helpdesk_mcp.adapters.registry import BACKEND_TYPES

from .backends import Backends
from .config import BackendConfig, Settings

log = logging.getLogger(__name__)

# What each kind of failure means for a configuration, and the setting to look at first.
_ADVICE = {
    "auth": ("credentials refused", "Check its token, key or password setting."),
    "not_found": ("not found", "Check its URL setting: it should name the API root."),
    "unavailable": ("unreachable", "Check its URL setting and that this machine can reach it."),
    "outcome_unknown": ("unreachable", "Check its URL setting and that this machine can reach it."),
    "rate_limited": ("rate limited", "Wait a minute and check again."),
}


@dataclass(frozen=True)
class Outcome:
    backend: BackendConfig
    ok: bool
    detail: str

    def line(self, secrets: list[str]) -> str:
        status = "ok  " if self.ok else "FAIL"
        return redact(f"{status} {self.backend.name} ({self.backend.type}): {self.detail}", secrets)


async def check_backends(settings: Settings) -> list[Outcome]:
    """Check every configured backend at once; outcomes in the order of the configuration."""
    outcomes: dict[str, Outcome] = {}

    async def check(backend: BackendConfig) -> None:
        outcomes[backend.name] = await _check(backend, settings.timeout)

    async with anyio.create_task_group() as group:
        for backend in settings.backends:
            group.start_soon(check, backend)
    return [outcomes[b.name] for b in settings.backends]


async def _check(backend: BackendConfig, time_limit: float) -> Outcome:
    try:
        adapter = BACKEND_TYPES[backend.type].build(backend.name, backend.settings)
    except Exception as exc:
        log.exception("Setting up backend %r failed", backend.name)
        return Outcome(
            backend,
            False,
            f"could not be set up ({type(exc).__name__}); see the log above, and reinstall "
            "helpdesk-mcp if it names a missing module.",
        )
    backends = Backends([adapter], time_limit)
    try:
        await backends.start()  # as the server starts it: the check may depend on what it learns
        read = await backends.call(adapter, "the check", adapter.check)
    except HelpdeskError as exc:
        label, advice = _ADVICE.get(exc.kind, ("failed", ""))
        return Outcome(backend, False, f"{label}: {exc.message} {advice}".strip())
    finally:
        await backends.aclose()
    return Outcome(backend, True, read)


@dataclass(frozen=True)
class RedisOutcome:
    ok: bool
    detail: str

    def line(self, secrets: list[str]) -> str:
        status = "ok  " if self.ok else "FAIL"
        return redact(f"{status} redis (HELPDESK_REDIS_URL): {self.detail}", secrets)


async def check_redis(settings: Settings) -> RedisOutcome | None:
    """Can this replica reach the Redis it shares the write ledger and request budgets through?"""
    if settings.redis_url is None:
        return None
    from .ledger import open_ledger

    ledger = open_ledger(settings)
    try:
        with anyio.fail_after(min(settings.timeout, 5.0)):
            await ledger.ping()
    except Exception as exc:
        return RedisOutcome(
            False,
            f"unreachable ({type(exc).__name__}). Check the URL's host, port, password and database, "
            "and that this machine can reach it.",
        )
    finally:
        await ledger.aclose()
    return RedisOutcome(True, "reachable; the write ledger and the vendors' request budgets are shared there")


@dataclass(frozen=True)
class SignInOutcome:
    ok: bool
    detail: str

    def line(self, secrets: list[str]) -> str:
        status = "ok  " if self.ok else "FAIL"
        return redact(f"{status} sign-in (HELPDESK_OAUTH_ISSUER): {self.detail}", secrets)


async def check_sign_in(settings: Settings) -> SignInOutcome | None:
    """Can this server check sign-in tokens: fetch the issuer's keys, or be answered by introspection?"""
    if settings.oauth is None:
        return None
    from .auth_tokens import probe

    return SignInOutcome(*await probe(settings.oauth))
