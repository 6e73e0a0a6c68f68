"""How a local helpdesk is configured (imported at start without the adapter itself)."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..settings import Env


def default_local_db() -> Path:
    return platformdirs.user_data_path("helpdesk-mcp", appauthor=False) / "helpdesk.db"


class LocalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    db: Env[Path] = Field(default_factory=default_local_db, description="SQLite file of the local helpdesk.")
    agent_name: str = Field(default="Agent", min_length=1, description="Author name of replies and notes.")

    @field_validator("db")
    @classmethod
    def _a_file(cls, db: Path) -> Path:
        if db.expanduser().is_dir():
            raise ValueError(f"{db} is a directory; give the path of a file, such as {db / 'helpdesk.db'}")
        return db
