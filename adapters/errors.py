"""One error taxonomy for every backend.

Adapters raise these; the server turns each into a one-sentence tool error. Messages are written for
the person or model reading them: what went wrong and what to do next. They never carry secrets, and
name a backend's setting by its field alone (`setting`): where that is given (an environment
variable, the config file) is the server's to say.
"""

from __future__ import annotations

from typing import Self


class HelpdeskError(Exception):
    """Base class: a failure the caller can understand and act on."""

    kind = "error"

    def __init__(self, message: str, *, setting: str | None = None, written: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.setting = setting
        """The backend setting that would fix this, by its field name (`mailbox`)."""
        self.written = written
        """A write was made before this failed (in a later step: reading it back, setting a status):
        whoever retries must not send the write again."""

    def reworded(self, message: str, *, written: bool = False) -> Self:
        """This error in other words, as when an adapter says what had been done before it: the same
        type with the same fields (such as `retry_after`), so whoever handles it still can; `written`
        marks that the write itself was made."""
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.args = (message,)
        copy.message = message
        copy.written = self.written or written
        return copy


class AuthError(HelpdeskError):
    """The backend refused our credentials or this operation for them."""

    kind = "auth"


class NotFoundError(HelpdeskError):
    """The ticket, attachment or backend does not exist."""

    kind = "not_found"


class InvalidInputError(HelpdeskError):
    """The request itself is wrong; sending it again unchanged will fail again."""

    kind = "invalid_input"


class RateLimitedError(HelpdeskError):
    """The backend asked us to slow down."""

    kind = "rate_limited"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnavailableError(HelpdeskError):
    """The backend could not be reached or failed on its side; the operation may be retried later."""

    kind = "unavailable"


class UnsupportedError(HelpdeskError):
    """The backend cannot do this at all."""

    kind = "unsupported"


class OutcomeUnknownError(UnavailableError):
    """A write may or may not have been applied: it failed after the request could have arrived.

    Adapters catch this to look for the write where the vendor lets them; whoever sees it last must
    not send the write again without first checking whether it happened.
    """

    kind = "outcome_unknown"
