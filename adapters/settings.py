"""Settings that several vendors share: the HTTP layer's knobs and common validators.

Nothing here imports an HTTP client, so configuration is checked at start without loading one.
"""

from __future__ import annotations

from typing import Annotated, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr


def _http_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"{value!r} is not an http(s) URL, such as https://helpdesk.example.com")
    return value.strip().rstrip("/")


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone, such as Europe/Warsaw or UTC") from None
    return value


class _FromEnvironment:
    """The mark of a setting that an environment variable can give (see `Env`)."""

    def __repr__(self) -> str:
        return "FROM_ENVIRONMENT"


FROM_ENVIRONMENT = _FromEnvironment()
_T = TypeVar("_T")
Env = Annotated[_T, FROM_ENVIRONMENT]
"""A setting the environment can give, as `<TYPE>_<SETTING>` (`THULIUM_URL`) for the backend named after
its type; the registry derives the variable's name from the field, and a required one enables that
backend. Settings without it are given in the TOML file only."""

HttpUrl = Annotated[str, AfterValidator(_http_url)]
"""An http(s) base URL, without a trailing slash."""

TimeZone = Annotated[str, AfterValidator(_time_zone)]
"""An IANA time zone name, in which a vendor writes its local timestamps."""


class HttpSettings(BaseModel):
    """Per-backend knobs of the HTTP layer; the defaults suit a vendor that documents no limits."""

    model_config = ConfigDict(extra="forbid")

    connect_timeout: float = Field(default=5.0, gt=0, description="Seconds to open a connection.")
    read_timeout: float = Field(default=20.0, gt=0, description="Seconds to wait for each part of an answer.")
    max_concurrency: int = Field(default=4, ge=1, le=64, description="Requests in flight at once.")
    requests_per_second: float = Field(default=10.0, gt=0, description="Sustained request rate.")
    read_retries: int = Field(
        default=3, ge=0, le=10, description="Retries of a read after a transient fault."
    )
    retry_after_cap: float = Field(
        default=30.0, ge=0, description="Longest `Retry-After` honoured; a longer one fails at once."
    )

    def credentials(self) -> list[str]:
        """The secrets this backend sends, as configured; a vendor adds the forms it derives from them."""
        return secret_values(self)


def secret_values(settings: BaseModel) -> list[str]:
    """The values of a settings model's secret fields."""
    return [value.get_secret_value() for _, value in settings if isinstance(value, SecretStr)]


def credentials(settings: BaseModel) -> list[str]:
    """Every credential of one backend's settings, whatever its type, to keep out of text."""
    return settings.credentials() if isinstance(settings, HttpSettings) else secret_values(settings)
