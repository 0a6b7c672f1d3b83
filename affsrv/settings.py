"""Access to the running app's settings (see ``affsrv.config`` for the keys)."""

from typing import Any

from flask import current_app


def settings(section: str) -> dict[str, Any]:
    """One section of the loaded configuration, e.g. ``settings("tracking")["param"]``."""
    return current_app.config["AFFSRV"][section]
