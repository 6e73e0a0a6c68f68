"""The backends the conformance suite runs against.

Each entry gives the environment that makes the server serve exactly one backend under test.
A vendor adapter joins the suite by adding a fixture here that starts its fake vendor server on
127.0.0.1 and returns the variables pointing at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest


@pytest.fixture(params=["local"])
def backend_env(request: pytest.FixtureRequest, tmp_path: Path) -> Mapping[str, str]:
    if request.param == "local":
        return {"HELPDESK_DB": str(tmp_path / "conformance.db")}
    raise AssertionError(f"no fixture for backend {request.param}")
