"""The one error hierarchy: domain errors carry a stable problem type and an HTTP status.

One handler (server.core.problems) renders them as application/problem+json (RFC 9457); services,
the CLI and the sync engine raise them without knowing about HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = dict(errors or {})
        self.extra = dict(extra or {})


class Invalid(DomainError):
    status = 422
    code = "validation-failed"
    title = "The request is not valid"


class UnstorableValue(Invalid):
    code = "unstorable-value"
    title = "A value cannot be stored"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class TokenRevoked(Unauthenticated):
    code = "token-revoked"
    title = "This credential has been revoked"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflicts with the current state"


class AlreadyExists(Conflict):
    code = "already-exists"
    title = "Already exists"


class Gone(DomainError):
    status = 410
    code = "gone"
    title = "No longer available"


class TooLarge(Invalid):
    """What the request asks for is more than one answer may hold; the detail names the limit."""

    code = "too-large"
    title = "The request asks for more than one answer may hold"


class StatementTimeout(DomainError):
    """A query ran past its statement_timeout and PostgreSQL stopped it: nothing was committed."""

    status = 503
    code = "statement-timeout"
    title = "The query took too long and was stopped"
