"""The backend types this installation can run, and how each is configured.

Each type declares its settings as a pydantic model, which environment variables feed which
setting, and how an adapter is built from validated settings. The server reads configuration
generically through this table and never names a vendor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .base import Adapter
from .local import LocalAdapter


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
    return LocalAdapter(name, settings.db.expanduser(), agent_name=settings.agent_name)


BACKEND_TYPES: dict[str, BackendType] = {
    "local": BackendType(
        name="local",
        settings=LocalSettings,
        build=_build_local,
        env={"db": "HELPDESK_DB"},
    ),
}
