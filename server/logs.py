"""Logs on stderr as JSON lines: one object per record, so a log shipper or `jq` reads them as they are.

Every line has `ts` (ISO 8601 UTC), `level`, `logger` and `msg`; fields given with `extra=` follow,
and `exc` carries a traceback. Values of configured secrets are replaced by `***` wherever they
appear, since an exception from an HTTP client can quote a URL or a header that holds one.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

# Attributes every LogRecord has (and uvicorn's ANSI-coloured copy of the message); anything else on
# a record came from `extra=` and is a field.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
_SHORTEST_SECRET = 4  # a shorter "secret" would blank out ordinary words and numbers
REDACTED = "***"
_requests = logging.getLogger("helpdesk_mcp.requests")


class JsonLinesFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        plain = list(secrets)
        # A secret inside a JSON string may have been escaped: redact both spellings.
        self._secrets = [*plain, *(json.dumps(secret)[1:-1] for secret in plain)]

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str), self._secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret of at least a few characters replaced by `***`, longest first."""
    for secret in sorted({s for s in secrets if len(s) >= _SHORTEST_SECRET}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Send every logger's records (the SDK's and uvicorn's too) to stderr as JSON lines at `level`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLinesFormatter(secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)


async def log_requests(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """One line per MCP message: method, tool or URI, protocol revision, outcome, and milliseconds.

    Requests log at INFO, notifications at DEBUG. Arguments are never logged: they hold customer data.
    """
    started = time.perf_counter()
    fields: dict[str, Any] = {"method": ctx.method, "protocol": ctx.protocol_version}
    target = (ctx.params or {}).get("name") or (ctx.params or {}).get("uri")
    if isinstance(target, str):
        fields["target"] = target
    outcome = "error"
    try:
        result = await call_next(ctx)
        outcome = "tool_error" if getattr(result, "is_error", False) else "ok"
        return result
    finally:
        fields["outcome"] = outcome
        fields["ms"] = round((time.perf_counter() - started) * 1000, 1)
        level = logging.INFO if ctx.request_id is not None else logging.DEBUG
        _requests.log(level, "%s %s", ctx.method, outcome, extra=fields)
