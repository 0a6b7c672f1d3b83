"""Errors the domain services raise; views and the CLI render them in their own format."""

from __future__ import annotations


class DomainError(Exception):
    """An operation a service refuses, with the HTTP status that fits it."""

    status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409
