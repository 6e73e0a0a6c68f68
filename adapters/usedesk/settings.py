"""How a UseDesk backend is configured (imported at start without the adapter itself)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from ..model import Status
from ..settings import HttpSettings, HttpUrl


class UsedeskSettings(HttpSettings):
    api_token: SecretStr = Field(description="API token of the UseDesk account.")
    url: HttpUrl = Field(default="https://api.usedesk.ru", description="Base URL of the API.")
    user_id: str | None = Field(
        default=None, pattern=r"^[0-9]+$", description="Id of the agent that replies and notes are sent as."
    )
    statuses: dict[str, Status] = Field(
        default_factory=dict, description="Status id -> normalized status, over the default mapping."
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Custom field id -> value, set on every ticket this backend opens.",
    )
    # UseDesk documents 150 requests a minute per IP; stay under it by default.
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
