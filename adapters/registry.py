"""The backend types this installation can run, and how each is configured.

Each type declares its settings as a pydantic model, which environment variables feed which
setting, and how an adapter is built from validated settings. The server reads configuration
generically through this table and never names a vendor. Adapters are imported only when a backend
of their type is built, so a server with one vendor configured loads one vendor's code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .base import Adapter
from .osticket.settings import OsticketSettings
from .plusofon.settings import PlusofonSettings
from .thulium.settings import ThuliumSettings
from .usedesk.settings import UsedeskSettings


def default_local_db() -> Path:
    return platformdirs.user_data_path("helpdesk-mcp", appauthor=False) / "helpdesk.db"


class LocalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    db: Path = Field(default_factory=default_local_db, description="SQLite file of the local helpdesk.")
    agent_name: str = Field(default="Agent", min_length=1, description="Author name of replies and notes.")

    @field_validator("db")
    @classmethod
    def _a_file(cls, db: Path) -> Path:
        if db.expanduser().is_dir():
            raise ValueError(f"{db} is a directory; give the path of a file, such as {db / 'helpdesk.db'}")
        return db


@dataclass(frozen=True)
class BackendType:
    name: str
    settings: type[BaseModel]
    build: Callable[[str, Any], Adapter]
    env: Mapping[str, str] = field(default_factory=dict)
    """Setting name -> environment variable that sets it for the backend named after the type."""
    enabled_by: tuple[str, ...] = ()
    """Environment variables whose presence enables the backend named after the type."""


def _build_local(name: str, settings: LocalSettings) -> Adapter:
    from .local import LocalAdapter

    return LocalAdapter(name, settings.db.expanduser(), agent_name=settings.agent_name)


def _build_thulium(name: str, settings: ThuliumSettings) -> Adapter:
    from .thulium.adapter import ThuliumAdapter

    return ThuliumAdapter(name, settings)


def _build_plusofon(name: str, settings: PlusofonSettings) -> Adapter:
    from .plusofon.adapter import PlusofonAdapter

    return PlusofonAdapter(name, settings)


def _build_osticket(name: str, settings: OsticketSettings) -> Adapter:
    from .osticket.adapter import OsticketAdapter

    return OsticketAdapter(name, settings)


def _build_usedesk(name: str, settings: UsedeskSettings) -> Adapter:
    from .usedesk.adapter import UsedeskAdapter

    return UsedeskAdapter(name, settings)


def _env(prefix: str, *settings: str) -> dict[str, str]:
    return {setting: f"{prefix}_{setting.upper()}" for setting in settings}


BACKEND_TYPES: dict[str, BackendType] = {
    "local": BackendType(
        name="local",
        settings=LocalSettings,
        build=_build_local,
        env={"db": "HELPDESK_DB"},
    ),
    "thulium": BackendType(
        name="thulium",
        settings=ThuliumSettings,
        build=_build_thulium,
        env=_env("THULIUM", "url", "user", "password", "mailbox", "agent_login", "timezone", "statuses"),
        enabled_by=("THULIUM_URL", "THULIUM_USER", "THULIUM_PASSWORD"),
    ),
    "plusofon": BackendType(
        name="plusofon",
        settings=PlusofonSettings,
        build=_build_plusofon,
        env=_env("PLUSOFON", "token", "url", "client", "timezone"),
        enabled_by=("PLUSOFON_TOKEN",),
    ),
    "osticket": BackendType(
        name="osticket",
        settings=OsticketSettings,
        build=_build_osticket,
        env=_env("OSTICKET", "url", "api_key", "staff_user", "timezone"),
        enabled_by=("OSTICKET_URL", "OSTICKET_API_KEY"),
    ),
    "usedesk": BackendType(
        name="usedesk",
        settings=UsedeskSettings,
        build=_build_usedesk,
        env=_env("USEDESK", "api_token", "url", "user_id", "file_hosts"),
        enabled_by=("USEDESK_API_TOKEN",),
    ),
}
