"""What can go wrong with a project, a stage or a spending entry, as the web should report it.

The errors are litestar HTTP exceptions on purpose: the services raise them and every route,
page or API alike, reports them the same way (a 404, a 409 that names the state that forbids
the action, a 422 that names the field), without a mapping in each handler. Nothing is
written when one is raised inside a transaction: the transaction rolls back.
"""

from __future__ import annotations

from litestar.exceptions import ClientException, NotFoundException, ValidationException


class NotFound(NotFoundException):
    """The project, stage, line, entry or publication does not exist (or is not visible)."""


class Conflict(ClientException):
    """The action is not allowed in the current state (a stage that is not collecting...)."""

    status_code = 409


class Invalid(ValidationException):
    """Bad input: ``field`` names where, the message says what is wrong."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        extra = [{"key": field, "message": message, "source": "body"}] if field else None
        super().__init__(message if not field else f"{field}: {message}", extra=extra)
        self.field = field
