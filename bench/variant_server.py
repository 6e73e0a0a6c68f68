"""helpdesk-mcp with a proposed start-up change patched in, so its effect is measured before it lands.

`python bench/variant_server.py VARIANT [helpdesk-mcp arguments]`, VARIANT one of:
- `no-start`: the server does not prepare (probe) backends before it serves; an adapter that must
  learn something does so at its first use, as adapters already do when the probe at start fails.
- `lazy`: no backend is even built before it serves (so no vendor adapter, httpx or SQLite code is
  imported), as if `Backends` built each adapter at its first use.
"""

from __future__ import annotations

import sys
from typing import Any

from helpdesk_mcp.server import backends


async def _no_start(self: backends.Backends) -> None:
    return None


def _nothing_built(cls: type[backends.Backends], settings: Any) -> backends.Backends:
    return cls([], settings.timeout)


if __name__ == "__main__":
    variant, arguments = sys.argv[1], sys.argv[2:]
    if variant not in {"no-start", "lazy"}:
        raise SystemExit(f"unknown variant {variant!r}")
    backends.Backends.start = _no_start  # type: ignore[method-assign]
    if variant == "lazy":
        backends.Backends.from_settings = classmethod(_nothing_built)  # type: ignore[method-assign, assignment]
    from helpdesk_mcp.server.cli import main

    main(arguments)
