"""Domain errors. api/ maps each ``code`` to an HTTP status and a problem type in one table."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal by a business rule. ``code`` is stable: clients and the API mapping depend on it."""

    code = "domain_error"

    def __init__(self, detail: str, *, code: str | None = None, **context: object) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.context = context


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Forbidden(DomainError):
    code = "forbidden"


class InvalidState(DomainError):
    """An illegal transition of a state machine."""

    code = "invalid_state"


class RuleViolation(DomainError):
    """Input that is well formed but breaks a domain rule."""

    code = "rule_violation"


class AuthenticationFailed(DomainError):
    code = "authentication_failed"
