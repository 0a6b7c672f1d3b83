"""No HTTP routes: importing the services connects the outbox's signal receivers."""

from flask import Flask


def init_app(app: Flask) -> None:
    import affsrv.notifications.services  # noqa: F401 - connects the signal receivers
