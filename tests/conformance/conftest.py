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

SEEDED = {"tickets": 120}
"""History in each fake: more than one of Thulium's and UseDesk's 100-ticket pages, so that a search
still reads across a page boundary, at less than half the cost of the fakes' default 300 (each search
here reads every page; the vendors' own suites page through all 300)."""

VENDOR_BACKENDS: dict[str, tuple[str, dict[str, Any]]] = {
    "thulium": ("tests.fakes.thulium", SEEDED),
    "usedesk": ("tests.fakes.usedesk", SEEDED),
    "osticket": ("tests.fakes.osticket", {"extension": True, **SEEDED}),
    "osticket-stock": ("tests.fakes.osticket", {"extension": False, **SEEDED}),
    "plusofon": ("tests.fakes.plusofon", SEEDED),
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
