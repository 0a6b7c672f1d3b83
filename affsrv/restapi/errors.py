"""The REST API answers every refusal as plain text, as ClickBank does."""

from __future__ import annotations


class RestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> RestError:
    return RestError(400, message)
