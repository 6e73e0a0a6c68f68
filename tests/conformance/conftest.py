"""The backends the conformance suite runs against.

Each entry gives the environment that makes the server serve exactly one backend under test: the
local helpdesk in a fresh file, or a vendor adapter pointed at its fake vendor on 127.0.0.1. A fake
module in tests/fakes provides `make_fake(**options)` and `env_for(fake)`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

VENDOR_BACKENDS: dict[str, tuple[str, dict[str, Any]]] = {
    "thulium": ("tests.fakes.thulium", {}),
    "usedesk": ("tests.fakes.usedesk", {}),
    "osticket": ("tests.fakes.osticket", {"extension": True}),
    "osticket-stock": ("tests.fakes.osticket", {"extension": False}),
    "plusofon": ("tests.fakes.plusofon", {}),
}


@pytest.fixture(params=["local", *VENDOR_BACKENDS])
def backend_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Mapping[str, str]]:
    ledger = {"HELPDESK_LEDGER_DB": str(tmp_path / "ledger.db")}
    if request.param == "local":
        yield {"HELPDESK_DB": str(tmp_path / "conformance.db"), **ledger}
        return
    module_name, options = VENDOR_BACKENDS[request.param]
    module = importlib.import_module(module_name)
    with module.make_fake(**options).running() as fake:
        yield {**module.env_for(fake), **ledger}
