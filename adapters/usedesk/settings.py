"""How a UseDesk backend is configured (imported at start without the adapter itself)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from ..model import Status
from ..settings import Env, HttpSettings, HttpUrl


class UsedeskSettings(HttpSettings):
    api_token: Env[SecretStr] = Field(description="API token of the UseDesk account.")
    url: Env[HttpUrl] = Field(default="https://api.usedesk.ru", description="Base URL of the API.")
    user_id: Env[str | None] = Field(
        default=None, pattern=r"^[0-9]+$", description="Id of the agent that replies and notes are sent as."
    )
    statuses: dict[str, Status] = Field(
        default_factory=dict, description="Status id -> normalized status, over the default mapping."
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Custom field id -> value, set on every ticket this backend opens.",
    )
    file_hosts: Env[list[str]] = Field(
        default_factory=list,
        description="Hosts besides the API's own that attached files may be downloaded from, "
        "as `files.example.com` (HTTPS) or a full origin such as `http://10.0.0.5:8080`.",
    )
    # 150 requests a minute per IP was once written on an old UseDesk page, and no current page gives a
    # figure (a guess, then); 2 a second stays under it.
    requests_per_second: float = Field(default=2.0, gt=0, description="Sustained request rate.")
    max_concurrency: int = Field(default=2, ge=1, le=64, description="Requests in flight at once.")

    @field_validator("api_token")
    @classmethod
    def _token_given(cls, token: SecretStr) -> SecretStr:
        if not token.get_secret_value().strip():
            raise ValueError("the API token is empty; copy it from the API channel's settings in UseDesk")
        return token

    @field_validator("statuses")
    @classmethod
    def _status_ids(cls, statuses: dict[str, Status]) -> dict[str, Status]:
        for status_id in statuses:
            if not status_id.isascii() or not status_id.isdigit():
                raise ValueError(
                    f"{status_id!r} is not a UseDesk status id; status ids are numbers such as 11"
                )
        return statuses

    @field_validator("fields")
    @classmethod
    def _field_values(cls, fields: dict[str, str]) -> dict[str, str]:
        for field_id, value in fields.items():
            if not field_id.isascii() or not field_id.isdigit():
                raise ValueError(f"{field_id!r} is not a UseDesk custom field id; field ids are numbers")
            # UseDesk sends all values in one semicolon-separated string, so a value cannot hold one.
            if ";" in value:
                raise ValueError(
                    f"the value of custom field {field_id} contains ';', which UseDesk cannot take"
                )
        return fields

    @field_validator("file_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        # From the environment the hosts arrive as one comma-separated string.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("file_hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            parts = urlsplit(host if "://" in host else f"https://{host}")
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
                raise ValueError(
                    f"{host!r} is not a host for UseDesk's files; give a host name such as files.example.com "
                    "or an origin such as https://files.example.com:8443"
                )
        return hosts
