"""affsrv: a self-hosted affiliate tracking server."""

from affsrv.app import create_app

__all__ = ["create_app"]
